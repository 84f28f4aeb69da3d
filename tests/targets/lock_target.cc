// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Locks and waits in named functions, for the mutex and block profiles
// (tests/lock_profiles_test.sh runs it natively and under the sampler and
// compares what it prints).
//
//   lock_target contend [ITERATIONS]
//     ContendOnMutex: 4 threads take one std::mutex ITERATIONS times each
//     (default 50000; short critical sections, long against the loop around
//     them), started together by a pthread_barrier; JoinMutexThreads:
//     pthread_join (std::thread::join); WaitForSignal: a thread waits on a
//     std::condition_variable from the start until main notifies it 100 ms
//     after the joins. Prints the counter, which does not depend on the
//     schedule.
//   lock_target handoff [ROUNDS]
//     Exactly ROUNDS (default 2000) contentions on one mutex, one a round:
//     a thread locks while main holds it, main lets go once it waits.
//   lock_target rwlock [ITERATIONS]
//     ContendOnRwLock: 2 writers and 2 readers on a pthread_rwlock
//     (default 20000 each); prints the writes.
//   lock_target timed [ITERATIONS]
//     First, while main holds both mutexes below, a thread's timed locks
//     on each time out (1 ms): a contention in each function whatever the
//     schedule. Then ContendOnTimedMutex: 4 threads take one
//     std::timed_mutex with
//     try_lock_for (libstdc++: pthread_mutex_clocklock), then
//     ContendOnSharedTimedMutex: 2 writers (try_lock_for:
//     pthread_rwlock_clockwrlock) and 2 readers (try_lock_shared_for:
//     pthread_rwlock_clockrdlock) on a std::shared_timed_mutex (default
//     20000 each); prints the counts.
//   lock_target named DIR
//     `contend`, then the mutex and block profiles written on request
//     through memmon_preload_write_named_profile (under the sampler).
//   lock_target kinds
//     Checks that each kind of lock and wait behaves as POSIX and glibc say
//     (error-checking, recursive, robust and PI mutexes, timed locks,
//     rwlocks, condition variables, semaphores, barriers, joins) and prints
//     "kinds ok", or what differed (exit 1).

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "memmon/memmon_preload.h"

namespace {

std::mutex g_mu;
long g_counter = 0;
pthread_rwlock_t g_rw = PTHREAD_RWLOCK_INITIALIZER;
long g_rw_value = 0;
volatile long g_rw_seen = 0;

std::mutex g_signal_mu;
std::condition_variable g_signal_cv;
bool g_signalled = false;

pthread_barrier_t g_start;  // each phase's threads start together
volatile unsigned long g_spin;

// Work inside the critical section, long against the loop around it, so
// that threads contend whether they run on two CPUs at once or take turns
// on one (a thread preempted inside it leaves the others to wait).
void Spin(int n) {
  for (int i = 0; i < n; ++i) g_spin = g_spin * 3 + 1;
}

__attribute__((noinline)) void ContendOnMutex(int iterations) {
  pthread_barrier_wait(&g_start);
  for (int i = 0; i < iterations; ++i) {
    std::lock_guard<std::mutex> lock(g_mu);
    ++g_counter;
    Spin(200);
  }
}

__attribute__((noinline)) void ContendOnRwLock(int iterations, bool writer) {
  pthread_barrier_wait(&g_start);
  for (int i = 0; i < iterations; ++i) {
    if (writer) {
      pthread_rwlock_wrlock(&g_rw);
      ++g_rw_value;
      Spin(200);
    } else {
      pthread_rwlock_rdlock(&g_rw);
      g_rw_seen = g_rw_value;
    }
    pthread_rwlock_unlock(&g_rw);
  }
}

std::timed_mutex g_timed_mu;
long g_timed_count = 0;
std::shared_timed_mutex g_shared_timed_mu;
long g_shared_writes = 0;
volatile long g_shared_seen = 0;

// A deadline far enough that no lock here ever times out.
constexpr std::chrono::seconds kNoTimeout{60};

// held: main holds the mutex throughout; one timed lock times out (a
// contention whatever the schedule). Otherwise `iterations` timed locks
// against the other threads.
__attribute__((noinline)) void ContendOnTimedMutex(int iterations, bool held) {
  if (held) {
    if (g_timed_mu.try_lock_for(std::chrono::milliseconds(1))) std::abort();
    return;
  }
  pthread_barrier_wait(&g_start);
  for (int i = 0; i < iterations; ++i) {
    if (!g_timed_mu.try_lock_for(kNoTimeout)) std::abort();
    ++g_timed_count;
    Spin(200);
    g_timed_mu.unlock();
  }
}

__attribute__((noinline)) void ContendOnSharedTimedMutex(int iterations,
                                                         bool writer,
                                                         bool held) {
  if (held) {  // as above, a shared and an exclusive timed lock
    if (g_shared_timed_mu.try_lock_shared_for(std::chrono::milliseconds(1)) ||
        g_shared_timed_mu.try_lock_for(std::chrono::milliseconds(1))) {
      std::abort();
    }
    return;
  }
  pthread_barrier_wait(&g_start);
  for (int i = 0; i < iterations; ++i) {
    if (writer) {
      if (!g_shared_timed_mu.try_lock_for(kNoTimeout)) std::abort();
      ++g_shared_writes;
      Spin(200);
      g_shared_timed_mu.unlock();
    } else {
      if (!g_shared_timed_mu.try_lock_shared_for(kNoTimeout)) std::abort();
      g_shared_seen = g_shared_writes;
      Spin(50);
      g_shared_timed_mu.unlock_shared();
    }
  }
}

int Timed(int iterations) {
  // Contentions whatever the schedule: timed locks that time out while
  // main holds both mutexes.
  g_timed_mu.lock();
  g_shared_timed_mu.lock();
  std::thread(ContendOnTimedMutex, 0, true).join();
  std::thread(ContendOnSharedTimedMutex, 0, false, true).join();
  g_shared_timed_mu.unlock();
  g_timed_mu.unlock();
  std::vector<std::thread> threads;
  pthread_barrier_init(&g_start, nullptr, 4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(ContendOnTimedMutex, iterations, false);
  }
  for (std::thread& t : threads) t.join();
  threads.clear();
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(ContendOnSharedTimedMutex, iterations, i < 2, false);
  }
  for (std::thread& t : threads) t.join();
  pthread_barrier_destroy(&g_start);
  std::printf("timed=%ld shared_writes=%ld\n", g_timed_count, g_shared_writes);
  return 0;
}

