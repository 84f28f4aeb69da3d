// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Detectors: pure functions over a sample history that say whether an alert
// condition holds *now*. They own no state, read no clock and do not
// allocate, so tests feed them synthetic series and the monitor calls them
// on every tick. (The monitor runs the built-in rules with statistics kept
// from one tick to the next, which changes their cost, never their answer;
// called here, they compute everything afresh.) Turning "the condition holds"
// into "raise one alert for this episode" (sustain, hysteresis, cooldown) is
// the monitor's job, not theirs.
//
// A detector may be replaced per alert type (MemoryMonitor::SetDetector).
#ifndef MEMMON_DETECTORS_H_
#define MEMMON_DETECTORS_H_

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/sample.h"

namespace memmon {

// A quantity's noise between consecutive samples: its lag-1
// autocorrelation and its standard deviation (the stationary one, bytes),
// as AR(1) noise. The DetectionEngine estimates both over the whole run
// (`memmon analyze`: over the whole series), in chunks of 32 samples, each
// detrended (docs/detection.md, "Serial correlation"). NaN: unknown.
struct NoiseEstimate {
  double rho = std::numeric_limits<double>::quiet_NaN();
  double sd = std::numeric_limits<double>::quiet_NaN();
  // rho's one-sided 95 % upper confidence bound (from the spread of the
  // chunks' own estimates; rho when rho is 0 or one chunk is counted): what
  // the early warnings judge with. NaN: unknown (then they take rho).
  double rho_upper = std::numeric_limits<double>::quiet_NaN();
};

struct DetectionInput {
  // Samples at or after the baseline, oldest first; the last is current.
  std::span<const Sample> history;
  // The baseline sample (the first after warm-up or ResetBaseline()).
  const Sample* baseline = nullptr;
  const MonitorConfig* config = nullptr;
  // The retained samples before the baseline (the start-up, or what came
  // before ResetBaseline()), oldest first; often empty. The refill rule
  // looks at them for a drop the baseline came after.
  std::span<const Sample> earlier = {};
  // How many samples each entry of `history` stands for: 1 for samples as
  // taken; the block of the engine's long history (docs/detection.md), whose
  // points are block minima. thread_leak and fd_leak count a burst's length
  // in samples through it.
  std::size_t block = 1;
  // The noise of heap in use and of RSS, estimated by the caller over
  // more samples than `history` holds (NoiseEstimate); unknown by default.
  // memory_growth's early warnings count it where it says more than their
  // own samples do: a window of a few dozen samples cannot tell a wander of
  // strongly correlated noise from a rise.
  NoiseEstimate heap_noise = {};
  NoiseEstimate rss_noise = {};
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

