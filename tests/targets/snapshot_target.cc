// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Snapshots under libmemmon_preload.so (tests/profiler_e2e_test.cc), in
// this order, each a numbered file in MEMMON_OUTPUT:
//   0001  the monitor's baseline (first sample after warm-up)
//   0002  a memory_growth alert, after LeakSteadily grew the heap
//   0003  MEMMON_SIGNAL (SIGUSR2), raised by the program itself
// Then the Profiler API writes api-heap.pb.gz, api-threads.pb.gz (and the
// sampler's other profiles) and objectfs-20261204T120000-heap.pb.gz ... into
// argv[1]. Prints "alerts=N signal_snapshot=N api=STATUS named=STATUS".

#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "memmon/monitor.h"
#include "memmon/profiler.h"

namespace {
void* volatile g_sink;

__attribute__((noinline)) void LeakSteadily(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[4096];
    std::memset(p, 8, 4096);
    g_sink = p;
  }
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string out = argv[1], api_dir = argv[2];
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  c.warmup_samples = 0;
  c.sustain_samples = 1;
  c.trend_window = 4;
  c.alert_threshold_pct = 10;
  c.growth_floor_bytes = 1 << 20;
  memmon::MemoryMonitor monitor(c);
  monitor.TakeSample();  // the baseline
  for (int i = 0; i < 8 && monitor.GetAlerts().empty(); ++i) {
    LeakSteadily(2000);  // 8 MiB a step
    monitor.TakeSample();
  }
  int alerts = static_cast<int>(monitor.GetAlerts().size());
  raise(SIGUSR2);
  // The writer thread writes the signal's snapshot; wait for it (bounded).
  std::string third = out + "/heap.0003.pb.gz";
  for (int i = 0; i < 2000 && !Exists(third); ++i) {
    timespec ts{0, 5 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  memmon::Profiler profiler(api_dir);
  memmon::Status s = profiler.WriteAllProfiles("api-");
  memmon::Status named = profiler.WriteAllProfiles("objectfs-20261204T120000");
  std::printf("alerts=%d signal_snapshot=%d api=%s named=%s\n", alerts,
              Exists(third) ? 1 : 0, s.ToString().c_str(),
              named.ToString().c_str());
  return 0;
}
