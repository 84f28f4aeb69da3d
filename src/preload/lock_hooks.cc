// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The lock hooks: pthread's locking and blocking functions, interposed by
// libmemmon_preload.so and libmemmon_heap.so, feeding the mutex and block
// profiles (lock_profile.h; the arithmetic in contention_math.h).
//
// Mutex profile (pthread_mutex_lock, pthread_mutex_timedlock,
// pthread_mutex_clocklock, pthread_rwlock_{rd,wr}lock,
// pthread_rwlock_timed{rd,wr}lock, pthread_rwlock_clock{rd,wr}lock: the
// clock variants are what libstdc++'s std::timed_mutex and
// std::shared_timed_mutex call for steady_clock deadlines): the real
// lock is always the one that locks and its answer is returned as it is,
// so error-checking, recursive, robust and PI mutexes keep their behaviour.
// pthread_mutex_lock's fast path reads the mutex's lock word first (glibc's
// public struct __pthread_mutex_s: __lock is 0 when the mutex is free, for
// every kind) and, when it is free, tail-calls the real lock: a load, a
// test and a jump. Not the real trylock first: glibc 2.36's trylock+unlock
// costs 9.5 ns against 2.9 ns for lock+unlock here (docs/benchmarks.md), an
// uncontended lock would pay 6.6 ns for it. A lock word read just before
// the owner lets go sends that call to the slow path, where it is sampled as
// a contention like any other (of a short delay). The other functions (the
// rwlocks' word is not as simple; the timed locks are rare) try the real
// trylock first and return whatever it says but EBUSY.
// On the slow path one contention in MEMMON_MUTEX_RATE is sampled, drawn
// before anything is timed (the others go straight to the real lock); a
// sampled one is dropped when the caller owns the mutex (a recursive or
// error-checking mutex relocked: not a contention); otherwise its stack is
// taken (before the wait: unwinding while holding the lock would lengthen
// the critical section), it is timed around the real lock (clock_gettime,
// vDSO), and added to the table.
//
// Block profile (pthread_cond_wait, pthread_cond_timedwait,
// pthread_cond_clockwait, sem_wait, sem_timedwait, sem_clockwait,
// pthread_join, pthread_barrier_wait): every call that can block is timed
// (the sem_ waits only after their sem_trywait failed): Go's rule needs the
// delay to decide. A sampled one has its stack taken after the wait.
// libstdc++'s futex-based waits (std::atomic::wait, std::counting_semaphore,
// std::latch, std::barrier, std::future's wait and get) call no pthread or
// sem_ function: not seen (docs/profiler.md).
//
// Runs inside malloc too (jemalloc and tcmalloc take pthread mutexes), so
// the rules of in_malloc.h hold: no allocation, no lock of memmon's own
// (the tables are lock-free), errno preserved, no dlsym on the hot path
// (the real functions are resolved by the library constructor, or at the
// first call before it), and nothing recorded while the thread is in a
// hook (in_hook: the unwinder's fallback may allocate and lock), in the
// sampler's initialisation, or under ScopedNoSampling (memmon's writer
// thread and the profile writes).

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "preload/alloc_clock.h"
#include "preload/contention_math.h"
#include "preload/contention_table.h"
#include "preload/env_config.h"
#include "preload/in_malloc.h"
#include "preload/lock_profile.h"
#include "preload/sampler.h"
#include "preload/sampling_path.h"
#include "preload/thread_state.h"
#include "preload/unwind.h"

