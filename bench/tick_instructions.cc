// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Instructions per monitor tick, counted by callgrind: immune to other load
// on the machine, unlike the CPU times of src/monitor/sample_benchmark.cc.
// After 200 warm-up ticks, instrumentation is switched on for `ticks` ticks
// only.
//
//   bench/tick_instructions.sh [build-dir] [ticks]
//
// runs every mode and prints instructions per tick. Detection only, through
// DetectionEngine::Push (what MemoryMonitor::TakeSample runs after collecting),
// on synthetic series with the monitor's defaults (100 samples of history):
//   flat   heap in use and RSS constant (this process in
//          BM_Memmon_TakeSample: its heap does not move)
//   noisy  heap in use 300 MiB +- 2 MiB of noise, RSS 40 MiB above it
//   leak   heap in use growing 4 KiB per tick (BM_Memmon_TakeSample_Leaking)
// and the whole tick:
//   monitor  MemoryMonitor::TakeSample() on this process. Under valgrind
//            the process's RSS moves with valgrind's own memory, so its
//            detection sees growth a native run does not: an upper bound.
//
// Without valgrind the program just runs (and prints nothing).

#include <valgrind/callgrind.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "detect/detection_engine.h"
#include "memmon/monitor.h"

namespace {

constexpr int kWarmUp = 200;

int Monitor(int ticks) {
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  memmon::MemoryMonitor m(c);
  for (int i = 0; i < kWarmUp + ticks; ++i) {
    if (i == kWarmUp) CALLGRIND_START_INSTRUMENTATION;
    m.TakeSample();
  }
  CALLGRIND_STOP_INSTRUMENTATION;
  return 0;
}

enum class Shape { kFlat, kNoisy, kLeak };

int Synthetic(Shape shape, int ticks) {
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  memmon::internal::DetectionEngine engine(c);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 2 << 20);
  std::vector<memmon::Sample> samples(
      static_cast<std::size_t>(kWarmUp + ticks));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    memmon::Sample& s = samples[i];
    s.monotonic =
        std::chrono::steady_clock::time_point{} + std::chrono::seconds(i);
    double heap = 300 << 20;
    if (shape == Shape::kNoisy) heap += noise(rng);
    if (shape == Shape::kLeak) heap += 4096.0 * static_cast<double>(i);
    s.heap_inuse_bytes = static_cast<uint64_t>(heap);
    s.heap_free_bytes = 8 << 20;
    s.rss_bytes = shape == Shape::kNoisy ? *s.heap_inuse_bytes + (40 << 20)
                                         : uint64_t{400} << 20;
    s.threads = 16;
    s.open_fds = 40;
  }
  std::size_t alerts = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (i == kWarmUp) CALLGRIND_START_INSTRUMENTATION;
    alerts += engine.Push(static_cast<double>(i), samples[i]).size();
  }
  CALLGRIND_STOP_INSTRUMENTATION;
  volatile std::size_t sink = alerts;
  (void)sink;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "flat";
  int ticks = argc > 2 ? std::atoi(argv[2]) : 1000;
  if (std::strcmp(mode, "flat") == 0) return Synthetic(Shape::kFlat, ticks);
  if (std::strcmp(mode, "noisy") == 0) return Synthetic(Shape::kNoisy, ticks);
  if (std::strcmp(mode, "leak") == 0) return Synthetic(Shape::kLeak, ticks);
  if (std::strcmp(mode, "monitor") == 0) return Monitor(ticks);
  return 2;
}
