// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// PrefetchLine: start loading the cache line holding `p`, without waiting
// for it. A hint: it never faults (any address will do) and changes no
// result.
//
// Why not just __builtin_prefetch: GCC 12 sees a function whose only effect
// is a __builtin_prefetch as free of side effects, and drops calls to it
// (LiveTable::Prefetch vanished from the sampler that way). An asm
// statement marked volatile is always kept.
#ifndef MEMMON_SRC_PRELOAD_PREFETCH_H_
#define MEMMON_SRC_PRELOAD_PREFETCH_H_

#include "preload/in_malloc.h"

namespace memmon::preload {

MEMMON_IN_MALLOC inline __attribute__((always_inline)) void PrefetchLine(
    const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 (%0)" : : "r"(p));
#else
  __builtin_prefetch(p, 0, 3);
  asm volatile("" : : "r"(p) : "memory");
#endif
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_PREFETCH_H_
