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

#include "memmon/memmon_preload.h"
#include "preload/alloc_clock.h"
#include "preload/in_malloc.h"
#include "preload/real_allocator.h"
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
  // The allocator clock's weighted counter ticks (alloc_clock.h).
  std::atomic<uint64_t> allocator_ticks;
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

// A flush is due after the thread's free period (kFlushEvery - 63 ..
// kFlushEvery frees, jittered for the allocator clock), and at a thread's
// first free (which claims its slot).
MEMMON_IN_MALLOC inline bool FlushDue(const ThreadState& t) {
  return t.slot == nullptr ||
         static_cast<int64_t>(t.synced_ops) - t.ops_left >= t.flush_period;
}

// What timing costs itself: the ticks between two reads of the counter
// with nothing between them (the mean of 64 such pairs at
// initialisation), taken off every timed call.
extern MEMMON_HIDDEN uint64_t g_clock_overhead_ticks;

// The ticks since `start`, less the clock's own (never below 0).
MEMMON_IN_MALLOC inline uint64_t TicksSince(uint64_t start) {
  const uint64_t d = Ticks() - start;
  return d > g_clock_overhead_ticks ? d - g_clock_overhead_ticks : 0;
}

// Asks for the thread's next allocation call to be timed (alloc_clock.h).
// Under glibc the sampling countdown is pushed below zero, both it and
// the flush's mark, so that the bytes counted do not change; under another
// allocator every call takes the slow path anyway.
MEMMON_IN_MALLOC inline void RequestTiming(ThreadState& t) {
  if (t.timing_request) return;
  t.timing_request = true;
  if (g_real.glibc_chunks) {
    t.until_sample = CountDown(t.until_sample, kTimingBias);
    t.synced_countdown = CountDown(t.synced_countdown, kTimingBias);
  }
}

// Takes the pending request back (the countdown as it was, less what was
// allocated since); true when there was one. Every path that reads the
// countdown's sign under glibc and may draw a new gap calls it first.
MEMMON_IN_MALLOC inline bool TakeTimingRequest(ThreadState& t) {
  if (MEMMON_LIKELY(!t.timing_request)) return false;
  t.timing_request = false;
  if (g_real.glibc_chunks) {
    t.until_sample = CountDown(t.until_sample, -kTimingBias);
    t.synced_countdown = CountDown(t.synced_countdown, -kTimingBias);
  }
  return true;
}

// Adds an allocation call timed from `start`, standing for the thread's
// allocations since its last timed one.
MEMMON_IN_MALLOC inline void AddTimedAlloc(ThreadState& t, uint64_t start) {
  t.timed_ticks +=
      WeightedTicks(TicksSince(start),
                    TakeWeight(t.allocs_total + t.allocations, &t.alloc_mark));
}

// The allocator clock, summed over the threads (after flushing the
// caller's), in nanoseconds; with the process's CPU time.
void ReadAllocatorTime(memmon_preload_allocator_time* out);

// Counts a free outside the fast path.
MEMMON_IN_MALLOC inline void CountFree(ThreadState& t) {
  if (MEMMON_UNLIKELY(--t.ops_left < 0) && FlushDue(t)) Flush();
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_THREAD_COUNTERS_H_
