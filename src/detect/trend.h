// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Robust trend statistics over short series, without allocation.
//
// Theil-Sen: the slope is the median of the slopes of all pairs of points,
// so up to ~29 % of the points may be outliers without moving it. Sen's
// confidence interval for it takes ranks of the same pair slopes: with
// C = z * sqrt(Var S), the lower bound is the ((N - C) / 2)-th smallest of
// the N pair slopes.
// Mann-Kendall: S = sum over pairs i < j of sign(y_j - y_i); under "no
// trend", S is near-normal with variance
//   (n(n-1)(2n+5) - sum over tie groups t(t-1)(2t+5)) / 18
// and Phi((S - 1) / sqrt(var)) is the confidence that the series rises.
//
// Everything is O(n^2); n is capped at kMaxTrendPoints so the pair slopes
// fit on the stack (2016 doubles).
//
// Thread-safety: pure functions. Allocation: none.
#ifndef MEMMON_SRC_DETECT_TREND_H_
#define MEMMON_SRC_DETECT_TREND_H_

#include <array>
#include <cstddef>
#include <span>

namespace memmon::internal {

inline constexpr std::size_t kMaxTrendPoints = 64;

// Median pairwise slope dy/dx. Uses at most the last kMaxTrendPoints points;
// 0 with fewer than two or when every pair has equal x.
double TheilSenSlope(std::span<const double> x, std::span<const double> y);

// The one-sided lower confidence bound, at `confidence` (0.5..1), of the
// Theil-Sen slope (Sen 1968). Same point limit; 0 with fewer than two points.
// Below the slope itself; may be negative.
//
// `variance_factor` (>= 1) inflates Var S for serially correlated data (see
// AutocorrelationVarianceFactor); 1 for independent points.
double SenSlopeLowerBound(std::span<const double> x, std::span<const double> y,
                          double confidence, double variance_factor = 1);

// The one-sided upper confidence bound of the Theil-Sen slope, by rank as
// the lower one: the (M2 + 1)-th smallest pair slope, M2 = (N + C) / 2
// rounded up. At or above the slope; not the mirror image of the lower
// bound (the pair slopes are not symmetric about their median). Same point
// limit and arguments as SenSlopeLowerBound.
double SenSlopeUpperBound(std::span<const double> x, std::span<const double> y,
                          double confidence, double variance_factor = 1);

// Mann-Kendall S statistic and its null variance, with the tie correction.
struct MannKendall {
  long s = 0;
  double variance = 0;
};
MannKendall MannKendallStatistic(std::span<const double> y);

// Confidence in (0, 1) that `y` increases (one-sided Mann-Kendall, with the
// tie correction and a continuity correction); 0.5 for no evidence either
// way. Uses at most the last kMaxTrendPoints points. `variance_factor` as
// for SenSlopeLowerBound.
double MannKendallRising(std::span<const double> y, double variance_factor = 1);

// The parts of the above, for callers that judge many windows of one series
// (growth.cc's pre-check):
//
// MannKendallVariance(y) == MannKendallStatistic(y).variance (the same
// arithmetic), in O(n log n).
double MannKendallVariance(std::span<const double> y);
// S and the tied pairs of every suffix of `y`, in one O(n^2) pass: for
// k = 0..y.size(), s[k] is MannKendallStatistic(y.last(k)).s and ties[k]
// the number of pairs i < j of y.last(k) with y_i == y_j (exact: integers).
// y.size() <= kMaxTrendPoints.
struct SuffixStatistics {
  std::array<long, kMaxTrendPoints + 1> s, ties;
};
void MannKendallSuffixes(std::span<const double> y, SuffixStatistics* out);
// MannKendallVariance(y) for a `y` with `tied_pairs` tied pairs: in closed
// form when there are none (the same arithmetic), else as above.
double MannKendallVariance(std::span<const double> y, long tied_pairs);
// The confidence MannKendallRising reports for S and Var S (already
// multiplied by any variance factor).
double MannKendallConfidence(long s, double variance);

// Serial correlation makes Mann-Kendall see trends in noise: a wandering
// (AR(1)) series has runs that look like rises. The factor by which Var S
// grows for lag-1 autocorrelation r of the residuals around the Theil-Sen
// line (the first-order Hamed-Rao / Yue-Wang correction): (1 + r) / (1 - r)
// for r > 0, with r capped at 0.8 (factor 9); 1 for r <= 0, and 1 when the
// residuals' robust spread is under half the rise between neighbouring
// points (noise that small cannot reorder them).
double AutocorrelationVarianceFactor(std::span<const double> x,
                                     std::span<const double> y, double slope);
// The test above on its own: whether the residuals of `y` around the line
// of `slope` have a robust spread of at least half the rise between
// neighbouring points -- noise large enough to reorder them.
bool NoiseCanReorder(std::span<const double> x, std::span<const double> y,
                     double slope);

// Whether the rise of `y` survives the single step that best explains it:
// over every split of the series into two segments of at least two points,
// the Mann-Kendall confidence that the segments rise *within themselves*
// (S_left + S_right against Var_left + Var_right). Returns the smallest of
// these confidences: near 0.5 for one step between two flat stretches,
// high for a steady rise, a staircase, or a flat stretch followed by a rise.
double RiseWithinSegmentsConfidence(std::span<const double> y,
                                    double variance_factor = 1);

// --- Fused forms for ClassifyGrowth, which needs several of the above on
// one window. Each returns exactly (bit for bit) what the separate calls
// named return, from one set of pair slopes instead of several.

// For x = 0, 1, ..., n - 1 (the points' order) and h = n / 2:
// TheilSenSlope(x, y) (when `whole`; else left 0),
// TheilSenSlope(x.first(h), y.first(h)) and
// TheilSenSlope(x.last(h), y.last(h)). At most kMaxTrendPoints points.
struct OrderSlopes {
  double all = 0, earlier = 0, recent = 0;
};
OrderSlopes TheilSenSlopesInOrder(std::span<const double> y, bool whole = true);

// TheilSenSlope(x, y), SenSlopeLowerBound(x, y, confidence,
// variance_factor) and SenSlopeUpperBound(the same), given z =
// NormalQuantile(confidence) and mk_variance =
// MannKendallStatistic(y).variance. At most kMaxTrendPoints points.
struct SenSlope {
  double slope = 0, lower = 0, upper = 0;  // upper: SenSlopeUpperBound's
};
SenSlope TheilSenSlopeAndLowerBound(std::span<const double> x,
                                    std::span<const double> y, double z,
                                    double mk_variance, double variance_factor);

// RiseWithinSegmentsConfidence(y, variance_factor) >= level, given
// s = MannKendallStatistic(y).s; stops at the first split below `level`.
bool RiseWithinSegmentsAtLeast(std::span<const double> y,
                               double variance_factor, long s, double level);

// Standard normal distribution function and its inverse (p in (0, 1)).
double NormalCdf(double z);
double NormalQuantile(double p);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_TREND_H_
