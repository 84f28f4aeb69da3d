// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/trend.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace memmon::internal {
namespace {

using PairSlopes =
    std::array<double, kMaxTrendPoints*(kMaxTrendPoints - 1) / 2>;

// Fills `slopes` with the slopes of every pair with distinct x; returns how
// many.
std::size_t CollectPairSlopes(std::span<const double> x,
                              std::span<const double> y, PairSlopes* slopes) {
  std::size_t n = std::min({x.size(), y.size(), kMaxTrendPoints});
  x = x.last(n);
  y = y.last(n);
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double dx = x[j] - x[i];
      if (dx != 0) (*slopes)[m++] = (y[j] - y[i]) / dx;
    }
  }
  return m;
}

// The k-th smallest (0-based) of the first m slopes; reorders them.
double KthSmallest(PairSlopes* slopes, std::size_t m, std::size_t k) {
  auto first = slopes->begin();
  auto kth = first + static_cast<std::ptrdiff_t>(k);
  std::nth_element(first, kth, first + static_cast<std::ptrdiff_t>(m));
  return *kth;
}

// n(n-1)(2n+5): the building block of the Mann-Kendall variance.
double VarianceTerm(double n) { return n * (n - 1) * (2 * n + 5); }

double Confidence(double s, double variance) {
  if (variance <= 0) return 0.5;
  // Continuity correction towards zero.
  double z = s > 0   ? (s - 1) / std::sqrt(variance)
             : s < 0 ? (s + 1) / std::sqrt(variance)
                     : 0.0;
  return NormalCdf(z);
}

// Sen's upper confidence limit's rank among the m pair slopes, 0-based:
// the (M2 + 1)-th smallest for M2 = (m + c) / 2, rounded up, where
// c = z * sqrt(Var S) (Sen 1968; Hollander & Wolfe). The lower limit's is
// the M1-th smallest, M1 = (m - c) / 2 (SenSlopeLowerBound). The pair slopes
// need not be symmetric about the median, so neither are the limits.
std::size_t SenUpperRank(std::size_t m, double c) {
  double rank = std::ceil((static_cast<double>(m) + c) / 2);
  if (!(rank < static_cast<double>(m - 1))) return m - 1;
  return rank <= static_cast<double>(m / 2) ? m / 2
                                            : static_cast<std::size_t>(rank);
}

}  // namespace

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double NormalQuantile(double p) {
  if (!(p > 0)) return -INFINITY;
  if (!(p < 1)) return INFINITY;
  // Bisection on the monotone CDF: 80 halvings of [-40, 40] reach double
  // precision; this runs a few times per detection, so speed is moot.
  double lo = -40, hi = 40;
  for (int i = 0; i < 80; ++i) {
    double mid = (lo + hi) / 2;
    (NormalCdf(mid) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

double TheilSenSlope(std::span<const double> x, std::span<const double> y) {
  PairSlopes slopes;
  std::size_t m = CollectPairSlopes(x, y, &slopes);
  if (m == 0) return 0;
  double upper = KthSmallest(&slopes, m, m / 2);
  if (m % 2 == 1) return upper;
  double lower = *std::max_element(
      slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(m / 2));
  return (lower + upper) / 2;
}

namespace {

// The pair slopes of (x, y) into *slopes, their count (0: none), and the
// half-width of the rank interval around the median at `confidence`
// (Sen's, from the Mann-Kendall variance, inflated by variance_factor).
std::size_t SenRankInterval(std::span<const double> x,
                            std::span<const double> y, double confidence,
                            double variance_factor, PairSlopes* slopes,
                            double* c) {
  std::size_t m = CollectPairSlopes(x, y, slopes);
  if (m == 0) return 0;
  std::size_t n = std::min({x.size(), y.size(), kMaxTrendPoints});
  *c = NormalQuantile(confidence) *
       std::sqrt(MannKendallStatistic(y.last(n)).variance * variance_factor);
  return m;
}

}  // namespace

double SenSlopeLowerBound(std::span<const double> x, std::span<const double> y,
                          double confidence, double variance_factor) {
  PairSlopes slopes;
  double c = 0;
  std::size_t m =
      SenRankInterval(x, y, confidence, variance_factor, &slopes, &c);
  if (m == 0) return 0;
  double rank = std::floor((static_cast<double>(m) - c) / 2);
  std::size_t k =
      rank <= 0 ? 0 : std::min(static_cast<std::size_t>(rank), m - 1);
  return KthSmallest(&slopes, m, k);
}

double SenSlopeUpperBound(std::span<const double> x, std::span<const double> y,
                          double confidence, double variance_factor) {
  PairSlopes slopes;
  double c = 0;
  std::size_t m =
      SenRankInterval(x, y, confidence, variance_factor, &slopes, &c);
  if (m == 0) return 0;
  return KthSmallest(&slopes, m, SenUpperRank(m, c));
}

MannKendall MannKendallStatistic(std::span<const double> y) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  y = y.last(n);
  MannKendall mk;
  if (n < 2) return mk;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      mk.s += (y[j] > y[i]) - (y[j] < y[i]);
    }
  }
  mk.variance = MannKendallVariance(y);
  return mk;
}

