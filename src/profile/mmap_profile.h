// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The "mmap" profile: the program's large private anonymous mappings that
// the sampler saw mapped (src/preload/mmap_hooks.cc), one sample per
// mapping, with sample types mappings/count and mapped_space/bytes (the
// default), period_type mapped_space/bytes, period 1 (every mapping is
// recorded: nothing to scale). Each sample carries the string label
// `address`, the mapping's start as "0x..." hex, which a reader joins with
// /proc/PID/smaps (memmon explain does), and the numeric label `age`
// (seconds since it was mapped).
//
// A stack's leading frames in mmap itself (mmap, mmap64, and glibc's
// __mmap names) are trimmed, so the program's function that mapped is the
// leaf.
//
// Thread-safety: free functions; allocates (never call inside malloc).
#ifndef MEMMON_SRC_PROFILE_MMAP_PROFILE_H_
#define MEMMON_SRC_PROFILE_MMAP_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "profile/modules.h"
#include "profile/profile.h"
#include "profile/symbolizer.h"

namespace memmon::profile {

struct MappedRegion {
  std::vector<uintptr_t> frames;  // return addresses, innermost first
  uint64_t start = 0;
  uint64_t length = 0;
  double age_s = 0;
};

struct MmapSnapshot {
  std::vector<MappedRegion> mappings;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  std::vector<std::string> comments;
};

// True for mmap and its aliases.
bool IsMmapApiFrame(const std::string& function);

Profile BuildMmapProfile(const MmapSnapshot& snapshot,
                         const std::vector<Module>& modules,
                         Symbolizer* symbolizer);

// The mmap profile's samples as memmon_preload_mmap_sites's lines
// (include/memmon/memmon_preload.h), largest first, at most `max` of them.
std::string MmapSiteLines(const Profile& profile, unsigned max);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_MMAP_PROFILE_H_
