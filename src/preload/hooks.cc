// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The allocation hooks: every entry point of the allocation API, defined
// here so that a preloaded (or linked-first) libmemmon_preload.so takes the
// place of the allocator's own symbols, and forwards to the next definition
// found with dlsym(RTLD_NEXT) -- glibc, jemalloc or tcmalloc.
//
// Runs inside malloc: in_malloc.h has the rules (no allocation through the
// hooked allocator, no lock of memmon's own waited for -- the peak heap's
// copy lock is only tried, and a busy one skips the copy --, no stdio, no
// exception but operator new's bad_alloc, errno preserved), the loader
// locks taken all the same, and the MEMMON_IN_MALLOC marker every such
// function carries.
//
// Fast path (what an unsampled malloc+free pair adds, under glibc): on
// malloc (15 instructions), the sampling countdown (one subtract-from-memory
// and a sign branch), the allocation count, the request parked for the
// failure path, and after the call the chunk size malloc just wrote added to
// the bytes allocated; on free (11, ending in a tail jump), a null test,
// the free countdown (which counts the free, says when to flush, and sends
// a thread's first free, and every free under another allocator, to the
// slow path), then the chunk header (the word free() reads next anyway),
// which also says whether the block may be sampled (glibc_wrap.h), its
// size added to the bytes freed. Nothing else is counted there: the bytes
// requested are what the sampling countdown went down by, the frees what
// the free countdown went down by, both read at each flush.
// No "initialised?" or allocator test on malloc: a thread's first
// allocation, and every allocation under jemalloc or tcmalloc, finds the
// countdown negative and takes the slow path. Everything else is in
// noinline functions so the fast path stays a handful of instructions with
// no stack frame to set up; what the fast paths use from other files is
// inline in headers (no call of its own).
//
// This file keeps the entry points, their fast and slow paths and
// initialisation. The rest of the sampler, by job:
//   real_allocator.h   the next allocator (dlsym), and how the hooks treat it
//   bootstrap_arena.h  what answers allocations while dlsym runs
//   env_config.h       MEMMON_SAMPLE_RATE and the rest, read without allocating
//   thread_state.h     each thread's cache line: the two countdowns, the batch
//   thread_counters.h  the exact counters: per-thread slots, flush, the reader
//   glibc_wrap.h       glibc's chunk header, and the wrap of a sampled block
//   sampling_path.h    a sampling point: next gap, stack, the two tables
//   unwind.h, live_table.h, stack_table.h   the unwinder and the tables
//   peak_heap.h        the live samples copied at the highest point
//   alloc_clock.h      the allocator-time estimate; the one clock read
//   mmap_hooks.cc      mmap, mmap64, munmap, mremap (in malloc under
//                      jemalloc and tcmalloc); mmap_table.h keeps them
//   lock_hooks.cc      pthread's locks and waits: mutex and block profiles
//                      (in malloc under jemalloc and tcmalloc)
//   exit_dump.h        the raw heap at a fatal signal, _exit or _Exit;
//                      the sigaction and signal interposition
//   deepbind.h         RTLD_DEEPBIND objects sent to these hooks (dlopen)
//   runtime.cc         outside malloc: profiles at exit, on a period, ...

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <new>

#include "preload/alloc_clock.h"
#include "preload/bootstrap_arena.h"
#include "preload/deepbind.h"
#include "preload/env_config.h"
#include "preload/glibc_wrap.h"
#include "preload/in_malloc.h"
#include "preload/live_table.h"
#include "preload/real_allocator.h"
#include "preload/sampler.h"
#include "preload/sampling_path.h"
#include "preload/thread_counters.h"
#include "preload/thread_state.h"
#include "preload/unwind.h"

// The hooks' thread state (thread_state.h).
__thread memmon::preload::ThreadState memmon_preload_thread_state{};

