// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/bootstrap_arena.h"

#include "preload/glibc_wrap.h"

namespace memmon::preload {

alignas(64) constinit char g_boot[kBootBytes];

namespace {
constinit std::atomic<size_t> g_boot_used{0};
}  // namespace

void* BootAlloc(size_t n, size_t align) {
  if (align < 16) align = 16;
  size_t used = g_boot_used.load(std::memory_order_relaxed);
  for (;;) {
    size_t start = (used + 16 + align - 1) & ~(align - 1);
    size_t end = start + n;
    if (end > kBootBytes || end < start) return nullptr;
    if (g_boot_used.compare_exchange_weak(used, end,
                                          std::memory_order_relaxed)) {
      *reinterpret_cast<size_t*>(g_boot + start - 16) = n;
      // free() knows it: FreeCountdown before initialisation (a thread's
      // first free takes it), FreeBig by this header after it.
      *reinterpret_cast<uintptr_t*>(g_boot + start - 8) = kBootMark;
      return g_boot + start;  // zero: the arena is never reused
    }
  }
}

}  // namespace memmon::preload
