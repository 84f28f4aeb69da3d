// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A lock-heavy program: THREADS threads each take one std::mutex OPS times
// with a short critical section (a few dependent updates of shared state),
// the worst case for a lock profiler (bench/lock_overhead.sh runs it
// natively, under memmon and under valgrind --tool=drd).
//
//   lock_workload OPS THREADS [HOLD_US]
//
// HOLD_US (default 0): a sleep of that many microseconds inside the
// critical section (I/O under a lock). The holder is then off the CPU and
// the others run into the held mutex: nearly every lock call contends,
// so the contended path, and the sampled one, are what is measured (with
// HOLD_US 0, on a 2-CPU machine, a thread mostly relocks the mutex it just
// released before the woken waiter runs: few contentions).
//
// Prints the final counter (OPS x THREADS), which does not depend on the
// schedule.

#include <pthread.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace {

std::mutex g_mu;
unsigned long g_counter = 0;
unsigned long g_mix = 1;
pthread_barrier_t g_start;  // the threads start together

// The hold: a sleep of `hold_us` inside the critical section (I/O under a
// lock: the holder is off the CPU, so the other threads run and find the
// mutex held whatever the number of CPUs).
__attribute__((noinline)) void Work(long ops, long hold_us) {
  pthread_barrier_wait(&g_start);
  const timespec hold{0, hold_us * 1000};
  for (long i = 0; i < ops; ++i) {
    std::lock_guard<std::mutex> lock(g_mu);
    ++g_counter;
    g_mix = g_mix * 6364136223846793005ull + 1442695040888963407ull;
    if (hold_us > 0) nanosleep(&hold, nullptr);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long ops = argc > 1 ? std::atol(argv[1]) : 1000000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 8;
  const long hold_us = argc > 3 ? std::atol(argv[3]) : 0;
  std::vector<std::thread> pool;
  pthread_barrier_init(&g_start, nullptr, static_cast<unsigned>(threads));
  for (int t = 0; t < threads; ++t) pool.emplace_back(Work, ops, hold_us);
  for (std::thread& t : pool) t.join();
  std::printf("counter=%lu\n", g_counter);
  return g_counter == static_cast<unsigned long>(ops) * threads ? 0 : 1;
}
