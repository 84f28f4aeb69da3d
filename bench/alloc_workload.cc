// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Allocation-heavy two-thread workloads for whole-program overhead
// (bench/overhead.sh runs them natively, under memmon and under heaptrack).
//
//   alloc_workload [ops_per_thread] [churn|service] [threads] [pin]
//
// pin      puts thread i on CPU i (modulo the CPUs the process may use), so
//          that every run places its threads alike. On a VM whose vCPUs
//          differ in speed, unpinned runs mix fast and slow vCPUs in
//          proportions that change from run to run (see docs/benchmarks.md).
//
// churn    the worst case: nothing but allocation. Each thread keeps 20000
//          blocks (16 B - 4 KiB, a few 64 KiB) and replaces a random one
//          `ops` times, touching one byte of it, with std::string and
//          std::vector churn in between (~2.5 allocations per op).
// service  allocation-heavy like a cache server: each thread keeps an
//          unordered_map<string, string> of up to 50000 entries; an op
//          builds a key, then replaces that key's value (16 B - 2 KiB,
//          written) or erases it, and reads another (~3 allocations and
//          frees per op).

#include <pthread.h>
#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

std::size_t Work(long ops, uint32_t seed) {
  std::vector<char*> slots(20000, nullptr);
  std::size_t checksum = 0;
  uint32_t x = seed;
  for (long i = 0; i < ops; ++i) {
    x = x * 1664525u + 1013904223u;
    std::size_t slot = (x >> 8) % slots.size();
    delete[] slots[slot];
    std::size_t size = 16 + ((x >> 16) & 4095);
    if ((x & 1023) == 0) size = 64 << 10;
    slots[slot] = new char[size];
    slots[slot][0] = static_cast<char>(i);
    checksum += static_cast<unsigned char>(
        slots[(x >> 4) % slots.size()] ? slots[(x >> 4) % slots.size()][0] : 0);
    if ((i & 7) == 0) {
      std::string s(24 + (x & 63), 'x');
      std::vector<int> v(8 + (x & 31));
      checksum += s.size() + v.size();
    }
  }
  for (char* p : slots) delete[] p;
  return checksum;
}

std::size_t Service(long ops, uint32_t seed) {
  std::unordered_map<std::string, std::string> cache;
  std::size_t checksum = 0;
  uint32_t x = seed;
  for (long i = 0; i < ops; ++i) {
    x = x * 1664525u + 1013904223u;
    std::string key = "session:" + std::to_string((x >> 8) % 50000) + ":user";
    if ((x & 7) == 0) {
      cache.erase(key);
    } else {
      std::size_t size = 16 + ((x >> 12) & 2047);
      cache[key] = std::string(size, static_cast<char>('a' + (x & 15)));
    }
    x = x * 1664525u + 1013904223u;
    auto it =
        cache.find("session:" + std::to_string((x >> 8) % 50000) + ":user");
    if (it != cache.end())
      checksum += static_cast<unsigned char>(it->second[0]);
  }
  return checksum + cache.size();
}

}  // namespace

int main(int argc, char** argv) {
  long ops = argc > 1 ? std::atol(argv[1]) : 5000000;
  bool service = argc > 2 && std::string(argv[2]) == "service";
  int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  if (threads < 1 || threads > 64) {
    std::fprintf(stderr, "alloc_workload: threads must be 1..64\n");
    return 2;
  }
  const bool pin = argc > 4 && std::string(argv[4]) == "pin";
  if (argc > 4 && !pin) {
    std::fprintf(stderr, "alloc_workload: the fourth argument is 'pin'\n");
    return 2;
  }
  std::vector<int> cpus;
  cpu_set_t allowed;
  if (pin && sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  }
  auto work = service ? Service : Work;
  std::vector<std::size_t> sums(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] {
      if (!cpus.empty()) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpus[static_cast<std::size_t>(i) % cpus.size()], &one);
        pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
      }
      sums[i] = work(ops, static_cast<uint32_t>(i + 1));
    });
  for (std::thread& t : pool) t.join();
  std::size_t total = 0;
  for (std::size_t s : sums) total += s;
  std::printf("checksum=%zu\n", total);
  return 0;
}
