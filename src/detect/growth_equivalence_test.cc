// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ClassifyGrowth's speed-ups change cost, never an answer: the pre-check
// (MayRiseSteadily), the windows it lets ClassifyGrowth skip, the fused
// statistics (one set of pair slopes for several medians, Mann-Kendall
// computed once per window) and the TrendCache. Each test compares against
// the direct computation -- for ClassifyGrowth, the code as it was before,
// kept verbatim below -- on seeded random series of many shapes. Integers
// (Mann-Kendall S) and every GrowthTrend field, doubles included, must be
// exactly equal: no tolerance.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "detect/growth_internal.h"
#include "detect/trend.h"
#include "memmon/growth.h"

namespace memmon {

// --- The reference: ClassifyGrowth as it was before the pre-check, the
// window skipping and the fused statistics (src/growth.cc at 1478b34),
// verbatim (only reformatted), over the unchanged separate statistics of
// trend.h (TheilSenSlope, SenSlopeLowerBound, MannKendallRising,
// RiseWithinSegmentsConfidence, AutocorrelationVarianceFactor).
namespace reference {

namespace {

using internal::kMaxTrendPoints;

// A large drop is more than this many robust standard deviations of the
// sample-to-sample change, and more than kDropMinFraction of the level.
constexpr double kDropSigmas = 6.0;
constexpr double kDropRises = 2.0;
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
// sawtooth: the period (the upper quartile of the distances between large
// drops), plus a quarter
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
  std::array<double, kMaxGrowthSamples> up;
  std::size_t rises = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (d[i] > 0) up[rises++] = d[i];
  }
  double rise = rises > 0 ? Median(up.data(), rises) : 0;
  double center = Median(d.data(), m);
  for (std::size_t i = 0; i < m; ++i) d[i] = std::fabs(d[i] - center);
  double sigma = 1.4826 * Median(d.data(), m);
  double drop = std::max(
      {kDropSigmas * sigma, kDropMinFraction * scale, kDropRises * rise});
  // The distances between consecutive drops; the period is their upper
  // quartile, so that a few drops lost in noise (a distance of two or
  // three periods) or found in it do not set it.
  std::array<std::size_t, kMaxGrowthSamples> gaps;
  std::size_t drops = 0, last = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (y[i - 1] - y[i] <= drop) continue;
    if (drops > 0) gaps[drops - 1] = i - last;
    last = i;
    ++drops;
  }
  if (drops < 2) return block;
  std::size_t count = drops - 1;
  auto q = gaps.begin() + static_cast<std::ptrdiff_t>(count * 3 / 4);
  std::nth_element(gaps.begin(), q,
                   gaps.begin() + static_cast<std::ptrdiff_t>(count));
  std::size_t period = *q;
  return period + period / 4 + 1;
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
  std::size_t m = n - 1;  // differences d[i] = y[i + 1] - y[i]
  // A centred difference is quiet (no noise) when it is below a
  // thousandth of the typical step, or rounding at the level's scale.
  double scale = 0, step = 0;
  for (double v : y) scale += std::fabs(v);
  for (std::size_t i = 1; i < n; ++i) step += std::fabs(y[i] - y[i - 1]);
  double quiet_below = std::max(1e-9 * scale / static_cast<double>(n),
                                1e-3 * step / static_cast<double>(n - 1));
  double num = 0, den = 0, prev = 0;
  std::size_t quiet = 0;
  for (std::size_t i = 0; i < m; ++i) {
    std::size_t lo = i >= kReach ? i - kReach : 0;
    std::size_t hi = std::min(m, i + kReach + 1);
    std::array<double, 2 * kReach + 1> near;
    for (std::size_t j = lo; j < hi; ++j) near[j - lo] = y[j + 1] - y[j];
    double local = Median(near.data(), hi - lo);
    double d = (y[i + 1] - y[i]) - local;
    quiet += std::fabs(d) <= quiet_below;
    den += d * d;
    if (i > 0) num += prev * d;
    prev = d;
  }
  // Mostly noise-free (a count that holds, then steps; a straight line):
  // there is no noise to be correlated, and a change of slope would pass
  // for it.
  if (!(den > 0) || 2 * quiet > m) return 0;
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
  for (std::size_t i = 0; i < w.y.size(); ++i)
    order[i] = static_cast<double>(i);
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
  j.decelerating =
      earlier > 0 && recent < kDeceleratingRatio * earlier &&
      internal::MannKendallRising(w.y.first(half)) >= confidence &&
      internal::MannKendallRising(w.y.last(half)) < kRecentConfidence;
  // Cheapest tests first.
  j.steady =
      slope > 0 && recent > 0 && recent >= kLevellingRatio * earlier &&
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

GrowthTrend ClassifyGrowth(std::span<const double> times_s,
                           std::span<const double> values,
                           const GrowthOptions& options) {
  std::size_t n = std::min({times_s.size(), values.size(), kMaxGrowthSamples});
  std::span<const double> t =
      times_s.first(std::min(times_s.size(), values.size())).last(n);
  std::span<const double> v =
      values.first(std::min(times_s.size(), values.size())).last(n);
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
               : std::max(sawtooth,
                          (len + kMaxTrendPoints - 1) / kMaxTrendPoints);
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
    Window w{std::span<const double>(x.data(), m),
             std::span<const double>(y.data(), m)};
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
      out.kind =
          internal::MannKendallRising(w.y) >= confidence && out.slope_per_s > 0
              ? GrowthKind::kBounded
              : GrowthKind::kFlat;
      first = false;
    }
  }
  if (best.kind == GrowthKind::kUnbounded) return best;
  if (first) out.block_samples = std::max<std::size_t>(sawtooth, 1);
  return out;
}

}  // namespace reference

