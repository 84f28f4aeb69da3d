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

// Samples per floor block so that every block holds one trough of a
// sawtooth: the longest distance between two large drops, plus a quarter
// for irregular periods. 1 when there is no sawtooth.
std::size_t SawtoothBlock(std::span<const double> y) {
  std::size_t n = y.size();
  std::size_t block = 1;
  if (n < 3) return block;
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
  if (drops >= 2) block = longest + longest / 4 + 1;
  return block;
}

// Lag-1 autocorrelation of the noise in raw samples, from their first
// differences so that a trend does not count: for AR(1) noise with
// coefficient rho the differences have lag-1 autocorrelation -(1 - rho) / 2,
// for white noise -1/2. Each difference is centred on the mean of its
// neighbours (+-8), so a change of slope (a leak starting) is not taken for
// correlation. Clamped to [0, 0.9].
double SerialCorrelation(std::span<const double> y) {
  std::size_t n = y.size();
  if (n < 12) return 0;
  constexpr std::size_t kReach = 4;
  std::array<double, kMaxGrowthSamples> prefix;  // prefix[i] = sum of d[0..i)
  prefix[0] = 0;
  for (std::size_t i = 1; i < n; ++i) prefix[i] = prefix[i - 1] + (y[i] - y[i - 1]);
  std::size_t m = n - 1;  // differences d[i] = y[i + 1] - y[i]
  double num = 0, den = 0, prev = 0;
  for (std::size_t i = 0; i < m; ++i) {
    std::size_t lo = i >= kReach ? i - kReach : 0;
    std::size_t hi = std::min(m, i + kReach + 1);
    double local = (prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo);
    double d = (y[i + 1] - y[i]) - local;
    den += d * d;
    if (i > 0) num += prev * d;
    prev = d;
  }
  if (!(den > 0)) return 0;
  return std::clamp(1 + 2 * num / den, 0.0, 0.9);
}

struct Window {
  std::span<const double> x, y;
};

// Levelling off, strongly: the recent half rises at under this share of a
// significantly rising earlier half. Seen in a longer window, it vetoes
// the shorter ones (a warm-up curve looks straight through a short window).
constexpr double kDeceleratingRatio = 0.25;
constexpr double kRecentConfidence = 0.99;

struct Judgement {
  bool steady = false;
  bool decelerating = false;
  double variance_factor = 1;
};

// `block_rho`: the raw series' serial correlation carried to floor points
// `b` samples apart (rho^b).
//
// The shape tests (levelling, deceleration, the residuals' correlation)
// use the floor points' order, not their times: a monitor thread that was
// descheduled, or samples bunched together, bend a steady rise in time but
// not in order. Rates (the reported slope, the projection) use times.
Judgement Judge(Window w, double confidence, double block_rho) {
  Judgement j;
  std::array<double, kMaxTrendPoints> order;
  for (std::size_t i = 0; i < w.y.size(); ++i) order[i] = static_cast<double>(i);
  std::span<const double> k(order.data(), w.y.size());
  double slope = internal::TheilSenSlope(k, w.y);
  j.variance_factor =
      std::max(internal::AutocorrelationVarianceFactor(k, w.y, slope),
               (1 + block_rho) / (1 - block_rho));
  std::size_t half = w.y.size() / 2;
  double earlier = internal::TheilSenSlope(k.first(half), w.y.first(half));
  double recent = internal::TheilSenSlope(k.last(half), w.y.last(half));
  // Decelerating: in time (the slopes) and in rank (the recent half no
  // longer rises clearly on its own) -- a burst of samples taken close
  // together, then a pause, bends the slopes of a steady rise but not its
  // ranks.
  j.decelerating = earlier > 0 && recent < kDeceleratingRatio * earlier &&
                   internal::MannKendallRising(w.y.first(half)) >= confidence &&
                   internal::MannKendallRising(w.y.last(half)) < kRecentConfidence;
  // Cheapest tests first.
  j.steady = slope > 0 && recent > 0 && recent >= kLevellingRatio * earlier &&
             internal::MannKendallRising(w.y, j.variance_factor) >= confidence &&
             internal::RiseWithinSegmentsConfidence(w.y, j.variance_factor) >=
                 kWithinConfidence;
  return j;
}

