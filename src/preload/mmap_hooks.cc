// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// mmap, mmap64, munmap and mremap: the program's large private anonymous
// mappings, each with the stack that made it (mmap_table.h keeps them; the
// "mmap" profile and memmon_preload_mmap_sites read them, runtime.cc).
//
// What is seen: calls that go through the PLT -- the program's and its
// libraries' own mmap calls, and jemalloc's and tcmalloc's (their mappings
// are then named by the allocation that made the allocator map more).
// glibc's malloc, pthread_create (thread stacks) and the dynamic loader
// call mmap inside libc, not through the PLT, and are not seen: a large
// malloc is a heap allocation, not a mapping here.
//
// The next mmap, munmap and mremap are found with dlsym(RTLD_NEXT) by the
// library constructor (PrepareMmapHooks); until then, and if that finds
// nothing, the hooks make the system call themselves, so a constructor
// that maps memory before ours, or dlsym's own allocations, never wait on
// a lookup. Recording starts with sampling (g_sampling_started) and is
// skipped on a thread that is recording a sample, initialising, or writing
// a profile, and for calls from this library (its own tables).
//
// Contract: the rules of in_malloc.h (these hooks run inside jemalloc's
// and tcmalloc's malloc): no allocation, no lock, no throw, errno as the
// real call left it. Async-signal-tolerant: the table is lock-free and the
// in_hook guard keeps a handler from recording on a thread already
// recording.

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "preload/alloc_clock.h"
#include "preload/in_malloc.h"
#include "preload/mmap_table.h"
#include "preload/sampling_path.h"
#include "preload/thread_state.h"

namespace memmon::preload {
namespace {

using MmapFn = void* (*)(void*, size_t, int, int, int, off_t);
using MunmapFn = int (*)(void*, size_t);
using MremapFn = void* (*)(void*, size_t, size_t, int, ...);

constinit std::atomic<MmapFn> g_next_mmap{nullptr};
constinit std::atomic<MmapFn> g_next_mmap64{nullptr};
constinit std::atomic<MunmapFn> g_next_munmap{nullptr};
constinit std::atomic<MremapFn> g_next_mremap{nullptr};
constinit std::atomic<size_t> g_mmap_min{kDefaultMmapMin};
constinit std::atomic<uintptr_t> g_page_mask{4095};
constinit MmapTable g_mmaps;

MEMMON_IN_MALLOC void* SysMmap(void* addr, size_t len, int prot, int flags,
                               int fd, off_t off) {
  return reinterpret_cast<void*>(
      syscall(SYS_mmap, addr, len, prot, flags, fd, off));
}

MEMMON_IN_MALLOC uintptr_t PageRound(size_t len) {
  const uintptr_t mask = g_page_mask.load(std::memory_order_relaxed);
  return (static_cast<uintptr_t>(len) + mask) & ~mask;
}

MEMMON_IN_MALLOC bool FromThisLibrary(const void* caller) {
  const auto a = reinterpret_cast<uintptr_t>(caller);
  return a >= g_self_lo.load(std::memory_order_relaxed) &&
         a < g_self_hi.load(std::memory_order_relaxed);
}

// After a successful mmap: records it when it is a large private anonymous
// mapping the program made. errno is left as it was.
MEMMON_IN_MALLOC void MaybeRecord(void* p, size_t len, int flags,
                                  const void* caller) {
  const size_t min = g_mmap_min.load(std::memory_order_relaxed);
  if (min == 0 || len < min || (flags & MAP_ANONYMOUS) == 0 ||
      (flags & MAP_TYPE) != MAP_PRIVATE) {
    return;
  }
  ThreadState& t = ThisThread();
  if (t.in_hook || t.in_init || t.no_sampling || !g_config.enabled ||
      !g_sampling_started.load(std::memory_order_relaxed) ||
      !g_stacks.initialized() || FromThisLibrary(caller)) {
    return;
  }
  int saved_errno = errno;
  t.in_hook = true;
  StackRecord* stack = CaptureStack(t);
  t.in_hook = false;
  g_mmaps.Insert(reinterpret_cast<uintptr_t>(p), PageRound(len),
                 g_stacks.Ref(stack), ClockNanos(CLOCK_MONOTONIC));
  errno = saved_errno;
}

MEMMON_IN_MALLOC void* MmapHook(MmapFn next, void* addr, size_t len, int prot,
                                int flags, int fd, off_t off,
                                const void* caller) {
  // MAP_FIXED replaces what was there (MAP_FIXED_NOREPLACE fails instead).
  if ((flags & MAP_FIXED) != 0) {
    g_mmaps.Unmap(reinterpret_cast<uintptr_t>(addr), PageRound(len));
  }
  void* p = next != nullptr ? next(addr, len, prot, flags, fd, off)
                            : SysMmap(addr, len, prot, flags, fd, off);
  if (p != MAP_FAILED) MaybeRecord(p, len, flags, caller);
  return p;
}

}  // namespace

MmapTable& Mmaps() { return g_mmaps; }
size_t MmapMinBytes() { return g_mmap_min.load(std::memory_order_relaxed); }

// From the library constructor (runtime.cc), before sampling starts.
void PrepareMmapHooks() {
  long page = sysconf(_SC_PAGESIZE);
  if (page > 0) g_page_mask.store(static_cast<uintptr_t>(page) - 1);
  if (const char* v = getenv("MEMMON_MMAP_MIN"); v != nullptr && *v != '\0') {
    char* end = nullptr;
    unsigned long long n = strtoull(v, &end, 10);
    if (end != v && *end == '\0') g_mmap_min.store(static_cast<size_t>(n));
  }
  g_next_mmap.store(reinterpret_cast<MmapFn>(dlsym(RTLD_NEXT, "mmap")),
                    std::memory_order_release);
  g_next_mmap64.store(reinterpret_cast<MmapFn>(dlsym(RTLD_NEXT, "mmap64")),
                      std::memory_order_release);
  g_next_munmap.store(reinterpret_cast<MunmapFn>(dlsym(RTLD_NEXT, "munmap")),
                      std::memory_order_release);
  g_next_mremap.store(reinterpret_cast<MremapFn>(dlsym(RTLD_NEXT, "mremap")),
                      std::memory_order_release);
}

}  // namespace memmon::preload

