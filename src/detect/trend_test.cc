// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/trend.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <vector>

namespace memmon::internal {
namespace {

// RiseWithinSegmentsConfidence by its definition, as an oracle: over every
// split into two segments of at least two points, the Mann-Kendall
// confidence of the rise within the segments (S and variance of each
// segment, summed; the variance scaled by `factor`); the worst of them.
double DirectRiseWithinSegments(std::span<const double> y, double factor) {
  if (y.size() < 4) return 0.5;
  double worst = 1.0;
  for (std::size_t k = 2; k + 2 <= y.size(); ++k) {
    MannKendall left = MannKendallStatistic(y.first(k));
    MannKendall right = MannKendallStatistic(y.subspan(k));
    double s = static_cast<double>(left.s + right.s);
    double variance = (left.variance + right.variance) * factor;
    double z = variance <= 0 ? 0.0
               : s > 0       ? (s - 1) / std::sqrt(variance)
               : s < 0       ? (s + 1) / std::sqrt(variance)
                             : 0.0;
    worst = std::min(worst, variance <= 0 ? 0.5 : NormalCdf(z));
  }
  return worst;
}

TEST(TheilSen, ExactOnALine) {
  std::vector<double> x, y;
  for (int i = 0; i < 20; ++i) {
    x.push_back(i * 0.5);
    y.push_back(3.0 * (i * 0.5) + 7);
  }
  EXPECT_DOUBLE_EQ(TheilSenSlope(x, y), 3.0);
}

TEST(TheilSen, IgnoresAFewOutliers) {
  std::vector<double> x, y;
  for (int i = 0; i < 20; ++i) {
    x.push_back(i);
    y.push_back(2.0 * i);
  }
  y[3] = 1e9;  // 2 of 20 points wild
  y[15] = -1e9;
  EXPECT_NEAR(TheilSenSlope(x, y), 2.0, 0.2);
}

TEST(TheilSen, DegenerateInputs) {
  std::vector<double> one{1}, same_x{1, 1, 1}, ys{1, 2, 3};
  EXPECT_EQ(TheilSenSlope(one, one), 0);
  EXPECT_EQ(TheilSenSlope(same_x, ys), 0);
}

TEST(TheilSen, UsesOnlyTheLastPoints) {
  // 100 points falling, then 64 rising: only the rising ones count.
  std::vector<double> x, y;
  for (int i = 0; i < 100; ++i) {
    x.push_back(i);
    y.push_back(-i);
  }
  for (int i = 100; i < 164; ++i) {
    x.push_back(i);
    y.push_back(i);
  }
  EXPECT_DOUBLE_EQ(TheilSenSlope(x, y), 1.0);
}

TEST(MannKendall, RisingFallingFlat) {
  std::vector<double> up, down, flat;
  for (int i = 0; i < 12; ++i) {
    up.push_back(i);
    down.push_back(-i);
    flat.push_back(5);
  }
  EXPECT_GT(MannKendallRising(up), 0.999);
  EXPECT_LT(MannKendallRising(down), 0.001);
  EXPECT_DOUBLE_EQ(MannKendallRising(flat), 0.5);
}

TEST(MannKendall, NoiseIsRarelySignificant) {
  // Pure noise: the one-sided test at 95 % is passed about 5 % of the time.
  // Over 2000 seeded series of 10 points we allow up to 8 % (the binomial
  // standard deviation is 0.5 %, so a false failure needs > 6 sigma).
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0, 1);
  int significant = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<double> y;
    for (int i = 0; i < 10; ++i) y.push_back(noise(rng));
    if (MannKendallRising(y) >= 0.95) ++significant;
  }
  EXPECT_LT(significant, 160);
  EXPECT_GT(significant, 20);  // the test is not degenerate either
}

TEST(MannKendall, TiesShrinkTheVariance) {
  // A staircase of counts: many ties. The tie-corrected variance is smaller
  // than n(n-1)(2n+5)/18, so the rise is more significant, not less.
  std::vector<double> stairs{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4};
  MannKendall mk = MannKendallStatistic(stairs);
  EXPECT_EQ(mk.s, 54);  // 66 pairs, 12 tied
  EXPECT_LT(mk.variance, 12.0 * 11 * 29 / 18);
  EXPECT_NEAR(mk.variance, (12.0 * 11 * 29 - 4 * (3 * 2 * 11)) / 18, 1e-9);
  EXPECT_GT(MannKendallRising(stairs), 0.9999);
  // The variance factor weakens the same evidence.
  EXPECT_LT(MannKendallRising(stairs, 9.0), MannKendallRising(stairs));
}