namespace memmon::preload {
namespace {

// 0: nothing done, 1: resolving, 2: ready.
constinit std::atomic<int> g_init_state{0};

MEMMON_IN_MALLOC inline bool Ready() {
  return MEMMON_LIKELY(g_init_state.load(std::memory_order_acquire) == 2);
}

// Takes the loader's dl_load_lock (ResolveRealAllocator: dlsym, dladdr),
// and makes a thread that allocates meanwhile wait (in_malloc.h).
MEMMON_IN_MALLOC void InitSlow() {
  ThreadState& t = ThisThread();
  if (t.in_init) return;  // dlsym allocating: the caller uses the arena
  int expected = 0;
  if (!g_init_state.compare_exchange_strong(expected, 1,
                                            std::memory_order_acq_rel)) {
    while (g_init_state.load(std::memory_order_acquire) != 2) sched_yield();
    return;
  }
  int saved_errno = errno;
  t.in_init = true;
  ResolveRealAllocator();
  if (!g_real.glibc_chunks) {
    // Keep the fast paths off (see kGenericBias). Threads arm their
    // countdown only after initialisation, so all of them see the bias.
    g_real.countdown_bias = kGenericBias;
    // free() keeps to FreeCountdown: Flush leaves the countdown negative.
  }
  const EnvConfig env = ReadEnvConfig();
  g_config = env.sampler;
  // The filter only for allocators without glibc's chunk headers.
  if (!g_live.Init(static_cast<size_t>(env.live_table_slots),
                   !g_real.glibc_chunks))
    g_config.enabled = false;
  if (!g_stacks.Init(1u << 16, 64u << 20)) g_config.enabled = false;
  // The peak heap profile: the table's live-bytes estimate, watched on
  // sampled inserts, and a buffer for a copy of every live sample.
  g_config.live_age = env.live_age;
  g_config.peak =
      env.peak && g_config.enabled &&
      g_peak.Init(g_live.total_slots(),
                  static_cast<double>(env.peak_growth_percent) / 100.0,
                  static_cast<int64_t>(16 * g_config.rate));
  if (g_config.peak) g_live.EnableLiveBytes(g_config.rate);
  InitThreadCounters();
  t.in_init = false;
  errno = saved_errno;
  g_init_state.store(2, std::memory_order_release);
}

// The next allocator's block, counted; on failure the countdown (already
// taken down by `n`) gets `n` back.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void* AllocAndCount(ThreadState& t,
                                                          AllocKind kind,
                                                          size_t n,
                                                          size_t align) {
  void* p = RealAlloc(kind, n, align);
  if (MEMMON_UNLIKELY(p == nullptr)) {
    t.until_sample = CountDown(t.until_sample, -n);
    return nullptr;
  }
  ++t.allocations;
  t.alloc_chunk_bytes += UsableSize(p);
  return p;
}

// Under jemalloc and tcmalloc a block is sampled after the call (free()
// finds sampled blocks through the filter): here, once it is counted.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void SampleAfterCall(ThreadState& t,
                                                           void* p, size_t n) {
  if (t.until_sample + g_real.countdown_bias < 0 || !t.rng_ready) {
    if (TakeSamplingPoint(t, n)) RecordGuarded(t, p, n, false);
  }
}

// A sampling point (or a thread's first allocation) for AllocAtCountdown.
template <AllocKind kind>
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void* AllocAtPoint(ThreadState& t,
                                                         size_t n,
                                                         size_t align) {
  if (MEMMON_LIKELY(g_real.glibc_chunks)) {
    // Decided before the call, so that a sampled block can be wrapped.
    const bool record = TakeSamplingPoint(t, n);
    void* block = nullptr;
    void* p = record ? AllocWrapped(kind, n, align, &block)
                     : (block = RealAlloc(kind, n, align));
    if (MEMMON_UNLIKELY(p == nullptr)) {
      // The flush counted `n`; the countdown is a fresh gap. Taking `n` off
      // the flush's mark gives the bytes back at the next flush.
      t.synced_countdown = CountDown(t.synced_countdown, n);
      return nullptr;
    }
    ++t.allocations;
    t.alloc_chunk_bytes += GlibcChunkSize(block);
    if (record) RecordGuarded(t, p, n, /*wrapped=*/p != block);
    return p;
  }
  void* p = AllocAndCount(t, kind, n, align);
  if (p != nullptr) SampleAfterCall(t, p, n);
  return p;
}

