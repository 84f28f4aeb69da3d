// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The exact counters (memmon_preload_read_counters), batched per thread.
//
// The hooks add to plain thread-local fields (one %fs-relative instruction
// each), moved now and then (every kFlushEvery frees, at each sampling
// point) to the thread's own slot, a cache line that only that thread
// writes (a plain load and store: no locked instruction, no line shared
// between threads). A thread claims its slot, and registers its exit
// handler, at its first allocation or free. Readers sum the slots after
// flushing their own thread; another live thread may hold up to
// kFlushEvery - 1 frees and kPointsPerFlush sampling intervals of
// allocations (MEMMON_SAMPLE_RATE bytes each, on average) not yet in its
// slot. A thread's slot is folded into `retired` and freed when it exits.
// Threads beyond kCounterSlots share `overflow` (atomic adds).
//
// Contract: Flush, FlushDue and CountFree act on the calling thread's own
// state; ReadCounters (sampler.h) may be called from any thread.
#ifndef MEMMON_SRC_PRELOAD_THREAD_COUNTERS_H_
#define MEMMON_SRC_PRELOAD_THREAD_COUNTERS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"
#include "preload/thread_state.h"

namespace memmon::preload {

struct alignas(64) CounterSlot {
  std::atomic<uint64_t> allocations;
  std::atomic<uint64_t> frees;
  std::atomic<uint64_t> allocated_bytes;
  std::atomic<int64_t> inuse_bytes;
  std::atomic<uint64_t> samples;
  std::atomic<int64_t> live_samples;  // inserted - erased, by this thread
  std::atomic<uint32_t> in_use;
};
static_assert(sizeof(CounterSlot) == 64);
inline constexpr size_t kCounterSlots = 4096;
inline constexpr int32_t kFlushEvery = 256;
inline constexpr uint32_t kPointsPerFlush = 8;

// Process-wide counts of what the sampling path could not do: samples the
// live table had no room for, and samples whose stack came out empty.
extern MEMMON_HIDDEN std::atomic<uint64_t> g_dropped;
extern MEMMON_HIDDEN std::atomic<uint64_t> g_unwind_failures;

// Maps the slots and creates the thread key whose destructor folds an
// exiting thread's slot. Once, from InitSlow; without slots every thread
// counts into the shared overflow slot.
MEMMON_IN_MALLOC void InitThreadCounters();

// Moves the calling thread's batch to its slot (claiming one at its first
// flush) and re-arms its free countdown. Only after initialisation. No
// argument: the thread's state is found where it is (ThisThread()), which
// spares each caller materialising its address.
MEMMON_IN_MALLOC void Flush() noexcept;

// A flush is due after kFlushEvery frees, and at a thread's first free
// (which claims its slot).
MEMMON_IN_MALLOC inline bool FlushDue(const ThreadState& t) {
  return t.slot == nullptr ||
         static_cast<int64_t>(t.synced_ops) - t.ops_left >= kFlushEvery;
}

// Counts a free outside the fast path.
MEMMON_IN_MALLOC inline void CountFree(ThreadState& t) {
  if (MEMMON_UNLIKELY(--t.ops_left < 0) && FlushDue(t)) Flush();
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_THREAD_COUNTERS_H_
