// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// dlopen/dlclose under libmemmon_preload.so (tests/profiler_e2e_test.cc):
// loads and unloads the plugin `cycles` times with allocations sampled in
// it, writes a snapshot while it is loaded and has leaked in PluginLeak
// (heap.0001.pb.gz, through memmon_preload_snapshot), unloads it, then
// leaks more in MainLeak and exits (heap.pb.gz).
//
//   dlopen_target PLUGIN.so [cycles]

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "memmon/memmon_preload.h"

namespace {
void* volatile g_sink;

__attribute__((noinline)) void MainLeak(int count, std::size_t size) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[size];
    std::memset(p, 7, size);
    g_sink = p;
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int cycles = argc > 2 ? std::atoi(argv[2]) : 20;
  for (int i = 0; i < cycles; ++i) {
    void* h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      std::fprintf(stderr, "dlopen: %s\n", dlerror());
      return 1;
    }
    auto churn = reinterpret_cast<void (*)(int)>(dlsym(h, "PluginChurn"));
    churn(5000);
    dlclose(h);
  }
  void* h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) return 1;
  auto leak =
      reinterpret_cast<void (*)(int, std::size_t)>(dlsym(h, "PluginLeak"));
  leak(10000, 1000);
  auto snapshot = reinterpret_cast<memmon_preload_snapshot_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_SNAPSHOT_SYMBOL));
  int n = snapshot ? snapshot("loaded") : -2;
  dlclose(h);
  MainLeak(30000, 1000);
  std::printf("snapshot=%d\n", n);
  return n == 1 ? 0 : 1;
}
