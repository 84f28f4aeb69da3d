// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The sampler's rules for code that runs inside malloc, the marker for
// that code, and the macros its entry points and hot paths are written
// with. Read this before changing anything in src/preload/.
//
// ---- Inside malloc ----------------------------------------------------------
// MEMMON_IN_MALLOC marks every function that can run inside a call to the
// allocation API: on the way from an entry point the sampler exports to its
// return. The entry points, themselves in malloc by definition (and not
// marked):
// - hooks.cc: malloc, free, calloc, realloc, reallocarray, posix_memalign,
//   aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size, operator
//   new and delete;
// - mmap_hooks.cc: mmap, mmap64, munmap, mremap -- jemalloc and tcmalloc
//   map and unmap their memory through the PLT inside their malloc and
//   free (glibc's malloc calls mmap inside libc, unseen);
// - lock_hooks.cc: pthread_mutex_lock, pthread_mutex_timedlock, the rwlock
//   locks, pthread_cond_wait and the rest -- jemalloc and tcmalloc take
//   pthread mutexes inside malloc (glibc's malloc takes its own, unseen).
// It is put on the declaration callers see (in the header, for a function
// of another file); on a class, it covers every member function. It
// expands to nothing.
//
// Not called from malloc but may interrupt it: exit_dump.cc's fatal-signal
// handler runs on whatever thread the signal hit, which may be inside
// malloc (glibc's malloc aborts on a corrupted heap); its contract is
// stricter still (async-signal-safe: exit_dump.h). dlopen, dlclose and
// deepbind.cc run outside malloc, on the program's own calls.
//
// A MEMMON_IN_MALLOC function may run for any allocation of the program:
// in a constructor before main, in code that holds the program's own
// locks, in another library's dl_iterate_phdr callback, in a thread being
// torn down. The rules it follows, as the code follows them:
//
// 1. No allocation through the hooked allocator. The sampler's own memory
//    is static (the bootstrap arena, the globals), initial-exec TLS
//    (thread_state.h), or mmap'd (counter slots, the live and stack tables,
//    the rule cache). Program blocks come from the next allocator (g_real).
//    What libc or libunwind allocate when called from here comes back into
//    the hooks and is handled by the guards (rule 6).
// 2. No lock of memmon's own is waited for inside malloc, but for the
//    once-per-process initialisation (below): what threads share is
//    atomics (counters, tables, rule cache, the initialisation state).
//    The one lock of memmon's taken there is the peak heap's copy lock
//    (peak_heap.h), never waited for inside malloc: PeakHeap::Save tries
//    it with one exchange, and a busy one skips the copy (the next sampled
//    insert above the threshold tries again); its holder inside malloc
//    waits for nothing. The locks of others that it does take are listed
//    below, each with when, and why it cannot deadlock or what the risk
//    is; the lock hooks also take the lock the program asked for, as it
//    would have without memmon.
// 3. No stdio: FILE* may allocate and takes locks. Nothing is printed
//    inside malloc (runtime.cc prints, outside it, with write(2)).
// 4. No exceptions, but for operator new's std::bad_alloc, thrown as the
//    standard requires after the hook's work is done (NewSlow; the throw
//    allocates the exception object through malloc, an ordinary nested
//    allocation), and whatever the program's new_handler does when NewSlow
//    calls it.
// 5. errno as the allocator left it. The fast paths do not touch it;
//    InitSlow, TakeSamplingPoint, RecordGuarded and DoAligned save and
//    restore it around their work; memmon sets it only where the API says
//    (ENOMEM for an overflowing calloc, reallocarray or pvalloc size,
//    EINVAL for an impossible alignment, and the error posix_memalign
//    returned when memalign, valloc, pvalloc or aligned_alloc fail).
// 6. Reentrancy guards, per thread (ThreadState): `in_init` while InitSlow
//    resolves the next allocator (dlsym allocates): this thread's nested
//    allocations come from the bootstrap arena; `in_hook` while a sample is
//    recorded (RecordGuarded): nested allocations (libunwind's) are
//    counted, never sampled, so recording never recurses; `no_sampling`
//    (ScopedNoSampling: the profile writer's allocations).
// 7. TLS is initial-exec only (-ftls-model=initial-exec, and the attribute
//    on memmon_preload_thread_state): __tls_get_addr may allocate.
// 8. The globals the hooks read are constinit: a hook may run before any
//    constructor of this library. Those read across files are declared
//    MEMMON_HIDDEN (below).
// 9. It degrades instead of failing the program: a full table or a stack
//    it cannot walk is counted (dropped_samples, unwind_failures); a
//    failed mmap at initialisation switches sampling off (the tables) or
//    falls back (the counter slots to one shared slot, the rule cache to
//    libunwind); the program's allocation still gets its block.
// Like malloc itself, none of it is async-signal-safe.
//
// The locks it takes, all of them the dynamic loader's (glibc 2.36):
// - Initialisation, once per process (InitSlow, at the first allocation or
//   from the library constructor, whichever comes first): the dlsym and
//   dladdr calls of ResolveRealAllocator take dl_load_lock, the lock dlopen
//   and dlclose take. A thread that allocates while another initialises
//   waits for it (a sched_yield loop: a lock in effect). In practice this
//   is over before the program has a second thread: creating one
//   allocates.
// - A rule-cache miss on the sampling path (unwind.cc, ParseRule): a
//   sampled allocation whose stack has a return address that neither the
//   thread's memo nor the rule cache holds (the first sample through that
//   address, the first again after any dlclose, or after another address
//   took its slot of the 16384-entry direct-mapped cache) calls
//   dl_iterate_phdr, which holds dl_load_write_lock (recursive) while it
//   walks the loaded objects and, here, while it reads one FDE from
//   .eh_frame (a binary search and a parse: no allocation, no other lock).
//   glibc holds that lock otherwise only for the whole of other
//   dl_iterate_phdr calls, callbacks included, and while dlopen and
//   dlclose update the list of loaded objects, where the only program code
//   that runs is the interposed free() (dlclose frees link maps), which
//   waits for nothing. Hence no deadlock with memmon itself (it holds
//   nothing while it waits), with dlopen or dlclose, or on one thread (a
//   sample taken inside a dl_iterate_phdr callback re-takes the recursive
//   lock). The risk that is left: a program's own dl_iterate_phdr callback
//   that waits for a lock which another thread holds while it allocates;
//   if that allocation is sampled and misses the cache, each waits for the
//   other. Kept because the lock is what keeps the object from being
//   unmapped while its .eh_frame is read (the lock-free _dl_find_object
//   does not), and because the libunwind fallback takes it anyway:
// - libunwind's unw_backtrace (RecordSample, for stacks the rule cache
//   cannot take) calls dl_iterate_phdr on its own cache misses: the same
//   lock, the same risk. Its caches are per thread (UNW_CACHE_PER_THREAD):
//   no lock of libunwind's own.
// - PrepareUnwinderOnce calls dl_iterate_phdr once (FindSelf): from the
//   library constructor, or inside malloc when a sample comes first (an
//   earlier library's constructor allocating).
// - The lock hooks' resolution (lock_hooks.cc, ResolveRealLocks), once per
//   process: dlopen(RTLD_NOLOAD), dlsym and dlvsym take dl_load_lock, from
//   the library constructor, or inside malloc when jemalloc or tcmalloc
//   take a mutex before it runs. A lock hook reached on the same thread
//   meanwhile calls glibc's __pthread_* names instead of waiting.
#ifndef MEMMON_SRC_PRELOAD_IN_MALLOC_H_
#define MEMMON_SRC_PRELOAD_IN_MALLOC_H_