// glibc's own names for the mutex and rwlock functions (the same code as
// pthread_mutex_lock and the rest, kept for old libpthread users): the
// fallback when RTLD_NEXT finds nothing, and what a hook calls while the
// real functions are being resolved. Compat symbols since glibc 2.34, so
// bound to their version explicitly (a link would not find them otherwise).
extern "C" {
int __pthread_mutex_lock(pthread_mutex_t*) noexcept;
int __pthread_mutex_trylock(pthread_mutex_t*) noexcept;
int __pthread_rwlock_rdlock(pthread_rwlock_t*) noexcept;
int __pthread_rwlock_wrlock(pthread_rwlock_t*) noexcept;
int __pthread_rwlock_tryrdlock(pthread_rwlock_t*) noexcept;
int __pthread_rwlock_trywrlock(pthread_rwlock_t*) noexcept;
}
__asm__(".symver __pthread_mutex_lock,__pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver __pthread_mutex_trylock,__pthread_mutex_trylock@GLIBC_2.2.5");
__asm__(".symver __pthread_rwlock_rdlock,__pthread_rwlock_rdlock@GLIBC_2.2.5");
__asm__(".symver __pthread_rwlock_wrlock,__pthread_rwlock_wrlock@GLIBC_2.2.5");
__asm__(
    ".symver "
    "__pthread_rwlock_tryrdlock,__pthread_rwlock_tryrdlock@GLIBC_2.2.5");
__asm__(
    ".symver "
    "__pthread_rwlock_trywrlock,__pthread_rwlock_trywrlock@GLIBC_2.2.5");

