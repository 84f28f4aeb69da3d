// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Threads created and exiting while they allocate, free and leak; run under
// libmemmon_preload.so by tests/profiler_e2e_test.cc. Each of `rounds` x 4
// short-lived threads leaks `leak` blocks of 512 bytes in ThreadLeak and
// churns 20000 allocations. At the end the main thread reads the sampler's
// exact counters (memmon_preload_read_counters, found with dlsym) and prints
// them with the truth: "threads=N leaked_bytes=B allocations=A frees=F
// inuse_bytes=U".

#include <dlfcn.h>
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "memmon/memmon_preload.h"

namespace {

void* volatile g_sink;

__attribute__((noinline)) void ThreadLeak(int count) {
  for (int i = 0; i < count; ++i) {
    void* p = std::malloc(512);
    std::memset(p, 4, 512);
    g_sink = p;
  }
}

__attribute__((noinline)) void ThreadChurn(int count) {
  std::vector<char*> keep;
  for (int i = 0; i < count; ++i) {
    keep.push_back(new char[64 + i % 300]);
    if (keep.size() > 32) {
      delete[] keep.front();
      keep.erase(keep.begin());
    }
  }
  for (char* p : keep) delete[] p;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 25;
  int leak = argc > 2 ? std::atoi(argv[2]) : 200;
  int threads = 0;
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t) {
      pool.emplace_back([leak] {
        ThreadLeak(leak);
        ThreadChurn(20000);
      });
      ++threads;
    }
    for (std::thread& t : pool) t.join();
  }
  auto read = reinterpret_cast<memmon_preload_counters_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_COUNTERS_SYMBOL));
  memmon_preload_counters c{};
  if (read != nullptr) read(&c, sizeof(c));
  std::printf(
      "threads=%d leaked_bytes=%ld preload=%d allocations=%lu frees=%lu "
      "inuse_bytes=%lu\n",
      threads, static_cast<long>(threads) * leak * 512, read != nullptr,
      static_cast<unsigned long>(c.allocations),
      static_cast<unsigned long>(c.frees),
      static_cast<unsigned long>(c.inuse_bytes));
  return 0;
}
