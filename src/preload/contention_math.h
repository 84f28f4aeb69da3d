// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The sampling arithmetic of the mutex and block profiles, Go's
// (runtime/mprof.go: mutexevent, blocksampled, saveblockevent), so that
// `go tool pprof` reads memmon's profiles as it reads Go's.
//
// Mutex profile, rate N (MEMMON_MUTEX_RATE, like
// runtime.SetMutexProfileFraction): each contention is sampled with
// probability 1/N, decided before anything is timed; a sampled one of delay
// d stands for N contentions and N*d nanoseconds.
//
// Block profile, rate R nanoseconds (MEMMON_BLOCK_RATE, like
// runtime.SetBlockProfileRate): an event that blocked d >= R ns is always
// sampled, and stands for itself (1, d); a shorter one is sampled when a
// uniform draw in [0, R) is <= d (probability about d/R) and then stands
// for R/d events and R nanoseconds (the expected totals stay unbiased).
//
// Counts are kept in fixed point (kContentionScale units per event), so
// that the block profile's fractional R/d adds up without floats.
//
// Contract: pure inline functions; allocation-free, safe inside malloc.
#ifndef MEMMON_SRC_PRELOAD_CONTENTION_MATH_H_
#define MEMMON_SRC_PRELOAD_CONTENTION_MATH_H_

#include <cstdint>

#include "preload/in_malloc.h"

namespace memmon::preload {

inline constexpr uint64_t kContentionScale = 1024;

struct ContentionWeight {
  uint64_t count_scaled;  // events, times kContentionScale
  uint64_t delay_nanos;
};

// Whether a contention is sampled at rate N, given a uniform 64-bit draw.
MEMMON_IN_MALLOC inline bool MutexSampled(uint64_t draw, uint64_t rate) {
  return rate == 1 || (rate > 1 && draw % rate == 0);
}

// What one sampled contention of `delay` ns stands for at rate N.
MEMMON_IN_MALLOC inline ContentionWeight MutexWeight(uint64_t delay,
                                                     uint64_t rate) {
  return {rate * kContentionScale, rate * delay};
}

// Whether a blocking event of `delay` ns is sampled at rate R ns, given a
// uniform 64-bit draw (Go: !(rate > cycles && rand % rate > cycles)).
MEMMON_IN_MALLOC inline bool BlockSampled(uint64_t delay, uint64_t rate,
                                          uint64_t draw) {
  if (rate == 0) return false;
  return delay >= rate || draw % rate <= delay;
}

// What one sampled blocking event of `delay` ns stands for at rate R ns.
MEMMON_IN_MALLOC inline ContentionWeight BlockWeight(uint64_t delay,
                                                     uint64_t rate) {
  if (delay == 0) delay = 1;  // Go: cycles <= 0 counts as 1
  if (delay < rate) return {rate * kContentionScale / delay, rate};
  return {kContentionScale, delay};
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_CONTENTION_MATH_H_