// Fills the numbers of `out` for window `w`; x is relative to `now` (<= 0).
void Describe(Window w, double confidence, double variance_factor,
              double window_start, GrowthTrend* out) {
  out->slope_per_s = internal::TheilSenSlope(w.x, w.y);
  out->slope_lower_per_s =
      internal::SenSlopeLowerBound(w.x, w.y, confidence, variance_factor);
  out->confidence = internal::MannKendallRising(w.y, variance_factor);
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
  if (n < min_points) return out;
  std::size_t sawtooth = SawtoothBlock(v);
  double now = t[n - 1];
  std::array<double, kMaxTrendPoints> x, y;
  // Windows of the last `len` samples, shrinking by a third down to the
  // shortest that still has min_points floor points; each is judged on at
  // most 64 floor points.
  auto block_for = [&](std::size_t len) {
    return options.block_samples > 0
               ? options.block_samples
               : std::max(sawtooth, (len + kMaxTrendPoints - 1) / kMaxTrendPoints);
  };
  std::size_t shortest = min_points * block_for(min_points);
  bool first = true;
  bool decelerating = false;  // a longer window is levelling off
  GrowthTrend best;           // the steady window reported
  for (std::size_t len = n; len >= shortest;
       len = len == shortest ? 0 : std::max(shortest, len * 2 / 3)) {
    std::size_t b = block_for(len);
    std::size_t m = std::min(len / b, kMaxTrendPoints);
    if (m < min_points) break;
    // The floor: each block's minimum, at the time it occurred, relative
    // to the last sample's time (x <= 0 keeps large clock values precise).
    std::size_t offset = n - m * b;
    for (std::size_t j = 0; j < m; ++j) {
      std::size_t begin = offset + j * b;
      std::size_t arg = begin;
      for (std::size_t i = begin + 1; i < begin + b; ++i) {
        if (v[i] < v[arg]) arg = i;
      }
      x[j] = t[arg] - now;
      y[j] = v[arg];
    }
    Window w{std::span<const double>(x.data(), m), std::span<const double>(y.data(), m)};
    // The noise's serial correlation, from the window's own samples and,
    // as a short window's estimate is weak, from the samples before it.
    double rho = std::max(SerialCorrelation(v.first(offset)),
                          SerialCorrelation(v.subspan(offset)));
    Judgement j = Judge(w, confidence, std::pow(rho, static_cast<double>(b)));
    bool steady = j.steady && !decelerating;
    decelerating = decelerating || j.decelerating;
    if (steady) {
      // Of the windows that rise steadily, report the one whose rate is
      // surest (the largest lower bound): for a leak that started late, the
      // window that holds only the leak.
      GrowthTrend candidate;
      Describe(w, confidence, j.variance_factor, t[offset] - now, &candidate);
      candidate.window_samples = m * b;
      candidate.block_samples = b;
      candidate.kind = GrowthKind::kUnbounded;
      if (best.kind != GrowthKind::kUnbounded ||
          candidate.slope_lower_per_s > best.slope_lower_per_s) {
        best = candidate;
      }
    }
    if (first) {
      Describe(w, confidence, j.variance_factor, t[offset] - now, &out);
      out.window_samples = m * b;
      out.block_samples = b;
      // Rose at all, judged without the serial-correlation correction: a
      // step or a levelled curve leaves residuals that look correlated.
      out.kind = internal::MannKendallRising(w.y) >= confidence && out.slope_per_s > 0
                     ? GrowthKind::kBounded
                     : GrowthKind::kFlat;
      first = false;
    }
  }
  if (best.kind == GrowthKind::kUnbounded) return best;
  if (first) out.block_samples = std::max<std::size_t>(sawtooth, 1);
  return out;
}

}  // namespace memmon