__attribute__((noinline)) void WaitForSignal() {
  std::unique_lock<std::mutex> lock(g_signal_mu);
  g_signal_cv.wait(lock, [] { return g_signalled; });
}

__attribute__((noinline)) void JoinMutexThreads(
    std::vector<std::thread>& threads) {
  for (std::thread& t : threads) t.join();
}

__attribute__((noinline)) void JoinRwThreads(
    std::vector<std::thread>& threads) {
  for (std::thread& t : threads) t.join();
}

int Contend(int iterations) {
  std::thread waiter(WaitForSignal);
  std::vector<std::thread> mutex_threads;
  pthread_barrier_init(&g_start, nullptr, 4);
  for (int i = 0; i < 4; ++i) {
    mutex_threads.emplace_back(ContendOnMutex, iterations);
  }
  JoinMutexThreads(mutex_threads);
  pthread_barrier_destroy(&g_start);
  // The waiter has waited through the contention; a little longer still,
  // so that its wait is the longest block whatever the phase took.
  timespec pause{0, 100 * 1000 * 1000};
  nanosleep(&pause, nullptr);
  {
    std::lock_guard<std::mutex> lock(g_signal_mu);
    g_signalled = true;
  }
  g_signal_cv.notify_one();
  waiter.join();
  std::printf("counter=%ld\n", g_counter);
  return 0;
}

int RwLock(int iterations) {
  std::vector<std::thread> rw_threads;
  pthread_barrier_init(&g_start, nullptr, 4);
  for (int i = 0; i < 4; ++i) {
    rw_threads.emplace_back(ContendOnRwLock, iterations, i < 2);
  }
  JoinRwThreads(rw_threads);
  pthread_barrier_destroy(&g_start);
  std::printf("rw_writes=%ld\n", g_rw_value);
  return 0;
}

// The profiles on request, through the sampler's C entry point (found
// with dlsym, as memmon's Profiler finds it): after `contend`, writes
// DIR/mutex.pb.gz and DIR/block.pb.gz and prints one line per request
// ("KIND: ok" or "KIND: <the sampler's reason>").
int Named(const char* dir) {
  auto write = reinterpret_cast<memmon_preload_write_named_profile_fn>(
      dlsym(RTLD_DEFAULT, "memmon_preload_write_named_profile"));
  if (write == nullptr) {
    std::printf("no sampler\n");
    return 1;
  }
  Contend(50000);
  for (const char* kind : {"mutex", "block", "nosuch"}) {
    std::string path = std::string(dir) + "/" + kind + ".pb.gz";
    char error[256] = "";
    if (write(kind, path.c_str(), error, sizeof(error)) == 0) {
      std::printf("%s: ok\n", kind);
    } else {
      std::printf("%s: %s\n", kind, error);
    }
  }
  return 0;
}

