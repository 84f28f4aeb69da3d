// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The raw heap dump: what the sampler writes, with write(2) alone, when the
// program ends where no profile can be written in-process -- a fatal
// signal (abort, SIGSEGV, SIGTERM, ...), _exit or _Exit -- and what memmon
// run and memmon leaks turn into heap.pb.gz afterwards (raw_heap.h).
//
// Native-endian 64-bit words, read back on the same machine:
//   header: kRawHeapMagic, kRawHeapVersion, pid, sample_rate, object_scale,
//           time_nanos (wall), duration_nanos, reason length, reason bytes
//           (padded to a word)
//   records, each a tag word, then:
//     kRawStack: ref, depth, alloc_bytes, alloc_objects_scaled, frames[depth]
//     kRawLive:  ref, size (one live sample)
//     kRawMaps:  length, the text of /proc/self/maps (padded to a word)
//     kRawEnd:   nothing; a dump without it is incomplete and is ignored
// Header-only: the sampler includes it too.
#ifndef MEMMON_SRC_PROFILE_RAW_HEAP_FORMAT_H_
#define MEMMON_SRC_PROFILE_RAW_HEAP_FORMAT_H_

#include <cstdint>

namespace memmon::profile {

inline constexpr uint64_t kRawHeapMagic = 0x31504548574152ull;  // "RAWHEP1"
inline constexpr uint64_t kRawHeapVersion = 1;
enum RawHeapTag : uint64_t {
  kRawStack = 1,
  kRawLive = 2,
  kRawMaps = 3,
  kRawEnd = 4,
};

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_RAW_HEAP_FORMAT_H_