// The countdown, already taken down by `n`, is negative: a sampling point,
// a thread's first allocation, a call to be timed (alloc_clock.h), or under
// jemalloc and tcmalloc every allocation (see kGenericBias). Counts the
// block; the caller has counted nothing. A sampling point is timed whole
// (the sampler's work and the allocator's); one that flushed asks for the
// next call to be timed too.
template <AllocKind kind>
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void* AllocAtCountdown(size_t n,
                                                             size_t align) {
  ThreadState& t = ThisThread();
  const bool timed = TakeTimingRequest(t);
  if (t.until_sample + g_real.countdown_bias >= 0 && t.rng_ready) {
    if (!timed) return AllocAndCount(t, kind, n, align);  // another allocator
    const uint64_t start = Ticks();
    void* p = AllocAndCount(t, kind, n, align);
    if (p != nullptr) AddTimedAlloc(t, start);
    return p;
  }
  const uint64_t start = Ticks();
  void* p = AllocAtPoint<kind>(t, n, align);
  if (p != nullptr) {
    t.timed_ticks += TicksSince(start);
    ++t.alloc_mark;  // counted here: the next timed call does not stand for it
    // At the points that flushed (one in kPointsPerFlush), so that a
    // program that never frees has its allocations timed too.
    if (t.points_since_flush == 0) RequestTiming(t);
  }
  return p;
}

// Under glibc, a block whose header word is kBigChunk or more: a big block
// (sampled or not), a wrapped sampled block, or an arena block. The free is
// counted (by the caller).
MEMMON_IN_MALLOC MEMMON_NOINLINE void FreeBig(void* p) noexcept {
  ThreadState& t = ThisThread();
  if (IsBoot(p)) {  // arena blocks are never reused, nor counted
    ++t.ops_left;
    return;
  }
  void* block = p;
  // Out of the live set before the allocator may hand the address out
  // again: a wrapped block's entry by the slot its header keeps (a store,
  // no lookup), a big block's by its address.
  if (HeaderWord(p) == kWrapMark) {
    block = Unwrapped(p);
    if (g_live.EraseSlot(WrapSlot(p), p)) --t.live_samples;
  } else if (g_live.Erase(p)) {
    --t.live_samples;
  }
  t.freed_chunk_bytes += GlibcChunkSize(block);
  g_real.free(block);
}

// A block under glibc, its free counted: the header word tells a small
// unsampled block (freed here) from the rest (FreeBig).
MEMMON_IN_MALLOC inline void FreeGlibc(ThreadState& t, void* p) {
  const uintptr_t header = HeaderWord(p);
  if (MEMMON_UNLIKELY(header >= kBigChunk)) return FreeBig(p);
  t.freed_chunk_bytes += header & ~uintptr_t{7};
  g_real.free(p);  // a tail call: the fast path needs no stack frame
}

// A free past the countdown's test, counted.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE void FreeUntimed(ThreadState& t,
                                                       void* p) {
  if (MEMMON_LIKELY(g_real.glibc_chunks)) return FreeGlibc(t, p);
  t.freed_chunk_bytes += UsableSize(p);
  if (LiveTable::MaybeContains(p) && g_live.Erase(p)) --t.live_samples;
  g_real.free(p);
}