namespace {

// A series of `n` samples of a shape picked by `shape`, with noise; times
// 1 s apart with some jitter.
struct Series {
  std::vector<double> t, v;
};

constexpr int kShapes = 12;

Series RandomSeries(std::mt19937_64& rng, int shape, std::size_t n) {
  std::normal_distribution<double> gauss(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  double sigma = 0.5 + 20 * unit(rng);
  double slope = (unit(rng) < 0.5 ? 0.02 : 1.5) * unit(rng) * sigma;
  std::size_t onset = n == 0 ? 0 : rng() % n;
  std::size_t period = 3 + rng() % 20;
  Series s;
  double t = 1000 * unit(rng), ar = 0, walk = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double x = static_cast<double>(i);
    double e = sigma * gauss(rng);
    double v = 1000;
    switch (shape) {
      case 0:
        v += e;
        break;  // flat noise
      case 1:
        v += slope * x + e;
        break;  // leak
      case 2:
        v += (i < onset ? 0 : slope * (x - onset)) + e;
        break;  // late leak
      case 3:
        v += (i < onset ? 0 : 50 * sigma) + e;
        break;  // one step
      case 4:
        v += 40 * sigma * (1 - std::exp(-x / (1 + onset / 4.0))) + e;
        break;
      case 5:
        v += 10 * sigma * static_cast<double>(i % period) + e;
        break;  // saw
      case 6:   // rising saw
        v += 10 * sigma * static_cast<double>(i % period) + slope * x + e;
        break;
      case 7:
        ar = 0.8 * ar + e;
        v += ar;
        break;  // wandering
      case 8:   // a count
        v = 16 + static_cast<double>(rng() % 3 == 0) +
            (unit(rng) < 0.3 ? std::floor(slope * x / sigma) : 0);
        break;
      case 9:
        v = 42;
        break;  // constant
      case 10:
        v += 30 * sigma * std::sqrt(x) + e;
        break;  // decelerating
      default:
        walk += e;
        v += walk;
        break;  // random walk
    }
    s.v.push_back(std::round(v * 16) / 16);  // some ties
    t += 1 + 0.2 * unit(rng) * (rng() % 10 == 0 ? 20 : 1);
    s.t.push_back(t);
  }
  return s;
}

GrowthOptions RandomOptions(std::mt19937_64& rng) {
  GrowthOptions o;
  const std::size_t min_points[] = {4, 6, 8, 10, 10, 10, 16, 64};
  o.min_points = min_points[rng() % 8];
  const double confidence[] = {0.5, 0.9, 0.99, 0.99, 0.99, 0.999};
  o.confidence = confidence[rng() % 6];
  if (rng() % 6 == 0) o.block_samples = 1 + rng() % 5;
  return o;
}

void ExpectSame(const GrowthTrend& a, const GrowthTrend& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.slope_per_s, b.slope_per_s);
  EXPECT_EQ(a.slope_lower_per_s, b.slope_lower_per_s);
  EXPECT_EQ(a.confidence, b.confidence);
  EXPECT_EQ(a.start_level, b.start_level);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.window_s, b.window_s);
  EXPECT_EQ(a.window_samples, b.window_samples);
  EXPECT_EQ(a.points, b.points);
  EXPECT_EQ(a.block_samples, b.block_samples);
}