double MannKendallVariance(std::span<const double> y) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  y = y.last(n);
  if (n < 2) return 0;
  std::array<double, kMaxTrendPoints> sorted;
  std::copy(y.begin(), y.end(), sorted.begin());
  std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n));
  double ties = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && sorted[j] == sorted[i]) ++j;
    if (j - i > 1) ties += VarianceTerm(static_cast<double>(j - i));
    i = j;
  }
  return (VarianceTerm(static_cast<double>(n)) - ties) / 18.0;
}

void MannKendallSuffixes(std::span<const double> y, SuffixStatistics* out) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  y = y.last(n);
  out->s[0] = out->ties[0] = 0;
  if (n == 0) return;
  out->s[1] = out->ties[1] = 0;
  // Adding y[i] in front of the suffix that starts at i + 1 adds its pairs
  // with every later point. Two lanes at a time (GCC/Clang vector
  // extensions: SSE2 on x86-64, NEON on arm64); the points are followed by
  // NaNs, which compare neither greater, less nor equal (as in
  // MannKendallStatistic), so the last vector needs no scalar tail.
  using V = double __attribute__((vector_size(16)));
  using M = long long __attribute__((vector_size(16)));
  constexpr std::size_t kLanes = 2;
  std::array<double, kMaxTrendPoints + 2 * kLanes> padded;
  std::copy(y.begin(), y.end(), padded.begin());
  std::fill(padded.begin() + static_cast<std::ptrdiff_t>(n), padded.end(),
            std::numeric_limits<double>::quiet_NaN());
  long s = 0, ties = 0;
  for (std::size_t i = n - 1; i-- > 0;) {
    V yi = V{} + y[i];
    // Per lane, with a true comparison -1: (yi < y_j) - (yi > y_j), which
    // is -sign(y_j - yi), and -(yi == y_j).
    M up{}, up2{}, eq{};
    std::size_t j = i + 1;
    for (; j + kLanes < n; j += 2 * kLanes) {
      V a, b;
      std::memcpy(&a, &padded[j], sizeof a);
      std::memcpy(&b, &padded[j + kLanes], sizeof b);
      up += (yi < a) - (yi > a);
      up2 += (yi < b) - (yi > b);
      eq += (yi == a) + (yi == b);
    }
    if (j < n) {
      V a;
      std::memcpy(&a, &padded[j], sizeof a);
      up += (yi < a) - (yi > a);
      eq += yi == a;
    }
    up += up2;
    s -= static_cast<long>(up[0] + up[1]);
    ties -= static_cast<long>(eq[0] + eq[1]);
    out->s[n - i] = s;
    out->ties[n - i] = ties;
  }
}

double MannKendallVariance(std::span<const double> y, long tied_pairs) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  if (tied_pairs != 0 || n < 2) return MannKendallVariance(y);
  double ties = 0;  // as MannKendallVariance computes it without ties
  return (VarianceTerm(static_cast<double>(n)) - ties) / 18.0;
}

double MannKendallConfidence(long s, double variance) {
  return Confidence(static_cast<double>(s), variance);
}

double MannKendallRising(std::span<const double> y, double variance_factor) {
  if (std::min(y.size(), kMaxTrendPoints) < 3) return 0.5;
  MannKendall mk = MannKendallStatistic(y);
  return Confidence(static_cast<double>(mk.s), mk.variance * variance_factor);
}

namespace {
// The residuals of y around the line of `slope` (r), their mean, and
// whether their robust spread is at least half the rise between
// neighbouring points.
bool ResidualsCanReorder(std::span<const double> x, std::span<const double> y,
                         double slope, std::array<double, kMaxTrendPoints>* r,
                         double* mean) {
  std::size_t n = y.size();
  *mean = 0;
  for (std::size_t i = 0; i < n; ++i) {
    (*r)[i] = y[i] - slope * x[i];
    *mean += (*r)[i];
  }
  *mean /= static_cast<double>(n);
  // Correlated noise can only fake a rise when it is as large as the rise
  // between neighbouring points; residuals far smaller than that (a clean
  // rise, sampled irregularly) are structure, not noise.
  std::array<double, kMaxTrendPoints> dev;
  for (std::size_t i = 0; i < n; ++i) dev[i] = std::fabs((*r)[i] - *mean);
  std::nth_element(dev.begin(),
                   dev.begin() + static_cast<std::ptrdiff_t>(n / 2),
                   dev.begin() + static_cast<std::ptrdiff_t>(n));
  double noise = 1.4826 * dev[n / 2];
  double step =
      std::fabs(slope) * (x[n - 1] - x[0]) / static_cast<double>(n - 1);
  return !(noise < 0.5 * step);
}
}  // namespace