// The free countdown went negative, the free counted: a flush is due, or
// this is the thread's first free, or the block is from the arena (before
// initialisation only arena blocks exist), or another allocator is
// underneath (the countdown always negative: no header to read; the
// block's filter byte says whether it may be sampled).
MEMMON_IN_MALLOC MEMMON_NOINLINE void FreeCountdown(void* p) noexcept {
  ThreadState& t = ThisThread();
  if (IsBoot(p)) {  // arena blocks are never reused, nor counted
    ++t.ops_left;
    return;
  }
  if (!Ready()) {
    InitSlow();
    if (!Ready()) {  // only arena blocks exist before initialisation
      ++t.ops_left;  // not reached; if it were, the block is kept
      return;
    }
  }
  // The free that flushes is timed (alloc_clock.h), for the frees since
  // the thread's last timed one, and the next allocation call too. The
  // flush comes after: its stores, to a line gone cold since the last one,
  // would otherwise slow the free timed.
  if (!FlushDue(t)) return FreeUntimed(t, p);
  const uint64_t start = Ticks();
  FreeUntimed(t, p);
  const uint64_t ticks = TicksSince(start);
  Flush();
  t.timed_ticks +=
      WeightedTicks(ticks, TakeWeight(t.frees_total, &t.free_mark));
  RequestTiming(t);
}

// ---- the entry points, as functions the exported symbols share -----------

// The countdown went negative: the allocation that crosses the sampling
// point, every thread's first (the countdown starts at -1: that is how the
// fast path does without an "initialised?" test), and every allocation
// under jemalloc or tcmalloc.
MEMMON_IN_MALLOC MEMMON_NOINLINE void* MallocCountdown(size_t n) noexcept {
  ThreadState& t = ThisThread();
  t.pending_bytes = n;
  if (MEMMON_UNLIKELY(!Ready())) {
    InitSlow();
    if (!Ready()) {  // dlsym allocating during initialisation
      t.until_sample = CountDown(t.until_sample, -n);
      return BootAlloc(n, 16);
    }
  }
  return AllocAtCountdown<AllocKind::kMalloc>(n, 0);
}

// malloc failed after DoMalloc counted it: take the counts back.
MEMMON_IN_MALLOC MEMMON_NOINLINE void* MallocFailed() noexcept {
  ThreadState& t = ThisThread();
  --t.allocations;
  t.until_sample = CountDown(t.until_sample, -t.pending_bytes);
  return nullptr;
}

// Why it looks like this: everything that needs `n` happens before the call
// into the allocator and only the returned pointer is used after it, so
// the compiler keeps nothing in callee-saved registers and the fast path
// has no pushes or pops. (The request is parked in TLS for the rare
// failure.) The countdown is unsigned arithmetic read by its sign: a
// request large enough to wrap it cannot succeed, and whichever path it
// takes, the failure gives the bytes back.
MEMMON_IN_MALLOC inline void* DoMalloc(size_t n) {
  ThreadState& t = ThisThread();
  t.until_sample = CountDown(t.until_sample, n);
  if (MEMMON_UNLIKELY(t.until_sample < 0)) return MallocCountdown(n);
  ++t.allocations;
  t.pending_bytes = n;
  void* p = g_real.malloc(n);
  if (MEMMON_UNLIKELY(p == nullptr)) return MallocFailed();
  AddInuseAfterCall(GlibcChunkSize(p));
  return p;
}

// No "initialised?" test: before initialisation (only arena blocks exist,
// and a thread's free countdown starts at 0) and under another allocator
// (Flush keeps the countdown negative) every free takes FreeCountdown.
// Under glibc the header word (which free() reads next anyway) sends big,
// wrapped and arena blocks to FreeBig.
MEMMON_IN_MALLOC inline void DoFree(void* p) {
  if (MEMMON_UNLIKELY(p == nullptr)) return;
  ThreadState& t = ThisThread();
  if (MEMMON_UNLIKELY(--t.ops_left < 0)) return FreeCountdown(p);
  FreeGlibc(t, p);
}

