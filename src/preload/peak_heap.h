// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// PeakHeap: the sampled heap as it stood at its highest point so far, for
// the peak heap profile (peak.pb.gz; tcmalloc's peak heap and heapprofd's
// dump-at-max are the models).
//
// Contract: MaybeSave runs inside malloc (a sampled allocation, right after
// its insert into the live table): no allocation, no blocking, no throw.
// It is lock-free in the sense that matters there: the copy is guarded by
// a try-lock, and a thread that finds it taken skips (the next sampled
// insert above the threshold tries again). Read, outside malloc, takes the
// same lock by spinning (its holder inside malloc never waits for anything).
//
// How: the live table keeps the estimate of the sampled live bytes (the sum
// of the live samples' weights; LiveTable::EnableLiveBytes). When an insert
// takes it above the last saved peak times (1 + growth), the live samples'
// (size, stack reference) pairs are copied into a buffer mmap'ed at Init
// (pages touched as the copy needs them), with the estimate and the time.
// A peak thus costs one scan of the live table's active levels; with
// growth g the copies of a run number log(peak / min) / log(1 + g).
// A check from the writer thread instead would miss a short spike. The copy
// is approximate where other threads insert or erase during it.
#ifndef MEMMON_SRC_PRELOAD_PEAK_HEAP_H_
#define MEMMON_SRC_PRELOAD_PEAK_HEAP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"
#include "preload/live_table.h"

namespace memmon::preload {

class PeakHeap {
 public:
  // Default for MEMMON_PEAK_GROWTH: a new peak is saved once the estimate
  // exceeds the saved one by 25 % (tcmalloc uses 10 %; at 10 % the copies
  // cost the churn benchmark 0.5 % more instructions, at 25 % 0.27 %:
  // docs/benchmarks.md).
  static constexpr double kDefaultGrowth = 0.25;

  // Maps room for `capacity` samples (8 bytes each, untouched until used).
  // The first peak is saved once the estimate exceeds `min_bytes` (the
  // sampler passes 16 sampling intervals: below that a heap is a handful of
  // samples, and each save scans the live table, so ramping up from zero
  // by 10 % steps would cost ~50 scans for nothing). False when mmap fails
  // (the peak profile is then off).
  bool Init(std::size_t capacity, double growth, int64_t min_bytes = 0);
  bool initialized() const { return buffer_ != nullptr; }

  // After an insert that left the estimate at `live_bytes`: saves `table`'s
  // live samples when that is a new peak by the margin.
  MEMMON_IN_MALLOC void MaybeSave(const LiveTable& table,
                                  int64_t live_bytes) noexcept {
    if (live_bytes > next_save_.load(std::memory_order_relaxed)) {
      Save(table, live_bytes);
    }
  }

  // In the child after fork (one thread): releases the lock a thread of
  // the parent may have held; a copy it was making may be partial, and
  // stays as the child's peak until a higher one is saved.
  void ResetAfterFork() { busy_.store(false, std::memory_order_relaxed); }

  struct Info {
    int64_t bytes = 0;          // the estimate when saved (0: none saved yet)
    int64_t time_nanos = 0;     // CLOCK_MONOTONIC when saved
    std::size_t samples = 0;    // samples copied
    std::size_t truncated = 0;  // live samples that did not fit
    uint64_t saves = 0;         // copies made so far
    uint64_t skipped = 0;       // saves skipped because a copy was running
  };
  // Calls fn(size, stack_ref) for each sample of the saved peak and
  // returns its Info; under the lock (fn must not allocate through the
  // sampled path: callers hold ScopedNoSampling). Not inside malloc.
  template <typename Fn>
  Info Read(Fn fn) {
    Lock();
    Info info = info_;
    for (std::size_t i = 0; i < info_.samples; ++i) {
      fn(static_cast<std::size_t>(buffer_[i] >> 24),
         static_cast<uint32_t>(buffer_[i] & LiveTable::kMaxStackRef));
    }
    busy_.store(false, std::memory_order_release);
    return info;
  }

 private:
  MEMMON_IN_MALLOC MEMMON_NOINLINE void Save(const LiveTable& table,
                                             int64_t live_bytes) noexcept;
  void Lock();

  // The estimate above which the next insert saves: peak * (1 + growth).
  std::atomic<int64_t> next_save_{0};
  std::atomic<bool> busy_{false};
  std::atomic<uint64_t> skipped_{0};
  double growth_ = kDefaultGrowth;
  uint64_t* buffer_ = nullptr;  // size << 24 | stack_ref, as LiveTable's meta
  std::size_t capacity_ = 0;
  Info info_;  // under busy_
};

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_PEAK_HEAP_H_
