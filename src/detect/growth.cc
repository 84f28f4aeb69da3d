// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/growth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>

#include "detect/growth_internal.h"
#include "detect/trend.h"

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

// The median of the differences y[i] - y[i - 1], the median of their
// absolute deviations from it, and the median of the positive ones (0 when
// none is), as Median() gives them.
void DifferenceMedians(std::span<const double> y, double* center, double* mad,
                       double* rise) {
  std::size_t m = y.size() - 1;
  std::array<double, kMaxGrowthSamples> d;
  std::size_t k = 0;
  for (std::size_t i = 1; i < y.size(); ++i) {
    d[i - 1] = y[i] - y[i - 1];
    if (d[i - 1] > 0) d[k++] = d[i - 1];  // k <= i - 1: not yet needed
  }
  *rise = k > 0 ? Median(d.data(), k) : 0;
  for (std::size_t i = 1; i < y.size(); ++i) d[i - 1] = y[i] - y[i - 1];
  *center = Median(d.data(), m);
  for (std::size_t i = 0; i < m; ++i) d[i] = std::fabs(d[i] - *center);
  *mad = Median(d.data(), m);
}

// A large drop also undoes more than this many typical rises (the median
// positive difference): a sawtooth's flush undoes a tooth's worth, while a
// count that steps by one and jitters by one has no large drop.
constexpr double kDropRises = 2.0;

// The drop a fall must exceed to be large, for a series of n >= 3 samples
// whose mean absolute level is `scale`, given the median absolute deviation
// of its differences and the median of the positive ones.
double LargeDropThreshold(double scale, double mad, double rise) {
  return std::max({kDropSigmas * 1.4826 * mad, kDropMinFraction * scale,
                   kDropRises * rise});
}

