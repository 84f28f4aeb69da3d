// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/peak_heap.h"

#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include "preload/alloc_clock.h"

namespace memmon::preload {

bool PeakHeap::Init(std::size_t capacity, double growth, int64_t min_bytes) {
  growth_ = growth >= 0 ? growth : kDefaultGrowth;
  next_save_.store(min_bytes, std::memory_order_relaxed);
  void* mem = mmap(nullptr, capacity * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return false;
  buffer_ = static_cast<uint64_t*>(mem);
  capacity_ = capacity;
  return true;
}

void PeakHeap::Save(const LiveTable& table, int64_t live_bytes) noexcept {
  if (buffer_ == nullptr) return;
  if (busy_.exchange(true, std::memory_order_acquire)) {
    // Another thread copies (or a reader reads): skip, and leave the
    // threshold alone so that the next sampled insert tries again.
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Re-checked under the lock: another thread may have saved a higher
  // peak since this one read the threshold.
  if (live_bytes > next_save_.load(std::memory_order_relaxed)) {
    std::size_t n = 0, truncated = 0;
    table.ForEach([&](uintptr_t, std::size_t size, uint32_t ref) {
      if (n < capacity_) {
        buffer_[n++] = static_cast<uint64_t>(size) << 24 | ref;
      } else {
        ++truncated;
      }
    });
    info_.bytes = live_bytes;
    info_.time_nanos = ClockNanos(CLOCK_MONOTONIC);
    info_.samples = n;
    info_.truncated = truncated;
    ++info_.saves;
    info_.skipped = skipped_.load(std::memory_order_relaxed);
    next_save_.store(
        static_cast<int64_t>(static_cast<double>(live_bytes) * (1.0 + growth_)),
        std::memory_order_relaxed);
  }
  busy_.store(false, std::memory_order_release);
}

void PeakHeap::Lock() {
  while (busy_.exchange(true, std::memory_order_acquire)) sched_yield();
}

}  // namespace memmon::preload
