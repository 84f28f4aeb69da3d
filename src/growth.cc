// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/growth.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "trend.h"

namespace memmon {
namespace {

using internal::kMaxTrendPoints;

// A large drop is more than this many robust standard deviations of the
// sample-to-sample change, and more than kDropMinFraction of the level.
constexpr double kDropSigmas = 6.0;
constexpr double kDropMinFraction = 0.005;
// No single step may explain a steady rise: the segments on either side of
// the best split must still rise with this confidence.
constexpr double kWithinConfidence = 0.9;
// Levelling off: the recent half rises at under this share of the earlier.
constexpr double kLevellingRatio = 0.5;

double Median(double* first, std::size_t n) {
  auto mid = first + n / 2;
  std::nth_element(first, mid, first + n);
  double upper = *mid;
  if (n % 2 == 1) return upper;
  return (*std::max_element(first, mid) + upper) / 2;
}

// Samples per floor block: enough for at most 64 blocks, and enough that
// every block holds one trough of a sawtooth (the longest distance between
// two large drops, plus a quarter for irregular periods).
std::size_t AutoBlock(std::span<const double> y) {
  std::size_t n = y.size();
  std::size_t block = (n + kMaxTrendPoints - 1) / kMaxTrendPoints;
  if (n < 3) return std::max<std::size_t>(block, 1);
  std::array<double, kMaxGrowthSamples> d;
  std::size_t m = n - 1;
  double scale = 0;
  for (std::size_t i = 1; i < n; ++i) {
    d[i - 1] = y[i] - y[i - 1];
    scale += std::fabs(y[i]);
  }
  scale /= static_cast<double>(m);
  double center = Median(d.data(), m);
  for (std::size_t i = 0; i < m; ++i) d[i] = std::fabs(d[i] - center);
  double sigma = 1.4826 * Median(d.data(), m);
  double drop = std::max(kDropSigmas * sigma, kDropMinFraction * scale);
  std::size_t drops = 0, last = 0, longest = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (y[i - 1] - y[i] <= drop) continue;
    if (drops > 0) longest = std::max(longest, i - last);
    last = i;
    ++drops;
  }
  if (drops >= 2) block = std::max(block, longest + longest / 4 + 1);
  return std::max<std::size_t>(block, 1);
}

struct Window {
  std::span<const double> x, y;
};

bool RisesSteadily(Window w, double confidence) {
  if (internal::MannKendallRising(w.y) < confidence) return false;
  if (internal::TheilSenSlope(w.x, w.y) <= 0) return false;
  if (internal::RiseWithinSegmentsConfidence(w.y) < kWithinConfidence) {
    return false;
  }
  std::size_t half = w.y.size() / 2;
  double earlier = internal::TheilSenSlope(w.x.first(half), w.y.first(half));
  double recent = internal::TheilSenSlope(w.x.last(half), w.y.last(half));
  return recent > 0 && recent >= kLevellingRatio * earlier;
}

// Fills the numbers of `out` for window `w`; x is relative to `now` (<= 0).
void Describe(Window w, double confidence, double window_start,
              GrowthTrend* out) {
  out->slope_per_s = internal::TheilSenSlope(w.x, w.y);
  out->slope_lower_per_s = internal::SenSlopeLowerBound(w.x, w.y, confidence);
  out->confidence = internal::MannKendallRising(w.y);
  std::array<double, kMaxTrendPoints> r;
  for (std::size_t i = 0; i < w.y.size(); ++i) {
    r[i] = w.y[i] - out->slope_per_s * w.x[i];
  }
  double intercept = Median(r.data(), w.y.size());  // the line's value at now
  out->level = intercept;
  out->start_level = intercept + out->slope_per_s * window_start;
  out->window_s = -window_start;
  out->points = w.y.size();
}

}  // namespace

std::string_view ToString(GrowthKind kind) {
  switch (kind) {
    case GrowthKind::kUnknown: return "unknown";
    case GrowthKind::kFlat: return "flat";
    case GrowthKind::kBounded: return "bounded";
    case GrowthKind::kUnbounded: return "unbounded";
  }
  return "unknown";
}

GrowthTrend ClassifyGrowth(std::span<const double> times_s,
                           std::span<const double> values,
                           const GrowthOptions& options) {
  std::size_t n = std::min({times_s.size(), values.size(), kMaxGrowthSamples});
  std::span<const double> t = times_s.first(std::min(times_s.size(), values.size())).last(n);
  std::span<const double> v = values.first(std::min(times_s.size(), values.size())).last(n);
  std::size_t min_points =
      std::clamp<std::size_t>(options.min_points, 4, kMaxTrendPoints);
  double confidence = std::clamp(options.confidence, 0.5, 1 - 1e-12);

  GrowthTrend out;
  out.block_samples =
      options.block_samples > 0 ? options.block_samples : AutoBlock(v);
  std::size_t b = out.block_samples;
  std::size_t m = std::min(n / b, kMaxTrendPoints);
  if (m < min_points) return out;

  // The floor: each block's minimum, at the time it occurred, relative to
  // the last sample's time (x <= 0 keeps large clock values precise).
  double now = t[n - 1];
  std::size_t offset = n - m * b;
  std::array<double, kMaxTrendPoints> x, y, starts;
  for (std::size_t j = 0; j < m; ++j) {
    std::size_t begin = offset + j * b;
    std::size_t arg = begin;
    for (std::size_t i = begin + 1; i < begin + b; ++i) {
      if (v[i] < v[arg]) arg = i;
    }
    x[j] = t[arg] - now;
    y[j] = v[arg];
    starts[j] = t[begin] - now;
  }

  auto window = [&](std::size_t len) {
    return Window{std::span<const double>(x.data() + m - len, len),
                  std::span<const double>(y.data() + m - len, len)};
  };
  for (std::size_t len = m; len >= min_points; len /= 2) {
    if (!RisesSteadily(window(len), confidence)) continue;
    out.kind = GrowthKind::kUnbounded;
    Describe(window(len), confidence, starts[m - len], &out);
    out.window_samples = len * b;
    return out;
  }
  Describe(window(m), confidence, starts[0], &out);
  out.window_samples = m * b;
  out.kind = out.confidence >= confidence && out.slope_per_s > 0
                 ? GrowthKind::kBounded
                 : GrowthKind::kFlat;
  return out;
}

}  // namespace memmon
