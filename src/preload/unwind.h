// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// FastBacktrace: the calling thread's return addresses, from DWARF call
// frame information (.eh_frame) reduced to one rule per return address and
// cached process-wide.
//
// Why: a sample's stack is what a heap sample costs. libunwind's
// unw_backtrace builds a 1 KiB cursor and a 1 KiB context on the stack
// (cold lines at every sample: the program's own stack is rarely that deep
// below its top) and looks up each frame in a per-thread cache. Here a
// frame costs one lookup in a shared table of 16-byte entries and two stack
// reads, and the state is three registers.
//
// What it handles: frames whose canonical frame address (CFA) is %rsp or
// %rbp plus a constant, whose return address is at CFA-8, and whose %rbp is
// either unchanged or saved at a constant offset from the CFA: all code
// GCC and Clang emit for x86-64, with or without frame pointers, except
// stack-realigning prologues and signal frames. For anything else
// (no .eh_frame, a CFA expression, a signal frame) it returns -1 and the
// caller falls back to libunwind, so no stack comes out worse than before.
//
// Contract: async-signal-unsafe but allocation-free and lock-free on the
// hot path; a rule cache miss parses .eh_frame under dl_iterate_phdr's
// lock (as libunwind and libgcc do; in_malloc.h says when, and the risk). Must
// not be called before InitFastUnwind() succeeded; safe from any thread after
// that.
#ifndef MEMMON_SRC_PRELOAD_UNWIND_H_
#define MEMMON_SRC_PRELOAD_UNWIND_H_

#include <cstdint>

#include "preload/in_malloc.h"

namespace memmon::preload {

// Reserves the rule cache (mmap). False when it could not. Threads may
// call it at once: one mapping is kept, the others are unmapped.
MEMMON_IN_MALLOC bool InitFastUnwind();

// Starts loading the lines a walk reads first (the cache's globals, the
// thread's memo of its last walk), so that a caller about to walk can
// overlap their misses with other work. Only hints: no effect on results.
MEMMON_IN_MALLOC void PrefetchUnwindState();

// The calling thread's stack, [lo, hi): every stack read of the walk stays
// below hi, so that no rule (right or stale) can make it read above the
// stack. False when the stack pointer is on no thread stack it knows (a
// coroutine's, an alternate signal stack): the walk is then not used.
// Allocation-free, no system call.
struct StackBounds {
  uintptr_t lo = 0, hi = 0;
};
MEMMON_IN_MALLOC bool CurrentThreadStack(StackBounds* out);

// Fills frames[0..) with return addresses, innermost first: frames[0] is
// the return address into FastBacktrace's caller, frames[1] that into its
// caller, and so on, exactly as libunwind's unw_backtrace. Stops at the
// outermost frame (return address undefined) or after `max` frames (at
// most 96).
// Returns the number of frames, or -1 when some frame needs libunwind (or
// the stack pointer is outside `stack`, as on a coroutine's stack).
// (An assembly entry point: see unwind.cc.)
extern "C" MEMMON_IN_MALLOC int memmon_unwind_fast_backtrace(
    uintptr_t* frames, int max, const StackBounds* stack);
MEMMON_IN_MALLOC inline __attribute__((always_inline)) int FastBacktrace(
    uintptr_t* frames, int max, const StackBounds& stack) {
  return memmon_unwind_fast_backtrace(frames, max, &stack);
}

// Forgets every cached rule (code was unloaded: its addresses may be
// reused by other code).
void InvalidateFastUnwind();

// Cache statistics, for tests and benchmarks.
struct FastUnwindStats {
  uint64_t rules_parsed;  // cache misses: rules read from .eh_frame
  uint64_t fallbacks;     // FastBacktrace calls that returned -1
};
FastUnwindStats GetFastUnwindStats();

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_UNWIND_H_