// calloc and the aligned forms: the countdown taken down before the call
// (so that a sampled block can be wrapped). Outside glibc the countdown is
// always negative: every call takes AllocAtCountdown.
template <AllocKind kind>
MEMMON_IN_MALLOC void* AllocCounted(size_t n, size_t align) {
  ThreadState& t = ThisThread();
  t.until_sample = CountDown(t.until_sample, n);
  if (MEMMON_UNLIKELY(t.until_sample < 0)) {
    return AllocAtCountdown<kind>(n, align);
  }
  return AllocAndCount(t, kind, n, align);
}

MEMMON_IN_MALLOC void* DoCalloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (MEMMON_UNLIKELY(!Ready())) {
    InitSlow();
    if (!Ready()) return BootAlloc(n, 16);
  }
  return AllocCounted<AllocKind::kCalloc>(n, 0);
}

// realloc under glibc. A wrapped block cannot be resized by glibc, and a
// new block at a sampling point must be wrapped: both move (malloc, copy,
// free). Otherwise glibc resizes, the old block leaving the live set first.
MEMMON_IN_MALLOC void* ReallocGlibc(void* old, size_t n) {
  ThreadState& t = ThisThread();
  if (n == 0) {  // glibc frees the block and returns null
    DoFree(old);
    return nullptr;
  }
  const uintptr_t header = HeaderWord(old);
  const bool wrapped = header == kWrapMark;
  const bool timed = TakeTimingRequest(t);  // before the countdown's sign
  const int64_t left = CountDown(t.until_sample, n);
  if (wrapped || left < 0) {
    if (timed) RequestTiming(t);  // for DoMalloc
    void* p = DoMalloc(n);
    if (p == nullptr) return nullptr;  // `old` is kept, as realloc's is
    const size_t old_size =
        wrapped ? WrappedUsableSize(old) : g_real.usable_size(old);
    memcpy(p, old, old_size < n ? old_size : n);
    DoFree(old);
    return p;
  }
  // Only big blocks can be sampled without a wrap.
  const bool was_sampled = header >= kBigChunk && g_live.Erase(old);
  if (was_sampled) --t.live_samples;
  t.until_sample = left;
  const uint64_t start = timed ? Ticks() : 0;
  void* p = g_real.realloc(old, n);
  if (p == nullptr) {  // `old` is kept; a sample it had is lost
    t.until_sample = CountDown(t.until_sample, -n);
    return nullptr;
  }
  t.freed_chunk_bytes += header & ~uintptr_t{7};
  CountFree(t);
  ++t.allocations;
  t.alloc_chunk_bytes += GlibcChunkSize(p);
  if (timed) AddTimedAlloc(t, start);
  return p;
}

MEMMON_IN_MALLOC void* DoRealloc(void* old, size_t n) {
  if (old == nullptr) return DoMalloc(n);
  if (MEMMON_UNLIKELY(IsBoot(old))) {  // arena blocks move out, never freed
    size_t old_size = BootSize(old);
    void* p = DoMalloc(n);
    if (p != nullptr) memcpy(p, old, old_size < n ? old_size : n);
    return p;
  }
  if (MEMMON_UNLIKELY(!Ready())) InitSlow();  // only arena blocks exist before
  if (MEMMON_LIKELY(g_real.glibc_chunks)) return ReallocGlibc(old, n);
  // Another allocator: the old block leaves the live set before the
  // allocator may reuse it; the new one is sampled after the call.
  size_t old_usable = UsableSize(old);
  ThreadState& t = ThisThread();
  bool was_sampled = LiveTable::MaybeContains(old) && g_live.Erase(old);
  if (was_sampled) --t.live_samples;
  void* p = g_real.realloc(old, n);
  if (p == nullptr) {
    if (n == 0) {  // realloc(p, 0) may free p
      t.freed_chunk_bytes += old_usable;
      CountFree(t);
    }
    return p;  // a failed realloc keeps `old`; its sample is lost
  }
  t.freed_chunk_bytes += old_usable;
  CountFree(t);
  t.until_sample = CountDown(t.until_sample, n);
  ++t.allocations;
  t.alloc_chunk_bytes += UsableSize(p);
  SampleAfterCall(t, p, n);
  return p;
}

