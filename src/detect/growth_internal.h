// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ClassifyGrowth for the detectors, which care only whether a series is
// kUnbounded: a cheap, exact pre-check (MayRiseSteadily), the
// classification of what it lets through (UnboundedTrend), and the cache
// that carries their statistics from one tick to the next (TrendCache);
// and what the detectors share with the resolution of their episodes (the
// hold's samples, the allocator's median share, the off-peak share).
// docs/detection.md ("What it costs") has the reasoning;
// src/detect/growth_equivalence_test.cc shows the answers are ClassifyGrowth's.
//
// Thread-safety: the functions are pure apart from the cache they are
// given; a TrendCache is not thread-safe (one per DetectionEngine, used under
// the monitor's sample mutex). Allocation: none.
#ifndef MEMMON_SRC_DETECT_GROWTH_INTERNAL_H_
#define MEMMON_SRC_DETECT_GROWTH_INTERNAL_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

#include "detect/trend.h"
#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/detectors.h"
#include "memmon/growth.h"

namespace memmon::internal {

// The confidence a window's rise must reach to count as a leak.
inline constexpr double kTrendConfidence = 0.99;

// How memmon judges a quantity's series for a leak: what the monitor's
// trend rules (memory_growth, thread_leak and fd_leak by projection) and
// Profiler::DetectLeaks pass to ClassifyGrowth: windows of at least
// config.trend_window floor points, kTrendConfidence.
GrowthOptions TrendOptions(const MonitorConfig& config);

// Mann-Kendall S and tied pairs of every suffix of a floor series
// (MannKendallSuffixes), remembered between calls. A monitor's floor moves
// by one point per tick (one per two ticks for blocks of two, and so on:
// each alignment is its own entry), so every suffix's numbers follow from
// the remembered ones in O(p): the suffix of length L of the new floor is
// the remembered suffix of length L - 1 plus the new point's pairs with it.
// A floor that neither equals nor extends by one point a remembered one of
// the same block size is computed afresh (O(p^2)) and replaces the least
// recently used entry.
//
// A cache only saves work: Suffixes gives exactly MannKendallSuffixes's
// integers whatever the cache holds (matching is by content).
class TrendCache {
 public:
  // As MannKendallSuffixes(y, out); y.size() <= 64. `block` (samples per
  // floor point) only narrows the search.
  void Suffixes(std::size_t block, std::span<const double> y,
                SuffixStatistics* out);

  // For a series y of finite values (3..kMaxDifferenceSeries samples), the
  // median of its differences y[i] - y[i - 1], the median of their
  // absolute deviations from it, and the median of the positive ones (0
  // when none is) -- what ClassifyGrowth's sawtooth test selects with
  // nth_element -- from the differences kept sorted
  // between calls: a y that slides or grows by one sample updates them in
  // O(n). False (nothing computed) for a y it does not take.
  bool DifferenceMedians(std::span<const double> y, double* center, double* mad,
                         double* rise);

  // How the calls were answered (for tests and benchmarks): Suffixes from
  // a remembered floor or afresh; DifferenceMedians from remembered
  // differences.
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }
  std::uint64_t difference_hits() const { return difference_hits_; }

  static constexpr std::size_t kMaxDifferenceSeries = 256;

 private:
  struct Entry {
    std::size_t block = 0;  // 0: unused
    std::size_t size = 0;
    std::uint64_t used = 0;
    std::array<double, kMaxTrendPoints> y;
    SuffixStatistics stats;
  };
  // Heap and RSS with blocks of 1 and of 2 (two alignments) take six;
  // the usage of the binding memory limit (oom_risk) three more; thread
  // and descriptor counts, when they rose, six more.
  static constexpr std::size_t kEntries = 16;
  std::array<Entry, kEntries> entries_;
  // Sorted differences, one per series (heap, RSS, the limit's usage,
  // threads, descriptors).
  struct Differences {
    std::size_t size = 0;  // samples in y; 0: unused
    std::uint64_t used = 0;
    std::array<double, kMaxDifferenceSeries> y;
    std::array<double, kMaxDifferenceSeries> sorted;  // size - 1 of them
  };
  static constexpr std::size_t kMaxDifferenceDrops = 4;
  std::array<Differences, 5> differences_;
  std::uint64_t clock_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t difference_hits_ = 0;
};