namespace memmon::preload {
namespace {

// noexcept like glibc's declarations (__THROWNL), so that calls to them
// from the noexcept hooks can be tail calls.
using MutexFn = int (*)(pthread_mutex_t*) noexcept;
using MutexTimedFn = int (*)(pthread_mutex_t*, const timespec*) noexcept;
using MutexClockFn = int (*)(pthread_mutex_t*, clockid_t,
                             const timespec*) noexcept;
using RwFn = int (*)(pthread_rwlock_t*) noexcept;
using RwTimedFn = int (*)(pthread_rwlock_t*, const timespec*) noexcept;
using RwClockFn = int (*)(pthread_rwlock_t*, clockid_t,
                          const timespec*) noexcept;
using CondWaitFn = int (*)(pthread_cond_t*, pthread_mutex_t*);
using CondTimedFn = int (*)(pthread_cond_t*, pthread_mutex_t*, const timespec*);
using CondClockFn = int (*)(pthread_cond_t*, pthread_mutex_t*, clockid_t,
                            const timespec*);
using SemFn = int (*)(sem_t*);
using SemTimedFn = int (*)(sem_t*, const timespec*);
using SemClockFn = int (*)(sem_t*, clockid_t, const timespec*);
using JoinFn = int (*)(pthread_t, void**);
using BarrierFn = int (*)(pthread_barrier_t*);

// The next definitions. Atomic only because two threads may resolve at
// once (both store the same values); relaxed loads are plain moves.
struct RealLocks {
  std::atomic<MutexFn> mutex_lock{nullptr};
  std::atomic<MutexFn> mutex_trylock{nullptr};
  std::atomic<MutexTimedFn> mutex_timedlock{nullptr};
  std::atomic<MutexClockFn> mutex_clocklock{nullptr};
  std::atomic<RwFn> rdlock{nullptr};
  std::atomic<RwFn> wrlock{nullptr};
  std::atomic<RwFn> tryrdlock{nullptr};
  std::atomic<RwFn> trywrlock{nullptr};
  std::atomic<RwTimedFn> timedrdlock{nullptr};
  std::atomic<RwTimedFn> timedwrlock{nullptr};
  std::atomic<RwClockFn> clockrdlock{nullptr};
  std::atomic<RwClockFn> clockwrlock{nullptr};
  std::atomic<CondWaitFn> cond_wait{nullptr};
  std::atomic<CondTimedFn> cond_timedwait{nullptr};
  std::atomic<CondClockFn> cond_clockwait{nullptr};
  std::atomic<SemFn> sem_wait{nullptr};
  std::atomic<SemFn> sem_trywait{nullptr};
  std::atomic<SemTimedFn> sem_timedwait{nullptr};
  std::atomic<SemClockFn> sem_clockwait{nullptr};
  std::atomic<JoinFn> join{nullptr};
  std::atomic<BarrierFn> barrier_wait{nullptr};
  std::atomic<bool> resolved{false};
};
constinit RealLocks g_locks;

// The profiles' state: written by the constructor (InitLockProfiles)
// before `ready`, read-only after.
struct LockConfig {
  uint64_t mutex_rate = 0;
  uint64_t block_rate = 0;
  uint64_t seed = 0;
  std::atomic<bool> ready{false};
};
constinit LockConfig g_lock_config;
constinit ContentionTable g_mutex_table;
constinit ContentionTable g_block_table;
constinit std::atomic<uint64_t> g_lock_thread_seq{0};

// Per thread: the generator the sampling decisions draw from, and the
// guard for a hook called while this thread resolves the real functions.
struct LockThread {
  uint64_t rng;
  bool rng_ready;
  bool resolving;
};
__thread LockThread t_lock __attribute__((tls_model("initial-exec")));

MEMMON_IN_MALLOC uint64_t NextDraw(LockThread& lt) {  // xorshift64*
  if (MEMMON_UNLIKELY(!lt.rng_ready)) {
    uint64_t seq = g_lock_thread_seq.fetch_add(1, std::memory_order_relaxed);
    uint64_t s;
    if (g_lock_config.seed != 0) {
      s = g_lock_config.seed * 0xD1B54A32D192ED03ull +
          seq * 0x9E3779B97F4A7C15ull;
    } else {
      timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      s = static_cast<uint64_t>(ts.tv_nsec) ^
          (static_cast<uint64_t>(ts.tv_sec) << 32) ^
          reinterpret_cast<uintptr_t>(&lt) ^ (seq << 48);
    }
    lt.rng = s == 0 ? 0x853C49E6748FEA9Bull : s;
    lt.rng_ready = true;
  }
  uint64_t x = lt.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  lt.rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

template <typename Fn>
MEMMON_IN_MALLOC void Resolve(std::atomic<Fn>& slot, void* libc,
                              const char* name, const char* version = nullptr) {
  void* f = version != nullptr ? dlvsym(RTLD_NEXT, name, version)
                               : dlsym(RTLD_NEXT, name);
  if (f == nullptr && libc != nullptr) {
    f = version != nullptr ? dlvsym(libc, name, version) : dlsym(libc, name);
  }
  if (f != nullptr) slot.store(reinterpret_cast<Fn>(f));
}

// dlsym takes the loader's lock and may allocate (in_malloc.h): done once,
// from the constructor, or from the first hook called before it. A hook
// called on this thread meanwhile (an allocator's lock taken inside dlsym)
// uses glibc's __pthread_* names.
MEMMON_IN_MALLOC MEMMON_NOINLINE void ResolveRealLocks() {
  LockThread& lt = t_lock;
  if (lt.resolving || g_locks.resolved.load(std::memory_order_acquire)) return;
  int saved_errno = errno;
  lt.resolving = true;
  // The fallback when RTLD_NEXT finds nothing (the library loaded after
  // libc by a program that links it): libc itself.
  void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  Resolve(g_locks.mutex_lock, libc, "pthread_mutex_lock");
  Resolve(g_locks.mutex_trylock, libc, "pthread_mutex_trylock");
  Resolve(g_locks.mutex_timedlock, libc, "pthread_mutex_timedlock");
  Resolve(g_locks.mutex_clocklock, libc, "pthread_mutex_clocklock");
  Resolve(g_locks.rdlock, libc, "pthread_rwlock_rdlock");
  Resolve(g_locks.wrlock, libc, "pthread_rwlock_wrlock");
  Resolve(g_locks.tryrdlock, libc, "pthread_rwlock_tryrdlock");
  Resolve(g_locks.trywrlock, libc, "pthread_rwlock_trywrlock");
  Resolve(g_locks.timedrdlock, libc, "pthread_rwlock_timedrdlock");
  Resolve(g_locks.timedwrlock, libc, "pthread_rwlock_timedwrlock");
  Resolve(g_locks.clockrdlock, libc, "pthread_rwlock_clockrdlock");
  Resolve(g_locks.clockwrlock, libc, "pthread_rwlock_clockwrlock");
  // Two versions on x86-64: GLIBC_2.2.5 (the pre-NPTL condvar layout, for
  // binaries linked before 2002) and GLIBC_2.3.2, which every program
  // linked since binds to; plain dlsym could return either.
  Resolve(g_locks.cond_wait, libc, "pthread_cond_wait", "GLIBC_2.3.2");
  Resolve(g_locks.cond_timedwait, libc, "pthread_cond_timedwait",
          "GLIBC_2.3.2");
  Resolve(g_locks.cond_clockwait, libc, "pthread_cond_clockwait");
  Resolve(g_locks.sem_wait, libc, "sem_wait");
  Resolve(g_locks.sem_trywait, libc, "sem_trywait");
  Resolve(g_locks.sem_timedwait, libc, "sem_timedwait");
  Resolve(g_locks.sem_clockwait, libc, "sem_clockwait");
  Resolve(g_locks.join, libc, "pthread_join");
  Resolve(g_locks.barrier_wait, libc, "pthread_barrier_wait");
  if (libc != nullptr) dlclose(libc);  // RTLD_NOLOAD: only a reference
  // Whatever is still missing: glibc's own names, for the locks.
  MutexFn null_mutex = nullptr;
  RwFn null_rw = nullptr;
  g_locks.mutex_lock.compare_exchange_strong(null_mutex, __pthread_mutex_lock);
  null_mutex = nullptr;
  g_locks.mutex_trylock.compare_exchange_strong(null_mutex,
                                                __pthread_mutex_trylock);
  g_locks.rdlock.compare_exchange_strong(null_rw, __pthread_rwlock_rdlock);
  null_rw = nullptr;
  g_locks.wrlock.compare_exchange_strong(null_rw, __pthread_rwlock_wrlock);
  null_rw = nullptr;
  g_locks.tryrdlock.compare_exchange_strong(null_rw,
                                            __pthread_rwlock_tryrdlock);
  null_rw = nullptr;
  g_locks.trywrlock.compare_exchange_strong(null_rw,
                                            __pthread_rwlock_trywrlock);
  g_locks.resolved.store(true, std::memory_order_release);
  lt.resolving = false;
  errno = saved_errno;
}

// The real function in `slot`, resolving first when needed; null only when
// it cannot be found (the hook then fails with ENOSYS).
template <typename Fn>
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE Fn Real(std::atomic<Fn>& slot) {
  Fn f = slot.load(std::memory_order_relaxed);
  if (MEMMON_UNLIKELY(f == nullptr)) {
    ResolveRealLocks();
    f = slot.load(std::memory_order_relaxed);
  }
  return f;
}

// Whether this thread may record now: the profiles are set up, and it is
// neither in a hook nor initialising nor under ScopedNoSampling.
MEMMON_IN_MALLOC MEMMON_ALWAYS_INLINE bool MayRecord(const ThreadState& t) {
  return g_lock_config.ready.load(std::memory_order_acquire) && !t.in_hook &&
         !t.in_init && !t.no_sampling;
}

struct Stack {
  uintptr_t frames[kMaxStackDepth + 16];
  int depth;
};

// The caller's stack, without this library's frames. Under in_hook (set
// by the caller): the libunwind fallback may allocate and take locks.
MEMMON_IN_MALLOC MEMMON_NOINLINE void CaptureStack(ThreadState& t, Stack* s) {
  const uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  bool bounded = sp - t.stack.lo < t.stack.hi - t.stack.lo;
  if (!bounded) {
    StackBounds found;
    bounded = CurrentThreadStack(&found);
    if (bounded) t.stack = found;
  }
  int n = bounded ? FastBacktrace(s->frames, kMaxStackDepth + 16, t.stack) : -1;
  if (n < 0) {
    n = unw_backtrace(reinterpret_cast<void**>(s->frames), kMaxStackDepth + 16);
  }
  const uintptr_t lo = g_self_lo.load(std::memory_order_relaxed);
  const uintptr_t hi = g_self_hi.load(std::memory_order_relaxed);
  int skip = 0;
  while (skip < n && s->frames[skip] >= lo && s->frames[skip] < hi) ++skip;
  int depth = n - skip;
  if (depth > kMaxStackDepth) depth = kMaxStackDepth;
  if (depth < 0) depth = 0;
  for (int i = 0; i < depth; ++i) s->frames[i] = s->frames[skip + i];
  s->depth = depth;
}

// A sampled contention: its stack, then the real blocking call `lock`,
// timed and recorded at `rate`.
template <typename Lock>
MEMMON_IN_MALLOC int RecordContention(ThreadState& t, uint64_t rate,
                                      Lock lock) {
  const int saved_errno = errno;
  t.in_hook = true;
  Stack s;
  CaptureStack(t, &s);
  const int64_t start = ClockNanos(CLOCK_MONOTONIC);
  const int rc = lock();
  const int64_t delay = ClockNanos(CLOCK_MONOTONIC) - start;
  const ContentionWeight w =
      MutexWeight(static_cast<uint64_t>(delay > 0 ? delay : 0), rate);
  g_mutex_table.Add(s.frames, s.depth, w.count_scaled, w.delay_nanos);
  t.in_hook = false;
  errno = saved_errno;
  return rc;
}

// A contended lock: one in `mutex_rate` is sampled (one draw) and recorded.
template <typename Lock>
MEMMON_IN_MALLOC MEMMON_NOINLINE int ContendedSlow(Lock lock) {
  ThreadState& t = ThisThread();
  const uint64_t rate = g_lock_config.mutex_rate;
  if (rate == 0 || !MayRecord(t) || !MutexSampled(NextDraw(t_lock), rate)) {
    return lock();
  }
  return RecordContention(t, rate, lock);
}

// pthread_mutex_lock's slow path: the lock word said held.
MEMMON_IN_MALLOC MEMMON_NOINLINE int MutexLockSlow(pthread_mutex_t* m,
                                                   MutexFn lock) noexcept {
  ThreadState& t = ThisThread();
  const uint64_t rate = g_lock_config.mutex_rate;
  if (rate == 0 || !MayRecord(t) || !MutexSampled(NextDraw(t_lock), rate)) {
    return lock(m);
  }
  // Held by this thread (a recursive or error-checking mutex): no wait.
  // gettid only here, on sampled calls.
  if (__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == gettid()) {
    return lock(m);
  }
  // Already drawn: recorded as is (a second draw would sample one in
  // rate squared while weighting by rate).
  return RecordContention(t, rate, [=] { return lock(m); });
}

// pthread_mutex_lock before the real functions are known.
MEMMON_IN_MALLOC MEMMON_NOINLINE int MutexLockUnresolved(
    pthread_mutex_t* m) noexcept {
  if (t_lock.resolving) return __pthread_mutex_lock(m);
  MutexFn lock = Real(g_locks.mutex_lock);
  if (__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) != 0) {
    return MutexLockSlow(m, lock);
  }
  return lock(m);
}

// A call that may block: timed, and recorded by Go's block rule.
template <typename Wait>
MEMMON_IN_MALLOC MEMMON_NOINLINE int Blocking(Wait wait) {
  ThreadState& t = ThisThread();
  const uint64_t rate = g_lock_config.block_rate;
  if (rate == 0 || !MayRecord(t)) return wait();
  const int64_t start = ClockNanos(CLOCK_MONOTONIC);
  const int rc = wait();
  const int64_t elapsed = ClockNanos(CLOCK_MONOTONIC) - start;
  const uint64_t delay = static_cast<uint64_t>(elapsed > 0 ? elapsed : 0);
  if (!BlockSampled(delay, rate, NextDraw(t_lock))) return rc;
  const int saved_errno = errno;  // the wait's, for sem_wait's -1
  t.in_hook = true;
  Stack s;
  CaptureStack(t, &s);
  const ContentionWeight w = BlockWeight(delay, rate);
  g_block_table.Add(s.frames, s.depth, w.count_scaled, w.delay_nanos);
  t.in_hook = false;
  errno = saved_errno;
  return rc;
}

// The library constructor (before runtime.cc's, whose writer thread must
// find the profiles set up; the priority orders them within the library).
__attribute__((constructor(200))) void InitLockProfiles() {
  ScopedNoSampling no_sampling;
  ResolveRealLocks();
  EnsureInitialized();
  g_lock_config.mutex_rate = EnvNumber("MEMMON_MUTEX_RATE", kDefaultMutexRate);
  g_lock_config.block_rate = EnvNumber("MEMMON_BLOCK_RATE", kDefaultBlockRate);
  g_lock_config.seed = EnvNumber("MEMMON_SEED", 0);
  if (g_lock_config.mutex_rate != 0 &&
      !g_mutex_table.Init(kContentionTableSlots)) {
    g_lock_config.mutex_rate = 0;
  }
  if (g_lock_config.block_rate != 0 &&
      !g_block_table.Init(kContentionTableSlots)) {
    g_lock_config.block_rate = 0;
  }
  if (g_lock_config.mutex_rate != 0 || g_lock_config.block_rate != 0) {
    PrepareUnwinder();
  }
  g_lock_config.ready.store(true, std::memory_order_release);
}

}  // namespace

LockProfileState MutexProfile() {
  return {&g_mutex_table, g_lock_config.mutex_rate};
}
LockProfileState BlockProfile() {
  return {&g_block_table, g_lock_config.block_rate};
}

}  // namespace memmon::preload

