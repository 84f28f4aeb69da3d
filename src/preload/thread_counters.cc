// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/thread_counters.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "preload/alloc_clock.h"
#include "preload/real_allocator.h"
#include "preload/sampler.h"
#include "preload/sampling_path.h"

namespace memmon::preload {

constinit std::atomic<uint64_t> g_dropped{0};
constinit std::atomic<uint64_t> g_unwind_failures{0};
constinit uint64_t g_clock_overhead_ticks = 0;

namespace {

// mmap'd: pages are touched as threads come.
constinit CounterSlot* g_slots = nullptr;
// Slots ever claimed: readers stop here.
constinit std::atomic<size_t> g_slots_high{0};
constinit CounterSlot g_retired;
constinit CounterSlot g_overflow;
constinit pthread_key_t g_thread_key = 0;
constinit bool g_thread_key_ok = false;
// The allocator clock's calibration: the counter and CLOCK_MONOTONIC read
// together at initialisation (alloc_clock.h).
constinit uint64_t g_clock_start_ticks = 0;
constinit int64_t g_clock_start_nanos = 0;

void Fold(CounterSlot* from, CounterSlot* into) {
  into->allocations.fetch_add(from->allocations.exchange(0),
                              std::memory_order_relaxed);
  into->frees.fetch_add(from->frees.exchange(0), std::memory_order_relaxed);
  into->allocated_bytes.fetch_add(from->allocated_bytes.exchange(0),
                                  std::memory_order_relaxed);
  into->inuse_bytes.fetch_add(from->inuse_bytes.exchange(0),
                              std::memory_order_relaxed);
  into->samples.fetch_add(from->samples.exchange(0), std::memory_order_relaxed);
  into->live_samples.fetch_add(from->live_samples.exchange(0),
                               std::memory_order_relaxed);
  into->allocator_ticks.fetch_add(from->allocator_ticks.exchange(0),
                                  std::memory_order_relaxed);
}

MEMMON_IN_MALLOC CounterSlot* ClaimSlot(ThreadState& t) {
  if (g_slots != nullptr) {
    for (size_t i = 0; i < kCounterSlots; ++i) {
      uint32_t expected = 0;
      if (g_slots[i].in_use.load(std::memory_order_relaxed) == 0 &&
          g_slots[i].in_use.compare_exchange_strong(expected, 1)) {
        t.slot = &g_slots[i];
        size_t high = g_slots_high.load(std::memory_order_relaxed);
        while (high < i + 1 &&
               !g_slots_high.compare_exchange_weak(high, i + 1)) {
        }
        // Keys below 32 live in the thread descriptor: no allocation.
        if (g_thread_key_ok) pthread_setspecific(g_thread_key, &t);
        return t.slot;
      }
    }
  }
  t.shared_slot = true;
  t.slot = &g_overflow;
  return t.slot;
}

// The owner's update of its own slot: a plain load and store.
template <typename T>
MEMMON_IN_MALLOC inline void Add(std::atomic<T>& c, T v) {
  c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

void ThreadExit(void*) {
  ThreadState& t = ThisThread();
  Flush();
  CounterSlot* slot = t.slot;
  if (slot == nullptr || t.shared_slot) return;
  // Allocations after this point (later TLS destructors) go to `overflow`.
  t.slot = &g_overflow;
  t.shared_slot = true;
  Fold(slot, &g_retired);
  slot->in_use.store(0, std::memory_order_release);
}

}  // namespace

void InitThreadCounters() {
  g_clock_start_nanos = ClockNanos(CLOCK_MONOTONIC);  // the vDSO: no allocation
  g_clock_start_ticks = Ticks();
  uint64_t overhead = 0;
  for (int i = 0; i < 64; ++i) {
    const uint64_t a = Ticks();
    overhead += Ticks() - a;
  }
  g_clock_overhead_ticks = overhead / 64;
  g_thread_key_ok = pthread_key_create(&g_thread_key, ThreadExit) == 0;
  void* slot_mem =
      mmap(nullptr, kCounterSlots * sizeof(CounterSlot), PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (slot_mem != MAP_FAILED) g_slots = static_cast<CounterSlot*>(slot_mem);
}

MEMMON_NOINLINE void Flush() noexcept {
  ThreadState& t = ThisThread();
  // Unsigned: the countdowns wrap harmlessly (see DoMalloc).
  const uint64_t frees = static_cast<uint64_t>(
      static_cast<int64_t>(t.synced_ops) - static_cast<int64_t>(t.ops_left));
  const uint64_t bytes = static_cast<uint64_t>(t.synced_countdown) -
                         static_cast<uint64_t>(t.until_sample) +
                         t.unflushed_bytes;
  t.unflushed_bytes = 0;
  t.points_since_flush = 0;
  const int64_t inuse =
      static_cast<int64_t>(t.alloc_chunk_bytes - t.freed_chunk_bytes);
  // The fast path of free is open only under glibc. (Flush runs only after
  // initialisation, when g_real.glibc_chunks is settled.)
  t.allocs_total += t.allocations;
  t.frees_total += frees;
  t.flush_period = JitteredPeriod(kFlushEvery, t.flushes++);
  t.ops_left = t.synced_ops = g_real.glibc_chunks
                                  ? t.flush_period - 1
                                  : kFreeGate + (t.flush_period - 1);
  t.synced_countdown = t.until_sample;
  CounterSlot* c = t.slot;
  if (c == nullptr) c = ClaimSlot(t);
  if (t.shared_slot) {
    g_overflow.allocations.fetch_add(t.allocations, std::memory_order_relaxed);
    g_overflow.frees.fetch_add(frees, std::memory_order_relaxed);
    g_overflow.allocated_bytes.fetch_add(bytes, std::memory_order_relaxed);
    g_overflow.inuse_bytes.fetch_add(inuse, std::memory_order_relaxed);
    g_overflow.samples.fetch_add(t.samples, std::memory_order_relaxed);
    g_overflow.live_samples.fetch_add(t.live_samples,
                                      std::memory_order_relaxed);
    g_overflow.allocator_ticks.fetch_add(t.timed_ticks,
                                         std::memory_order_relaxed);
  } else {
    Add(c->allocations, t.allocations);
    Add(c->frees, frees);
    Add(c->allocated_bytes, bytes);
    Add(c->inuse_bytes, inuse);
    Add(c->samples, t.samples);
    Add(c->live_samples, t.live_samples);
    Add(c->allocator_ticks, t.timed_ticks);
  }
  t.timed_ticks = 0;
  t.allocations = t.samples = 0;
  t.alloc_chunk_bytes = t.freed_chunk_bytes = 0;
  t.live_samples = 0;
}

void ReadCounters(memmon_preload_counters* out) {
  EnsureInitialized();
  Flush();
  uint64_t allocations = 0, frees = 0, bytes = 0, samples = 0;
  int64_t inuse = 0, live = 0;
  auto sum = [&](const CounterSlot& c) {
    allocations += c.allocations.load(std::memory_order_relaxed);
    frees += c.frees.load(std::memory_order_relaxed);
    bytes += c.allocated_bytes.load(std::memory_order_relaxed);
    inuse += c.inuse_bytes.load(std::memory_order_relaxed);
    samples += c.samples.load(std::memory_order_relaxed);
    live += c.live_samples.load(std::memory_order_relaxed);
  };
  sum(g_retired);
  sum(g_overflow);
  if (g_slots != nullptr) {
    const size_t high = g_slots_high.load(std::memory_order_acquire);
    for (size_t i = 0; i < high; ++i) {
      if (g_slots[i].in_use.load(std::memory_order_acquire) != 0)
        sum(g_slots[i]);
    }
  }
  out->allocations = allocations;
  out->frees = frees;
  out->allocated_bytes = bytes;
  out->inuse_bytes = inuse > 0 ? static_cast<uint64_t>(inuse) : 0;
  out->sample_rate = g_config.rate;
  out->samples = samples;
  out->live_samples = live > 0 ? static_cast<uint64_t>(live) : 0;
  out->dropped_samples =
      g_dropped.load(std::memory_order_relaxed) + g_stacks.dropped();
  out->unwind_failures = g_unwind_failures.load(std::memory_order_relaxed);
  out->stacks = g_stacks.count();
}

void ReadAllocatorTime(memmon_preload_allocator_time* out) {
  EnsureInitialized();
  Flush();
  uint64_t ticks = g_retired.allocator_ticks.load(std::memory_order_relaxed) +
                   g_overflow.allocator_ticks.load(std::memory_order_relaxed);
  if (g_slots != nullptr) {
    const size_t high = g_slots_high.load(std::memory_order_acquire);
    for (size_t i = 0; i < high; ++i) {
      if (g_slots[i].in_use.load(std::memory_order_acquire) != 0)
        ticks += g_slots[i].allocator_ticks.load(std::memory_order_relaxed);
    }
  }
  const int64_t now_nanos = ClockNanos(CLOCK_MONOTONIC);
  const uint64_t now_ticks = Ticks();
  out->allocator_nanos = TicksToNanos(
      ticks, g_clock_start_ticks, g_clock_start_nanos, now_ticks, now_nanos);
  out->cpu_nanos = static_cast<uint64_t>(ClockNanos(CLOCK_PROCESS_CPUTIME_ID));
}

}  // namespace memmon::preload

MEMMON_EXPORT int memmon_preload_read_allocator_time(
    memmon_preload_allocator_time* out, size_t out_size) {
  memmon_preload_allocator_time a{};
  memmon::preload::ReadAllocatorTime(&a);
  memcpy(out, &a, out_size < sizeof(a) ? out_size : sizeof(a));
  return 0;
}
