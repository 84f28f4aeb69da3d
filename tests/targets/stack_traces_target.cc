// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// MonitorConfig::enable_stack_traces under the heap sampler
// (tests/profiler_e2e_test.cc): a monitor with stack traces on samples
// this process while LeakTwoMiB keeps 2 MiB more a sample (in 4 KiB
// blocks), and a steady 8 MiB cache sits beside it; the first memory_growth
// alert's JSON line goes to stdout. With the sampler the alert must name
// LeakTwoMiB first.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "memmon/monitor.h"

namespace {

std::vector<char*> g_kept;

__attribute__((noinline)) void LeakTwoMiB() {
  for (int i = 0; i < 512; ++i) {
    char* p = new char[4096];
    std::memset(p, 1, 4096);
    g_kept.push_back(p);
  }
}

__attribute__((noinline)) std::vector<char*> FillCache() {
  std::vector<char*> cache;
  for (int i = 0; i < 8 * 256; ++i) cache.push_back(new char[4096]);
  return cache;
}

}  // namespace

int main() {
  std::vector<char*> cache = FillCache();
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  c.warmup_samples = 0;
  c.enable_stack_traces = true;
  memmon::MemoryMonitor m(c);
  g_kept.reserve(512 * 100);
  for (int i = 0; i < 100; ++i) {
    m.TakeSample();
    for (const memmon::MemoryAlert& a : m.GetAlerts()) {
      if (a.type != memmon::AlertType::kMemoryGrowth) continue;
      std::printf("%s\n", memmon::ToJson(a).c_str());
      return 0;
    }
    LeakTwoMiB();
  }
  std::printf("no memory_growth alert\n");
  return 1;
}
