// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The next allocator: the definitions of malloc and friends that the
// hooks (hooks.cc) forward to, found with dlsym(RTLD_NEXT) -- glibc's,
// jemalloc's or tcmalloc's -- and whether it is glibc's, whose chunk
// headers the fast paths read (glibc_wrap.h).
//
// Contract: g_real is written once, by InitSlow (hooks.cc), and only read
// after initialisation, from any thread.
#ifndef MEMMON_SRC_PRELOAD_REAL_ALLOCATOR_H_
#define MEMMON_SRC_PRELOAD_REAL_ALLOCATOR_H_

#include <errno.h>

#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"

namespace memmon::preload {

using MallocFn = void* (*)(size_t) noexcept;
using FreeFn = void (*)(void*) noexcept;
using CallocFn = void* (*)(size_t, size_t) noexcept;
using ReallocFn = void* (*)(void*, size_t) noexcept;
using PosixMemalignFn = int (*)(void**, size_t, size_t) noexcept;
using UsableSizeFn = size_t (*)(void*) noexcept;

// The next allocator, and how the hooks treat it. Aligned allocation goes
// through posix_memalign alone, which glibc, jemalloc and tcmalloc all
// define; memalign, valloc, pvalloc and aligned_alloc are built on it here,
// so a block never comes from one allocator and goes back to another
// (jemalloc has no pvalloc: forwarding to "the next pvalloc" would reach
// glibc's).
//
// One cache line (alignas(64)), read-only after initialisation: every
// malloc and free calls through it, so it stays warm, and what the slow
// paths read of it (glibc_chunks, countdown_bias) is warm too; no write to
// a neighbour can take it away.
struct alignas(64) RealAllocator {
  MallocFn malloc = nullptr;
  FreeFn free = nullptr;
  CallocFn calloc = nullptr;
  ReallocFn realloc = nullptr;
  PosixMemalignFn posix_memalign = nullptr;
  UsableSizeFn usable_size = nullptr;
  // The next malloc is glibc's: block sizes are read from chunk headers.
  bool glibc_chunks = false;
  // kGenericBias when !glibc_chunks, else 0 (thread_state.h): what keeps
  // malloc's fast path off under another allocator. Set by InitSlow.
  int64_t countdown_bias = 0;
};
static_assert(sizeof(RealAllocator) == 64);
extern MEMMON_HIDDEN RealAllocator g_real;

// Fills g_real's functions and glibc_chunks, then calls the allocator once so
// that its own first-use set-up is done (see the .cc). dlsym may allocate: the
// caller has its thread's allocations served by the bootstrap arena.
// dlsym and dladdr take the loader's dl_load_lock (in_malloc.h).
MEMMON_IN_MALLOC void ResolveRealAllocator();

enum class AllocKind { kMalloc, kCalloc, kAligned };

// The next allocator's function for `kind`; null on failure (errno set).
MEMMON_IN_MALLOC inline void* RealAlloc(AllocKind kind, size_t n,
                                        size_t align) {
  switch (kind) {
    case AllocKind::kMalloc:
      return g_real.malloc(n);
    case AllocKind::kCalloc:
      return g_real.calloc(1, n);
    case AllocKind::kAligned: {
      void* p = nullptr;
      int err = g_real.posix_memalign(&p, align, n);
      if (err != 0) {
        errno = err;
        return nullptr;
      }
      return p;
    }
  }
  return nullptr;
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_REAL_ALLOCATOR_H_
