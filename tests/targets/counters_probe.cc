// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The monitor's samples carry the heap sampler's exact counters when
// libmemmon_preload.so is loaded (tests/profiler_e2e_test.cc): takes a
// sample, makes 10000 allocations of 100 bytes and frees 4000 of them, takes
// another, and prints the differences ("unknown" for fields not filled).
// Then it does nothing but allocate and free for a while (a million
// malloc/free pairs of 16 B - 4 KiB) and takes a third sample, whose
// allocator_cpu_fraction -- the sampler's allocator clock over the
// process's CPU time since the last share -- it prints on a second line
// ("allocator_cpu_fraction=0.734", "unknown" without the sampler).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "memmon/monitor.h"

namespace {
std::string Delta(const std::optional<uint64_t>& a,
                  const std::optional<uint64_t>& b) {
  if (!a || !b) return "unknown";
  return std::to_string(static_cast<long long>(*b) -
                        static_cast<long long>(*a));
}
}  // namespace

int main() {
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  memmon::MemoryMonitor m(c);
  std::vector<void*> blocks;
  blocks.reserve(10000);
  memmon::Sample before = m.TakeSample();
  for (int i = 0; i < 10000; ++i) blocks.push_back(std::malloc(100));
  for (int i = 0; i < 4000; ++i) std::free(blocks[i]);
  memmon::Sample after = m.TakeSample();
  std::printf(
      "allocations=%s frees=%s allocated_bytes=%s inuse_bytes=%s\n",
      Delta(before.allocations, after.allocations).c_str(),
      Delta(before.frees, after.frees).c_str(),
      Delta(before.total_allocated_bytes, after.total_allocated_bytes).c_str(),
      Delta(before.heap_inuse_bytes, after.heap_inuse_bytes).c_str());
  for (int i = 4000; i < 10000; ++i) std::free(blocks[i]);
  // A busy allocation loop: tens of milliseconds of CPU, nearly all of it
  // in malloc and free (a ring of 64 blocks replaced in turn).
  void* ring[64] = {};
  uint32_t x = 1;
  for (int i = 0; i < 1000000; ++i) {
    x = x * 1664525u + 1013904223u;
    void*& slot = ring[i & 63];
    std::free(slot);
    slot = std::malloc(16 + ((x >> 16) & 4095));
  }
  for (void* p : ring) std::free(p);
  memmon::Sample busy = m.TakeSample();
  if (busy.allocator_cpu_fraction) {
    std::printf("allocator_cpu_fraction=%.4f\n", *busy.allocator_cpu_fraction);
  } else {
    std::printf("allocator_cpu_fraction=unknown\n");
  }
  return 0;
}
