// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/sample_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace memmon::preload {
namespace {

// Over the whole range the sampler feeds it: u = (k + 1) 2^-53.
TEST(SampleMath, LogUnitMatchesLibm) {
  std::mt19937_64 rng(42);  // fixed seed
  for (int i = 0; i < 200000; ++i) {
    const double u = (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;
    const double want = std::log(u);
    EXPECT_NEAR(LogUnit(u), want, 1e-12 * std::max(1.0, std::fabs(want))) << u;
  }
  for (double u : {1.0, 0.5, 0x1.0p-53, 0.7071067811865476, 0.9999999999}) {
    EXPECT_NEAR(LogUnit(u), std::log(u), 1e-12 * std::max(1.0, -std::log(u)));
  }
}

TEST(SampleMath, OneMinusExpNegMatchesLibm) {
  for (double x = 1e-9; x < 50; x *= 1.01) {
    const double want = -std::expm1(-x);
    EXPECT_NEAR(OneMinusExpNeg(x), want, 1e-12 * want) << x;
  }
  EXPECT_EQ(OneMinusExpNeg(0.0), 0.0);
}

}  // namespace
}  // namespace memmon::preload