// 4000 series of every shape, 4..400 samples (a few past
// kMaxGrowthSamples), random options: ClassifyGrowth equals the reference
// field for field, and kUnbounded always passed the pre-check.
TEST(GrowthEquivalence, NeverChangesTheAnswer) {
  std::mt19937_64 rng(2026);
  int unbounded = 0, ruled_out = 0, flat_ruled_out = 0, flat = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    int shape = trial % kShapes;
    std::size_t n = trial % 200 == 0 ? 2100 : 4 + rng() % 400;
    Series s = RandomSeries(rng, shape, n);
    GrowthOptions o = RandomOptions(rng);
    GrowthTrend fast = ClassifyGrowth(s.t, s.v, o);
    GrowthTrend before = reference::ClassifyGrowth(s.t, s.v, o);
    SCOPED_TRACE(testing::Message()
                 << "trial " << trial << " shape " << shape << " n " << n);
    ExpectSame(fast, before);
    bool may = internal::MayRiseSteadily(s.v, o);
    std::optional<GrowthTrend> only = internal::UnboundedTrend(s.t, s.v, o);
    ASSERT_EQ(only.has_value(), before.kind == GrowthKind::kUnbounded);
    if (only) ExpectSame(*only, before);
    if (fast.kind == GrowthKind::kUnbounded) {
      ++unbounded;
      EXPECT_TRUE(may);
    }
    ruled_out += !may;
    if (shape == 0 && o.confidence >= 0.99) {
      ++flat;
      flat_ruled_out += !may;
    }
  }
  // Not vacuous: many leaks among them, and the pre-check rules out most
  // flat series (at 99 % each window passes 1 % of the time).
  EXPECT_GT(unbounded, 600);
  EXPECT_GT(ruled_out, 1500);
  EXPECT_GT(flat_ruled_out, flat * 8 / 10);
}