bool NoiseCanReorder(std::span<const double> x, std::span<const double> y,
                     double slope) {
  std::size_t n = std::min({x.size(), y.size(), kMaxTrendPoints});
  if (n < 4) return false;
  std::array<double, kMaxTrendPoints> r;
  double mean;
  return ResidualsCanReorder(x.last(n), y.last(n), slope, &r, &mean);
}

double AutocorrelationVarianceFactor(std::span<const double> x,
                                     std::span<const double> y, double slope) {
  std::size_t n = std::min({x.size(), y.size(), kMaxTrendPoints});
  x = x.last(n);
  y = y.last(n);
  if (n < 4) return 1;
  std::array<double, kMaxTrendPoints> r;
  double mean;
  bool can_reorder = ResidualsCanReorder(x, y, slope, &r, &mean);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < n; ++i) {
    den += (r[i] - mean) * (r[i] - mean);
    if (i + 1 < n) num += (r[i] - mean) * (r[i + 1] - mean);
  }
  if (!(den > 0)) return 1;
  if (!can_reorder) return 1;
  double rho = std::min(num / den, 0.8);
  return rho > 0 ? (1 + rho) / (1 - rho) : 1;
}

namespace {
double WorstSplitConfidence(std::span<const double> y, double variance_factor,
                            long total, double level);
long SignSum(const double* p, std::size_t count, double pivot);
}  // namespace

double RiseWithinSegmentsConfidence(std::span<const double> y,
                                    double variance_factor) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  y = y.last(n);
  if (n < 4) return 0.5;
  long total = 0;
  for (std::size_t i = 0; i + 1 < n; ++i)
    total += SignSum(y.data() + i + 1, n - i - 1, y[i]);
  return WorstSplitConfidence(y, variance_factor, total,
                              -std::numeric_limits<double>::infinity());
}

namespace {

// sum over j < count of sign(p[j] - pivot), two lanes at a time (as
// MannKendallSuffixes; exact, integers).
long SignSum(const double* p, std::size_t count, double pivot) {
  using V = double __attribute__((vector_size(16)));
  using M = long long __attribute__((vector_size(16)));
  V vp = V{} + pivot;
  M acc{};
  std::size_t j = 0;
  for (; j + 2 <= count; j += 2) {
    V a;
    std::memcpy(&a, p + j, sizeof a);
    acc += (vp < a) - (vp > a);  // -1 per p[j] > pivot, +1 per p[j] < pivot
  }
  long sum = -static_cast<long>(acc[0] + acc[1]);
  for (; j < count; ++j) sum += (p[j] > pivot) - (p[j] < pivot);
  return sum;
}

// What TheilSenSlope does with its m slopes (reorders them).
double MedianSlope(double* first, std::size_t m) {
  if (m == 0) return 0;
  auto mid = first + m / 2;
  std::nth_element(first, mid, first + m);
  double upper = *mid;
  if (m % 2 == 1) return upper;
  double lower = *std::max_element(first, mid);
  return (lower + upper) / 2;
}

}  // namespace

OrderSlopes TheilSenSlopesInOrder(std::span<const double> y, bool whole) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  y = y.last(n);
  std::size_t h = n / 2;
  // The pair slopes, the first half's pairs first, then the last half's,
  // then the rest; dx as TheilSenSlope computes it from x = order.
  PairSlopes slopes;
  std::size_t m = 0;
  auto pair = [&](std::size_t i, std::size_t j) {
    slopes[m++] =
        (y[j] - y[i]) / (static_cast<double>(j) - static_cast<double>(i));
  };
  for (std::size_t i = 0; i < h; ++i) {
    for (std::size_t j = i + 1; j < h; ++j) pair(i, j);
  }
  std::size_t first_half = m;
  for (std::size_t i = n - h; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) pair(i, j);
  }
  std::size_t last_half = m - first_half;
  if (whole) {
    for (std::size_t i = 0; i < n - h; ++i) {
      for (std::size_t j = std::max(i + 1, h); j < n; ++j) pair(i, j);
    }
  }
  OrderSlopes out;
  // Each selection reorders only its own range; the whole set last.
  out.earlier = MedianSlope(slopes.data(), first_half);
  out.recent = MedianSlope(slopes.data() + first_half, last_half);
  if (whole) out.all = MedianSlope(slopes.data(), m);
  return out;
}

