// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ThreadState: what each thread keeps for the hooks, one cache line of
// initial-exec TLS, and the two countdowns in it that make the fast paths
// (hooks.cc) a subtract and a sign test each: the sampling countdown
// (bytes to the next sample) and the free countdown (frees to the next
// flush of the thread's counters, thread_counters.h).
//
// Contract: a thread touches only its own state (ThisThread()); nothing in
// it is atomic. Reading it costs a plain %fs-relative access: no
// __tls_get_addr (which may allocate).
#ifndef MEMMON_SRC_PRELOAD_THREAD_STATE_H_
#define MEMMON_SRC_PRELOAD_THREAD_STATE_H_

#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"
#include "preload/real_allocator.h"
#include "preload/stack_table.h"
#include "preload/unwind.h"

namespace memmon::preload {

struct CounterSlot;  // thread_counters.h

// Under another allocator the fast paths must not run (they read glibc chunk
// headers). malloc's is kept off by a bias: the countdown a thread keeps is
// the real one minus kGenericBias, always negative, so every malloc takes
// the slow path, which adds the bias back (g_real.countdown_bias). (Only a
// request of 2^62 bytes or more can wrap it into the fast path, and that one
// fails before any header is read.) free's is kept off by the thread's free
// countdown, which Flush leaves near kFreeGate (-2^30), always negative, and
// its slow path consults the live table's filter instead of a header. The cost
// there: a call more per malloc and per free.
inline constexpr int64_t kGenericBias = int64_t{1} << 62;
inline constexpr int64_t kMaxGap = int64_t{1} << 60;  // < kGenericBias
// Where Flush leaves a thread's free countdown (ThreadState::ops_left)
// under another allocator: kFlushEvery frees above this, so that the
// countdown stays negative and every free takes FreeCountdown.
inline constexpr int32_t kFreeGate = -(int32_t{1} << 30);

// One cache line holds everything the fast paths touch.
struct alignas(64) ThreadState {
  // Bytes left before the next sample, minus g_real.countdown_bias; negative
  // means "take the slow path" (tested by sign: one sub-and-branch). Starts
  // at -1, so a thread's first allocation takes it.
  int64_t until_sample = -1;
  // This thread's counts not yet moved to its slot (see CounterSlot).
  uint64_t allocations;
  // Bytes in use: added by mallocs and by frees in two fields, so that a
  // malloc+free loop is two chains of one add each, not one of two.
  uint64_t alloc_chunk_bytes;
  uint64_t freed_chunk_bytes;
  size_t pending_bytes;  // the request of the malloc in flight
  // Frees left before the next flush, tested by sign: one sub-and-branch.
  // Starts at 0, so a thread's first free takes FreeCountdown (which
  // flushes, claiming the slot); under another allocator Flush leaves it
  // negative (kFreeGate), so that free never reads a chunk header.
  int32_t ops_left;
  // The two countdowns as the last flush left them: the frees since are
  // synced_ops - ops_left, the bytes allocated synced_countdown -
  // until_sample.
  int32_t synced_ops;
  int64_t synced_countdown = -1;
  uint64_t samples;
  int64_t live_samples;
  uint64_t rng;
  // Bytes allocated at sampling points that skipped the flush (see
  // TakeSamplingPoint), and how many did since the last flush.
  uint64_t unflushed_bytes;
  uint32_t points_since_flush;
  CounterSlot* slot;  // null until the thread's first flush
  StackBounds stack;  // this thread's stack, as CurrentThreadStack found it
  // The stack of this thread's last sample: likely the next one's too
  // (StackTable::Intern tries it first), its lines loaded early.
  StackRecord* last_stack;
  bool rng_ready;
  bool in_hook;      // reentrancy guard: set while recording a sample
  bool no_sampling;  // ScopedNoSampling
  bool in_init;
  bool shared_slot;  // beyond kCounterSlots: atomic adds on g_overflow
  // The allocator clock (alloc_clock.h), on the state's last line (the
  // fast paths never touch it): a timed call is pending (the sampling
  // countdown then carries kTimingBias under glibc); weighted ticks not
  // yet flushed; the thread's calls folded by its flushes, and where they
  // stood at its last timed allocation and free; its flushes so far and
  // the current free period (193..256, jittered).
  bool timing_request;
  int32_t flush_period;
  uint32_t flushes;
  uint64_t timed_ticks;
  uint64_t allocs_total;
  uint64_t frees_total;
  uint64_t alloc_mark;
  uint64_t free_mark;
};

}  // namespace memmon::preload

// initial-exec: a plain %fs-relative access, no __tls_get_addr (which may
// allocate) in the hooks. The library is loaded at start-up (LD_PRELOAD or
// DT_NEEDED), where static TLS is available. Outside any namespace, with C
// linkage, so that AddInuseAfterCall()'s assembly can name it. Defined in
// hooks.cc.
extern "C" __thread memmon::preload::ThreadState memmon_preload_thread_state
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

namespace memmon::preload {

// The calling thread's state.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE ThreadState& ThisThread() {
  return memmon_preload_thread_state;
}

// Adds `v` to the calling thread's alloc_chunk_bytes, the TLS offset loaded
// afresh. Used after the call into the allocator: the compiler would
// otherwise keep the offset in a callee-saved register, and saving that
// register costs the fast path a push and a pop. Two instructions: the
// offset from the GOT, then an %fs-relative add.
MEMMON_IN_MALLOC inline void AddInuseAfterCall(uint64_t v) {
  uintptr_t off;
  asm volatile("movq memmon_preload_thread_state@gottpoff(%%rip), %0"
               : "=r"(off));
  asm volatile("addq %1, %%fs:%c2(%0)"
               :
               : "r"(off), "r"(v), "i"(offsetof(ThreadState, alloc_chunk_bytes))
               : "cc", "memory");
}

// Sampling countdown arithmetic is unsigned (wrapping) so that no request
// size overflows it; the sign is read after.
MEMMON_IN_MALLOC inline int64_t CountDown(int64_t left, size_t n) {
  return static_cast<int64_t>(static_cast<uint64_t>(left) - n);
}

// Sets the sampling countdown to `bytes`; only right after a Flush (the
// bytes allocated so far must have been read).
MEMMON_IN_MALLOC inline void SetCountdown(ThreadState& t, int64_t bytes) {
  t.until_sample = t.synced_countdown = bytes - g_real.countdown_bias;
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_THREAD_STATE_H_
