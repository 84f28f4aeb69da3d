// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What detection costs per sample: ClassifyGrowth over n samples, and the
// five built-in detectors over a history of n samples (what the monitor
// runs on every tick, and `memmon analyze` per CSV line). The series is
// noisy and flat, the worst case: no window rises, so every window is
// judged. BM_AllDetectorsSliding is the monitor's case: the history moves
// by one sample per call and the detectors keep their cache.
//
//   build/bin/detect_benchmark

#include <benchmark/benchmark.h>

#include <random>
#include <span>
#include <vector>

#include "detect/growth_internal.h"
#include "memmon/detectors.h"
#include "memmon/growth.h"

namespace {

std::vector<memmon::Sample> NoisyHistory(std::size_t n) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 2 << 20);
  std::vector<memmon::Sample> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    memmon::Sample& s = out[i];
    s.monotonic =
        std::chrono::steady_clock::time_point{} + std::chrono::seconds(i);
    s.heap_inuse_bytes = static_cast<uint64_t>((300 << 20) + noise(rng));
    s.heap_free_bytes = 8 << 20;
    s.rss_bytes = *s.heap_inuse_bytes + (40 << 20);
    s.threads = 16 + (i % 7 == 0);
    s.open_fds = 40;
  }
  return out;
}

void BM_ClassifyGrowth(benchmark::State& state) {
  auto h = NoisyHistory(static_cast<std::size_t>(state.range(0)));
  std::vector<double> t, v;
  for (const auto& s : h) {
    t.push_back(
        std::chrono::duration<double>(s.monotonic.time_since_epoch()).count());
    v.push_back(static_cast<double>(*s.heap_inuse_bytes));
  }
  for (auto _ : state) benchmark::DoNotOptimize(memmon::ClassifyGrowth(t, v));
}
BENCHMARK(BM_ClassifyGrowth)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(2048)
    ->Unit(benchmark::kMicrosecond);

void BM_AllDetectors(benchmark::State& state) {
  auto h = NoisyHistory(static_cast<std::size_t>(state.range(0)));
  memmon::MonitorConfig config;
  memmon::DetectionInput in{h, &h[0], &config};
  for (auto _ : state) {
    benchmark::DoNotOptimize(memmon::DetectMemoryGrowth(in));
    benchmark::DoNotOptimize(memmon::DetectThreadLeak(in));
    benchmark::DoNotOptimize(memmon::DetectFdLeak(in));
    benchmark::DoNotOptimize(memmon::DetectHeapFragmentation(in));
    benchmark::DoNotOptimize(memmon::DetectAllocatorPressure(in));
  }
}
BENCHMARK(BM_AllDetectors)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// What a monitor tick pays for detection over the same noisy flat history:
// the n-sample window slides by one sample per call, and the detectors keep
// their TrendCache from one call to the next, as the DetectionEngine runs
// them (internal::RunBuiltinDetector).
void BM_AllDetectorsSliding(benchmark::State& state) {
  std::size_t n = static_cast<std::size_t>(state.range(0));
  auto h = NoisyHistory(n + 8192);
  memmon::MonitorConfig config;
  memmon::internal::TrendCache cache;
  std::size_t end = n;
  for (auto _ : state) {
    std::span<const memmon::Sample> window(h.data() + end - n, n);
    memmon::DetectionInput in{window, &h[0], &config};
    for (int type = 0; type < memmon::kAlertTypeCount; ++type) {
      benchmark::DoNotOptimize(memmon::internal::RunBuiltinDetector(
          static_cast<memmon::AlertType>(type), in, &cache));
    }
    if (++end > h.size()) end = n;
  }
}
BENCHMARK(BM_AllDetectorsSliding)
    ->Arg(100)
    ->Arg(256)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