// ---- kinds -----------------------------------------------------------------
int g_failures = 0;

void Expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++g_failures;
  }
}

timespec Past() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec -= 1;
  return ts;
}

void MutexKinds() {
  pthread_mutexattr_t a;
  pthread_mutex_t m;

  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&m, &a);
  Expect(pthread_mutex_lock(&m) == 0, "errorcheck: lock");
  Expect(pthread_mutex_lock(&m) == EDEADLK, "errorcheck: relock is EDEADLK");
  Expect(pthread_mutex_unlock(&m) == 0, "errorcheck: unlock");
  Expect(pthread_mutex_unlock(&m) == EPERM, "errorcheck: unlock unowned");
  pthread_mutex_destroy(&m);
  pthread_mutexattr_destroy(&a);

  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&m, &a);
  Expect(pthread_mutex_lock(&m) == 0, "recursive: lock");
  Expect(pthread_mutex_lock(&m) == 0, "recursive: lock again");
  Expect(pthread_mutex_unlock(&m) == 0, "recursive: unlock");
  Expect(pthread_mutex_unlock(&m) == 0, "recursive: unlock again");
  Expect(pthread_mutex_unlock(&m) == EPERM, "recursive: unlock unowned");
  pthread_mutex_destroy(&m);
  pthread_mutexattr_destroy(&a);

  // Robust: the owner exits holding it; the next lock says so.
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&m, &a);
  std::thread owner([&m] { pthread_mutex_lock(&m); });
  owner.join();
  Expect(pthread_mutex_lock(&m) == EOWNERDEAD, "robust: EOWNERDEAD");
  Expect(pthread_mutex_consistent(&m) == 0, "robust: consistent");
  Expect(pthread_mutex_unlock(&m) == 0, "robust: unlock");
  Expect(pthread_mutex_lock(&m) == 0, "robust: lock after recovery");
  Expect(pthread_mutex_unlock(&m) == 0, "robust: unlock after recovery");
  pthread_mutex_destroy(&m);
  pthread_mutexattr_destroy(&a);

  // Priority inheritance, contended.
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
  pthread_mutex_init(&m, &a);
  long pi_count = 0;
  auto pi_work = [&] {
    for (int i = 0; i < 20000; ++i) {
      pthread_mutex_lock(&m);
      ++pi_count;
      pthread_mutex_unlock(&m);
    }
  };
  std::thread p1(pi_work), p2(pi_work);
  p1.join();
  p2.join();
  Expect(pi_count == 40000, "pi: mutual exclusion");
  pthread_mutex_destroy(&m);
  pthread_mutexattr_destroy(&a);

  // A timed lock of a normal mutex the caller holds times out.
  pthread_mutex_init(&m, nullptr);
  pthread_mutex_lock(&m);
  timespec past = Past();
  Expect(pthread_mutex_timedlock(&m, &past) == ETIMEDOUT,
         "timedlock: ETIMEDOUT");
  pthread_mutex_unlock(&m);
  Expect(pthread_mutex_timedlock(&m, &past) == 0, "timedlock: free lock");
  pthread_mutex_unlock(&m);
  pthread_mutex_destroy(&m);
}

void RwLockKinds() {
  pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
  Expect(pthread_rwlock_rdlock(&l) == 0, "rwlock: rdlock");
  Expect(pthread_rwlock_rdlock(&l) == 0, "rwlock: rdlock again");
  Expect(pthread_rwlock_trywrlock(&l) == EBUSY, "rwlock: trywrlock busy");
  pthread_rwlock_unlock(&l);
  pthread_rwlock_unlock(&l);
  Expect(pthread_rwlock_wrlock(&l) == 0, "rwlock: wrlock");
  Expect(pthread_rwlock_wrlock(&l) == EDEADLK, "rwlock: wrlock again");
  timespec past = Past();
  Expect(pthread_rwlock_timedrdlock(&l, &past) == EDEADLK,
         "rwlock: timedrdlock by the writer");
  pthread_rwlock_unlock(&l);
  pthread_rwlock_destroy(&l);
}

