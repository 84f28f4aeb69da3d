// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Run under LD_PRELOAD of an allocator by tests/allocator_test.cc: prints
// which allocator memmon detected and what its statistics saw while 64 MiB
// were allocated and freed, as one line of key=value pairs.

#include <cstdio>
#include <cstring>
#include <vector>

#include "memmon/monitor.h"

int main() {
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  memmon::MemoryMonitor m(c);
  memmon::Sample before = m.TakeSample();
  std::vector<char*> blocks;
  for (int i = 0; i < 256; ++i) {  // 256 x 256 KiB
    blocks.push_back(static_cast<char*>(std::malloc(256 << 10)));
    std::memset(blocks.back(), 1, 256 << 10);
  }
  memmon::Sample during = m.TakeSample();
  for (char* b : blocks) std::free(b);
  memmon::Sample released = m.ReleaseFreeMemory();
  auto v = [](const std::optional<uint64_t>& x) {
    return x ? static_cast<long long>(*x) : -1LL;
  };
  std::printf(
      "allocator=%s inuse_before=%lld inuse_during=%lld inuse_after=%lld "
      "system_during=%lld free_during=%lld\n",
      std::string(memmon::ToString(during.allocator)).c_str(),
      v(before.heap_inuse_bytes), v(during.heap_inuse_bytes),
      v(released.heap_inuse_bytes), v(during.heap_system_bytes),
      v(during.heap_free_bytes));
  return 0;
}
