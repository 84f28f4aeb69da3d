// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A target for the peak heap profile and the age of live memory
// (tests/peak_age_test.sh): at start, TransientSpike allocates 300 MiB in
// 1 MiB blocks (untouched but for one byte: the sampler sees the
// allocations, not the pages) and frees them all; then, for the given
// seconds (default 2), LeakSteadily keeps 16 blocks of 16 KiB a round and
// Churn replaces every block of a 4 MiB ring. So at exit the spike is gone,
// the leak's objects are spread over the run (old), the ring's are from the
// last round (young). The pauses between rounds pace the workload; nothing
// waits on them. A second argument "abort" ends it with abort() instead of
// a return from main.

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

void* volatile g_sink;  // keeps the compiler from eliding an allocation

constexpr int kLeakCapacity = 1 << 16;
void* g_leaked[kLeakCapacity];
int g_leaked_count = 0;

constexpr int kRing = 256;
void* g_ring[kRing];

__attribute__((noinline)) void TransientSpike() {
  constexpr int kBlocks = 300;
  static void* blocks[kBlocks];
  for (void*& b : blocks) {
    b = std::malloc(1 << 20);
    static_cast<char*>(b)[0] = 1;
    g_sink = b;
  }
  for (void* b : blocks) std::free(b);
}

__attribute__((noinline)) void LeakSteadily() {
  for (int i = 0; i < 16 && g_leaked_count < kLeakCapacity; ++i) {
    void* p = std::malloc(16 << 10);
    std::memset(p, 0, 64);
    g_leaked[g_leaked_count++] = p;
    g_sink = p;
  }
}

__attribute__((noinline)) void Churn() {
  for (void*& b : g_ring) {
    std::free(b);
    b = std::malloc(16 << 10);
    std::memset(b, 0, 64);
    g_sink = b;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::stod(argv[1]) : 2.0;
  TransientSpike();
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
             .count() < seconds) {
    LeakSteadily();
    Churn();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // "abort": end by SIGABRT, where the sampler dumps the heap raw.
  if (argc > 2 && std::string(argv[2]) == "abort") std::abort();
  return 0;
}
