// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The sampling path: what an allocation does when its thread's sampling
// countdown goes negative (thread_state.h), once in MEMMON_SAMPLE_RATE
// bytes on average: the counters are flushed, the next gap is drawn, and,
// when the allocation is to be sampled, its stack is captured and interned
// and the block enters the live table (sampler.h states the math).
//
// Why it is all inline: the hooks' slow paths (hooks.cc) inline it, so a
// sample's stack has no frame of its own to unwind, and its globals are
// prefetched before the allocator runs (PrefetchSamplerState). Out of
// line: what runs once (PrepareUnwinderOnce), and the gap's arithmetic
// (NextGap, SeedThread), which was out of line before the split too.
//
// Contract: acts on the calling thread's own state; the tables are
// lock-free. errno is left as it was (TakeSamplingPoint, RecordGuarded).
#ifndef MEMMON_SRC_PRELOAD_SAMPLING_PATH_H_
#define MEMMON_SRC_PRELOAD_SAMPLING_PATH_H_

#include <errno.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "preload/glibc_wrap.h"
#include "preload/in_malloc.h"
#include "preload/live_table.h"
#include "preload/peak_heap.h"
#include "preload/prefetch.h"
#include "preload/sampler.h"
#include "preload/stack_table.h"
#include "preload/thread_counters.h"
#include "preload/thread_state.h"
#include "preload/unwind.h"

