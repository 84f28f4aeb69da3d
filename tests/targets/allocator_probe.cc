// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Run by tests/allocator_test.cc natively and under LD_PRELOAD of an
// allocator, of memmon's heap sampler, or both, and built linked with the
// sampler (libmemmon_heap.so) with jemalloc or tcmalloc after it or before
// it: prints which allocator memmon detected and what its statistics saw,
// as one line of key=value pairs -- while 128 MiB were live (2048 blocks of
// 64 KiB, below every allocator's mmap threshold), once they were freed
// behind a block that keeps the allocator from shrinking its heap (free but
// held), whether heap_fragmentation fired on that heap (a second monitor,
// started after the free, with a short history that is its whole hold),
// and after MemoryMonitor::ReleaseFreeMemory() (RSS returned to the OS).
//
// sampler=1 when the sampler is loaded; sampler_serves=1 when its malloc is
// the one the process calls (the object defining `malloc` is the
// sampler's), 0 when an allocator ahead of it bypasses it.

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "memmon/monitor.h"

namespace {

const void* ObjectOf(const char* symbol) {
  void* p = dlsym(RTLD_DEFAULT, symbol);
  Dl_info info;
  if (p == nullptr || dladdr(p, &info) == 0) return nullptr;
  return info.dli_fbase;
}

// A fresh monitor on the heap as it is now: no warm-up, a history of four
// samples and a hold (MonitorConfig::hold, kept in time) of a microsecond,
// which back-to-back samples span; true when heap_fragmentation fired
// within sustain + history samples.
bool FragmentationFires() {
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  c.max_samples = 4;
  c.warmup_samples = 0;
  c.hold = std::chrono::microseconds(1);
  memmon::MemoryMonitor m(c);
  for (std::size_t i = 0; i < c.max_samples + c.sustain_samples; ++i) {
    m.TakeSample();
  }
  for (const memmon::MemoryAlert& a : m.GetAlerts()) {
    if (a.type == memmon::AlertType::kHeapFragmentation &&
        a.state == memmon::AlertState::kFiring) {
      return true;
    }
  }
  return false;
}

}  // namespace

int main() {
  constexpr int kBlocks = 2048, kBlockSize = 64 << 10;
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  memmon::MemoryMonitor m(c);
  memmon::Sample before = m.TakeSample();
  std::vector<char*> blocks;
  blocks.reserve(kBlocks);
  for (int i = 0; i < kBlocks; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(kBlockSize)));
    std::memset(blocks.back(), 1, kBlockSize);
  }
  // The last block, allocated after the others: the heap cannot shrink
  // past it, so what is freed before it stays with the allocator.
  char* pin = static_cast<char*>(std::malloc(kBlockSize));
  std::memset(pin, 1, kBlockSize);
  memmon::Sample during = m.TakeSample();
  for (char* b : blocks) std::free(b);
  memmon::Sample freed = m.TakeSample();
  const bool fragmentation = FragmentationFires();
  memmon::Sample released = m.ReleaseFreeMemory();
  auto v = [](const std::optional<uint64_t>& x) {
    return x ? static_cast<long long>(*x) : -1LL;
  };
  const void* sampler = ObjectOf("memmon_preload_read_counters");
  const bool serves = sampler != nullptr && sampler == ObjectOf("malloc");
  std::printf(
      "allocator=%s sampler=%d sampler_serves=%d inuse_before=%lld "
      "inuse_during=%lld inuse_after=%lld system_during=%lld "
      "free_during=%lld free_freed=%lld rss_freed=%lld rss_released=%lld "
      "fragmentation_fired=%d\n",
      std::string(memmon::ToString(during.allocator)).c_str(),
      sampler != nullptr ? 1 : 0, serves ? 1 : 0, v(before.heap_inuse_bytes),
      v(during.heap_inuse_bytes), v(released.heap_inuse_bytes),
      v(during.heap_system_bytes), v(during.heap_free_bytes),
      v(freed.heap_free_bytes), v(freed.rss_bytes), v(released.rss_bytes),
      fragmentation ? 1 : 0);
  std::free(pin);
  return 0;
}
