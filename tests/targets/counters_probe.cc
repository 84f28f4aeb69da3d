// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The monitor's samples carry the heap sampler's exact counters when
// libmemmon_preload.so is loaded (tests/profiler_e2e_test.cc): takes a
// sample, makes 10000 allocations of 100 bytes and frees 4000 of them, takes
// another, and prints the differences ("unknown" for fields not filled).

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
  return 0;
}
