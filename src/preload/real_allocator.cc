// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/real_allocator.h"

#include <dlfcn.h>

#include "memmon/memmon_preload.h"
#include "preload/in_malloc.h"
#include "preload/sampler.h"

namespace memmon::preload {

constinit RealAllocator g_real;

void ResolveRealAllocator() {
  g_real.malloc = reinterpret_cast<MallocFn>(dlsym(RTLD_NEXT, "malloc"));
  g_real.free = reinterpret_cast<FreeFn>(dlsym(RTLD_NEXT, "free"));
  g_real.calloc = reinterpret_cast<CallocFn>(dlsym(RTLD_NEXT, "calloc"));
  g_real.realloc = reinterpret_cast<ReallocFn>(dlsym(RTLD_NEXT, "realloc"));
  g_real.posix_memalign =
      reinterpret_cast<PosixMemalignFn>(dlsym(RTLD_NEXT, "posix_memalign"));
  g_real.usable_size =
      reinterpret_cast<UsableSizeFn>(dlsym(RTLD_NEXT, "malloc_usable_size"));

  // glibc's malloc is recognised by its mallinfo2 living in the same object.
  if (g_real.malloc != nullptr) {
    void* mallinfo2 = dlsym(RTLD_NEXT, "mallinfo2");
    Dl_info a, b;
    g_real.glibc_chunks =
        mallinfo2 != nullptr &&
        dladdr(reinterpret_cast<void*>(g_real.malloc), &a) != 0 &&
        dladdr(mallinfo2, &b) != 0 && a.dli_fbase == b.dli_fbase;
  }
  // Warm up: tcmalloc's malloc_usable_size constructs its MallocExtension
  // with operator new on first use, which would recurse into the hooks from
  // every later call. Done now, the nested allocation lands in the arena.
  if (g_real.malloc != nullptr && g_real.free != nullptr) {
    if (void* p = g_real.malloc(16)) {
      if (g_real.usable_size != nullptr) g_real.usable_size(p);
      g_real.free(p);
    }
  }
}

}  // namespace memmon::preload

// Not inside malloc: called by a monitor finding its allocator's statistics
// (src/source/allocator_stats.cc).
MEMMON_EXPORT void* memmon_preload_real_malloc(void) {
  memmon::preload::EnsureInitialized();
  return reinterpret_cast<void*>(memmon::preload::g_real.malloc);
}
