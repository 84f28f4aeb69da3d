// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The allocation hooks: every entry point of the allocation API, defined
// here so that a preloaded (or linked-first) libmemmon_preload.so takes the
// place of the allocator's own symbols, and forwards to the next definition
// found with dlsym(RTLD_NEXT) -- glibc, jemalloc or tcmalloc.
//
// Runs inside malloc: no allocation through the hooked allocator, no lock,
// no stdio, no exceptions (except operator new's bad_alloc, thrown as the
// standard requires after the hook's work is done), errno preserved.
//
// Fast path (what an unsampled malloc+free pair adds, under glibc): on
// malloc (15 instructions), the sampling countdown (one subtract-from-memory
// and a sign branch), the allocation count, the request parked for the
// failure path, and after the call the chunk size malloc just wrote added to
// the bytes allocated; on free (11, ending in a tail jump), a null test,
// the free countdown (which counts the free, says when to flush, and sends
// a thread's first free, and every free under another allocator, to the
// slow path), then the chunk header (the word free() reads next anyway),
// which also says whether the block may be sampled (see kBigChunk), its
// size added to the bytes freed. Nothing else is counted there: the bytes
// requested are what the sampling countdown went down by, the frees what
// the free countdown went down by, both read at each flush.
// No "initialised?" or allocator test on malloc: a thread's first
// allocation, and every allocation under jemalloc or tcmalloc, finds the
// countdown negative and takes the slow path. Everything else is in
// noinline functions so the fast path stays a handful of instructions with
// no stack frame to set up.

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <new>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "preload/in_malloc.h"
#include "preload/sample_math.h"
#include "preload/sampler.h"
#include "preload/unwind.h"