// False only when ClassifyGrowth(times_s, values, options).kind cannot be
// kUnbounded (for `values` as ClassifyGrowth would use them: the times'
// length, at most kMaxGrowthSamples): no window's floor rises by
// Mann-Kendall at options.confidence even before the serial-correlation
// correction, which can only lower it. A necessary condition, exact (see
// growth.cc): O(p^2) integer comparisons per block size, O(p) with a
// `cache` that saw the previous tick, against ClassifyGrowth's slope sets
// and selections per window.
bool MayRiseSteadily(std::span<const double> values,
                     const GrowthOptions& options = {},
                     TrendCache* cache = nullptr);

// ClassifyGrowth(times_s, values, options) when it is kUnbounded (the same
// GrowthTrend, field for field); nullopt otherwise. Cheaper: it judges
// only what can make the answer kUnbounded (the windows the pre-check
// allows, and the longer ones' deceleration) and describes no other.
// `longest_rise`, when given and the answer is kUnbounded, gets the rise
// (level - start_level) of the longest window that rises steadily -- the
// reported one is the surest, often a shorter one. `noise_rho`, when
// positive, is the caller's estimate of the noise's lag-1 autocorrelation
// between samples (memory_growth's early warnings: from more samples than
// a window holds); each window's Mann-Kendall variance is then at least
// (1 + r) / (1 - r) times the independent one, r = noise_rho^block, where
// the residuals are large enough to reorder its floor points
// (NoiseCanReorder, trend.h) or, with `noise_sd` (the caller's estimate
// of the noise's standard deviation, from more samples), where that noise
// is at least half the rise between neighbouring floor points: a window's
// residuals around its own line understate a wander's size.
std::optional<GrowthTrend> UnboundedTrend(
    std::span<const double> times_s, std::span<const double> values,
    const GrowthOptions& options = {}, TrendCache* cache = nullptr,
    double* longest_rise = nullptr, double noise_rho = 0, double noise_sd = 0);

// The large drops of a series as ClassifyGrowth's sawtooth test counts
// them (falls of more than 6 robust standard deviations of the
// sample-to-sample change and more than 0.5 % of the level): how many, and
// the index of the sample after the last one (0 when there is none).
struct LargeDrops {
  std::size_t count = 0;
  std::size_t last = 0;
};
LargeDrops FindLargeDrops(std::span<const double> values);
// The same for rises (the large drops of the series negated): a level
// shift up, as a config reload makes one. Same point limit.
LargeDrops FindLargeRises(std::span<const double> values);

// A quantity's noise over a whole run (NoiseEstimate, memmon/detectors.h:
// what DetectionInput::heap_noise and rss_noise carry). The samples are cut
// into chunks of kChunk; the residuals of each around its least-squares
// quadratic (a leak, steady or accelerating, is a shape, not correlated
// noise) give a lag-1 sum of products and a sum of squares, pooled over the
// last kMemory chunks, a chunk weighing at most 4 times the median one's
// sum of squares (a kink where a leak starts is a shape too); a chunk that
// shows a large drop or a large rise (FindLargeDrops, FindLargeRises: a
// sawtooth's flush, a step) or no noise is left out. Residuals around a
// curve fitted to 32 samples are far less correlated than the noise (0.55
// for rho 0.8), and smaller: the pooled numbers are mapped back to AR(1)
// noise's rho and standard deviation through their expectations (computed
// once, tables of 98). Fixed size, no allocation; Add is O(1) but for one
// O(kChunk) pass per chunk (and the drop tests' O(kChunk log kChunk)).
class NoiseCorrelationTrack {
 public:
  static constexpr std::size_t kChunk = 32;
  static constexpr std::size_t kMemory = 32;

