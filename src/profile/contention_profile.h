// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Turning the lock hooks' raw data (stacks with scaled contentions and
// delays) into a pprof contention profile as Go writes its mutex and block
// profiles (runtime/pprof: printCountCycleProfile): sample types
// contentions/count and delay/nanoseconds, period_type contentions/count,
// period 1 (the values are already scaled for sampling), so that
// `go tool pprof -sample_index=delay` reads it as it reads Go's.
//
// Each stack is attributed to its first frame outside the synchronisation
// API: leading frames in pthread's lock and wait functions, sem_*, and the
// C++ library's wrappers of them (std::mutex::lock, std::unique_lock,
// std::condition_variable::wait, std::thread::join, ...) are trimmed
// (IsSynchronizationApiFrame), so the program's function that waited is the
// leaf, as the allocation site is in a heap profile.
//
// Thread-safety: free functions; allocates (never call inside malloc).
#ifndef MEMMON_SRC_PROFILE_CONTENTION_PROFILE_H_
#define MEMMON_SRC_PROFILE_CONTENTION_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "profile/modules.h"
#include "profile/profile.h"
#include "profile/symbolizer.h"

namespace memmon::profile {

struct ContentionSite {
  std::vector<uintptr_t> frames;  // return addresses, innermost first
  double contentions = 0;
  double delay_nanos = 0;
};

struct ContentionSnapshot {
  std::vector<ContentionSite> sites;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  std::vector<std::string> comments;
};

// True for functions that only lock or wait on their caller's behalf.
bool IsSynchronizationApiFrame(const std::string& function);

Profile BuildContentionProfile(const ContentionSnapshot& snapshot,
                               const std::vector<Module>& modules,
                               Symbolizer* symbolizer);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_CONTENTION_PROFILE_H_
