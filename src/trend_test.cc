// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "trend.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace memmon::internal {
namespace {

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
  double short_lower = SenSlopeLowerBound(std::span(x).first(12), std::span(y).first(12), 0.99);
  EXPECT_LT(short_lower, lower);  // less data, wider interval
  EXPECT_LT(SenSlopeLowerBound(x, y, 0.999), lower);
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