  void Add(double value);
  // rho in [0, 0.95]: 0 when it is not above 2 / sqrt(n) (n the samples of
  // the chunks pooled: white noise's estimate has a standard error of
  // 1 / sqrt(n)); NaN (both) before the first chunk counted.
  NoiseEstimate estimate() const {
    return counted_ == 0 ? NoiseEstimate{} : estimate_;
  }
  std::size_t chunks() const { return counted_; }

 private:
  std::array<double, kChunk> chunk_{};
  std::size_t n_ = 0;
  std::size_t counted_ = 0;
  // The last kMemory chunks' lag-1 sums of products and sums of squares
  // (chunk c in slot c % kMemory).
  std::array<double, kMemory> products_{}, squares_{};
  NoiseEstimate estimate_;
};

// The level a trend rule alerts at: the larger of `pct` percent and
// `floor` units over the baseline `base` (memory_growth, thread_leak,
// fd_leak; the endpoint's memmon_growth_limit).
double GrowthLimit(double base, double pct, double floor);

// heap_fragmentation: "just past a peak" means heap in use is below this
// share of its maximum over twice the hold.
inline constexpr double kOffPeakShare = 0.8;

// The samples of `in` in the last `span` of time (after now - span), oldest
// first, and whether the history covers that span: it holds a sample at or
// before now - span, or it is full (max_samples), when what it holds is all
// there can be. How the detectors' hold is measured, for them and for the
// resolution of their episodes.
struct HeldSamples {
  std::span<const Sample> samples;
  bool covered = false;
};
HeldSamples SamplesWithin(const DetectionInput& in,
                          std::chrono::nanoseconds span);

// heap_fragmentation's condition on one sample: free-but-held bytes are at
// least fragmentation_pct of in use + free and at least
// fragmentation_floor_bytes; `*pct` gets the free share (when known).
bool Fragmented(const Sample& s, const MonitorConfig& cfg, double* pct);

// What the DetectionEngine keeps of heap_fragmentation across more samples
// than its history holds, so that the hold and the look-back past a peak
// are time at every sample interval (at 100 ms, 100 samples are 10 s; the
// hold is 150 s). Updated on every sample since the baseline, without
// allocating.
struct FragmentationTrack {
  // The latest sample is fragmented (Fragmented()), and so were `samples`
  // samples in a row up to it, the lowest share `lowest_pct`.
  bool holding = false;
  std::size_t samples = 0;
  double lowest_pct = 100;
  // The sample before that run (the last one since the baseline that was
  // not fragmented), or the baseline when every sample since it was: the
  // condition has held on every sample after it.
  std::chrono::steady_clock::time_point since{};
  // The highest heap in use over the last 2 x hold since the baseline (from
  // the history, and the long history's per-block maxima beyond it).
  double peak = 0;
};

// heap_fragmentation judged with the engine's `track`: the current sample
// is fragmented and the run reaches back at least `hold` (its `since` at or
// before now - hold), and heap in use now is at least kOffPeakShare of
// `track.peak`. The same rule as DetectHeapFragmentation, whose hold is the
// whole history when the history is shorter.
std::optional<Finding> HeapFragmentationTracked(
    const DetectionInput& in, const FragmentationTrack& track);

// The median allocator CPU share, in percent, over the most recent 256 of
// `samples` at most, of those that know it; `*count` says how many did (the
// median is 0 when none did).
double MedianAllocatorSharePct(std::span<const Sample> samples,
                               std::size_t* count);

// The built-in detector for `type` (memmon/detectors.h) with `cache`
// carrying the trend rules' statistics from one call to the next: what
// DetectionEngine runs for every type whose detector was not replaced. The
// answer is the public Detect*'s, whatever the cache holds; only the cost
// differs. nullopt for object_threshold (the counters raise it).
std::optional<Finding> RunBuiltinDetector(AlertType type,
                                          const DetectionInput& in,
                                          TrendCache* cache);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_GROWTH_INTERNAL_H_
