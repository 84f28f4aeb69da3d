// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The Profiler's periodic profiles under libmemmon_preload.so
// (tests/profiler_e2e_test.cc): StartPeriodicProfiles(20 ms, keep 3, "svc")
// into argv[1] while the program allocates and takes a lock, until at least
// six sets were written (it polls the count, with a 60 s deadline); then it
// stops them. Prints "sets=N failures=M" and exits 0 (1 at the deadline).
//
//   periodic_profiles_target DIR

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "memmon/profiler.h"

namespace {

std::mutex g_mu;
std::vector<void*> g_kept;

__attribute__((noinline)) void KeepSome() {
  std::lock_guard lock(g_mu);
  g_kept.push_back(std::malloc(4096));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: periodic_profiles_target DIR\n");
    return 2;
  }
  memmon::Profiler profiler(argv[1]);
  if (memmon::Status s = profiler.StartPeriodicProfiles(
          std::chrono::milliseconds(20), 3, "svc");
      !s.ok()) {
    std::printf("start: %s\n", s.ToString().c_str());
    return 1;
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (profiler.periodic_sets() < 6) {
    if (std::chrono::steady_clock::now() > deadline) break;
    KeepSome();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  profiler.StopPeriodicProfiles();
  const auto sets = profiler.periodic_sets();
  std::printf("sets=%llu failures=%llu\n",
              static_cast<unsigned long long>(sets),
              static_cast<unsigned long long>(profiler.periodic_failures()));
  for (void* p : g_kept) std::free(p);
  return sets >= 6 ? 0 : 1;
}
