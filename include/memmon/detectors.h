// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Detectors: pure functions over a sample history that say whether an alert
// condition holds *now*. They own no state, read no clock and do not
// allocate, so tests feed them synthetic series and the monitor calls them
// on every tick. Turning "the condition holds" into "raise one alert for this
// episode" (sustain, hysteresis, cooldown) is the monitor's job, not theirs.
//
// A detector may be replaced per alert type (MemoryMonitor::SetDetector).
#ifndef MEMMON_DETECTORS_H_
#define MEMMON_DETECTORS_H_

#include <functional>
#include <optional>
#include <span>
#include <string>

#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/sample.h"

namespace memmon {

struct DetectionInput {
  // Samples at or after the baseline, oldest first; the last is current.
  std::span<const Sample> history;
  // The baseline sample (the first after warm-up or ResetBaseline()).
  const Sample* baseline = nullptr;
  const MonitorConfig* config = nullptr;
};

// What a detector found. Plain numbers, so producing one never allocates;
// Describe() turns it into the alert message when an alert is raised.
struct Finding {
  AlertType type = AlertType::kMemoryGrowth;
  double value = 0;      // the measured quantity (percent, count)
  double threshold = 0;  // the limit it passed, same unit
  double baseline = 0;   // the quantity at the baseline (bytes or count)
  double current = 0;    // the quantity now (bytes or count)
  // Trend fitted over the window, units per second, where the rule uses one.
  double slope_per_s = 0;
  double window_s = 0;
  // Probability that the trend is real (0..1), where the rule computes one.
  double confidence = 0;
  // What was measured: "heap_inuse_bytes", "rss_bytes", "threads", ...
  const char* metric = "";
};

using Detector = std::function<std::optional<Finding>(const DetectionInput&)>;

// Each detector judges the *current* sample (with the window behind it for
// trends). The monitor raises an alert only when a condition holds on
// sustain_samples consecutive samples, so detectors need not repeat that.

// memory_growth: heap in use (then RSS, which also sees mmap and
// fragmentation) has grown past both alert_threshold_pct and
// growth_floor_bytes over the baseline, *and* the last trend_window samples
// rise steadily: a Mann-Kendall trend test is significant at 95 % and each
// half of the window rises on its own (a Theil-Sen slope of at least a
// quarter of the whole window's), which a single step cannot do.
std::optional<Finding> DetectMemoryGrowth(const DetectionInput& in);

// thread_leak: threads above the baseline by both thread_growth_pct and
// thread_growth_floor.
std::optional<Finding> DetectThreadLeak(const DetectionInput& in);

// fd_leak: as thread_leak, for open descriptors (fd_growth_pct, _floor).
std::optional<Finding> DetectFdLeak(const DetectionInput& in);

// heap_fragmentation: free-but-held bytes are at least fragmentation_pct of
// (in use + free) and at least fragmentation_floor_bytes.
std::optional<Finding> DetectHeapFragmentation(const DetectionInput& in);

// allocator_pressure: the allocator's CPU share is at least
// allocator_cpu_pct. Never fires when the share is unknown.
std::optional<Finding> DetectAllocatorPressure(const DetectionInput& in);

// The built-in detector for a type (nullptr for object_threshold, which the
// object counters raise themselves).
Detector DefaultDetector(AlertType type);

// One sentence for an alert message: what, how much, which limit, why.
std::string Describe(const Finding& finding);

}  // namespace memmon

#endif  // MEMMON_DETECTORS_H_