#include "base/export.h"

// Marks a function that runs inside malloc (above). Expands to nothing.
#define MEMMON_IN_MALLOC

// MEMMON_EXPORT (C entry points) and MEMMON_VISIBLE (operator new and
// delete) come from base/export.h: an exported function is visible outside
// the library (the build hides everything else, -fvisibility=hidden) and
// named in exports.map, which has the last word.

// On the extern declaration of a global that one unit of the sampler
// defines and others use. -fvisibility=hidden covers definitions only: a
// declaration without this makes the compiler load the global's address
// from the GOT before using it, an instruction more on the fast path (the
// call through g_real). Hidden, it is addressed directly, %rip-relative.
#define MEMMON_HIDDEN __attribute__((visibility("hidden")))

#define MEMMON_LIKELY(x) __builtin_expect(!!(x), 1)
#define MEMMON_UNLIKELY(x) __builtin_expect(!!(x), 0)
// A slow path kept out of its caller, so that the fast path stays a few
// instructions with no stack frame to set up.
#define MEMMON_NOINLINE __attribute__((noinline))
// On the entry points with a fast path (malloc, free, and the plain and
// sized operator new and delete): each starts a cache line, so where its
// fast path falls across 64-byte lines and 32-byte fetch windows does not
// depend on what precedes it in the file. Before this, splitting hooks.cc
// moved free's fast path across a line boundary, and an 8 KiB malloc+free
// pair took 0.4 ns more for the same instructions
// (bench/results/2026-12-04-hooks-split.md).
#define MEMMON_LINE_ALIGNED __attribute__((aligned(64)))
// Inlined even where the compiler would not: a frame fewer to unwind on
// the sampling path, or a fast path that must not become a call.
#define MEMMON_ALWAYS_INLINE inline __attribute__((always_inline))

#endif  // MEMMON_SRC_PRELOAD_IN_MALLOC_H_