// ---- exported symbols -------------------------------------------------------
using namespace memmon::preload;  // NOLINT: the C entry points below

// The fast path: the lock word read, a test, a tail call to the real lock.
// (No frame: the calls it makes are tail calls.)
MEMMON_EXPORT int pthread_mutex_lock(pthread_mutex_t* m) noexcept {
  MutexFn lock = g_locks.mutex_lock.load(std::memory_order_relaxed);
  if (MEMMON_UNLIKELY(lock == nullptr)) return MutexLockUnresolved(m);
  if (MEMMON_UNLIKELY(__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) !=
                      0)) {
    return MutexLockSlow(m, lock);
  }
  return lock(m);
}

MEMMON_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* m,
                                          const timespec* abstime) noexcept {
  MutexFn trylock = Real(g_locks.mutex_trylock);
  const int rc = (trylock ? trylock : __pthread_mutex_trylock)(m);
  if (rc != EBUSY) return rc;
  MutexTimedFn lock = Real(g_locks.mutex_timedlock);
  if (lock == nullptr) return ENOSYS;
  return ContendedSlow([=] { return lock(m, abstime); });
}

MEMMON_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                                          const timespec* abstime) noexcept {
  MutexFn trylock = Real(g_locks.mutex_trylock);
  const int rc = (trylock ? trylock : __pthread_mutex_trylock)(m);
  if (rc != EBUSY) return rc;
  MutexClockFn lock = Real(g_locks.mutex_clocklock);
  if (lock == nullptr) return ENOSYS;
  return ContendedSlow([=] { return lock(m, clock, abstime); });
}