// MannKendallSuffixes (vectorised, all suffixes at once) against the direct
// O(n^2) MannKendallStatistic and a direct count of tied pairs on every
// suffix: exact integer equality over 3000 seeded series of 1..64 points,
// two thirds of them with many ties; and the variance from the tie count
// equals MannKendallVariance bit for bit.
TEST(MannKendall, SuffixesMatchTheDirectStatistic) {
  std::mt19937_64 rng(7);
  SuffixStatistics suffix;
  for (int trial = 0; trial < 3000; ++trial) {
    std::size_t n = 1 + rng() % kMaxTrendPoints;
    std::vector<double> y(n);
    for (double& v : y) {
      switch (trial % 3) {
        case 0:
          v = static_cast<double>(rng() % 1000000) * 1.5;
          break;
        case 1:
          v = static_cast<double>(rng() % 4);
          break;
        default:
          v = static_cast<double>(rng() % 9) - 4.5;
          break;
      }
    }
    MannKendallSuffixes(y, &suffix);
    for (std::size_t k = 0; k <= n; ++k) {
      std::span<const double> tail = std::span<const double>(y).last(k);
      long tied = 0;
      for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = i + 1; j < k; ++j) tied += tail[i] == tail[j];
      }
      ASSERT_EQ(suffix.s[k], MannKendallStatistic(tail).s)
          << "trial " << trial << " k " << k;
      ASSERT_EQ(suffix.ties[k], tied) << "trial " << trial << " k " << k;
      if (k >= 2) {
        EXPECT_EQ(MannKendallVariance(tail),
                  MannKendallStatistic(tail).variance);
        EXPECT_EQ(MannKendallVariance(tail, tied),
                  MannKendallStatistic(tail).variance);
      }
    }
  }
}

// The fused forms against the separate functions they replace in
// ClassifyGrowth: bit-for-bit equal over 3000 seeded series of 2..64
// points, with ties, repeated times (pairs with dx = 0 are skipped) and
// every variance factor and level the callers use.
TEST(Fused, EqualTheSeparateStatistics) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1);
  const double factors[] = {1, 1.7, 9};
  const double levels[] = {0.5, 0.9, 0.99};
  for (int trial = 0; trial < 3000; ++trial) {
    std::size_t n = 2 + rng() % (kMaxTrendPoints - 1);
    double slope = (trial % 4) * 0.3 * noise(rng);
    std::vector<double> x(n), y(n), order(n);
    double t = -100;
    for (std::size_t i = 0; i < n; ++i) {
      t += rng() % 5 == 0 ? 0 : 0.5 + (rng() % 100) / 50.0;  // some equal
      x[i] = t;
      y[i] = trial % 3 == 0 ? static_cast<double>(rng() % 5)
                            : slope * static_cast<double>(i) + noise(rng);
      order[i] = static_cast<double>(i);
    }
    std::size_t h = n / 2;
    OrderSlopes o = TheilSenSlopesInOrder(y);
    ASSERT_EQ(o.all, TheilSenSlope(order, y)) << trial;
    ASSERT_EQ(o.earlier,
              TheilSenSlope(std::span(order).first(h), std::span(y).first(h)));
    ASSERT_EQ(o.recent,
              TheilSenSlope(std::span(order).last(h), std::span(y).last(h)));
    OrderSlopes halves = TheilSenSlopesInOrder(y, /*whole=*/false);
    ASSERT_EQ(halves.earlier, o.earlier);
    ASSERT_EQ(halves.recent, o.recent);

    MannKendall mk = MannKendallStatistic(y);
    double factor = factors[trial % 3];
    double confidence = trial % 2 == 0 ? 0.99 : 0.999;
    SenSlope sen = TheilSenSlopeAndLowerBound(x, y, NormalQuantile(confidence),
                                              mk.variance, factor);
    ASSERT_EQ(sen.slope, TheilSenSlope(x, y)) << trial;
    ASSERT_EQ(sen.lower, SenSlopeLowerBound(x, y, confidence, factor)) << trial;
    ASSERT_EQ(sen.upper, SenSlopeUpperBound(x, y, confidence, factor)) << trial;
    ASSERT_GE(sen.upper, sen.slope) << trial;

    double level = levels[trial % 3];
    const double direct = DirectRiseWithinSegments(y, factor);
    ASSERT_NEAR(RiseWithinSegmentsConfidence(y, factor), direct, 1e-12)
        << trial;
    if (std::abs(direct - level) > 1e-12) {
      ASSERT_EQ(RiseWithinSegmentsAtLeast(y, factor, mk.s, level),
                direct >= level)
          << trial;
    }
  }
}