namespace memmon::preload {
namespace {

using MallocFn = void* (*)(size_t) noexcept;
using FreeFn = void (*)(void*) noexcept;
using CallocFn = void* (*)(size_t, size_t) noexcept;
using ReallocFn = void* (*)(void*, size_t) noexcept;
using PosixMemalignFn = int (*)(void**, size_t, size_t) noexcept;
using UsableSizeFn = size_t (*)(void*) noexcept;

// The next allocator. Aligned allocation goes through posix_memalign alone,
// which glibc, jemalloc and tcmalloc all define; memalign, valloc, pvalloc
// and aligned_alloc are built on it here, so a block never comes from one
// allocator and goes back to another (jemalloc has no pvalloc: forwarding
// to "the next pvalloc" would reach glibc's).
struct RealAllocator {
  MallocFn malloc = nullptr;
  FreeFn free = nullptr;
  CallocFn calloc = nullptr;
  ReallocFn realloc = nullptr;
  PosixMemalignFn posix_memalign = nullptr;
  UsableSizeFn usable_size = nullptr;
};
RealAllocator g_real;

// The next malloc is glibc's: block sizes are read from chunk headers.
bool g_glibc_chunks = false;

// Under another allocator the fast paths must not run (they read glibc chunk
// headers). malloc's is kept off by a bias: the countdown a thread keeps is
// the real one minus kGenericBias, always negative, so every malloc takes
// the slow path, which adds the bias back. (Only a request of 2^62 bytes or
// more can wrap it into the fast path, and that one fails before any
// header is read.) free's is kept off by the thread's free countdown, which
// Flush leaves near kFreeGate (-2^30), always negative, and its slow path
// consults the live table's filter instead of a header. The cost there: a
// call more per malloc and per free.
constexpr int64_t kGenericBias = int64_t{1} << 62;
constexpr int64_t kMaxGap = int64_t{1} << 60;  // < kGenericBias
int64_t g_countdown_bias = 0;                  // kGenericBias when !glibc
// Where Flush leaves a thread's free countdown (ThreadState::ops_left)
// under another allocator: kFlushEvery frees above this, so that the
// countdown stays negative and every free takes FreeCountdown.
constexpr int32_t kFreeGate = -(int32_t{1} << 30);

// Under glibc, free() reads the chunk header anyway (for the bytes in use),
// so the header tells it whether a block may be sampled, without a lookup:
// a sampled block smaller than kBigChunk is handed out `offset` bytes into
// a larger glibc block, and the word before it, where glibc keeps the chunk
// size, holds kWrapMark, which is no chunk size; the word before that holds
// the offset and the block's live-table slot (see WrapWord). A header word
// of kBigChunk or more (a big block, sampled or not, a wrapped block, an
// arena block) sends free() to FreeBig, which erases a wrapped block's
// entry by its slot and looks a big one up. One block in
// MEMMON_SAMPLE_RATE bytes is sampled, so the 16 bytes (or the alignment)
// added are nothing in RSS.
// Blocks of kBigChunk or more are rare and costly to free anyway, and are
// never wrapped (glibc's in-place realloc of them stays available).
constexpr uintptr_t kBigChunk = 256 * 1024;
constexpr uintptr_t kWrapMark = ~uintptr_t{0xF};   // no chunk is that big
constexpr uintptr_t kBootMark = ~uintptr_t{0x1F};  // bootstrap arena blocks
static_assert(kBootMark >= kBigChunk && kWrapMark >= kBigChunk);

// A wrapped block's second header word: the log2 of its offset into the
// glibc block (a power of two, 16 or the alignment) in the low byte, and
// above it the block's live-table slot reference (LiveTable::Insert), 0
// until the sample is recorded or when the table had no room.
inline uintptr_t& WrapWord(void* p) {
  return reinterpret_cast<uintptr_t*>(p)[-2];
}
inline size_t WrapOffset(void* p) { return size_t{1} << (WrapWord(p) & 63); }
inline size_t WrapSlot(void* p) { return WrapWord(p) >> 8; }
inline void SetWrapSlot(void* p, size_t slot) {
  WrapWord(p) = (WrapWord(p) & 0xFF) | (static_cast<uintptr_t>(slot) << 8);
}

// 0: nothing done, 1: resolving, 2: ready.
std::atomic<int> g_init_state{0};
SamplerConfig g_config;
LiveTable g_live;
StackTable g_stacks;
pthread_key_t g_thread_key;
bool g_thread_key_ok = false;

// Exact counters, batched per thread: the hooks add to plain thread-local
// fields (one %fs-relative instruction each), moved now and then (every
// kFlushEvery frees, at each sampling point) to the thread's own slot, a
// cache line that only that thread writes (a plain load and store: no
// locked instruction, no line shared between threads). A thread claims its
// slot, and registers its exit handler, at its first allocation or free.
// Readers sum the slots after flushing their own thread; another live
// thread may hold up to kFlushEvery - 1 frees and kPointsPerFlush sampling
// intervals of allocations (MEMMON_SAMPLE_RATE bytes each, on average) not
// yet in its slot. A
// thread's slot is folded into `retired` and freed when it exits. Threads
// beyond kCounterSlots share `overflow` (atomic adds).
struct alignas(64) CounterSlot {
  std::atomic<uint64_t> allocations;
  std::atomic<uint64_t> frees;
  std::atomic<uint64_t> allocated_bytes;
  std::atomic<int64_t> inuse_bytes;
  std::atomic<uint64_t> samples;
  std::atomic<int64_t> live_samples;  // inserted - erased, by this thread
  std::atomic<uint32_t> in_use;
};
static_assert(sizeof(CounterSlot) == 64);
constexpr size_t kCounterSlots = 4096;
constexpr int32_t kFlushEvery = 256;
constexpr uint32_t kPointsPerFlush = 8;
CounterSlot* g_slots = nullptr;  // mmap'd: pages are touched as threads come
std::atomic<size_t> g_slots_high{0};  // slots ever claimed: readers stop here
CounterSlot g_retired;
CounterSlot g_overflow;
std::atomic<uint64_t> g_dropped{0};
std::atomic<uint64_t> g_unwind_failures{0};
std::atomic<uint64_t> g_thread_seq{0};

// This library's own address range, whose frames are trimmed from stacks.
std::atomic<uintptr_t> g_self_lo{0};
std::atomic<uintptr_t> g_self_hi{0};
std::atomic<bool> g_unwinder_ready{false};

// One cache line holds everything the fast paths touch.
struct alignas(64) ThreadState {
  // Bytes left before the next sample, minus g_countdown_bias; negative
  // means "take the slow path" (tested by sign: one sub-and-branch). Starts
  // at -1, so a thread's first allocation takes it.
  int64_t until_sample = -1;
  // This thread's counts not yet moved to its slot (see CounterSlot).
  uint64_t allocations;
  // Bytes in use: added by mallocs and by frees in two fields, so that a
  // malloc+free loop is two chains of one add each, not one of two.
  uint64_t alloc_chunk_bytes;
  uint64_t freed_chunk_bytes;
  size_t pending_bytes;  // the request of the malloc in flight
  // Frees left before the next flush, tested by sign: one sub-and-branch.
  // Starts at 0, so a thread's first free takes FreeCountdown (which
  // flushes, claiming the slot); under another allocator Flush leaves it
  // negative (kFreeGate), so that free never reads a chunk header.
  int32_t ops_left;
  // The two countdowns as the last flush left them: the frees since are
  // synced_ops - ops_left, the bytes allocated synced_countdown -
  // until_sample.
  int32_t synced_ops;
  int64_t synced_countdown = -1;
  uint64_t samples;
  int64_t live_samples;
  uint64_t rng;
  // Bytes allocated at sampling points that skipped the flush (see
  // TakeSamplingPoint), and how many did since the last flush.
  uint64_t unflushed_bytes;
  uint32_t points_since_flush;
  CounterSlot* slot;  // null until the thread's first flush
  StackBounds stack;  // this thread's stack, as CurrentThreadStack found it
  // The stack of this thread's last sample: likely the next one's too
  // (StackTable::Intern tries it first), its lines loaded early.
  StackRecord* last_stack;
  bool rng_ready;
  bool in_hook;      // reentrancy guard: set while recording a sample
  bool no_sampling;  // ScopedNoSampling
  bool in_init;
  bool shared_slot;  // beyond kCounterSlots: atomic adds on g_overflow
};
}  // namespace
}  // namespace memmon::preload

// initial-exec: a plain %fs-relative access, no __tls_get_addr (which may
// allocate) in the hooks. The library is loaded at start-up (LD_PRELOAD or
// DT_NEEDED), where static TLS is available. Outside any namespace, with C
// linkage, so that AddInuseAfterCall()'s assembly can name it.
extern "C" __thread memmon::preload::ThreadState memmon_preload_thread_state
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
__thread memmon::preload::ThreadState memmon_preload_thread_state{};

