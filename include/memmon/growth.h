// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ClassifyGrowth: is a series growing without bound, did it grow and level
// off, or is it flat? The trend machinery behind memory_growth, thread_leak
// and fd_leak, exposed so that anything with a series over time -- per-site
// live bytes from successive heap snapshots, a cache's entry count, a queue
// depth -- can be judged the same way.
//
// Thread-safety: a pure function. Allocation: none (a few tens of KiB of
// stack). Cost: O(n) plus O(p^2) for p <= 64 floor points per window judged:
// ~17 us for 100 noisy samples that do not rise (a pre-check rules out most
// windows), ~40 us for 2048, up to ~80 us when every window rises steadily.
// (The monitor's detectors avoid most of it between ticks: docs/detection.md,
// "What it costs".)
//
// How it decides (docs/detection.md has the derivation and the numbers):
//   1. The floor. The series is cut into blocks of consecutive samples,
//      aligned to end at the last one, and each block is represented by its
//      minimum (at the time it occurred). A sawtooth -- a cache that fills
//      and is flushed, a GC-like cycle -- then shows its troughs, and noise
//      its lower edge, so it is the *floor* whose trend is judged. The block
//      is at least n / 64 samples, and at least the sawtooth's period (the
//      upper quartile of the distances between large drops: drops more than
//      6 robust standard deviations of the sample-to-sample change and twice
//      the median rise) plus a quarter, so blocks hold a trough.
//   2. Windows. The most recent samples are judged over windows from all of
//      them down, shrinking by a third, to `min_points` floor points; a leak
//      that started late shows in a short window, a slow one in a long one.
//   3. A window rises steadily when
//      - Mann-Kendall: the floor rises with confidence >= `confidence`, the
//        variance of S corrected for ties and for serial correlation (a
//        wandering series has runs that look like rises),
//      - no single step explains it: for every split of the window in two,
//        the segments still rise within themselves (confidence >= 0.9),
//      - it is not levelling off: the Theil-Sen slope of the recent half is
//        at least half that of the earlier half, and no longer window shows
//        a strong deceleration (a warm-up curve looks straight through a
//        short window).
//   4. kUnbounded when some window rises steadily (of those, the one with
//      the largest slope_lower_per_s is reported);
//      kBounded when the whole series rose significantly but no window rises
//      steadily now (warm-up, a cache that filled, a one-off step); kFlat
//      otherwise (noise, flat, falling); kUnknown below `min_points` points,
//      and when a time or a value is NaN or infinite.
//
// Typical use (a per-site leak ranking):
//   memmon::GrowthTrend t = memmon::ClassifyGrowth(snapshot_times_s,
//   live_bytes); if (t.kind == memmon::GrowthKind::kUnbounded) rank by
//   t.slope_lower_per_s
#ifndef MEMMON_GROWTH_H_
#define MEMMON_GROWTH_H_

#include <cstddef>
#include <span>
#include <string_view>

namespace memmon {

enum class GrowthKind {
  kUnknown,    // fewer than min_points floor points, or a non-finite input
  kFlat,       // no significant rise (flat, noise, falling)
  kBounded,    // rose, but is not rising steadily now (levelled off, a step)
  kUnbounded,  // rising steadily now: a leak candidate
};

// "unknown", "flat", "bounded", "unbounded".
std::string_view ToString(GrowthKind kind);

struct GrowthOptions {
  // Samples per floor block; 0 picks it from the data (see above).
  std::size_t block_samples = 0;
  // Shortest window judged, in floor points; clamped to 4..64.
  std::size_t min_points = 8;
  // One-sided Mann-Kendall confidence a window must reach (0.5..1).
  double confidence = 0.99;
};

// At most this many of the most recent samples are used.
inline constexpr std::size_t kMaxGrowthSamples = 2048;

struct GrowthTrend {
  GrowthKind kind = GrowthKind::kUnknown;
  // Theil-Sen slope of the floor over the window, units per second.
  double slope_per_s = 0;
  // Sen's one-sided lower confidence bound of that slope, at
  // options.confidence: the rate one can be that sure of. Rank leak
  // suspects by this.
  double slope_lower_per_s = 0;
  // Sen's one-sided upper confidence bound, at the same confidence, by
  // rank (not the mirror of the lower one): the fastest rate the data
  // allow at that confidence; oom_risk's earliest time to the limit.
  double slope_upper_per_s = 0;
  // Mann-Kendall confidence (0..1) that the floor rises over the window.
  double confidence = 0;
  // The fitted floor (Theil-Sen line) at the window's first and last time.
  double start_level = 0;
  double level = 0;
  // The window: its span in seconds, samples and floor points, and the
  // samples per floor point.
  double window_s = 0;
  std::size_t window_samples = 0;
  std::size_t points = 0;
  std::size_t block_samples = 0;
};

// `times_s` (seconds, non-decreasing) and `values` are parallel, oldest
// first; the shorter length is used, at most its last kMaxGrowthSamples.
// For kFlat and kBounded the fields describe the whole series.
GrowthTrend ClassifyGrowth(std::span<const double> times_s,
                           std::span<const double> values,
                           const GrowthOptions& options = {});

}  // namespace memmon

#endif  // MEMMON_GROWTH_H_