  // --- trend rules (memory_growth; thread_leak and fd_leak when projected)
  // The slope's lower confidence bound (units per second): the growth rate
  // the projection relies on.
  double slope_lower_per_s = 0;
  // The fitted floor now (bytes or count); growth is measured on it, so a
  // sawtooth's peaks and single outliers do not count.
  double level = 0;
  // The absolute limit (bytes or count) the rule compares the level with:
  // the larger of the ratio and the absolute floor over the baseline.
  double limit = 0;
  // Samples in the trend window.
  std::size_t window_samples = 0;
  // True when raised by projection before the limit was reached; then
  // `time_to_limit_s` says when the trend (at slope_lower_per_s) passes it.
  bool projected = false;
  double time_to_limit_s = 0;
  // oom_risk: the binding limit's kind (named in the message), and the
  // slope's upper confidence bound, from which `value`, the earliest time
  // to the limit, comes.
  MemoryLimitKind limit_kind = MemoryLimitKind::kUnknown;
  double slope_upper_per_s = 0;
};

using Detector = std::function<std::optional<Finding>(const DetectionInput&)>;

// Each detector judges the *current* sample (with the window behind it for
// trends). The monitor raises an alert only when a condition holds on
// sustain_samples consecutive samples, so detectors need not repeat that.

// memory_growth: heap in use (then RSS, which also sees mmap and
// fragmentation) rises steadily -- ClassifyGrowth (memmon/growth.h) over the
// samples since the baseline says kUnbounded at 99 % confidence, judging the
// floor of the series over windows of at least trend_window floor points; not a
// refill (after a large drop, a rise back to the level before it: a cache
// refilling, a sawtooth whose period is too long to show two drops) -- and
// either
//   - its fitted floor is above the baseline by both alert_threshold_pct and
//     growth_floor_bytes, or
//   - (early warning) the trend's confidence is >= 99.9 % and, rising at the
//     lower confidence bound of its slope, it passes that limit within
//     growth_projection_horizon (and within 24 times the span it was
//     measured over) -- judged again with the noise's serial correlation
//     over all the samples judged and, where higher, `heap_noise` /
//     `rss_noise`'s: a wander of correlated noise is not a rise.
// Warm-up, single steps, a sawtooth's teeth and noise are not steady rises;
// docs/detection.md has the reasoning and the evaluation.
std::optional<Finding> DetectMemoryGrowth(const DetectionInput& in);

// thread_leak: the thread count rises steadily, judged as memory_growth is
// (repeated increases: one step held, a burst that returns, a pool that
// starts are not), and its fitted level is at or above the baseline by both
// thread_growth_pct and thread_growth_floor; or, early, it is projected to
// reach that limit within growth_projection_horizon. And the rise has
// lasted longer than a burst: the count has stayed above the level it rose
// from for more than the last 30 samples and 6 s (at most 60 samples; a burst
// of up to that long that ramps up and returns is not a leak, at any sample
// interval).
std::optional<Finding> DetectThreadLeak(const DetectionInput& in);

// fd_leak: as thread_leak, for open descriptors (fd_growth_pct, _floor).
std::optional<Finding> DetectFdLeak(const DetectionInput& in);

// oom_risk: the memory the binding limit counts (memory_limit_usage_bytes)
// rises steadily, judged as memory_growth is, and the earliest time its
// trend reaches memory_limit_bytes -- at the slope's upper confidence
// bound -- is within oom_horizon (and within 24 times the span measured),
// whatever the growth threshold says; at once when usage is already at the
// limit and rising. `value` is that earliest time in seconds, `threshold`
// the horizon, `time_to_limit_s` the time at the fitted slope, `limit` the
// limit, `current` the usage.
std::optional<Finding> DetectOomRisk(const DetectionInput& in);

// The time to the kill, whether or not oom_risk fires: from the trend of
// the usage the binding limit counts (the same judgment as oom_risk), how
// long until it reaches the limit -- at the Theil-Sen slope (`fitted_s`)
// and at Sen's upper confidence bound of the slope (`earliest_s`, the
// lower bound of the time). Both +infinity when usage does not rise
// steadily; 0 at or over the limit. nullopt without a limit in the current
// sample. Not clipped to the horizon or the span measured (oom_risk is).
struct TimeToLimit {
  double fitted_s = 0;
  double earliest_s = 0;
  double limit_bytes = 0;
  double usage_bytes = 0;
  double slope_per_s = 0;        // 0 when not rising steadily
  double slope_upper_per_s = 0;  // likewise
  MemoryLimitKind kind = MemoryLimitKind::kUnknown;
};
std::optional<TimeToLimit> ProjectTimeToLimit(const DetectionInput& in);

// heap_fragmentation: on every sample of the last `hold` (time), free-but-
// held bytes are at least fragmentation_pct of (in use + free) and at least
// fragmentation_floor_bytes; and the heap is not just past a peak: in use now
// is at least 80 % of its maximum over the last 2 x `hold` (right after a
// peak, free-but-held memory is normal and gets reused).
std::optional<Finding> DetectHeapFragmentation(const DetectionInput& in);

// allocator_pressure: the median allocator CPU share over the samples of
// the last `hold` that know it is at least allocator_cpu_pct. Never fires
// when the share is unknown.
std::optional<Finding> DetectAllocatorPressure(const DetectionInput& in);

// The built-in detector for a type (nullptr for object_threshold, which the
// object counters raise themselves).
Detector DefaultDetector(AlertType type);

// One sentence for an alert message: what, how much, which limit, why.
std::string Describe(const Finding& finding);

}  // namespace memmon

#endif  // MEMMON_DETECTORS_H_
