// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// dlopen/dlclose of a library that allocates (tests/programs_test.sh):
//
//   prog_dlopen PLUGIN.so
//
// Loads prog_plugin.so, keeps 4000 blocks of 1000 bytes that PluginKeep
// allocates, asks for a snapshot while the library is loaded (under the
// sampler: heap.0001.pb.gz names PluginKeep), unloads it, frees half the
// blocks after the unload (2000 x 1000 bytes stay, allocated by code that
// is gone: the exit profile can only call that frame [unknown]), then
// loads and unloads it 20 more times with allocations in it. Exits 0.

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "memmon/memmon_preload.h"

namespace {
void* g_blocks[4000];
}  // namespace

using KeepFn = void (*)(void**, int, std::size_t);
using ChurnFn = void (*)(int);

// The program's frame under the plugin's allocations.
__attribute__((noinline)) void RunPlugin(KeepFn keep) {
  keep(g_blocks, 4000, 1000);
  __asm__ volatile("" ::: "memory");  // not a tail call
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: prog_dlopen PLUGIN.so\n");
    return 2;
  }
  void* h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    std::fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  RunPlugin(reinterpret_cast<KeepFn>(dlsym(h, "PluginKeep")));
  // Without the sampler the symbol is absent: the same output either way.
  auto snapshot = reinterpret_cast<memmon_preload_snapshot_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_SNAPSHOT_SYMBOL));
  if (snapshot != nullptr) snapshot("loaded");
  if (dlclose(h) != 0) return 1;
  for (int i = 0; i < 4000; i += 2) std::free(g_blocks[i]);
  int cycles = 0;
  for (; cycles < 20; ++cycles) {
    h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) return 1;
    reinterpret_cast<ChurnFn>(dlsym(h, "PluginChurn"))(2000);
    if (dlclose(h) != 0) return 1;
  }
  std::printf("kept 2000 x 1000 bytes from an unloaded library; %d cycles\n",
              cycles);
  return 0;
}
