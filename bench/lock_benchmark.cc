// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What the lock hooks (src/preload/lock_hooks.cc) add to an uncontended
// lock and unlock: run natively and under libmemmon_preload.so by
// bench/lock_overhead.sh, which prints the difference. No contention here:
// one thread, so every call takes the fast path (the real trylock).

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <semaphore.h>

#include <mutex>
#include <shared_mutex>

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

}  // namespace

BENCHMARK_MAIN();