MEMMON_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t* l) noexcept {
  RwFn trylock = g_locks.tryrdlock.load(std::memory_order_relaxed);
  if (MEMMON_UNLIKELY(trylock == nullptr)) {
    if (t_lock.resolving) return __pthread_rwlock_rdlock(l);
    trylock = Real(g_locks.tryrdlock);
  }
  const int rc = trylock(l);
  if (MEMMON_LIKELY(rc != EBUSY)) return rc;
  RwFn lock = Real(g_locks.rdlock);
  return ContendedSlow([=] { return lock(l); });
}

MEMMON_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t* l) noexcept {
  RwFn trylock = g_locks.trywrlock.load(std::memory_order_relaxed);
  if (MEMMON_UNLIKELY(trylock == nullptr)) {
    if (t_lock.resolving) return __pthread_rwlock_wrlock(l);
    trylock = Real(g_locks.trywrlock);
  }
  const int rc = trylock(l);
  if (MEMMON_LIKELY(rc != EBUSY)) return rc;
  RwFn lock = Real(g_locks.wrlock);
  return ContendedSlow([=] { return lock(l); });
}

MEMMON_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t* l,
                                             const timespec* abstime) noexcept {
  RwFn trylock = Real(g_locks.tryrdlock);
  const int rc = (trylock ? trylock : __pthread_rwlock_tryrdlock)(l);
  if (rc != EBUSY) return rc;
  RwTimedFn lock = Real(g_locks.timedrdlock);
  if (lock == nullptr) return ENOSYS;
  return ContendedSlow([=] { return lock(l, abstime); });
}

