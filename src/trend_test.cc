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

}  // namespace
}  // namespace memmon::internal
