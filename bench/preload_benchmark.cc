// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What the heap sampler adds to one allocation. The same binary runs
// natively and under libmemmon_preload.so; bench/preload_overhead.sh runs it
// four ways in one go and prints the differences:
//   native                      no preload
//   preload, sampling off       MEMMON_DISABLE=1: hooks and counters only
//   preload, default rate       MEMMON_SAMPLE_RATE unset (512 KiB)
//   preload, every allocation   MEMMON_SAMPLE_RATE=1: the cost of a sample
//                               (stack capture, interning, live-set insert)
//
//   LD_PRELOAD=build/lib/libmemmon_preload.so build/bin/preload_benchmark
//
// Results and the machine are recorded in docs/benchmarks.md.

#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <vector>

#include "memmon/memmon_preload.h"

namespace {

void BM_MallocFree(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    void* p = std::malloc(n);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}
BENCHMARK(BM_MallocFree)->Arg(16)->Arg(64)->Arg(1024)->Arg(8192);

void BM_NewDelete(benchmark::State& state) {
  for (auto _ : state) {
    char* p = new char[64];
    benchmark::DoNotOptimize(p);
    delete[] p;
  }
}
BENCHMARK(BM_NewDelete);

void BM_CallocFree(benchmark::State& state) {
  for (auto _ : state) {
    void* p = std::calloc(8, 8);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}
BENCHMARK(BM_CallocFree);

// A working set of 4096 blocks replaced in random order: frees hit cold
// blocks, as in a real program, instead of the block just allocated.
void BM_WorkingSet(benchmark::State& state) {
  std::vector<void*> slots(4096, nullptr);
  uint32_t x = 12345;
  for (auto _ : state) {
    x = x * 1664525u + 1013904223u;
    std::size_t i = (x >> 8) & 4095;
    std::free(slots[i]);
    slots[i] = std::malloc(16 + ((x >> 20) & 511));
    benchmark::DoNotOptimize(slots[i]);
  }
  for (void* p : slots) std::free(p);
}
BENCHMARK(BM_WorkingSet);

// One malloc and one free with the caches cold, as in a program whose
// working set is larger than the caches: between two iterations a 24 MiB
// buffer is written (L2 is 1 MiB, L3 32 MiB on the machine of
// docs/benchmarks.md), so whatever the allocator and the preload read
// (chunk headers, bins, the sampler's tables, the unwinder's memo) comes
// from far away again. Timed: the malloc of a new block and the free of the
// last iteration's. Under MEMMON_SAMPLE_RATE=1 every malloc is a sample:
// the difference to MEMMON_DISABLE=1 is what a sample costs cold.
void BM_ColdMallocFree(benchmark::State& state) {
  std::vector<char> evict(24u << 20, 1);
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(state.max_iterations));
  void* last = nullptr;
  unsigned char round = 0;
  for (auto _ : state) {
    ++round;
    for (std::size_t i = 0; i < evict.size(); i += 64) {
      evict[i] = static_cast<char>(round);
    }
    benchmark::ClobberMemory();
    timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    void* p = std::malloc(256);
    benchmark::DoNotOptimize(p);
    std::free(last);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    last = p;
    const double s = static_cast<double>(t1.tv_sec - t0.tv_sec) +
                     static_cast<double>(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    state.SetIterationTime(s);
    times.push_back(s * 1e9);
  }
  std::free(last);
  // The mean (real_time) moves with the odd interrupted iteration; the
  // median does not.
  std::sort(times.begin(), times.end());
  if (!times.empty()) state.counters["median_ns"] = times[times.size() / 2];
}
BENCHMARK(BM_ColdMallocFree)->UseManualTime()->Iterations(400);

// Writing a heap profile (the sampler's memmon_preload_write_profile): the
// first call loads the writer and reads DWARF, later ones reuse both.
void BM_WriteHeapProfile(benchmark::State& state) {
  using WriteFn = int (*)(const char*, char*, size_t);
  auto write = reinterpret_cast<WriteFn>(
      dlsym(RTLD_DEFAULT, "memmon_preload_write_profile"));
  if (write == nullptr) {
    state.SkipWithError("needs LD_PRELOAD=libmemmon_preload.so");
    return;
  }
  char path[] = "/tmp/memmon-bench-heap.pb.gz";
  char error[256];
  for (auto _ : state) {
    if (write(path, error, sizeof(error)) != 0) state.SkipWithError(error);
  }
  unlink(path);
}
BENCHMARK(BM_WriteHeapProfile)->Unit(benchmark::kMillisecond);

// The sites holding the most live heap (memmon_preload_top_sites, what a
// growth alert with enable_stack_traces asks for): the same gathering and
// symbolization as a profile, ranked instead of encoded and written.
void BM_TopSites(benchmark::State& state) {
  auto top = reinterpret_cast<memmon_preload_top_sites_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_TOP_SITES_SYMBOL));
  if (top == nullptr) {
    state.SkipWithError("needs LD_PRELOAD=libmemmon_preload.so");
    return;
  }
  char out[16384];
  for (auto _ : state) {
    if (top(out, sizeof(out), 5) < 0) state.SkipWithError(out);
  }
}
BENCHMARK(BM_TopSites)->Unit(benchmark::kMillisecond);

}  // namespace

// One mmap and one munmap of 4 MiB, private anonymous, untouched: through
// the PLT (under the preload, the mmap hooks: a stack captured and the
// mapping recorded, then removed) and straight to libc's functions (found
// with dlopen(libc.so.6, RTLD_NOLOAD), which the hooks never see), in the
// same process: the hooks' cost is the difference.
using MmapFn = void* (*)(void*, size_t, int, int, int, off_t);
using MunmapFn = int (*)(void*, size_t);
template <bool kLibc>
void BM_MmapMunmap4MiB(benchmark::State& state) {
  MmapFn map = &mmap;
  MunmapFn unmap = &munmap;
  if (kLibc) {
    void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    map = libc ? reinterpret_cast<MmapFn>(dlsym(libc, "mmap")) : nullptr;
    unmap = libc ? reinterpret_cast<MunmapFn>(dlsym(libc, "munmap")) : nullptr;
    if (map == nullptr || unmap == nullptr) {
      state.SkipWithError("libc's mmap not found");
      return;
    }
  }
  constexpr std::size_t kBytes = std::size_t{4} << 20;
  for (auto _ : state) {
    void* p = map(nullptr, kBytes, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    benchmark::DoNotOptimize(p);
    unmap(p, kBytes);
  }
}
BENCHMARK(BM_MmapMunmap4MiB<false>)->Name("BM_MmapMunmap4MiB/plt");
BENCHMARK(BM_MmapMunmap4MiB<true>)->Name("BM_MmapMunmap4MiB/libc");

BENCHMARK_MAIN();
