// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/analyze.h"

#include <fmt/format.h>

#include "detect/detection_engine.h"
#include "detect/growth_internal.h"

namespace memmon::internal {
namespace {

// What each detector needs, for "a missing column disables it".
struct Requirement {
  AlertType type;
  bool (*met)(const SamplesCsv&);
  const char* needs;
};

constexpr Requirement kRequirements[] = {
    {AlertType::kMemoryGrowth,
     [](const SamplesCsv& c) {
       return c.Has("heap_inuse_bytes") || c.Has("rss_bytes");
     },
     "heap_inuse_bytes or rss_bytes"},
    {AlertType::kThreadLeak,
     [](const SamplesCsv& c) { return c.Has("threads"); }, "threads"},
    {AlertType::kFdLeak, [](const SamplesCsv& c) { return c.Has("fds"); },
     "fds"},
    {AlertType::kHeapFragmentation,
     [](const SamplesCsv& c) {
       return c.Has("heap_inuse_bytes") && c.Has("heap_free_bytes");
     },
     "heap_inuse_bytes and heap_free_bytes"},
    {AlertType::kAllocatorPressure,
     [](const SamplesCsv& c) { return c.Has("allocator_cpu_fraction"); },
     "allocator_cpu_fraction"},
    {AlertType::kOomRisk,
     [](const SamplesCsv& c) {
       return c.Has("memory_limit_bytes") && c.Has("memory_limit_usage_bytes");
     },
     "memory_limit_bytes and memory_limit_usage_bytes"},
};

}  // namespace

MonitorConfig AnalyzeDefaultConfig() {
  MonitorConfig c = DefaultMonitorConfig();
  c.max_samples = 1000;
  c.alert_log = "none";
  return c;
}

Analysis AnalyzeSamples(const SamplesCsv& csv, const MonitorConfig& config,
                        bool hindsight) {
  Analysis out;
  DetectionEngine engine(config);
  for (const Requirement& r : kRequirements) {
    if (r.met(csv)) continue;
    engine.SetDetector(r.type, nullptr);
    out.not_judged.push_back(
        fmt::format("{} (needs {})", ToString(r.type), r.needs));
  }
  if (hindsight) {
    // The noise (its serial correlation and size) over the whole series, from
    // the first sample judged on (a live monitor's engine estimates it as the
    // samples come).
    NoiseCorrelationTrack heap, rss;
    for (const TimedSample& ts : csv.samples) {
      if (ts.sample.heap_inuse_bytes) {
        heap.Add(static_cast<double>(*ts.sample.heap_inuse_bytes));
      }
      if (ts.sample.rss_bytes) {
        rss.Add(static_cast<double>(*ts.sample.rss_bytes));
      }
    }
    engine.SetNoise(heap.estimate(), rss.estimate());
  }
  for (const TimedSample& ts : csv.samples) {
    for (MemoryAlert& a : engine.Push(ts.time_s, ts.sample)) {
      out.alerts.push_back(std::move(a));
    }
  }
  out.verdicts = JudgeRecording(csv, config);
  return out;
}

}  // namespace memmon::internal
