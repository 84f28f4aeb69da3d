// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The allocator clock: an estimate of the CPU time the program spends in
// allocation calls (the allocator's own work and the sampler's), from a
// sampled subset of calls timed with the time-stamp counter. What
// memmon_preload_read_allocator_time publishes, and what
// Sample::allocator_cpu_fraction is made of (docs/profiler.md, "Allocator
// time").
//
// Which calls are timed, per thread:
//   - every sampling point (the thread's byte countdown crossed, or its
//     first allocation): the whole slow path -- flush, stack, tables and
//     the allocator's call -- counted once, exactly (weight 1);
//   - the free that flushes the thread's counters (one in 193..256 frees,
//     the period jittered so that a loop's pattern cannot always put the
//     same call there), weighted by the frees since the thread's last timed
//     free;
//   - the first allocation call after each timed free and after each
//     sampling point (the sampling countdown is pushed below zero by
//     kTimingBias so that the call takes the slow path), weighted by the
//     allocations since the thread's last timed allocation, less those
//     timed exactly at sampling points.
// Every weight counts the calls a timed call stands for, so the sum of
// weighted durations estimates the time of all calls (a systematic sample
// with a random start: unbiased as long as the timed calls are no slower
// or faster than the others; docs/profiler.md states the error).
//
// The clock is rdtsc (12 ns a read on the machine of docs/benchmarks.md,
// against 29 ns for clock_gettime's vDSO), converted to nanoseconds with
// the ratio of CLOCK_MONOTONIC to the counter since the sampler started
// (constant_tsc: the counter's rate does not change with the core's).
//
// Contract: Ticks() and the weight arithmetic run inside malloc (no
// allocation, no lock); the calibration (TicksToNanos) runs outside it.
#ifndef MEMMON_SRC_PRELOAD_ALLOC_CLOCK_H_
#define MEMMON_SRC_PRELOAD_ALLOC_CLOCK_H_

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif
#include <time.h>

#include "preload/in_malloc.h"

namespace memmon::preload {

// Pushes the sampling countdown below zero (beyond any gap, kMaxGap 2^60,
// and short of kGenericBias 2^62) so that the next allocation call takes
// the slow path and is timed there.
inline constexpr int64_t kTimingBias = int64_t{1} << 61;

// The time-stamp counter (x86-64), or CLOCK_MONOTONIC's nanoseconds.
// No lfence: serialised, a call is timed alone (its latency with nothing
// to overlap), which read 3-4.5x what perf attributes to the allocator,
// against 1.8-2.7x unserialised (docs/profiler.md, "Allocator time").
// `clock` in nanoseconds (clock_gettime: the vDSO for the monotonic and
// real-time clocks, no allocation, async-signal-safe). The sampler's one
// reading of a clock in nanoseconds.
MEMMON_IN_MALLOC inline int64_t ClockNanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

MEMMON_IN_MALLOC inline uint64_t Ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(ClockNanos(CLOCK_MONOTONIC));
#endif
}

// The calls a timed call stands for: those counted since the last mark.
// The mark then moves to `count_now`.
MEMMON_IN_MALLOC inline uint64_t TakeWeight(uint64_t count_now,
                                            uint64_t* mark) {
  const uint64_t w = count_now - *mark;
  *mark = count_now;
  return w;
}

// The most a timed call that stands for others may count: 2^18 ticks
// (about 100 us at 2.6 GHz). Longer is a rare call (an munmap of a large
// block) or, far more often, the thread descheduled or interrupted while
// timed, which multiplied by the weight would stand for a burst of
// allocator time that never was. Exactly counted calls (weight 1) are not
// capped.
inline constexpr uint64_t kMaxWeightedTicks = uint64_t{1} << 18;

// A timed call of `ticks` standing for `weight` calls.
MEMMON_IN_MALLOC inline uint64_t WeightedTicks(uint64_t ticks,
                                               uint64_t weight) {
  if (weight <= 1) return ticks;
  return (ticks < kMaxWeightedTicks ? ticks : kMaxWeightedTicks) * weight;
}

// The number of frees to a thread's next flush after its `seq`-th flush:
// flush_every - 63 .. flush_every, from a hash of the sequence (no draw
// from the sampling generator, whose gaps a seeded run reproduces).
MEMMON_IN_MALLOC inline int32_t JitteredPeriod(int32_t flush_every,
                                               uint32_t seq) {
  const uint64_t h = (uint64_t{seq} + 1) * 0x9E3779B97F4A7C15ull;
  return flush_every - static_cast<int32_t>(h >> 58);
}

// Counter ticks to nanoseconds, by the rate seen between a start
// (start_ticks, start_nanos) and now (now_ticks, now_nanos). Returns
// `ticks` unchanged when no time has passed.
inline uint64_t TicksToNanos(uint64_t ticks, uint64_t start_ticks,
                             int64_t start_nanos, uint64_t now_ticks,
                             int64_t now_nanos) {
  if (now_ticks <= start_ticks || now_nanos <= start_nanos) return ticks;
  const double ns_per_tick = static_cast<double>(now_nanos - start_nanos) /
                             static_cast<double>(now_ticks - start_ticks);
  return static_cast<uint64_t>(static_cast<double>(ticks) * ns_per_tick + 0.5);
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_ALLOC_CLOCK_H_
