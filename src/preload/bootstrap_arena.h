// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The bootstrap arena: a static 256 KiB that answers the allocations made
// while the next allocator is being resolved (dlsym allocates), before
// there is an allocator to forward to.
//
// Contract: lock-free (one CAS loop), any thread. Blocks are zeroed (the
// arena is never reused) and never freed: free() recognises them
// (IsBoot, or the kBootMark header word, glibc_wrap.h) and keeps them;
// realloc() moves them out.
#ifndef MEMMON_SRC_PRELOAD_BOOTSTRAP_ARENA_H_
#define MEMMON_SRC_PRELOAD_BOOTSTRAP_ARENA_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"

namespace memmon::preload {

inline constexpr size_t kBootBytes = 256 * 1024;
extern MEMMON_HIDDEN char g_boot[kBootBytes];

MEMMON_IN_MALLOC inline bool IsBoot(const void* p) {
  return reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(g_boot) <
         kBootBytes;
}

// A block of `n` bytes aligned to `align` (at least 16), or null when the
// arena is full. The two words before it hold its size and kBootMark.
MEMMON_IN_MALLOC void* BootAlloc(size_t n, size_t align);

// The size BootAlloc was asked for.
MEMMON_IN_MALLOC inline size_t BootSize(const void* p) {
  return *reinterpret_cast<const size_t*>(static_cast<const char*>(p) - 16);
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_BOOTSTRAP_ARENA_H_