SenSlope TheilSenSlopeAndLowerBound(std::span<const double> x,
                                    std::span<const double> y, double z,
                                    double mk_variance,
                                    double variance_factor) {
  PairSlopes slopes;
  std::size_t m = CollectPairSlopes(x, y, &slopes);
  SenSlope out;
  if (m == 0) return out;
  // The median, as TheilSenSlope: after it, the lower m / 2 slopes are the
  // m / 2 smallest and the rest the largest, so the bound's rank is
  // selected within one side.
  double* first = slopes.data();
  double* mid = first + m / 2;
  std::nth_element(first, mid, first + m);
  double upper = *mid;
  out.slope = m % 2 == 1 ? upper : (*std::max_element(first, mid) + upper) / 2;
  // The bound, as SenSlopeLowerBound.
  double c = z * std::sqrt(mk_variance * variance_factor);
  double rank = std::floor((static_cast<double>(m) - c) / 2);
  std::size_t k =
      rank <= 0 ? 0 : std::min(static_cast<std::size_t>(rank), m - 1);
  if (k < m / 2) {
    std::nth_element(first, first + k, mid);
  } else if (k > m / 2) {
    std::nth_element(mid + 1, first + k, first + m);
  }
  out.lower = first[k];
  // The upper bound, as SenSlopeUpperBound: its rank is above the median's
  // (selected within the largest side, which the lower bound's selection
  // did not touch).
  std::size_t ku = SenUpperRank(m, c);
  if (ku > m / 2) std::nth_element(mid + 1, first + ku, first + m);
  out.upper = ku == m / 2 ? *mid : first[ku];
  return out;
}

namespace {

// The worst confidence, over the splits of `y` (n >= 4, at most
// kMaxTrendPoints) into two segments, that the rise is within the segments
// rather than a step between them; `total` is y's Mann-Kendall S. Stops
// as soon as it falls below `level` (-infinity: never).
// cross = sum over i < k <= j of sign(y_j - y_i), the pairs that straddle
// the split before index k. Moving point k from the right segment to the
// left removes its pairs with the left (i < k) from the straddling ones and
// adds its pairs with the rest of the right (j > k). Segment variances:
// closed form when the window has no ties (the usual case for byte counts),
// else sorted and counted per segment.
double WorstSplitConfidence(std::span<const double> y, double variance_factor,
                            long total, double level) {
  const std::size_t n = y.size();
  auto sign = [](double d) { return static_cast<long>(d > 0) - (d < 0); };
  std::array<double, kMaxTrendPoints> sorted;
  std::copy(y.begin(), y.end(), sorted.begin());
  std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n));
  bool ties =
      std::adjacent_find(sorted.begin(),
                         sorted.begin() + static_cast<std::ptrdiff_t>(n)) !=
      sorted.begin() + static_cast<std::ptrdiff_t>(n);
  auto segment_variance = [&](std::span<const double> seg) {
    return ties ? MannKendallStatistic(seg).variance
                : VarianceTerm(static_cast<double>(seg.size())) / 18.0;
  };
  long cross = 0;
  for (std::size_t j = 1; j < n; ++j) cross += sign(y[j] - y[0]);  // k = 1
  double worst = 1.0;
  for (std::size_t k = 1; k + 1 < n; ++k) {
    if (k >= 2) {
      double within = static_cast<double>(total - cross);
      double variance =
          (segment_variance(y.first(k)) + segment_variance(y.subspan(k))) *
          variance_factor;
      worst = std::min(worst, Confidence(within, variance));
      if (!(worst >= level)) return worst;
    }
    // left = sum over i < k of sign(y[k] - y[i]), right = sum over j > k
    // of sign(y[j] - y[k]).
    long left = -SignSum(y.data(), k, y[k]);
    long right = SignSum(y.data() + k + 1, n - k - 1, y[k]);
    cross += right - left;
  }
  return worst;
}

}  // namespace

bool RiseWithinSegmentsAtLeast(std::span<const double> y,
                               double variance_factor, long s, double level) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  y = y.last(n);
  if (n < 4) return 0.5 >= level;
  // As RiseWithinSegmentsConfidence, with the total S given. (Both count
  // with SignSum, which compares y_j with y_i, as MannKendallStatistic
  // does: the same as the sign of the difference in IEEE arithmetic, where
  // a difference of two unequal finite numbers is never 0.)
  return WorstSplitConfidence(y, variance_factor, s, level) >= level;
}

}  // namespace memmon::internal
