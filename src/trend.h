// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Robust trend statistics over short series, without allocation.
//
// Theil-Sen: the slope is the median of the slopes of all pairs of points,
// so up to ~29 % of the points may be outliers without moving it.
// Mann-Kendall: S = sum over pairs i < j of sign(y_j - y_i); under "no
// trend", S is near-normal with variance n(n-1)(2n+5)/18 (ties ignored), and
// Phi((S - 1) / sqrt(var)) is the confidence that the series rises.
//
// Both are O(n^2); n is capped at kMaxTrendPoints so the pair slopes fit on
// the stack (2016 doubles).
#ifndef MEMMON_SRC_TREND_H_
#define MEMMON_SRC_TREND_H_

#include <cstddef>
#include <span>

namespace memmon::internal {

inline constexpr std::size_t kMaxTrendPoints = 64;

// Median pairwise slope dy/dx. Uses at most the last kMaxTrendPoints points;
// 0 with fewer than two or when every pair has equal x.
double TheilSenSlope(std::span<const double> x, std::span<const double> y);

// Confidence in (0, 1) that `y` increases (one-sided Mann-Kendall); 0.5 for
// no evidence either way. Uses at most the last kMaxTrendPoints points.
double MannKendallRising(std::span<const double> y);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_TREND_H_