void CondKinds() {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  pthread_mutex_lock(&m);
  timespec past = Past();
  Expect(pthread_cond_timedwait(&c, &m, &past) == ETIMEDOUT,
         "cond: timedwait ETIMEDOUT");
  Expect(pthread_mutex_trylock(&m) == EBUSY, "cond: mutex held after wait");
  // A real wake-up through pthread_cond_wait.
  bool ready = false;
  std::thread signaller([&] {
    pthread_mutex_lock(&m);
    ready = true;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
  });
  while (!ready) {
    Expect(pthread_cond_wait(&c, &m) == 0, "cond: wait");
  }
  pthread_mutex_unlock(&m);
  signaller.join();

  // std::condition_variable: wait_for (pthread_cond_clockwait) and wait.
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  Expect(cv.wait_for(lock, std::chrono::milliseconds(1)) ==
             std::cv_status::timeout,
         "condition_variable: wait_for times out");
  bool go = false;
  std::thread notifier([&] {
    std::lock_guard<std::mutex> l(mu);
    go = true;
    cv.notify_all();
  });
  cv.wait(lock, [&] { return go; });
  Expect(go, "condition_variable: wait");
  lock.unlock();
  notifier.join();
}

void SemaphoreKinds() {
  sem_t s;
  sem_init(&s, 0, 0);
  timespec past = Past();
  errno = 0;
  Expect(sem_timedwait(&s, &past) == -1 && errno == ETIMEDOUT,
         "sem: timedwait ETIMEDOUT");
  sem_post(&s);
  Expect(sem_wait(&s) == 0, "sem: wait on a posted semaphore");
  std::thread poster([&s] { sem_post(&s); });
  Expect(sem_wait(&s) == 0, "sem: wait for a post");
  poster.join();
  sem_destroy(&s);
}

void BarrierAndJoinKinds() {
  pthread_barrier_t b;
  pthread_barrier_init(&b, nullptr, 2);
  int serial = 0;
  std::thread other([&] {
    if (pthread_barrier_wait(&b) == PTHREAD_BARRIER_SERIAL_THREAD) ++serial;
  });
  if (pthread_barrier_wait(&b) == PTHREAD_BARRIER_SERIAL_THREAD) ++serial;
  other.join();
  Expect(serial == 1, "barrier: one serial thread");
  pthread_barrier_destroy(&b);

  pthread_t t;
  pthread_create(
      &t, nullptr, [](void*) -> void* { return reinterpret_cast<void*>(42); },
      nullptr);
  void* ret = nullptr;
  Expect(pthread_join(t, &ret) == 0 && ret == reinterpret_cast<void*>(42),
         "join: return value");
  Expect(pthread_join(pthread_self(), nullptr) == EDEADLK, "join: self");
}

int Kinds() {
  MutexKinds();
  RwLockKinds();
  CondKinds();
  SemaphoreKinds();
  BarrierAndJoinKinds();
  if (g_failures != 0) return 1;
  std::printf("kinds ok\n");
  return 0;
}

// Exactly `rounds` contentions, whatever the schedule: main holds the
// mutex while the other thread calls pthread_mutex_lock, and lets go only
// once the lock word says a waiter is queued (glibc sets __lock to 2).
__attribute__((noinline)) int HandOff(int rounds) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  sem_t go, done;
  sem_init(&go, 0, 0);
  sem_init(&done, 0, 0);
  std::thread waiter([&] {
    for (int i = 0; i < rounds; ++i) {
      sem_wait(&go);
      pthread_mutex_lock(&m);
      pthread_mutex_unlock(&m);
      sem_post(&done);
    }
  });
  for (int i = 0; i < rounds; ++i) {
    pthread_mutex_lock(&m);
    sem_post(&go);
    while (__atomic_load_n(&m.__data.__lock, __ATOMIC_ACQUIRE) != 2) {
      sched_yield();
    }
    pthread_mutex_unlock(&m);
    sem_wait(&done);
  }
  waiter.join();
  std::printf("handoff %d\n", rounds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "contend") == 0) {
    return Contend(argc > 2 ? std::atoi(argv[2]) : 50000);
  }
  if (argc > 1 && std::strcmp(argv[1], "rwlock") == 0) {
    return RwLock(argc > 2 ? std::atoi(argv[2]) : 20000);
  }
  if (argc > 1 && std::strcmp(argv[1], "timed") == 0) {
    return Timed(argc > 2 ? std::atoi(argv[2]) : 20000);
  }
  if (argc > 1 && std::strcmp(argv[1], "handoff") == 0) {
    return HandOff(argc > 2 ? std::atoi(argv[2]) : 2000);
  }
  if (argc > 1 && std::strcmp(argv[1], "kinds") == 0) return Kinds();
  if (argc > 2 && std::strcmp(argv[1], "named") == 0) return Named(argv[2]);
  std::fprintf(
      stderr,
      "usage: lock_target contend|rwlock|timed|handoff [ITERATIONS] | kinds "
      "| "
      "named DIR\n");
  return 2;
}
