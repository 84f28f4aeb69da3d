// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What the lock hooks (src/preload/lock_hooks.cc) add to an uncontended
// lock and unlock: run natively and under libmemmon_preload.so by
// bench/lock_overhead.sh, which prints the difference. No contention in
// the lock benchmarks: one thread, so every call takes the fast path.
// BM_CondVarPingPong blocks on every wait: the block hook's cost per wait.

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <semaphore.h>

#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace {

void BM_PthreadMutexLockUnlock(benchmark::State& state) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (auto _ : state) {
    pthread_mutex_lock(&m);
    benchmark::ClobberMemory();
    pthread_mutex_unlock(&m);
  }
}
BENCHMARK(BM_PthreadMutexLockUnlock);

void BM_StdMutexLockUnlock(benchmark::State& state) {
  std::mutex m;
  for (auto _ : state) {
    m.lock();
    benchmark::ClobberMemory();
    m.unlock();
  }
}
BENCHMARK(BM_StdMutexLockUnlock);

void BM_RecursiveMutexLockUnlock(benchmark::State& state) {
  std::recursive_mutex m;
  for (auto _ : state) {
    m.lock();
    benchmark::ClobberMemory();
    m.unlock();
  }
}
BENCHMARK(BM_RecursiveMutexLockUnlock);

void BM_SharedMutexShared(benchmark::State& state) {
  std::shared_mutex m;
  for (auto _ : state) {
    m.lock_shared();
    benchmark::ClobberMemory();
    m.unlock_shared();
  }
}
BENCHMARK(BM_SharedMutexShared);

void BM_SharedMutexExclusive(benchmark::State& state) {
  std::shared_mutex m;
  for (auto _ : state) {
    m.lock();
    benchmark::ClobberMemory();
    m.unlock();
  }
}
BENCHMARK(BM_SharedMutexExclusive);

// A semaphore that never blocks: sem_wait's own fast path (sem_trywait).
void BM_SemPostWait(benchmark::State& state) {
  sem_t s;
  sem_init(&s, 0, 0);
  for (auto _ : state) {
    sem_post(&s);
    sem_wait(&s);
  }
  sem_destroy(&s);
}
BENCHMARK(BM_SemPostWait);

// A condition-variable ping-pong between this thread and a partner: each
// iteration is two waits that block (one on each side, both on the round
// trip's path), so (time under a config - native) / 2 is what the block
// hook adds to one wait: its two clock reads always, and with
// MEMMON_BLOCK_RATE=1 the stack walk and table update of a recorded event.
// Real time (the partner's half is on another thread).
void BM_CondVarPingPong(benchmark::State& state) {
  std::mutex m;
  std::condition_variable cv;
  int turn = 0;  // 0: the benchmark thread's, 1: the partner's, 2: stop
  std::thread partner([&] {
    std::unique_lock<std::mutex> lock(m);
    for (;;) {
      cv.wait(lock, [&] { return turn != 0; });
      if (turn == 2) return;
      turn = 0;
      cv.notify_one();
    }
  });
  for (auto _ : state) {
    std::unique_lock<std::mutex> lock(m);
    turn = 1;
    cv.notify_one();
    cv.wait(lock, [&] { return turn == 0; });
  }
  {
    std::lock_guard<std::mutex> lock(m);
    turn = 2;
  }
  cv.notify_one();
  partner.join();
}
BENCHMARK(BM_CondVarPingPong)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