MEMMON_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t* l,
                                             const timespec* abstime) noexcept {
  RwFn trylock = Real(g_locks.trywrlock);
  const int rc = (trylock ? trylock : __pthread_rwlock_trywrlock)(l);
  if (rc != EBUSY) return rc;
  RwTimedFn lock = Real(g_locks.timedwrlock);
  if (lock == nullptr) return ENOSYS;
  return ContendedSlow([=] { return lock(l, abstime); });
}

MEMMON_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t* l,
                                             clockid_t clock,
                                             const timespec* abstime) noexcept {
  RwFn trylock = Real(g_locks.tryrdlock);
  const int rc = (trylock ? trylock : __pthread_rwlock_tryrdlock)(l);
  if (rc != EBUSY) return rc;
  RwClockFn lock = Real(g_locks.clockrdlock);
  if (lock == nullptr) return ENOSYS;
  return ContendedSlow([=] { return lock(l, clock, abstime); });
}

MEMMON_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t* l,
                                             clockid_t clock,
                                             const timespec* abstime) noexcept {
  RwFn trylock = Real(g_locks.trywrlock);
  const int rc = (trylock ? trylock : __pthread_rwlock_trywrlock)(l);
  if (rc != EBUSY) return rc;
  RwClockFn lock = Real(g_locks.clockwrlock);
  if (lock == nullptr) return ENOSYS;
  return ContendedSlow([=] { return lock(l, clock, abstime); });
}