// The monitor's use: a window of 100 (and a history still filling) slides
// over a long series one sample at a time, one cache across all of it and
// across several series (as heap and RSS share the monitor's). With the
// cache, the same answers as without and as the reference; and the cache
// answers almost every call incrementally.
TEST(GrowthEquivalence, CacheAcrossSlidingWindows) {
#ifdef MEMMON_SANITIZED
  constexpr int kRuns = 6;  // tests/CMakeLists.txt says why
#else
  constexpr int kRuns = 24;
#endif
  std::mt19937_64 rng(99);
  internal::TrendCache cache;
  GrowthOptions o;
  o.min_points = 10;
  int checked = 0;
  for (int run = 0; run < kRuns; ++run) {
    Series a = RandomSeries(rng, run % kShapes, 400);
    Series b = RandomSeries(rng, (run * 5 + 3) % kShapes, 400);
    for (std::size_t end = 1; end <= 400; ++end) {
      for (const Series* s : {&a, &b}) {
        std::size_t len = std::min<std::size_t>(end, 100);
        std::span<const double> v = std::span(s->v).first(end).last(len);
        std::span<const double> t = std::span(s->t).first(end).last(len);
        bool cached = internal::MayRiseSteadily(v, o, &cache);
        ASSERT_EQ(cached, internal::MayRiseSteadily(v, o)) << run << " " << end;
        GrowthTrend before = reference::ClassifyGrowth(t, v, o);
        ExpectSame(ClassifyGrowth(t, v, o), before);
        if (before.kind == GrowthKind::kUnbounded) {
          ASSERT_TRUE(cached) << run << " " << end;
        }
        // As the detectors call it: with the cache, after the pre-check.
        std::optional<GrowthTrend> only =
            internal::UnboundedTrend(t, v, o, &cache);
        ASSERT_EQ(only.has_value(), before.kind == GrowthKind::kUnbounded);
        if (only) ExpectSame(*only, before);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, kRuns * 400 * 2);
  EXPECT_GT(cache.hits(), 10 * cache.misses());
}

// TrendCache::Suffixes against MannKendallSuffixes, exact, over sequences
// of calls that slide by one point (the hit path), stay the same, grow,
// jump (misses), alternate alignments, and carry many ties.
TEST(TrendCache, SuffixesMatchTheDirectComputation) {
  std::mt19937_64 rng(5);
  internal::TrendCache cache;
  std::vector<double> stream;
  for (int i = 0; i < 40000; ++i) {
    stream.push_back(i % 3 == 0 ? static_cast<double>(rng() % 5)
                                : static_cast<double>(rng() % 100000));
  }
  internal::SuffixStatistics want, got;
  // Two floors (blocks of 1 and of 2) moving independently, each in its
  // own part of the stream.
  std::size_t start[3] = {0, 0, 10000}, size[3] = {0, 10, 30};
  for (int call = 0; call < 20000; ++call) {
    std::size_t b = 1 + rng() % 2;
    switch (rng() % 10) {
      case 0:
        start[b] = (b - 1) * 10000 + rng() % 9000;
        break;  // jump
      case 1:
        break;  // the same
      case 2:
        if (size[b] < internal::kMaxTrendPoints) ++size[b];
        break;
      case 3:
        size[b] = 1 + rng() % internal::kMaxTrendPoints;
        break;
      default:
        ++start[b];
        break;  // slide
    }
    std::span<const double> y = std::span(stream).subspan(start[b], size[b]);
    internal::MannKendallSuffixes(y, &want);
    cache.Suffixes(b, y, &got);
    for (std::size_t k = 0; k <= size[b]; ++k) {
      ASSERT_EQ(got.s[k], want.s[k]) << "call " << call << " k " << k;
      ASSERT_EQ(got.ties[k], want.ties[k]) << "call " << call << " k " << k;
    }
  }
  EXPECT_GT(cache.hits(), 5000u);
  EXPECT_GT(cache.misses(), 1000u);
}

// TrendCache::DifferenceMedians against the two nth_element medians of the
// original sawtooth test (reference::Median), exact, for five series taking
// turns (one more than the cache holds) that slide, grow, stay, jump and
// drop a few samples at once; values with many ties, steps and constants.
TEST(TrendCache, DifferenceMediansMatchTheDirectComputation) {
  std::mt19937_64 rng(17);
  internal::TrendCache cache;
  constexpr int kSeries = 5;
  std::vector<double> stream[kSeries];
  for (int k = 0; k < kSeries; ++k) {
    for (int i = 0; i < 30000; ++i) {
      double v;
      switch (k) {
        case 0:
          v = static_cast<double>(rng() % 7);
          break;  // ties
        case 1:
          v = 1e8 + static_cast<double>(rng() % 4096) * 4096;
          break;
        case 2:
          v = 42;
          break;  // constant
        case 3:
          v = static_cast<double>(i % 13) * 1000 +
              static_cast<double>(rng() % 3);
          break;
        default:
          v = std::round(1e6 * std::sin(i * 0.01)) +
              static_cast<double>(rng() % 100);
      }
      stream[k].push_back(v);
    }
  }
  std::size_t start[kSeries] = {}, size[kSeries];
  for (std::size_t& z : size) z = 100;
  int answered = 0;
  for (int call = 0; call < 30000; ++call) {
    int k = static_cast<int>(rng() % kSeries);
    switch (rng() % 12) {
      case 0:
        start[k] = rng() % 20000;
        break;  // jump
      case 1:
        break;  // same
      case 2:
        if (size[k] < internal::TrendCache::kMaxDifferenceSeries) ++size[k];
        break;
      case 3: {  // drop a few
        std::size_t r = 1 + rng() % 6;
        if (size[k] > r + 3) {
          start[k] += r;
          size[k] -= r - 1;
        }
        break;
      }
      case 4:
        size[k] = 3 + rng() % (internal::TrendCache::kMaxDifferenceSeries - 2);
        break;
      default:
        ++start[k];
        break;  // slide
    }
    size[k] = std::min(size[k], internal::TrendCache::kMaxDifferenceSeries);
    std::span<const double> y = std::span(stream[k]).subspan(start[k], size[k]);
    double center, mad, rise;
    ASSERT_TRUE(cache.DifferenceMedians(y, &center, &mad, &rise));
    std::vector<double> d, up;
    for (std::size_t i = 1; i < y.size(); ++i) d.push_back(y[i] - y[i - 1]);
    for (double x : d) {
      if (x > 0) up.push_back(x);
    }
    double want_rise = up.empty() ? 0 : reference::Median(up.data(), up.size());
    ASSERT_EQ(rise, want_rise) << "call " << call << " series " << k;
    double want_center = reference::Median(d.data(), d.size());
    for (double& x : d) x = std::fabs(x - want_center);
    double want_mad = reference::Median(d.data(), d.size());
    ASSERT_EQ(center, want_center) << "call " << call << " series " << k;
    ASSERT_EQ(mad, want_mad) << "call " << call << " series " << k;
    ++answered;
  }
  EXPECT_EQ(answered, 30000);
  EXPECT_GT(cache.difference_hits(), 15000u);  // most calls were updates
  std::vector<double> too_long(internal::TrendCache::kMaxDifferenceSeries + 1,
                               1.0);
  double center, mad, rise;
  EXPECT_FALSE(cache.DifferenceMedians(too_long, &center, &mad, &rise));
  std::vector<double> infinite{1, 2, INFINITY};
  EXPECT_FALSE(cache.DifferenceMedians(infinite, &center, &mad, &rise));
}

}  // namespace
}  // namespace memmon