TEST(SenSlope, LowerBoundIsBelowTheSlopeAndTightensWithData) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> x, y;
  for (int i = 0; i < 64; ++i) {
    x.push_back(i);
    y.push_back(0.5 * i + noise(rng));
  }
  double slope = TheilSenSlope(x, y);
  double lower = SenSlopeLowerBound(x, y, 0.99);
  EXPECT_LT(lower, slope);
  EXPECT_GT(lower, 0.4);  // 0.5 with 1-sigma noise over 64 points
  double short_lower =
      SenSlopeLowerBound(std::span(x).first(12), std::span(y).first(12), 0.99);
  EXPECT_LT(short_lower, lower);  // less data, wider interval
  EXPECT_LT(SenSlopeLowerBound(x, y, 0.999), lower);
}

// The upper bound by rank: above the slope, tighter with more data, wider
// at a higher confidence -- and not the mirror of the lower bound where the
// pair slopes are skewed. Fixed seeds; the bounds hold with wide margins.
TEST(SenSlope, UpperBoundIsAboveTheSlopeAndComesFromTheRanks) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> x, y;
  for (int i = 0; i < 64; ++i) {
    x.push_back(i);
    y.push_back(0.5 * i + noise(rng));
  }
  double slope = TheilSenSlope(x, y);
  double upper = SenSlopeUpperBound(x, y, 0.99);
  EXPECT_GT(upper, slope);
  EXPECT_LT(upper, 0.6);  // 0.5 with 1-sigma noise over 64 points
  EXPECT_GT(
      SenSlopeUpperBound(std::span(x).first(12), std::span(y).first(12), 0.99),
      upper);  // less data, wider interval
  EXPECT_GT(SenSlopeUpperBound(x, y, 0.999), upper);

  // A rise whose increments are exponential (skewed: many small steps, a
  // few large): the pair slopes' upper tail is longer than their lower one,
  // which 2 * slope - lower (the symmetric shortcut) misses.
  std::exponential_distribution<double> step(1.0);
  std::vector<double> sx, sy;
  double level = 0;
  for (int i = 0; i < 40; ++i) {
    sx.push_back(i);
    level += step(rng);
    sy.push_back(level);
  }
  double s = TheilSenSlope(sx, sy);
  double lo = SenSlopeLowerBound(sx, sy, 0.99);
  double hi = SenSlopeUpperBound(sx, sy, 0.99);
  EXPECT_LT(lo, s);
  EXPECT_GT(hi, s);
  EXPECT_NE(hi, 2 * s - lo);
  // The rank itself: exactly the (M2 + 1)-th smallest pair slope.
  std::vector<double> pairs;
  for (std::size_t i = 0; i < sx.size(); ++i) {
    for (std::size_t j = i + 1; j < sx.size(); ++j) {
      pairs.push_back((sy[j] - sy[i]) / (sx[j] - sx[i]));
    }
  }
  std::sort(pairs.begin(), pairs.end());
  double c =
      NormalQuantile(0.99) * std::sqrt(MannKendallStatistic(sy).variance);
  auto rank = static_cast<std::size_t>(
      std::ceil((static_cast<double>(pairs.size()) + c) / 2));
  EXPECT_EQ(hi, pairs[rank]);
}

TEST(RiseWithinSegments, AStepIsExplainedAwayARiseIsNot) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> step, rise, late;
  for (int i = 0; i < 40; ++i) {
    step.push_back((i < 25 ? 0 : 50) + noise(rng));
    rise.push_back(2.0 * i + noise(rng));
    late.push_back((i < 25 ? 0 : 3.0 * (i - 25)) + noise(rng));
  }
  EXPECT_LT(RiseWithinSegmentsConfidence(step), 0.9);
  EXPECT_GT(RiseWithinSegmentsConfidence(rise), 0.999);
  EXPECT_GT(RiseWithinSegmentsConfidence(late), 0.99);  // flat, then a leak
}

TEST(Autocorrelation, WanderingNoiseInflatesTheVariance) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> x, white, wander;
  double e = 0;
  for (int i = 0; i < 64; ++i) {
    x.push_back(i);
    white.push_back(noise(rng));
    e = 0.8 * e + noise(rng);
    wander.push_back(e);
  }
  EXPECT_LT(AutocorrelationVarianceFactor(x, white, 0), 1.6);
  EXPECT_GT(AutocorrelationVarianceFactor(x, wander, 0), 3.0);
  // A clean rise: residuals far below the step between points do not count.
  std::vector<double> line;
  for (int i = 0; i < 64; ++i) line.push_back(10.0 * i + 0.01 * (i % 2));
  EXPECT_EQ(AutocorrelationVarianceFactor(x, line, 10.0), 1.0);
}

TEST(Normal, QuantileInvertsTheCdf) {
  for (double p : {0.01, 0.5, 0.9, 0.99, 0.999}) {
    EXPECT_NEAR(NormalCdf(NormalQuantile(p)), p, 1e-9);
  }
  EXPECT_NEAR(NormalQuantile(0.99), 2.3263, 1e-4);
}

}  // namespace
}  // namespace memmon::internal