using memmon::preload::g_mmaps;
using memmon::preload::g_next_mmap;
using memmon::preload::g_next_mmap64;
using memmon::preload::g_next_mremap;
using memmon::preload::g_next_munmap;
using memmon::preload::MmapHook;
using memmon::preload::PageRound;

MEMMON_EXPORT void* mmap(void* addr, size_t len, int prot, int flags, int fd,
                         off_t off) noexcept {
  return MmapHook(g_next_mmap.load(std::memory_order_acquire), addr, len, prot,
                  flags, fd, off, __builtin_return_address(0));
}

MEMMON_EXPORT void* mmap64(void* addr, size_t len, int prot, int flags, int fd,
                           off_t off) noexcept {
  return MmapHook(g_next_mmap64.load(std::memory_order_acquire), addr, len,
                  prot, flags, fd, off, __builtin_return_address(0));
}

MEMMON_EXPORT int munmap(void* addr, size_t len) noexcept {
  // Before the kernel frees the range (mmap_table.h).
  g_mmaps.Unmap(reinterpret_cast<uintptr_t>(addr), PageRound(len));
  memmon::preload::MunmapFn next =
      g_next_munmap.load(std::memory_order_acquire);
  if (next != nullptr) return next(addr, len);
  return static_cast<int>(syscall(SYS_munmap, addr, len));
}

MEMMON_EXPORT void* mremap(void* old_address, size_t old_size, size_t new_size,
                           int flags, ...) noexcept {
  void* new_address = nullptr;
  if ((flags & MREMAP_FIXED) != 0) {
    va_list ap;
    va_start(ap, flags);
    new_address = va_arg(ap, void*);
    va_end(ap);
  }
  const auto old_start = reinterpret_cast<uintptr_t>(old_address);
  uintptr_t length = 0;
  // MREMAP_DONTUNMAP leaves the old mapping where it was: the entry stays.
  const int slot =
      (flags & MREMAP_DONTUNMAP) != 0 ? -1 : g_mmaps.Claim(old_start, &length);
  if ((flags & MREMAP_FIXED) != 0) {
    g_mmaps.Unmap(reinterpret_cast<uintptr_t>(new_address),
                  PageRound(new_size));
  }
  memmon::preload::MremapFn next =
      g_next_mremap.load(std::memory_order_acquire);
  void* p =
      next != nullptr
          ? next(old_address, old_size, new_size, flags, new_address)
          : reinterpret_cast<void*>(syscall(SYS_mremap, old_address, old_size,
                                            new_size, flags, new_address));
  if (slot >= 0) {
    if (p == MAP_FAILED) {
      g_mmaps.Restore(slot, old_start);
    } else {
      g_mmaps.Moved(slot, old_start, length, PageRound(old_size),
                    reinterpret_cast<uintptr_t>(p), PageRound(new_size));
    }
  } else if (p != MAP_FAILED && p != old_address &&
             (flags & MREMAP_DONTUNMAP) == 0) {
    // A piece from inside a recorded mapping moved away: trim it out.
    g_mmaps.Unmap(old_start, PageRound(old_size));
  }
  return p;
}