namespace memmon::preload {
namespace {

#define t_state memmon_preload_thread_state

inline bool Ready() {
  return MEMMON_LIKELY(g_init_state.load(std::memory_order_acquire) == 2);
}

// Adds `v` to the calling thread's alloc_chunk_bytes, the TLS offset loaded
// afresh. Used after the call into the allocator: the compiler would
// otherwise keep the offset in a callee-saved register, and saving that
// register costs the fast path a push and a pop. Two instructions: the
// offset from the GOT, then an %fs-relative add.
inline void AddInuseAfterCall(uint64_t v) {
  uintptr_t off;
  asm volatile("movq memmon_preload_thread_state@gottpoff(%%rip), %0"
               : "=r"(off));
  asm volatile("addq %1, %%fs:%c2(%0)"
               :
               : "r"(off), "r"(v), "i"(offsetof(ThreadState, alloc_chunk_bytes))
               : "cc", "memory");
}

// ---- bootstrap arena: answers allocations made while dlsym runs ----------
constexpr size_t kBootBytes = 256 * 1024;
alignas(64) char g_boot[kBootBytes];
std::atomic<size_t> g_boot_used{0};

bool IsBoot(const void* p) {
  return reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(g_boot) <
         kBootBytes;
}

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

size_t BootSize(const void* p) {
  return *reinterpret_cast<const size_t*>(static_cast<const char*>(p) - 16);
}

// ---- configuration, parsed without allocating ----------------------------
uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* s = getenv(name);
  if (s == nullptr || *s == '\0') return fallback;
  uint64_t v = 0;
  for (; *s >= '0' && *s <= '9'; ++s)
    v = v * 10 + static_cast<uint64_t>(*s - '0');
  if (*s == 'k' || *s == 'K')
    v <<= 10;
  else if (*s == 'm' || *s == 'M')
    v <<= 20;
  else if (*s != '\0')
    return fallback;
  return v;
}

void ThreadExit(void*);

void InitSlow() {
  ThreadState& t = t_state;
  if (t.in_init) return;  // dlsym allocating: the caller uses the arena
  int expected = 0;
  if (!g_init_state.compare_exchange_strong(expected, 1,
                                            std::memory_order_acq_rel)) {
    while (g_init_state.load(std::memory_order_acquire) != 2) sched_yield();
    return;
  }
  int saved_errno = errno;
  t.in_init = true;
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
    g_glibc_chunks = mallinfo2 != nullptr &&
                     dladdr(reinterpret_cast<void*>(g_real.malloc), &a) != 0 &&
                     dladdr(mallinfo2, &b) != 0 && a.dli_fbase == b.dli_fbase;
  }
  if (!g_glibc_chunks) {
    // Keep the fast paths off (see kGenericBias). Threads arm their
    // countdown only after initialisation, so all of them see the bias.
    g_countdown_bias = kGenericBias;
    // free() keeps to FreeCountdown: Flush leaves the countdown negative.
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

  g_config.rate = EnvNumber("MEMMON_SAMPLE_RATE", kDefaultSampleRate);
  g_config.seed = EnvNumber("MEMMON_SEED", 0);
  const char* off = getenv("MEMMON_DISABLE");
  g_config.enabled = !(off != nullptr && *off != '\0' && *off != '0');
  // Room for 4096 x (1 + 8 + 64 + 512) live samples; pages are touched
  // level by level as samples need them.
  uint64_t slots = EnvNumber("MEMMON_LIVE_TABLE_SLOTS", 4096);
  // The filter only for allocators without glibc's chunk headers.
  if (!g_live.Init(static_cast<size_t>(slots), !g_glibc_chunks))
    g_config.enabled = false;
  if (!g_stacks.Init(1u << 16, 64u << 20)) g_config.enabled = false;
  g_thread_key_ok = pthread_key_create(&g_thread_key, ThreadExit) == 0;
  void* slot_mem =
      mmap(nullptr, kCounterSlots * sizeof(CounterSlot), PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (slot_mem != MAP_FAILED) g_slots = static_cast<CounterSlot*>(slot_mem);
  t.in_init = false;
  errno = saved_errno;
  g_init_state.store(2, std::memory_order_release);
}

// ---- counters ------------------------------------------------------------
void Fold(CounterSlot* from, CounterSlot* into) {
  into->allocations.fetch_add(from->allocations.exchange(0),
                              std::memory_order_relaxed);
  into->frees.fetch_add(from->frees.exchange(0), std::memory_order_relaxed);
  into->allocated_bytes.fetch_add(from->allocated_bytes.exchange(0),
                                  std::memory_order_relaxed);
  into->inuse_bytes.fetch_add(from->inuse_bytes.exchange(0),
                              std::memory_order_relaxed);
  into->samples.fetch_add(from->samples.exchange(0), std::memory_order_relaxed);
  into->live_samples.fetch_add(from->live_samples.exchange(0),
                               std::memory_order_relaxed);
}

CounterSlot* ClaimSlot(ThreadState& t) {
  if (g_slots != nullptr) {
    for (size_t i = 0; i < kCounterSlots; ++i) {
      uint32_t expected = 0;
      if (g_slots[i].in_use.load(std::memory_order_relaxed) == 0 &&
          g_slots[i].in_use.compare_exchange_strong(expected, 1)) {
        t.slot = &g_slots[i];
        size_t high = g_slots_high.load(std::memory_order_relaxed);
        while (high < i + 1 &&
               !g_slots_high.compare_exchange_weak(high, i + 1)) {
        }
        // Keys below 32 live in the thread descriptor: no allocation.
        if (g_thread_key_ok) pthread_setspecific(g_thread_key, &t);
        return t.slot;
      }
    }
  }
  t.shared_slot = true;
  t.slot = &g_overflow;
  return t.slot;
}

// The owner's update of its own slot: a plain load and store.
template <typename T>
inline void Add(std::atomic<T>& c, T v) {
  c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

MEMMON_NOINLINE void Flush(ThreadState& t) noexcept {
  // Unsigned: the countdowns wrap harmlessly (see DoMalloc).
  const uint64_t frees = static_cast<uint64_t>(
      static_cast<int64_t>(t.synced_ops) - static_cast<int64_t>(t.ops_left));
  const uint64_t bytes = static_cast<uint64_t>(t.synced_countdown) -
                         static_cast<uint64_t>(t.until_sample) +
                         t.unflushed_bytes;
  t.unflushed_bytes = 0;
  t.points_since_flush = 0;
  const int64_t inuse =
      static_cast<int64_t>(t.alloc_chunk_bytes - t.freed_chunk_bytes);
  // The fast path of free is open only under glibc. (Flush runs only after
  // initialisation, when g_glibc_chunks is settled.)
  t.ops_left = t.synced_ops =
      g_glibc_chunks ? kFlushEvery - 1 : kFreeGate + (kFlushEvery - 1);
  t.synced_countdown = t.until_sample;
  CounterSlot* c = t.slot;
  if (c == nullptr) c = ClaimSlot(t);
  if (t.shared_slot) {
    g_overflow.allocations.fetch_add(t.allocations, std::memory_order_relaxed);
    g_overflow.frees.fetch_add(frees, std::memory_order_relaxed);
    g_overflow.allocated_bytes.fetch_add(bytes, std::memory_order_relaxed);
    g_overflow.inuse_bytes.fetch_add(inuse, std::memory_order_relaxed);
    g_overflow.samples.fetch_add(t.samples, std::memory_order_relaxed);
    g_overflow.live_samples.fetch_add(t.live_samples,
                                      std::memory_order_relaxed);
  } else {
    Add(c->allocations, t.allocations);
    Add(c->frees, frees);
    Add(c->allocated_bytes, bytes);
    Add(c->inuse_bytes, inuse);
    Add(c->samples, t.samples);
    Add(c->live_samples, t.live_samples);
  }
  t.allocations = t.samples = 0;
  t.alloc_chunk_bytes = t.freed_chunk_bytes = 0;
  t.live_samples = 0;
}

// Sets the sampling countdown to `bytes`; only right after a Flush (the
// bytes allocated so far must have been read).
void SetCountdown(ThreadState& t, int64_t bytes) {
  t.until_sample = t.synced_countdown = bytes - g_countdown_bias;
}

// Sampling countdown arithmetic is unsigned (wrapping) so that no request
// size overflows it; the sign is read after.
inline int64_t CountDown(int64_t left, size_t n) {
  return static_cast<int64_t>(static_cast<uint64_t>(left) - n);
}

void ThreadExit(void*) {
  ThreadState& t = t_state;
  Flush(t);
  CounterSlot* slot = t.slot;
  if (slot == nullptr || t.shared_slot) return;
  // Allocations after this point (later TLS destructors) go to `overflow`.
  t.slot = &g_overflow;
  t.shared_slot = true;
  Fold(slot, &g_retired);
  slot->in_use.store(0, std::memory_order_release);
}

// ---- sampling ------------------------------------------------------------
uint64_t NextRandom(ThreadState& t) {  // xorshift64*
  uint64_t x = t.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t.rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

int64_t NextGap(ThreadState& t) {
  const uint64_t rate = g_config.rate;
  if (rate <= 1) return 0;
  // u in (0, 1]: 53 random bits.
  double u = (static_cast<double>(NextRandom(t) >> 11) + 1.0) * 0x1.0p-53;
  double gap = -LogUnit(u) * static_cast<double>(rate);
  if (gap > static_cast<double>(kMaxGap)) gap = static_cast<double>(kMaxGap);
  // The allocation that takes the countdown below zero is sampled: the one
  // during which the byte count passes `gap`.
  return static_cast<int64_t>(gap);
}

void SeedThread(ThreadState& t) {
  uint64_t seq = g_thread_seq.fetch_add(1, std::memory_order_relaxed);
  uint64_t s;
  if (g_config.seed != 0) {
    s = g_config.seed * 0x9E3779B97F4A7C15ull + seq * 0xBF58476D1CE4E5B9ull;
  } else {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s = static_cast<uint64_t>(ts.tv_nsec) ^
        (static_cast<uint64_t>(ts.tv_sec) << 32) ^
        reinterpret_cast<uintptr_t>(&t) ^ (seq << 48);
  }
  t.rng = s == 0 ? 0x853C49E6748FEA9Bull : s;
  for (int i = 0; i < 4; ++i) NextRandom(t);
  t.rng_ready = true;
}

int FindSelf(dl_phdr_info* info, size_t, void* data) {
  const uintptr_t me = reinterpret_cast<uintptr_t>(data);
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    uintptr_t end = start + ph.p_memsz;
    if (start < lo) lo = start;
    if (end > hi) hi = end;
  }
  if (me < lo || me >= hi) return 0;
  g_self_lo.store(lo, std::memory_order_relaxed);
  g_self_hi.store(hi, std::memory_order_relaxed);
  return 1;
}

MEMMON_NOINLINE void PrepareUnwinderOnce() {
  dl_iterate_phdr(FindSelf, reinterpret_cast<void*>(&PrepareUnwinderOnce));
  // libunwind is the fallback (frames FastBacktrace cannot take). Per-thread
  // caches: no global lock taken while unwinding.
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  InitFastUnwind();
  g_unwinder_ready.store(true, std::memory_order_release);
}

inline void PrepareUnwinder() {
  if (MEMMON_UNLIKELY(!g_unwinder_ready.load(std::memory_order_acquire))) {
    PrepareUnwinderOnce();
  }
}

// Records a sample of `size` bytes at `p` (a wrapped block when `wrapped`,
// whose header then gets its live-table slot). Inlined into its callers:
// one frame fewer to unwind.
inline __attribute__((always_inline)) void RecordSample(ThreadState& t, void* p,
                                                        size_t size,
                                                        bool wrapped) {
  g_live.Prefetch(p);  // the entry's line, loading during the walk
  // Done at load (PrepareSampling); this is for a sample taken earlier, by
  // a library constructor that ran before this library's.
  PrepareUnwinder();
  uintptr_t frames[kMaxStackDepth + 16];
  // The thread's stack bounds, found once (a stack pointer outside them,
  // on a coroutine's stack, say, has them looked up again).
  const uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  bool bounded = sp - t.stack.lo < t.stack.hi - t.stack.lo;
  if (!bounded) {
    StackBounds found;
    bounded = CurrentThreadStack(&found);
    if (bounded) t.stack = found;
  }
  int n = bounded ? FastBacktrace(frames, kMaxStackDepth + 16, t.stack) : -1;
  if (n < 0) {
    n = unw_backtrace(reinterpret_cast<void**>(frames), kMaxStackDepth + 16);
  }
  const uintptr_t lo = g_self_lo.load(std::memory_order_relaxed);
  const uintptr_t hi = g_self_hi.load(std::memory_order_relaxed);
  int skip = 0;
  while (skip < n && frames[skip] >= lo && frames[skip] < hi) ++skip;
  int depth = n - skip;
  if (depth > kMaxStackDepth) depth = kMaxStackDepth;
  if (depth <= 0) {
    g_unwind_failures.fetch_add(1, std::memory_order_relaxed);
    depth = 0;
  }
  StackRecord* stack = g_stacks.Intern(frames + skip, depth, t.last_stack);
  t.last_stack = stack;
  double weight = SampleWeightBytes(size, g_config.rate);
  stack->alloc_bytes.fetch_add(static_cast<uint64_t>(weight + 0.5),
                               std::memory_order_relaxed);
  stack->alloc_objects_scaled.fetch_add(
      static_cast<uint64_t>(weight / static_cast<double>(size) *
                                static_cast<double>(kObjectScale) +
                            0.5),
      std::memory_order_relaxed);
  ++t.samples;  // moved to the thread's slot at its next flush
  if (const size_t slot = g_live.Insert(p, size, g_stacks.Ref(stack))) {
    ++t.live_samples;
    if (wrapped) SetWrapSlot(p, slot);
  } else {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

// Starts loading what a sample reads, one sampling interval after it was
// last read: by then the program has pushed it out of the near caches, and
// read in turn (the walk needs the unwinder's state before it can read the
// memo; the record's address comes out of the walk) each line would cost a
// miss. Issued before the allocator runs, the misses overlap with it and
// with each other. The lines: the tables' and the configuration's globals,
// the unwinder's state and memo, the thread's second line, and the last
// sample's stack record (its counters' line, then its frames'), which this
// sample will likely add to.
inline __attribute__((always_inline)) void PrefetchSamplerState(
    const ThreadState& t) {
  const char* live = reinterpret_cast<const char*>(&g_live);
  const char* stacks = reinterpret_cast<const char*>(&g_stacks);
  PrefetchLine(live);
  PrefetchLine(live + 64);
  PrefetchLine(&g_config);
  PrefetchLine(stacks);
  PrefetchLine(stacks + 64);
  PrefetchLine(&g_self_lo);
  PrefetchLine(&t.live_samples);
  PrefetchUnwindState();
  if (t.last_stack != nullptr) {
    PrefetchLine(t.last_stack);
    PrefetchLine(reinterpret_cast<const char*>(t.last_stack) + 64);
  }
}

// The countdown went negative (or this is the thread's first allocation):
// flushes the counters, draws the next gap and says whether the allocation
// of `size` bytes is to be recorded. errno is left as it was.
inline __attribute__((always_inline)) bool TakeSamplingPoint(ThreadState& t,
                                                             size_t size) {
  int saved_errno = errno;
  PrefetchSamplerState(t);
  // The bytes the countdown went down by are set aside for the next flush
  // (the countdown is re-armed below). The flush itself, a store to the
  // thread's slot (a cache line that is cold by the next sampling point),
  // is done at one sampling point in kPointsPerFlush, and at the first.
  if (t.slot == nullptr || ++t.points_since_flush >= kPointsPerFlush) {
    Flush(t);
  } else {
    t.unflushed_bytes += static_cast<uint64_t>(t.synced_countdown) -
                         static_cast<uint64_t>(t.until_sample);
    t.synced_countdown = t.until_sample;
  }
  if (!t.rng_ready) {
    // First allocation on this thread: draw the first gap, then decide.
    SeedThread(t);
    const int64_t left = CountDown(NextGap(t), size);
    SetCountdown(t, left);
    if (left >= 0 && g_config.rate > 1) {
      errno = saved_errno;
      return false;
    }
  }
  SetCountdown(t, NextGap(t));
  errno = saved_errno;
  return !t.in_hook && !t.no_sampling && g_config.enabled && size > 0;
}

inline __attribute__((always_inline)) void RecordGuarded(ThreadState& t,
                                                         void* p, size_t size,
                                                         bool wrapped) {
  int saved_errno = errno;
  t.in_hook = true;
  RecordSample(t, p, size, wrapped);
  t.in_hook = false;
  errno = saved_errno;
}

// Bytes in use are counted in the allocator's own unit. Under glibc that is
// the chunk size, read from the chunk header (the word before the block,
// low three bits are flags): free() reads that word next anyway, whereas
// malloc_usable_size() also inspects the following chunk, a second cache
// miss that cost 12 % of an allocation-heavy program. Under jemalloc and
// tcmalloc it is malloc_usable_size(), a size-class lookup.
inline size_t GlibcChunkSize(const void* p) {
  return reinterpret_cast<const size_t*>(p)[-1] & ~static_cast<size_t>(7);
}

inline size_t UsableSize(void* p) {
  if (MEMMON_LIKELY(g_glibc_chunks)) return GlibcChunkSize(p);
  return g_real.usable_size != nullptr ? g_real.usable_size(p) : 0;
}

// ---- sampled blocks under glibc (see kBigChunk) ---------------------------
inline uintptr_t HeaderWord(const void* p) {
  return reinterpret_cast<const uintptr_t*>(p)[-1];
}

// The glibc block a wrapped block lives in.
inline void* Unwrapped(void* p) {
  return static_cast<char*>(p) - WrapOffset(p);
}

// What the program may use of a wrapped block: glibc's answer for the
// block it lives in, less the offset.
inline size_t WrappedUsableSize(void* p) {
  return g_real.usable_size(Unwrapped(p)) - WrapOffset(p);
}

enum class Kind { kMalloc, kCalloc, kAligned };

// The next allocator's function for `kind`; null on failure (errno set).
inline void* RealAlloc(Kind kind, size_t n, size_t align) {
  switch (kind) {
    case Kind::kMalloc:
      return g_real.malloc(n);
    case Kind::kCalloc:
      return g_real.calloc(1, n);
    case Kind::kAligned: {
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

// A block of `n` bytes (aligned to `align` for kAligned, zeroed for
// kCalloc) that is to be sampled: wrapped when smaller than kBigChunk.
// `*block` receives glibc's block (counted in bytes in use).
void* AllocWrapped(Kind kind, size_t n, size_t align, void** block) {
  if (n >= kBigChunk) {  // its own header sends free() to FreeBig
    *block = RealAlloc(kind, n, align);
    return *block;
  }
  const size_t offset = align > 16 ? align : 16;
  void* q = RealAlloc(kind, n + offset, align);
  *block = q;
  if (q == nullptr) return nullptr;
  uintptr_t* p = reinterpret_cast<uintptr_t*>(static_cast<char*>(q) + offset);
  p[-1] = kWrapMark;
  WrapWord(p) = static_cast<uintptr_t>(__builtin_ctzll(offset));  // no slot
  return p;
}

// The next allocator's block, counted; on failure the countdown (already
// taken down by `n`) gets `n` back.
inline __attribute__((always_inline)) void* AllocAndCount(ThreadState& t,
                                                          Kind kind, size_t n,
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
inline __attribute__((always_inline)) void SampleAfterCall(ThreadState& t,
                                                           void* p, size_t n) {
  if (t.until_sample + g_countdown_bias < 0 || !t.rng_ready) {
    if (TakeSamplingPoint(t, n)) RecordGuarded(t, p, n, false);
  }
}

// The countdown, already taken down by `n`, is negative: a sampling point,
// a thread's first allocation, or under jemalloc and tcmalloc every
// allocation (see kGenericBias). Counts the block; the caller has counted
// nothing.
template <Kind kind>
inline __attribute__((always_inline)) void* AllocAtCountdown(size_t n,
                                                             size_t align) {
  ThreadState& t = t_state;
  if (MEMMON_LIKELY(g_glibc_chunks)) {
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

// A flush is due after kFlushEvery frees, and at a thread's first free
// (which claims its slot).
inline bool FlushDue(const ThreadState& t) {
  return t.slot == nullptr ||
         static_cast<int64_t>(t.synced_ops) - t.ops_left >= kFlushEvery;
}

// Counts a free outside the fast path.
inline void CountFree(ThreadState& t) {
  if (MEMMON_UNLIKELY(--t.ops_left < 0) && FlushDue(t)) Flush(t);
}

// Under glibc, a block whose header word is kBigChunk or more: a big block
// (sampled or not), a wrapped sampled block, or an arena block. The free is
// counted (by the caller).
MEMMON_NOINLINE void FreeBig(void* p) noexcept {
  ThreadState& t = t_state;
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
inline void FreeGlibc(ThreadState& t, void* p) {
  const uintptr_t header = HeaderWord(p);
  if (MEMMON_UNLIKELY(header >= kBigChunk)) return FreeBig(p);
  t.freed_chunk_bytes += header & ~uintptr_t{7};
  g_real.free(p);  // a tail call: the fast path needs no stack frame
}

// The free countdown went negative, the free counted: a flush is due, or
// this is the thread's first free, or the block is from the arena (before
// initialisation only arena blocks exist), or another allocator is
// underneath (the countdown always negative: no header to read; the
// block's filter byte says whether it may be sampled).
MEMMON_NOINLINE void FreeCountdown(void* p) noexcept {
  ThreadState& t = t_state;
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
  if (FlushDue(t)) Flush(t);
  if (MEMMON_LIKELY(g_glibc_chunks)) return FreeGlibc(t, p);
  t.freed_chunk_bytes += UsableSize(p);
  if (LiveTable::MaybeContains(p) && g_live.Erase(p)) --t.live_samples;
  g_real.free(p);
}

// ---- the entry points, as functions the exported symbols share -----------

// The countdown went negative: the allocation that crosses the sampling
// point, every thread's first (the countdown starts at -1: that is how the
// fast path does without an "initialised?" test), and every allocation
// under jemalloc or tcmalloc.
MEMMON_NOINLINE void* MallocCountdown(size_t n) noexcept {
  ThreadState& t = t_state;
  t.pending_bytes = n;
  if (MEMMON_UNLIKELY(!Ready())) {
    InitSlow();
    if (!Ready()) {  // dlsym allocating during initialisation
      t.until_sample = CountDown(t.until_sample, -n);
      return BootAlloc(n, 16);
    }
  }
  return AllocAtCountdown<Kind::kMalloc>(n, 0);
}

// malloc failed after DoMalloc counted it: take the counts back.
MEMMON_NOINLINE void* MallocFailed() noexcept {
  ThreadState& t = t_state;
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
inline void* DoMalloc(size_t n) {
  ThreadState& t = t_state;
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
inline void DoFree(void* p) {
  if (MEMMON_UNLIKELY(p == nullptr)) return;
  ThreadState& t = t_state;
  if (MEMMON_UNLIKELY(--t.ops_left < 0)) return FreeCountdown(p);
  FreeGlibc(t, p);
}

// calloc and the aligned forms: the countdown taken down before the call
// (so that a sampled block can be wrapped). Outside glibc the countdown is
// always negative: every call takes AllocAtCountdown.
template <Kind kind>
void* AllocCounted(size_t n, size_t align) {
  ThreadState& t = t_state;
  t.until_sample = CountDown(t.until_sample, n);
  if (MEMMON_UNLIKELY(t.until_sample < 0)) {
    return AllocAtCountdown<kind>(n, align);
  }
  return AllocAndCount(t, kind, n, align);
}

void* DoCalloc(size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (MEMMON_UNLIKELY(!Ready())) {
    InitSlow();
    if (!Ready()) return BootAlloc(n, 16);
  }
  return AllocCounted<Kind::kCalloc>(n, 0);
}

// realloc under glibc. A wrapped block cannot be resized by glibc, and a
// new block at a sampling point must be wrapped: both move (malloc, copy,
// free). Otherwise glibc resizes, the old block leaving the live set first.
void* ReallocGlibc(void* old, size_t n) {
  ThreadState& t = t_state;
  if (n == 0) {  // glibc frees the block and returns null
    DoFree(old);
    return nullptr;
  }
  const uintptr_t header = HeaderWord(old);
  const bool wrapped = header == kWrapMark;
  const int64_t left = CountDown(t.until_sample, n);
  if (wrapped || left < 0) {
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
  void* p = g_real.realloc(old, n);
  if (p == nullptr) {  // `old` is kept; a sample it had is lost
    t.until_sample = CountDown(t.until_sample, -n);
    return nullptr;
  }
  t.freed_chunk_bytes += header & ~uintptr_t{7};
  CountFree(t);
  ++t.allocations;
  t.alloc_chunk_bytes += GlibcChunkSize(p);
  return p;
}

void* DoRealloc(void* old, size_t n) {
  if (old == nullptr) return DoMalloc(n);
  if (MEMMON_UNLIKELY(IsBoot(old))) {  // arena blocks move out, never freed
    size_t old_size = BootSize(old);
    void* p = DoMalloc(n);
    if (p != nullptr) memcpy(p, old, old_size < n ? old_size : n);
    return p;
  }
  if (MEMMON_UNLIKELY(!Ready())) InitSlow();  // only arena blocks exist before
  if (MEMMON_LIKELY(g_glibc_chunks)) return ReallocGlibc(old, n);
  // Another allocator: the old block leaves the live set before the
  // allocator may reuse it; the new one is sampled after the call.
  size_t old_usable = UsableSize(old);
  ThreadState& t = t_state;
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

void* DoAligned(size_t align, size_t n, bool posix_semantics, int* err) {
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
  void* p = AllocCounted<Kind::kAligned>(n, align);
  *err = p != nullptr ? 0 : errno;
  errno = saved_errno;
  return p;
}

size_t PageSize() {
  static size_t page = 0;
  if (page == 0) page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

void* AlignedOrErrno(size_t align, size_t n) {
  int err = 0;
  void* p = DoAligned(align, n, false, &err);
  if (p == nullptr) errno = err;
  return p;
}

// operator new's failure path; the request was parked in TLS by DoMalloc.
MEMMON_NOINLINE void* NewSlow() {
  size_t n = t_state.pending_bytes;
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
inline void* NewOrThrow(size_t n) {
  if (void* p = DoMalloc(n)) return p;
  return NewSlow();
}

void* NewAlignedOrThrow(size_t n, std::align_val_t al) {
  for (;;) {
    if (void* p = AlignedOrErrno(static_cast<size_t>(al), n == 0 ? 1 : n)) {
      return p;
    }
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* NewNothrow(size_t n) noexcept {
  try {
    return NewOrThrow(n);
  } catch (...) {
    return nullptr;
  }
}

void* NewAlignedNothrow(size_t n, std::align_val_t al) noexcept {
  try {
    return NewAlignedOrThrow(n, al);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

// ---- what the rest of the sampler sees ------------------------------------
LiveTable& Live() { return g_live; }
StackTable& Stacks() { return g_stacks; }
const SamplerConfig& Config() { return g_config; }

double SampleWeightBytes(size_t size, uint64_t rate) {
  if (rate <= 1 || size == 0) return static_cast<double>(size);
  double s = static_cast<double>(size);
  return s / OneMinusExpNeg(s / static_cast<double>(rate));
}

void EnsureInitialized() {
  if (!Ready()) InitSlow();
}

void PrepareSampling() {
  EnsureInitialized();
  if (g_config.enabled) PrepareUnwinder();
}

void ReadCounters(memmon_preload_counters* out) {
  EnsureInitialized();
  Flush(t_state);
  uint64_t allocations = 0, frees = 0, bytes = 0, samples = 0;
  int64_t inuse = 0, live = 0;
  auto sum = [&](const CounterSlot& c) {
    allocations += c.allocations.load(std::memory_order_relaxed);
    frees += c.frees.load(std::memory_order_relaxed);
    bytes += c.allocated_bytes.load(std::memory_order_relaxed);
    inuse += c.inuse_bytes.load(std::memory_order_relaxed);
    samples += c.samples.load(std::memory_order_relaxed);
    live += c.live_samples.load(std::memory_order_relaxed);
  };
  sum(g_retired);
  sum(g_overflow);
  if (g_slots != nullptr) {
    const size_t high = g_slots_high.load(std::memory_order_acquire);
    for (size_t i = 0; i < high; ++i) {
      if (g_slots[i].in_use.load(std::memory_order_acquire) != 0)
        sum(g_slots[i]);
    }
  }
  out->allocations = allocations;
  out->frees = frees;
  out->allocated_bytes = bytes;
  out->inuse_bytes = inuse > 0 ? static_cast<uint64_t>(inuse) : 0;
  out->sample_rate = g_config.rate;
  out->samples = samples;
  out->live_samples = live > 0 ? static_cast<uint64_t>(live) : 0;
  out->dropped_samples =
      g_dropped.load(std::memory_order_relaxed) + g_stacks.dropped();
  out->unwind_failures = g_unwind_failures.load(std::memory_order_relaxed);
  out->stacks = g_stacks.count();
}

ScopedNoSampling::ScopedNoSampling() : previous_(t_state.no_sampling) {
  t_state.no_sampling = true;
}
ScopedNoSampling::~ScopedNoSampling() { t_state.no_sampling = previous_; }

void ResetAfterFork() {
  // Nothing else to redo. This thread's state, its counter slot and its
  // thread-key value (whose destructor folds the slot when the thread
  // exits) are the parent's, copied. The other threads are gone: their
  // slots stay claimed and keep what they last flushed (their blocks live
  // on in the child's copy of the heap); what they had not flushed is lost.
  // The reentrancy guard is cleared in case fork() ran while this thread
  // was recording a sample (from a signal handler), so that the child's
  // one thread is not left unable to sample.
  t_state.in_hook = false;
}

}  // namespace memmon::preload

// ---- exported symbols ------------------------------------------------------
using namespace memmon::preload;  // NOLINT: the C entry points below

MEMMON_EXPORT void* malloc(size_t n) noexcept { return DoMalloc(n); }
MEMMON_EXPORT void free(void* p) noexcept { DoFree(p); }
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
  if (g_glibc_chunks && HeaderWord(p) == kWrapMark) return WrappedUsableSize(p);
  return g_real.usable_size(p);
}

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

MEMMON_EXPORT int memmon_preload_read_counters(memmon_preload_counters* out,
                                               size_t out_size) {
  memmon_preload_counters c{};
  ReadCounters(&c);
  memcpy(out, &c, out_size < sizeof(c) ? out_size : sizeof(c));
  return 0;
}

// operator new and delete: every form, so that none reaches libstdc++'s
// (which would call malloc and be counted twice) or another allocator's.
MEMMON_VISIBLE void* operator new(size_t n) { return NewOrThrow(n); }
MEMMON_VISIBLE void* operator new[](size_t n) { return NewOrThrow(n); }
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
MEMMON_VISIBLE void operator delete(void* p) noexcept { DoFree(p); }
MEMMON_VISIBLE void operator delete[](void* p) noexcept { DoFree(p); }
MEMMON_VISIBLE void operator delete(void* p, size_t) noexcept { DoFree(p); }
MEMMON_VISIBLE void operator delete[](void* p, size_t) noexcept { DoFree(p); }
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