// Cancellation points below: not noexcept (a cancelled thread unwinds
// through them).
MEMMON_EXPORT int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  CondWaitFn wait = Real(g_locks.cond_wait);
  if (wait == nullptr) return ENOSYS;
  return Blocking([=] { return wait(c, m); });
}

MEMMON_EXPORT int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                         const timespec* abstime) {
  CondTimedFn wait = Real(g_locks.cond_timedwait);
  if (wait == nullptr) return ENOSYS;
  return Blocking([=] { return wait(c, m, abstime); });
}

MEMMON_EXPORT int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m,
                                         clockid_t clock,
                                         const timespec* abstime) {
  CondClockFn wait = Real(g_locks.cond_clockwait);
  if (wait == nullptr) return ENOSYS;
  return Blocking([=] { return wait(c, m, clock, abstime); });
}

MEMMON_EXPORT int sem_wait(sem_t* s) {
  SemFn trywait = Real(g_locks.sem_trywait);
  SemFn wait = Real(g_locks.sem_wait);
  if (trywait == nullptr || wait == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  const int saved_errno = errno;
  if (trywait(s) == 0) return 0;  // glibc's own sem_wait does this first
  errno = saved_errno;
  return Blocking([=] { return wait(s); });
}

MEMMON_EXPORT int sem_timedwait(sem_t* s, const timespec* abstime) {
  SemFn trywait = Real(g_locks.sem_trywait);
  SemTimedFn wait = Real(g_locks.sem_timedwait);
  if (trywait == nullptr || wait == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  const int saved_errno = errno;
  if (trywait(s) == 0) return 0;
  errno = saved_errno;
  return Blocking([=] { return wait(s, abstime); });
}

MEMMON_EXPORT int sem_clockwait(sem_t* s, clockid_t clock,
                                const timespec* abstime) {
  SemFn trywait = Real(g_locks.sem_trywait);
  SemClockFn wait = Real(g_locks.sem_clockwait);
  if (trywait == nullptr || wait == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  const int saved_errno = errno;
  if (trywait(s) == 0) return 0;
  errno = saved_errno;
  return Blocking([=] { return wait(s, clock, abstime); });
}

MEMMON_EXPORT int pthread_join(pthread_t th, void** ret) {
  JoinFn join = Real(g_locks.join);
  if (join == nullptr) return ENOSYS;
  return Blocking([=] { return join(th, ret); });
}

MEMMON_EXPORT int pthread_barrier_wait(pthread_barrier_t* b) noexcept {
  BarrierFn wait = Real(g_locks.barrier_wait);
  if (wait == nullptr) return ENOSYS;
  return Blocking([=] { return wait(b); });
}