MEMMON_IN_MALLOC void* DoAligned(size_t align, size_t n, bool posix_semantics,
                                 int* err) {
  // posix_memalign wants a power of two that is a multiple of sizeof(void*);
  // memalign and aligned_alloc round smaller or odd alignments up.
  if (!posix_semantics) {
    if (align > (SIZE_MAX >> 1) + 1) {  // no power of two that large
      *err = EINVAL;
      return nullptr;
    }
    size_t a = sizeof(void*);
    while (a < align) a <<= 1;
    align = a;
  }
  if (MEMMON_UNLIKELY(!Ready())) {
    InitSlow();
    if (!Ready()) {
      void* p = BootAlloc(n, align);
      *err = p ? 0 : ENOMEM;
      return p;
    }
  }
  int saved_errno = errno;
  void* p = AllocCounted<AllocKind::kAligned>(n, align);
  *err = p != nullptr ? 0 : errno;
  errno = saved_errno;
  return p;
}

MEMMON_IN_MALLOC size_t PageSize() {
  static size_t page = 0;
  if (page == 0) page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

MEMMON_IN_MALLOC void* AlignedOrErrno(size_t align, size_t n) {
  int err = 0;
  void* p = DoAligned(align, n, false, &err);
  if (p == nullptr) errno = err;
  return p;
}

// operator new's failure path; the request was parked in TLS by DoMalloc.
// Calls the program's new_handler, and throws std::bad_alloc when there is
// none (the one exception the rules allow, in_malloc.h).
MEMMON_IN_MALLOC MEMMON_NOINLINE void* NewSlow() {
  size_t n = ThisThread().pending_bytes;
  if (n == 0) {  // an allocator whose malloc(0) returns null: ask for 1 byte
    n = 1;
    if (void* p = DoMalloc(n)) return p;
  }
  for (;;) {
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
    if (void* p = DoMalloc(n)) return p;
  }
}

// new(0) asks malloc for 0 bytes (glibc, jemalloc and tcmalloc return a
// unique minimum-size block), saving the fast path a test.
MEMMON_IN_MALLOC inline void* NewOrThrow(size_t n) {
  if (void* p = DoMalloc(n)) return p;
  return NewSlow();
}

MEMMON_IN_MALLOC void* NewAlignedOrThrow(size_t n, std::align_val_t al) {
  for (;;) {
    if (void* p = AlignedOrErrno(static_cast<size_t>(al), n == 0 ? 1 : n)) {
      return p;
    }
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

MEMMON_IN_MALLOC void* NewNothrow(size_t n) noexcept {
  try {
    return NewOrThrow(n);
  } catch (...) {
    return nullptr;
  }
}

MEMMON_IN_MALLOC void* NewAlignedNothrow(size_t n,
                                         std::align_val_t al) noexcept {
  try {
    return NewAlignedOrThrow(n, al);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

void EnsureInitialized() {
  if (!Ready()) InitSlow();
}

void PrepareSampling() {
  EnsureInitialized();
  if (g_config.enabled) PrepareUnwinder();
  g_sampling_started.store(true, std::memory_order_relaxed);
}

void ResetAfterFork() {
  // Two things to redo, below; the rest carries over. This thread's state,
  // its counter slot and its thread-key value (whose destructor folds the
  // slot when the thread exits) are the parent's, copied. The other threads
  // are gone: their slots stay claimed and keep what they last flushed
  // (their blocks live on in the child's copy of the heap); what they had
  // not flushed is lost.
  // 1. The reentrancy guard is cleared in case fork() ran while this thread
  // was recording a sample (from a signal handler), so that the child's
  // one thread is not left unable to sample.
  ThisThread().in_hook = false;
  // 2. The peak heap's copy lock is released: a thread of the parent that
  // was copying a peak (or reading one) is gone, and its lock would stay
  // taken in the child for good.
  g_peak.ResetAfterFork();
}

}  // namespace memmon::preload

// ---- exported symbols: the allocation API, in malloc by definition --------
using namespace memmon::preload;  // NOLINT: the C entry points below

MEMMON_EXPORT MEMMON_LINE_ALIGNED void* malloc(size_t n) noexcept {
  return DoMalloc(n);
}
MEMMON_EXPORT MEMMON_LINE_ALIGNED void free(void* p) noexcept { DoFree(p); }
MEMMON_EXPORT void* calloc(size_t c, size_t n) noexcept {
  return DoCalloc(c, n);
}
MEMMON_EXPORT void* realloc(void* p, size_t n) noexcept {
  return DoRealloc(p, n);
}
MEMMON_EXPORT void* reallocarray(void* p, size_t c, size_t n) noexcept {
  size_t bytes;
  if (__builtin_mul_overflow(c, n, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return DoRealloc(p, bytes);
}
MEMMON_EXPORT int posix_memalign(void** out, size_t align, size_t n) noexcept {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  int err = 0;
  void* p = DoAligned(align, n, true, &err);
  if (p != nullptr) *out = p;
  return err;
}
MEMMON_EXPORT void* aligned_alloc(size_t align, size_t n) noexcept {
  if (align == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  return AlignedOrErrno(align, n);
}
MEMMON_EXPORT void* memalign(size_t align, size_t n) noexcept {
  return AlignedOrErrno(align, n);
}
MEMMON_EXPORT void* valloc(size_t n) noexcept {
  return AlignedOrErrno(PageSize(), n);
}
MEMMON_EXPORT void* pvalloc(size_t n) noexcept {
  size_t page = PageSize();
  size_t rounded = n == 0 ? page : (n + page - 1) & ~(page - 1);
  if (rounded < n) {
    errno = ENOMEM;
    return nullptr;
  }
  return AlignedOrErrno(page, rounded);
}
MEMMON_EXPORT size_t malloc_usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  if (IsBoot(p)) return BootSize(p);
  EnsureInitialized();
  // The allocator's own answer, never the chunk size memmon counts (which
  // includes glibc's 8-byte header: the program must not write there).
  if (g_real.usable_size == nullptr) return 0;
  if (g_real.glibc_chunks && HeaderWord(p) == kWrapMark)
    return WrappedUsableSize(p);
  return g_real.usable_size(p);
}

// operator new and delete: every form, so that none reaches libstdc++'s
// (which would call malloc and be counted twice) or another allocator's.
MEMMON_VISIBLE MEMMON_LINE_ALIGNED void* operator new(size_t n) {
  return NewOrThrow(n);
}
MEMMON_VISIBLE MEMMON_LINE_ALIGNED void* operator new[](size_t n) {
  return NewOrThrow(n);
}
MEMMON_VISIBLE void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return NewNothrow(n);
}
MEMMON_VISIBLE void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return NewNothrow(n);
}
MEMMON_VISIBLE void* operator new(size_t n, std::align_val_t al) {
  return NewAlignedOrThrow(n, al);
}
MEMMON_VISIBLE void* operator new[](size_t n, std::align_val_t al) {
  return NewAlignedOrThrow(n, al);
}
MEMMON_VISIBLE void* operator new(size_t n, std::align_val_t al,
                                  const std::nothrow_t&) noexcept {
  return NewAlignedNothrow(n, al);
}
MEMMON_VISIBLE void* operator new[](size_t n, std::align_val_t al,
                                    const std::nothrow_t&) noexcept {
  return NewAlignedNothrow(n, al);
}
MEMMON_VISIBLE MEMMON_LINE_ALIGNED void operator delete(void* p) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE MEMMON_LINE_ALIGNED void operator delete[](void* p) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE MEMMON_LINE_ALIGNED void operator delete(void* p,
                                                        size_t) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE MEMMON_LINE_ALIGNED void operator delete[](void* p,
                                                          size_t) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete(void* p, const std::nothrow_t&) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete[](void* p, const std::nothrow_t&) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete(void* p, std::align_val_t) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete[](void* p, std::align_val_t) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete(void* p, size_t,
                                    std::align_val_t) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete[](void* p, size_t,
                                      std::align_val_t) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete(void* p, std::align_val_t,
                                    const std::nothrow_t&) noexcept {
  DoFree(p);
}
MEMMON_VISIBLE void operator delete[](void* p, std::align_val_t,
                                      const std::nothrow_t&) noexcept {
  DoFree(p);
}

// ---- exported, outside malloc -------------------------------------------

// dlclose: once code is unmapped, other code may be mapped at its
// addresses, so the unwinder's cached rules are forgotten.
MEMMON_EXPORT int dlclose(void* handle) noexcept {
  using DlcloseFn = int (*)(void*);
  static std::atomic<DlcloseFn> real{nullptr};
  DlcloseFn fn = real.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = reinterpret_cast<DlcloseFn>(dlsym(RTLD_NEXT, "dlclose"));
    if (fn == nullptr) return -1;
    real.store(fn, std::memory_order_release);
  }
  const int result = fn(handle);
  InvalidateFastUnwind();
  return result;
}

// dlopen: a library loaded with RTLD_DEEPBIND would bind malloc and free
// to the next allocator directly, past the hooks (deepbind.h); its
// allocation API is sent to the hooks once it is loaded. Any other dlopen
// is a tail call: the loader reads its caller from the return address (for
// the caller's RPATH/RUNPATH and namespace), which is then the program's.
// A deep-bound dlopen is made from here, so a bare name is looked up along
// the caller's paths first (FindLibraryForCaller).
namespace {
using DlopenFn = void* (*)(const char*, int) noexcept;
std::atomic<DlopenFn> g_real_dlopen{nullptr};

void* NoDlopen(const char*, int) noexcept { return nullptr; }

MEMMON_NOINLINE DlopenFn ResolveDlopen() {
  DlopenFn fn = g_real_dlopen.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = reinterpret_cast<DlopenFn>(dlsym(RTLD_NEXT, "dlopen"));
    if (fn == nullptr) return NoDlopen;
    g_real_dlopen.store(fn, std::memory_order_release);
  }
  return fn;
}

inline DlopenFn RealDlopen() {
  DlopenFn fn = g_real_dlopen.load(std::memory_order_acquire);
  return MEMMON_LIKELY(fn != nullptr) ? fn : ResolveDlopen();
}

MEMMON_NOINLINE void* DlopenDeepbind(const char* file, int flags,
                                     const void* caller) {
  char path[4096];
  if (file != nullptr && strchr(file, '/') == nullptr &&
      FindLibraryForCaller(file, caller, path, sizeof(path))) {
    file = path;
  }
  void* handle = RealDlopen()(file, flags);
  EnsureInitialized();
  if (handle != nullptr && g_real.glibc_chunks) {
    RebindAllocatorAfterDeepbind(handle);
  }
  return handle;
}
}  // namespace

MEMMON_EXPORT void* dlopen(const char* file, int flags) noexcept {
  if (MEMMON_UNLIKELY((flags & RTLD_DEEPBIND) != 0)) {
    return DlopenDeepbind(file, flags, __builtin_return_address(0));
  }
  return RealDlopen()(file, flags);  // a tail call (see above)
}

MEMMON_EXPORT int memmon_preload_read_counters(memmon_preload_counters* out,
                                               size_t out_size) {
  memmon_preload_counters c{};
  ReadCounters(&c);
  memcpy(out, &c, out_size < sizeof(c) ? out_size : sizeof(c));
  return 0;
}
