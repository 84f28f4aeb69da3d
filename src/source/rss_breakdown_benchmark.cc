// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What the RSS breakdown costs, against the cheaper readings it could be
// replaced with, on this process with its own mappings and with 10 000 more
// (one touched page each; alternating protections keep them apart):
//   status        /proc/self/status (RssAnon/RssFile/RssShmem: no parts)
//   smaps_rollup  the totals the kernel sums (Rss, Pss, Anonymous: no parts)
//   totals        SmapsTotals::Read, the per-sample parts (full smaps,
//                 streamed, no allocation)
//   full          ExplainMemory(0): smaps, the threads' stack pointers, the
//                 allocator, per-object lines (memmon explain, explain.json)

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "memmon/explain.h"
#include "source/rss_breakdown.h"

namespace {

// Adds `n` extra single-page mappings once (never removed).
void EnsureMappings(long n) {
  static long made = 0;
  for (; made < n; ++made) {
    int prot = made % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    static_cast<volatile char*>(p)[0] = 1;
    mprotect(p, 4096, prot);
  }
}

void ReadFile(const char* path, benchmark::State& state) {
  char buf[65536];
  for (auto _ : state) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t total = 0;
    for (ssize_t r; (r = read(fd, buf, sizeof(buf))) > 0;) total += r;
    close(fd);
    benchmark::DoNotOptimize(total);
  }
}

void BM_Status(benchmark::State& state) {
  EnsureMappings(state.range(0));
  ReadFile("/proc/self/status", state);
}
BENCHMARK(BM_Status)->Arg(0)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_SmapsRollup(benchmark::State& state) {
  EnsureMappings(state.range(0));
  ReadFile("/proc/self/smaps_rollup", state);
}
BENCHMARK(BM_SmapsRollup)->Arg(0)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_Totals(benchmark::State& state) {
  EnsureMappings(state.range(0));
  memmon::internal::SmapsTotals totals(0);
  for (auto _ : state) {
    memmon::Sample s;
    benchmark::DoNotOptimize(totals.Read(&s));
  }
}
BENCHMARK(BM_Totals)->Arg(0)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_Full(benchmark::State& state) {
  EnsureMappings(state.range(0));
  for (auto _ : state) {
    memmon::MemoryBreakdown b;
    benchmark::DoNotOptimize(memmon::ExplainMemory(0, &b).ok());
  }
}
BENCHMARK(BM_Full)->Arg(0)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
