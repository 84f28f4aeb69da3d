// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Libraries loaded with dlopen(..., RTLD_DEEPBIND) look symbols up in their
// own dependencies before the global scope, so their calls to malloc and
// free reach the C library directly, past the hooks. A block crossing
// between such a library and the rest of the program would then meet an
// allocator that did not make it: a sampled block is wrapped
// (glibc_wrap.h), which glibc's own free() rejects ("free(): invalid
// pointer"). memmon's dlopen (hooks.cc) therefore sends the allocation API
// of every object a deep-bound dlopen loaded to the hooks, as a preloaded
// library is for every other object: the object's GOT slots for malloc,
// free, ... that bind to the next allocator are rewritten to the hooks.
// A library that defines its own allocator, or binds it from another
// library than the next allocator's, keeps it (docs/profiler.md).
//
// Contract: outside malloc, on the thread that called dlopen. Allocates
// nothing; takes no lock of memmon's (dlinfo, dladdr and dlsym take the
// loader's).
#ifndef MEMMON_SRC_PRELOAD_DEEPBIND_H_
#define MEMMON_SRC_PRELOAD_DEEPBIND_H_

namespace memmon::preload {

// After dlopen(..., RTLD_DEEPBIND) returned `handle`: the allocation API of
// the handle's object and of every object loaded after it that binds it to
// the next allocator is sent to the hooks. Returns the number of slots
// rewritten.
int RebindAllocatorAfterDeepbind(void* handle);

// dlopen's search for a bare name (no '/') as the loader does it for the
// object containing `caller`: its DT_RPATH (when it has no DT_RUNPATH),
// LD_LIBRARY_PATH, then its DT_RUNPATH, $ORIGIN expanded. Fills `out` with
// the first file found there and returns true; false when the loader would
// look further (ld.so.cache, the default directories), which do not depend
// on the caller. A dlopen made from memmon's own dlopen is made from this
// library: the caller's paths are looked up here instead.
bool FindLibraryForCaller(const char* name, const void* caller, char* out,
                          unsigned long out_len);

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_DEEPBIND_H_