namespace memmon::preload {

extern MEMMON_HIDDEN SamplerConfig g_config;
extern MEMMON_HIDDEN LiveTable g_live;
extern MEMMON_HIDDEN StackTable g_stacks;
extern MEMMON_HIDDEN PeakHeap g_peak;
extern MEMMON_HIDDEN std::atomic<uint64_t> g_thread_seq;
// This library's own address range, whose frames are trimmed from stacks.
extern MEMMON_HIDDEN std::atomic<uintptr_t> g_self_lo;
extern MEMMON_HIDDEN std::atomic<uintptr_t> g_self_hi;
extern MEMMON_HIDDEN std::atomic<bool> g_unwinder_ready;
// Set by the library's constructor (runtime.cc): allocations made before it
// -- by the constructors of the libraries initialised first, memmon's own
// dependencies among them (libstdc++'s emergency exception pool, 71 KiB,
// which a C program would otherwise show as its largest leak) -- are
// counted but never sampled.
extern MEMMON_HIDDEN std::atomic<bool> g_sampling_started;

// The next sampling gap, in bytes: exponential with mean g_config.rate
// (-1 when rate <= 1: every allocation, of 0 bytes too, is a sampling
// point). Draws from the thread's generator.
MEMMON_IN_MALLOC int64_t NextGap(ThreadState& t);

// Seeds the thread's generator (from MEMMON_SEED and the thread's number,
// or from the clock) at its first sampling point.
MEMMON_IN_MALLOC void SeedThread(ThreadState& t);

// Finds this library's address range (dl_iterate_phdr), readies
// libunwind and the rule cache; then sets g_unwinder_ready. Normally from
// the library constructor; inside malloc when a sample comes first, and
// then dl_iterate_phdr takes the loader's lock (in_malloc.h).
MEMMON_IN_MALLOC void PrepareUnwinderOnce();

MEMMON_IN_MALLOC inline void PrepareUnwinder() {
  if (MEMMON_UNLIKELY(!g_unwinder_ready.load(std::memory_order_acquire))) {
    PrepareUnwinderOnce();
  }
}

// Captures the calling thread's stack (this library's frames trimmed) and
// interns it: the sampled allocations' capture, and the mmap hooks'
// (mmap_hooks.cc). Only under the thread's in_hook guard (RecordGuarded).
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE StackRecord* CaptureStack(
    ThreadState& t) {
  // Done at load (PrepareSampling); this is for a sample taken before that
  // returned (a sampling point in the unwinder's own set-up).
  PrepareUnwinder();
  uintptr_t frames[kMaxStackDepth + 16];
  // The thread's stack bounds, found once (a stack pointer outside them,
  // on a coroutine's stack, say, has them looked up again).
  const uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  bool bounded = sp - t.stack.lo < t.stack.hi - t.stack.lo;
  if (!bounded) {
    StackBounds found;
    bounded = CurrentThreadStack(&found);
    if (bounded) t.stack = found;
  }
  int n = bounded ? FastBacktrace(frames, kMaxStackDepth + 16, t.stack) : -1;
  if (n < 0) {
    n = unw_backtrace(reinterpret_cast<void**>(frames), kMaxStackDepth + 16);
  }
  const uintptr_t lo = g_self_lo.load(std::memory_order_relaxed);
  const uintptr_t hi = g_self_hi.load(std::memory_order_relaxed);
  int skip = 0;
  while (skip < n && frames[skip] >= lo && frames[skip] < hi) ++skip;
  int depth = n - skip;
  if (depth > kMaxStackDepth) depth = kMaxStackDepth;
  if (depth <= 0) {
    g_unwind_failures.fetch_add(1, std::memory_order_relaxed);
    depth = 0;
  }
  StackRecord* stack = g_stacks.Intern(frames + skip, depth, t.last_stack);
  t.last_stack = stack;
  return stack;
}

// Records a sample of `size` bytes at `p` (a wrapped block when `wrapped`,
// whose header then gets its live-table slot). Inlined into its callers:
// one frame fewer to unwind. Only under RecordGuarded: a rule-cache miss
// (unwind.cc) or the libunwind fallback takes the loader's lock
// (in_malloc.h), and what libunwind allocates must not be sampled.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void RecordSample(ThreadState& t, void* p,
                                                        size_t size,
                                                        bool wrapped) {
  g_live.Prefetch(p);  // the entry's line, loading during the walk
  StackRecord* stack = CaptureStack(t);
  double weight = SampleWeightBytes(size, g_config.rate);
  stack->alloc_bytes.fetch_add(static_cast<uint64_t>(weight + 0.5),
                               std::memory_order_relaxed);
  stack->alloc_objects_scaled.fetch_add(
      static_cast<uint64_t>(SampleWeightObjects(size, g_config.rate) *
                                static_cast<double>(kObjectScale) +
                            0.5),
      std::memory_order_relaxed);
  ++t.samples;  // moved to the thread's slot at its next flush
  // The allocation's time, for the age of live memory (a vDSO call).
  const uint32_t tick = g_config.live_age ? LiveTable::NowTick() : 0;
  int64_t live_bytes = 0;
  if (const size_t slot =
          g_live.Insert(p, size, g_stacks.Ref(stack), tick, &live_bytes)) {
    ++t.live_samples;
    if (wrapped) SetWrapSlot(p, slot);
    // Peaks only rise on a sampled insert: the one place to watch them.
    if (g_config.peak) g_peak.MaybeSave(g_live, live_bytes);
  } else {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

// Starts loading what a sample reads, one sampling interval after it was
// last read: by then the program has pushed it out of the near caches, and
// read in turn (the walk needs the unwinder's state before it can read the
// memo; the record's address comes out of the walk) each line would cost a
// miss. Issued before the allocator runs, the misses overlap with it and
// with each other. The lines: the tables' and the configuration's globals,
// the unwinder's state and memo, the thread's second line, and the last
// sample's stack record (its counters' line, then its frames'), which this
// sample will likely add to.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void PrefetchSamplerState(
    const ThreadState& t) {
  const char* live = reinterpret_cast<const char*>(&g_live);
  const char* stacks = reinterpret_cast<const char*>(&g_stacks);
  PrefetchLine(live);
  PrefetchLine(live + 64);
  PrefetchLine(&g_config);
  PrefetchLine(stacks);
  PrefetchLine(stacks + 64);
  PrefetchLine(&g_self_lo);
  PrefetchLine(&t.live_samples);
  PrefetchUnwindState();
  if (t.last_stack != nullptr) {
    PrefetchLine(t.last_stack);
    PrefetchLine(reinterpret_cast<const char*>(t.last_stack) + 64);
  }
}

// The countdown went negative (or this is the thread's first allocation):
// flushes the counters, draws the next gap and says whether the allocation
// of `size` bytes is to be recorded. errno is left as it was.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE bool TakeSamplingPoint(ThreadState& t,
                                                             size_t size) {
  int saved_errno = errno;
  PrefetchSamplerState(t);
  // The bytes the countdown went down by are set aside for the next flush
  // (the countdown is re-armed below). The flush itself, a store to the
  // thread's slot (a cache line that is cold by the next sampling point),
  // is done at one sampling point in kPointsPerFlush, and at the first.
  if (t.slot == nullptr || ++t.points_since_flush >= kPointsPerFlush) {
    Flush();
  } else {
    t.unflushed_bytes += static_cast<uint64_t>(t.synced_countdown) -
                         static_cast<uint64_t>(t.until_sample);
    t.synced_countdown = t.until_sample;
  }
  if (!t.rng_ready) {
    // First allocation on this thread: draw the first gap, then decide.
    SeedThread(t);
    const int64_t left = CountDown(NextGap(t), size);
    SetCountdown(t, left);
    if (left >= 0 && g_config.rate > 1) {
      errno = saved_errno;
      return false;
    }
  }
  SetCountdown(t, NextGap(t));
  errno = saved_errno;
  // A request of 0 bytes cannot take the countdown below zero: it gets here
  // only when the countdown is always negative (rate <= 1, NextGap).
  return !t.in_hook && !t.no_sampling && g_config.enabled &&
         g_sampling_started.load(std::memory_order_relaxed);
}

MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void RecordGuarded(ThreadState& t,
                                                         void* p, size_t size,
                                                         bool wrapped) {
  int saved_errno = errno;
  t.in_hook = true;
  RecordSample(t, p, size, wrapped);
  t.in_hook = false;
  errno = saved_errno;
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_SAMPLING_PATH_H_
