// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Run by tests/allocator_test.cc natively and under LD_PRELOAD of an
// allocator, of memmon's heap sampler, or both: prints which allocator
// memmon detected and what its statistics saw, as one line of key=value
// pairs -- while 64 MiB were live (1024 blocks of 64 KiB, below every
// allocator's mmap threshold), once they were freed behind a block that
// keeps the allocator from shrinking its heap (free but held), and
// after MemoryMonitor::ReleaseFreeMemory() (RSS returned to the OS).

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "memmon/monitor.h"

int main() {
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  memmon::MemoryMonitor m(c);
  memmon::Sample before = m.TakeSample();
  std::vector<char*> blocks;
  for (int i = 0; i < 1024; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(64 << 10)));
    std::memset(blocks.back(), 1, 64 << 10);
  }
  // The last block, allocated after the others: the heap cannot shrink
  // past it, so what is freed before it stays with the allocator.
  char* pin = static_cast<char*>(std::malloc(64 << 10));
  std::memset(pin, 1, 64 << 10);
  memmon::Sample during = m.TakeSample();
  for (char* b : blocks) std::free(b);
  memmon::Sample freed = m.TakeSample();
  memmon::Sample released = m.ReleaseFreeMemory();
  auto v = [](const std::optional<uint64_t>& x) {
    return x ? static_cast<long long>(*x) : -1LL;
  };
  const bool sampler =
      dlsym(RTLD_DEFAULT, "memmon_preload_read_counters") != nullptr;
  std::printf(
      "allocator=%s sampler=%d inuse_before=%lld inuse_during=%lld "
      "inuse_after=%lld system_during=%lld free_during=%lld free_freed=%lld "
      "rss_freed=%lld rss_released=%lld\n",
      std::string(memmon::ToString(during.allocator)).c_str(), sampler ? 1 : 0,
      v(before.heap_inuse_bytes), v(during.heap_inuse_bytes),
      v(released.heap_inuse_bytes), v(during.heap_system_bytes),
      v(during.heap_free_bytes), v(freed.heap_free_bytes), v(freed.rss_bytes),
      v(released.rss_bytes));
  std::free(pin);
  return 0;
}