// Samples per floor block so that every block holds one trough of a
// sawtooth: the period (the upper quartile of the distances between large
// drops), plus a quarter
// for irregular periods. 1 when there is no sawtooth. `cache` (optional)
// keeps the differences sorted between calls.
std::size_t SawtoothBlock(std::span<const double> y,
                          internal::TrendCache* cache = nullptr) {
  std::size_t n = y.size();
  std::size_t block = 1;
  if (n < 3) return block;
  std::size_t m = n - 1;
  double scale = 0;
  for (std::size_t i = 1; i < n; ++i) scale += std::fabs(y[i]);
  scale /= static_cast<double>(m);
  // A drop is at least kDropMinFraction * scale: fewer than two falls that
  // large (the usual case) settle it without the two medians below.
  if (!std::isnan(scale)) {
    double least = kDropMinFraction * scale;
    std::size_t falls = 0;
    for (std::size_t i = 1; i < n; ++i) falls += y[i - 1] - y[i] > least;
    if (falls < 2) return block;
  }
  double center, mad, rise;
  if (cache == nullptr || !cache->DifferenceMedians(y, &center, &mad, &rise)) {
    DifferenceMedians(y, &center, &mad, &rise);
  }
  double drop = LargeDropThreshold(scale, mad, rise);
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

// Median() of nine values by a fixed network of 19 compare-exchanges
// (Paeth's; as in Devillard's "Fast median search"): the same value, without
// the selection's branches, for the serial-correlation estimate's centring,
// which takes one per difference of every window judged.
double MedianOf9(std::array<double, 9> p) {
  auto sort2 = [&p](int a, int b) {
    double lo = std::min(p[a], p[b]);
    p[b] = std::max(p[a], p[b]);
    p[a] = lo;
  };
  sort2(1, 2), sort2(4, 5), sort2(7, 8), sort2(0, 1), sort2(3, 4);
  sort2(6, 7), sort2(1, 2), sort2(4, 5), sort2(7, 8), sort2(0, 3);
  sort2(5, 8), sort2(4, 7), sort2(3, 6), sort2(1, 4), sort2(2, 5);
  sort2(4, 7), sort2(4, 2), sort2(6, 4), sort2(4, 2);
  return p[4];
}

// Lag-1 autocorrelation of the noise in raw samples, from their first
// differences so that a trend does not count: for AR(1) noise with
// coefficient rho the differences have lag-1 autocorrelation -(1 - rho) / 2,
// for white noise -1/2. Each difference is centred on the median of its
// neighbours (+-4), so a change of slope (a leak starting) is not taken for
// correlation (the mean would smear the kink over its neighbours, and at
// the end of a stretch, where the neighbours are one-sided, make it look
// like a run). Clamped to [0, 0.9]; 0 when most differences are exactly
// their neighbours' mean (no noise: a count that steps, a straight line).
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
    double local =
        hi - lo == near.size() ? MedianOf9(near) : Median(near.data(), hi - lo);
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

// MannKendallRising(y, variance_factor) for the y that `mk` is of.
double Rising(const internal::MannKendall& mk, std::size_t n,
              double variance_factor = 1) {
  if (std::min(n, kMaxTrendPoints) < 3) return 0.5;
  return internal::MannKendallConfidence(mk.s, mk.variance * variance_factor);
}

// Judges window `w`. Only what the caller needs is computed:
//   - decelerating, always;
//   - variance_factor when `need_factor` (from `block_rho`, the raw series'
//     serial correlation carried to floor points `b` samples apart: rho^b);
//   - steady when `may_rise` (else it stays false: the pre-check showed it
//     cannot hold), which needs the factor and `mk`,
//     MannKendallStatistic(w.y).
//
// The shape tests (levelling, deceleration, the residuals' correlation)
// use the floor points' order, not their times: a monitor thread that was
// descheduled, or samples bunched together, bend a steady rise in time but
// not in order. Rates (the reported slope, the projection) use times.
Judgement Judge(Window w, double confidence, bool may_rise, bool need_factor,
                double block_rho, const internal::MannKendall& mk,
                double noise_rho_b = 0, double noise_sd = 0) {
  Judgement j;
  need_factor = need_factor || may_rise;
  // The Theil-Sen slopes over the window and its halves, in order.
  internal::OrderSlopes slopes =
      internal::TheilSenSlopesInOrder(w.y, /*whole=*/need_factor);
  double slope = slopes.all;
  std::size_t half = w.y.size() / 2;
  double earlier = slopes.earlier;
  double recent = slopes.recent;
  // Decelerating: in time (the slopes) and in rank (the recent half no
  // longer rises clearly on its own) -- a burst of samples taken close
  // together, then a pause, bends the slopes of a steady rise but not its
  // ranks.
  j.decelerating =
      earlier > 0 && recent < kDeceleratingRatio * earlier &&
      internal::MannKendallRising(w.y.first(half)) >= confidence &&
      internal::MannKendallRising(w.y.last(half)) < kRecentConfidence;
  if (!need_factor) return j;
  std::array<double, kMaxTrendPoints> order;
  for (std::size_t i = 0; i < w.y.size(); ++i)
    order[i] = static_cast<double>(i);
  std::span<const double> k(order.data(), w.y.size());
  j.variance_factor =
      std::max(internal::AutocorrelationVarianceFactor(k, w.y, slope),
               (1 + block_rho) / (1 - block_rho));
  // The caller's estimate of the noise's correlation (early warnings: from
  // more samples than the window), where noise could reorder the points:
  // the window's residuals say so, or the caller's estimate of the noise's
  // size is at least half the rise between neighbouring points (under
  // strongly correlated noise a short window's residuals around its own
  // line are a small part of the noise: the wander is the line).
  if (noise_rho_b > 0 && (noise_sd >= 0.5 * std::fabs(slope) ||
                          internal::NoiseCanReorder(k, w.y, slope))) {
    j.variance_factor =
        std::max(j.variance_factor, (1 + noise_rho_b) / (1 - noise_rho_b));
  }
  if (!may_rise) return j;
  // Cheapest tests first.
  j.steady = slope > 0 && recent > 0 && recent >= kLevellingRatio * earlier &&
             Rising(mk, w.y.size(), j.variance_factor) >= confidence &&
             internal::RiseWithinSegmentsAtLeast(w.y, j.variance_factor, mk.s,
                                                 kWithinConfidence);
  return j;
}

// Fills the numbers of `out` for window `w`; x is relative to `now` (<= 0).
// `mk`: MannKendallStatistic(w.y); `z`: NormalQuantile(confidence).
void Describe(Window w, double z, const internal::MannKendall& mk,
              double variance_factor, double window_start, GrowthTrend* out) {
  internal::SenSlope sen = internal::TheilSenSlopeAndLowerBound(
      w.x, w.y, z, mk.variance, variance_factor);
  out->slope_per_s = sen.slope;
  out->slope_lower_per_s = sen.lower;
  out->slope_upper_per_s = sen.upper;
  out->confidence = Rising(mk, w.y.size(), variance_factor);
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

// The windows ClassifyGrowth judges, longest first: f(b, m, offset) for the
// window of the last m * b samples (starting at `offset`) cut into m blocks
// of b; f returns false to stop. Windows with the same b are consecutive,
// and each one's blocks are the last m of the first one's (blocks end at the
// last sample), so its floor points are a suffix of that window's.
template <class F>
void ForEachWindow(std::size_t n, std::size_t sawtooth, std::size_t min_points,
                   const GrowthOptions& options, F&& f) {
  auto block_for = [&](std::size_t len) {
    return options.block_samples > 0
               ? options.block_samples
               : std::max(sawtooth,
                          (len + kMaxTrendPoints - 1) / kMaxTrendPoints);
  };
  std::size_t shortest = min_points * block_for(min_points);
  for (std::size_t len = n; len >= shortest;
       len = len == shortest ? 0 : std::max(shortest, len * 2 / 3)) {
    std::size_t b = block_for(len);
    std::size_t m = std::min(len / b, kMaxTrendPoints);
    if (m < min_points) break;
    if (!f(b, m, n - m * b)) break;
  }
}

// The floor's values over the window (b, m, offset) of `v`: each block's
// minimum, as in ClassifyGrowth.
void FloorValues(std::span<const double> v, std::size_t b, std::size_t m,
                 std::size_t offset, double* y) {
  for (std::size_t j = 0; j < m; ++j) {
    const double* block = v.data() + offset + j * b;
    double lowest = block[0];
    for (std::size_t i = 1; i < b; ++i) {
      if (block[i] < lowest) lowest = block[i];
    }
    y[j] = lowest;
  }
}

// Slack for comparing confidences computed with different variance factors
// (NormalCdf is erfc, accurate to a few ulp, not proven monotone).
constexpr double kConfidenceSlack = 1e-9;

// At most this many windows: they shrink by a third from at most
// kMaxGrowthSamples (2048) samples to at least 4, so there are at most 17.
constexpr std::size_t kMaxWindows = 32;

// What the pre-check found, per window (0 = the longest).
struct WindowScan {
  std::ptrdiff_t last = -1;         // the last window that may rise; -1: none
  std::array<long, kMaxWindows> s;  // Mann-Kendall S of its floor
  std::array<long, kMaxWindows> ties;  // its floor's tied pairs
  std::array<bool, kMaxWindows> may_rise;
};

// The pre-check. A window rises steadily (Judge: j.steady) only if, among
// other things, MannKendallRising(floor, variance_factor) >= confidence,
// where variance_factor >= 1 (both candidates for it are). A factor >= 1
// can only lower the confidence of an S > 1 (z = (S - 1) / sqrt(Var S x
// factor)), and S <= 1 gives z <= 0, a confidence of at most 0.5, whatever
// the factor; so a window whose floor has S <= 1, or whose confidence with
// factor 1 is below `confidence` less a slack for rounding, cannot rise
// steadily: may_rise is false. (With `confidence` at 0.5, every window
// may.) Only windows that may rise need the rest of Judge; the others
// still vetoing shorter ones when they decelerate.
//
// The cost: O(p^2) integer comparisons per block size (every window of one
// block size is a suffix of the longest: one pass gives all their S and
// ties), O(p) per block size with a `cache` that saw the previous tick,
// against Judge's several O(p^2) slope sets and selections per window.
void ScanWindows(std::span<const double> v, std::size_t sawtooth,
                 std::size_t min_points, double confidence,
                 const GrowthOptions& options, internal::TrendCache* cache,
                 WindowScan* scan) {
  std::size_t index = 0;
  std::size_t group_b = 0;  // the block size `y` and `suffixes` are for
  std::size_t group_m = 0;
  std::array<double, kMaxTrendPoints> y;
  internal::SuffixStatistics suffixes;
  bool cannot_skip = confidence <= 0.5 + kConfidenceSlack;
  scan->last = -1;
  ForEachWindow(
      v.size(), sawtooth, min_points, options,
      [&](std::size_t b, std::size_t m, std::size_t offset) {
        if (b != group_b) {
          group_b = b;
          group_m = m;
          FloorValues(v, b, m, offset, y.data());
          std::span<const double> floor(y.data(), m);
          if (cache != nullptr) {
            cache->Suffixes(b, floor, &suffixes);
          } else {
            internal::MannKendallSuffixes(floor, &suffixes);
          }
        }
        long s = suffixes.s[m];
        long ties = suffixes.ties[m];
        bool may_rise =
            cannot_skip || index >= kMaxWindows ||
            (s > 1 &&
             internal::MannKendallConfidence(
                 s, internal::MannKendallVariance(
                        std::span<const double>(y.data(), group_m).last(m),
                        ties)) >= confidence - kConfidenceSlack);
        if (index < kMaxWindows) {
          scan->s[index] = s;
          scan->ties[index] = ties;
          scan->may_rise[index] = may_rise;
        }
        if (may_rise) scan->last = static_cast<std::ptrdiff_t>(index);
        ++index;
        return true;
      });
}

struct Prepared {
  std::size_t n = 0;
  std::span<const double> t, v;
  std::size_t min_points = 0;
  double confidence = 0;
};

Prepared Prepare(std::span<const double> times_s,
                 std::span<const double> values, const GrowthOptions& options) {
  Prepared p;
  std::size_t both = std::min(times_s.size(), values.size());
  p.n = std::min(both, kMaxGrowthSamples);
  p.t = times_s.first(both).last(p.n);
  p.v = values.first(both).last(p.n);
  p.min_points =
      std::clamp<std::size_t>(options.min_points, 4, kMaxTrendPoints);
  p.confidence = std::clamp(options.confidence, 0.5, 1 - 1e-12);
  return p;
}

}  // namespace

namespace internal {

void TrendCache::Suffixes(std::size_t block, std::span<const double> y,
                          SuffixStatistics* out) {
  std::size_t m = std::min(y.size(), kMaxTrendPoints);
  y = y.last(m);
  ++clock_;
  Entry* victim = &entries_[0];
  for (Entry& e : entries_) {
    if (e.used < victim->used) victim = &e;
    if (e.block != block || m == 0 || e.size + 1 < m) continue;
    // y == e.y, or y without its last point == e.y's last m - 1 points.
    bool same = e.size == m && std::equal(y.begin(), y.end(), e.y.begin());
    std::size_t keep = m - 1;
    if (!same &&
        !std::equal(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(keep),
                    e.y.begin() + static_cast<std::ptrdiff_t>(e.size - keep))) {
      continue;
    }
    ++hits_;
    e.used = clock_;
    if (!same) {
      // For the suffix of length L: the remembered suffix of length L - 1
      // plus the new point's pairs with the L - 1 points before it.
      SuffixStatistics next;
      next.s[0] = next.s[1] = next.ties[0] = next.ties[1] = 0;
      double newest = y[m - 1];
      long pairs = 0, tied = 0;
      for (std::size_t len = 2; len <= m; ++len) {
        double earlier = y[m - len];
        pairs += (newest > earlier) - (newest < earlier);
        tied += newest == earlier;
        next.s[len] = e.stats.s[len - 1] + pairs;
        next.ties[len] = e.stats.ties[len - 1] + tied;
      }
      e.stats = next;
      std::copy(y.begin(), y.end(), e.y.begin());
      e.size = m;
    }
    *out = e.stats;
    return;
  }
  ++misses_;
  MannKendallSuffixes(y, out);
  victim->block = block;
  victim->size = m;
  victim->used = clock_;
  std::copy(y.begin(), y.end(), victim->y.begin());
  victim->stats = *out;
}

bool TrendCache::DifferenceMedians(std::span<const double> y, double* center,
                                   double* mad, double* rise) {
  std::size_t n = y.size();
  if (n < 3 || n > kMaxDifferenceSeries) return false;
  std::size_t m = n - 1;
  double newest = y[n - 1] - y[n - 2];
  if (!std::isfinite(newest)) return false;
  ++clock_;
  auto at = [](Differences& e, std::size_t i) {
    return e.sorted.begin() + static_cast<std::ptrdiff_t>(i);
  };
  // A remembered series that y equals, or that y extends by one sample
  // after dropping its oldest few: update its sorted differences, taking
  // out those of the dropped samples (computed as they were put in, so an
  // equal one is there) and putting in the new one.
  Differences* found = nullptr;
  Differences* victim = &differences_[0];
  std::size_t keep = n - 1;
  for (Differences& e : differences_) {
    if (e.used < victim->used) victim = &e;
    if (e.size == 0 || e.size + 1 < n) continue;
    if (e.size == n && std::equal(y.begin(), y.end(), e.y.begin())) {
      found = &e;
      break;
    }
    std::size_t dropped = e.size - keep;
    if (dropped > kMaxDifferenceDrops ||
        !std::equal(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(keep),
                    e.y.begin() + static_cast<std::ptrdiff_t>(dropped))) {
      continue;
    }
    std::size_t count = e.size - 1;
    bool removed = true;
    for (std::size_t j = 0; j < dropped && removed; ++j) {
      double gone = e.y[j + 1] - e.y[j];
      auto it = std::lower_bound(at(e, 0), at(e, count), gone);
      removed = it != at(e, count) && *it == gone;
      if (!removed) break;
      std::copy(it + 1, at(e, count), it);
      --count;
    }
    if (!removed) {  // cannot happen; start afresh
      e.size = 0;
      break;
    }
    auto it = std::upper_bound(at(e, 0), at(e, count), newest);
    std::copy_backward(it, at(e, count), at(e, count + 1));
    *it = newest;
    std::copy(y.begin(), y.end(), e.y.begin());
    e.size = n;
    found = &e;
    break;
  }
  if (found != nullptr) ++difference_hits_;
  if (found == nullptr) {
    // Remember y and its sorted differences (all finite: the walk below
    // needs an order).
    for (std::size_t i = 1; i < n; ++i) {
      double d = y[i] - y[i - 1];
      if (!std::isfinite(d)) {
        victim->size = 0;
        return false;
      }
      victim->sorted[i - 1] = d;
    }
    std::sort(at(*victim, 0), at(*victim, m));
    std::copy(y.begin(), y.end(), victim->y.begin());
    victim->size = n;
    found = victim;
  }
  found->used = clock_;
  const double* d = found->sorted.data();
  // The median, as Median(): the middle one, or the mean of the two.
  std::size_t k = m / 2;
  *center = m % 2 == 1 ? d[k] : (d[k - 1] + d[k]) / 2;
  // The deviations |d - center| in increasing order, by walking outwards
  // from the center on both sides (each side's deviations grow as it goes,
  // rounding included: x - center is monotone in x); their median as
  // Median() takes it.
  std::size_t right =
      static_cast<std::size_t>(std::lower_bound(d, d + m, *center) - d);
  std::size_t left = right;  // the next on the left is left - 1
  double previous = 0, current = 0;
  for (std::size_t taken = 0; taken <= k; ++taken) {
    double from_left = left > 0 ? std::fabs(d[left - 1] - *center)
                                : std::numeric_limits<double>::infinity();
    double from_right = right < m ? std::fabs(d[right] - *center)
                                  : std::numeric_limits<double>::infinity();
    previous = current;
    if (from_left <= from_right) {
      current = from_left;
      --left;
    } else {
      current = from_right;
      ++right;
    }
  }
  *mad = m % 2 == 1 ? current : (previous + current) / 2;
  // The positive differences are the sorted ones after the last <= 0.
  std::size_t first_rise =
      static_cast<std::size_t>(std::upper_bound(d, d + m, 0.0) - d);
  std::size_t rises = m - first_rise;
  const double* r = d + first_rise;
  *rise = rises == 0       ? 0
          : rises % 2 == 1 ? r[rises / 2]
                           : (r[rises / 2 - 1] + r[rises / 2]) / 2;
  return true;
}

LargeDrops FindLargeDrops(std::span<const double> y) {
  LargeDrops out;
  std::size_t n = std::min(y.size(), kMaxGrowthSamples);
  y = y.last(n);
  if (n < 3) return out;
  double scale = 0;
  for (std::size_t i = 1; i < n; ++i) scale += std::fabs(y[i]);
  scale /= static_cast<double>(n - 1);
  double center, mad, rise;
  memmon::DifferenceMedians(y, &center, &mad, &rise);
  double drop = LargeDropThreshold(scale, mad, rise);
  for (std::size_t i = 1; i < n; ++i) {
    if (y[i - 1] - y[i] <= drop) continue;
    ++out.count;
    out.last = i;
  }
  return out;
}

LargeDrops FindLargeRises(std::span<const double> y) {
  std::size_t n = std::min(y.size(), kMaxGrowthSamples);
  y = y.last(n);
  if (n < 3) return {};
  // A large rise is more than kDropMinFraction of the level: no rise that
  // large (the usual case, a level that holds) settles it without the
  // medians of the differences.
  double scale = 0, highest = 0;
  for (std::size_t i = 1; i < n; ++i) {
    scale += std::fabs(y[i]);
    highest = std::max(highest, y[i] - y[i - 1]);
  }
  scale /= static_cast<double>(n - 1);
  if (!(highest > kDropMinFraction * scale)) return {};
  std::array<double, kMaxGrowthSamples> negated;
  for (std::size_t i = 0; i < n; ++i) negated[i] = -y[i];
  return FindLargeDrops(std::span<const double>(negated.data(), n));
}

bool MayRiseSteadily(std::span<const double> values,
                     const GrowthOptions& options, TrendCache* cache) {
  Prepared p = Prepare(values, values, options);  // as ClassifyGrowth does
  if (p.n < p.min_points) return false;
  WindowScan scan;
  ScanWindows(p.v, SawtoothBlock(p.v, cache), p.min_points, p.confidence,
              options, cache, &scan);
  return scan.last >= 0;
}

}  // namespace internal

std::string_view ToString(GrowthKind kind) {
  // In GrowthKind's order.
  constexpr std::string_view kNames[] = {"unknown", "flat", "bounded",
                                         "unbounded"};
  auto i = static_cast<std::size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

namespace {

// ClassifyGrowth. With `describe_all` false, only a kUnbounded answer is
// worked out: anything else comes back as kUnknown, undescribed. `noise_rho`,
// `noise_sd`: internal::UnboundedTrend's.
GrowthTrend Classify(std::span<const double> times_s,
                     std::span<const double> values,
                     const GrowthOptions& options, bool describe_all,
                     internal::TrendCache* cache,
                     double* longest_rise = nullptr, double noise_rho = 0,
                     double noise_sd = 0) {
  // NaN or infinity has no rank: the statistics below would not be defined
  // (Mann-Kendall's tie count would never advance past a NaN).
  auto finite = [](std::span<const double> xs) {
    return std::all_of(xs.begin(), xs.end(),
                       [](double x) { return std::isfinite(x); });
  };
  if (!finite(times_s) || !finite(values)) return GrowthTrend{};
  Prepared p = Prepare(times_s, values, options);
  std::size_t n = p.n;
  std::span<const double> t = p.t, v = p.v;
  std::size_t min_points = p.min_points;
  double confidence = p.confidence;

  GrowthTrend out;
  if (n < min_points) return out;
  std::size_t sawtooth = SawtoothBlock(v, cache);
  // The pre-check: which windows may rise steadily (the others cannot,
  // though their deceleration still vetoes the shorter ones), and each
  // window's Mann-Kendall S. Windows after the last that may rise cannot
  // change the answer: only the first is described, for kFlat and
  // kBounded.
  WindowScan scan;
  ScanWindows(v, sawtooth, min_points, confidence, options, cache, &scan);
  // NormalQuantile(confidence) for the slopes' bounds, once.
  double z = std::numeric_limits<double>::quiet_NaN();
  auto quantile = [&] {
    if (std::isnan(z)) z = internal::NormalQuantile(confidence);
    return z;
  };
  double now = t[n - 1];
  std::array<double, kMaxTrendPoints> x, y;
  // Windows of the last `len` samples, shrinking by a third down to the
  // shortest that still has min_points floor points; each is judged on at
  // most 64 floor points.
  bool first = true;
  bool decelerating = false;  // a longer window is levelling off
  GrowthTrend best;           // the steady window reported
  std::ptrdiff_t index = 0;
  ForEachWindow(
      n, sawtooth, min_points, options,
      [&](std::size_t b, std::size_t m, std::size_t offset) {
        bool describe = first && describe_all;
        if (!describe && index > scan.last) return false;
        std::size_t window = static_cast<std::size_t>(index++);
        bool may_rise = window >= kMaxWindows || scan.may_rise[window];
        // The floor: each block's minimum, at the time it occurred, relative
        // to the last sample's time (x <= 0 keeps large clock values precise).
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
        bool need_factor = may_rise || describe;
        // The noise's serial correlation, from the window's own samples and,
        // as a short window's estimate is weak, from the samples before it.
        double block_rho = 0;
        if (need_factor) {
          double rho = std::max(SerialCorrelation(v.first(offset)),
                                SerialCorrelation(v.subspan(offset)));
          block_rho = std::pow(rho, static_cast<double>(b));
        }
        // MannKendallStatistic(w.y), its S from the pre-check.
        internal::MannKendall mk;
        if (need_factor) {
          if (window < kMaxWindows) {
            mk.s = scan.s[window];
            mk.variance = internal::MannKendallVariance(w.y, scan.ties[window]);
          } else {
            mk = internal::MannKendallStatistic(w.y);
          }
        }
        Judgement j = Judge(
            w, confidence, may_rise, need_factor, block_rho, mk,
            noise_rho > 0 ? std::pow(noise_rho, static_cast<double>(b)) : 0,
            noise_sd);
        bool steady = j.steady && !decelerating;
        decelerating = decelerating || j.decelerating;
        if (steady) {
          // Of the windows that rise steadily, report the one whose rate is
          // surest (the largest lower bound): for a leak that started late, the
          // window that holds only the leak.
          GrowthTrend candidate;
          Describe(w, quantile(), mk, j.variance_factor, t[offset] - now,
                   &candidate);
          candidate.window_samples = m * b;
          candidate.block_samples = b;
          candidate.kind = GrowthKind::kUnbounded;
          if (longest_rise != nullptr && best.kind != GrowthKind::kUnbounded) {
            *longest_rise = candidate.level - candidate.start_level;
          }
          if (best.kind != GrowthKind::kUnbounded ||
              candidate.slope_lower_per_s > best.slope_lower_per_s) {
            best = candidate;
          }
        }
        if (describe) {
          Describe(w, quantile(), mk, j.variance_factor, t[offset] - now, &out);
          out.window_samples = m * b;
          out.block_samples = b;
          // Rose at all, judged without the serial-correlation correction: a
          // step or a levelled curve leaves residuals that look correlated.
          out.kind = Rising(mk, w.y.size()) >= confidence && out.slope_per_s > 0
                         ? GrowthKind::kBounded
                         : GrowthKind::kFlat;
        }
        first = false;
        return true;
      });
  if (best.kind == GrowthKind::kUnbounded) return best;
  if (!describe_all) return GrowthTrend{};
  if (first) out.block_samples = std::max<std::size_t>(sawtooth, 1);
  return out;
}

}  // namespace

GrowthTrend ClassifyGrowth(std::span<const double> times_s,
                           std::span<const double> values,
                           const GrowthOptions& options) {
  return Classify(times_s, values, options, true, nullptr);
}

namespace internal {

std::optional<GrowthTrend> UnboundedTrend(std::span<const double> times_s,
                                          std::span<const double> values,
                                          const GrowthOptions& options,
                                          TrendCache* cache,
                                          double* longest_rise,
                                          double noise_rho, double noise_sd) {
  GrowthTrend trend = Classify(times_s, values, options, false, cache,
                               longest_rise, noise_rho, noise_sd);
  if (trend.kind != GrowthKind::kUnbounded) return std::nullopt;
  return trend;
}

}  // namespace internal

}  // namespace memmon
