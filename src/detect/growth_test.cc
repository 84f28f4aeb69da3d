// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ClassifyGrowth on shapes whose answer is known. Noise is seeded; each
// case states what it would take to fail.

#include "memmon/growth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "detect/growth_internal.h"

namespace memmon {
namespace {

struct Series {
  std::vector<double> t, v;
};

Series Make(int n, const std::function<double(int)>& f, double sigma = 0,
            uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  Series s;
  for (int i = 0; i < n; ++i) {
    s.t.push_back(10.0 * i);
    s.v.push_back(f(i) + sigma * noise(rng));
  }
  return s;
}

GrowthTrend Classify(const Series& s) { return ClassifyGrowth(s.t, s.v); }

TEST(ClassifyGrowth, LinearLeakIsUnbounded) {
  GrowthTrend g = Classify(Make(
      100, [](int i) { return 1000 + 5.0 * i; }, 3));
  EXPECT_EQ(g.kind, GrowthKind::kUnbounded);
  EXPECT_NEAR(g.slope_per_s, 0.5, 0.05);
  EXPECT_LE(g.slope_lower_per_s, g.slope_per_s);
  EXPECT_GT(g.slope_lower_per_s, 0.4);
  EXPECT_GT(g.confidence, 0.999);
  EXPECT_NEAR(g.level, 1000 + 5.0 * 99, 6);
  EXPECT_EQ(g.window_samples, 100u);  // the longest steady window
}

TEST(ClassifyGrowth, FlatNoiseIsFlat) {
  // Over 50 seeds, no false "unbounded" (a per-window 99 % test over a few
  // windows; more than 3 of 50 would mean the level is badly off).
  int unbounded = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    unbounded += Classify(Make(
                              200, [](int) { return 500.0; }, 10, seed))
                     .kind == GrowthKind::kUnbounded;
  }
  EXPECT_LE(unbounded, 3);
}

TEST(ClassifyGrowth, AStepIsBoundedNotUnbounded) {
  GrowthTrend g = Classify(Make(
      120, [](int i) { return i < 60 ? 100.0 : 180.0; }, 2));
  EXPECT_EQ(g.kind, GrowthKind::kBounded);
}

TEST(ClassifyGrowth, WarmUpThatLevelsOffIsBounded) {
  GrowthTrend g = Classify(Make(
      120, [](int i) { return 100 + 300 * (1 - std::pow(0.8, i)); }, 2));
  EXPECT_EQ(g.kind, GrowthKind::kBounded);
}

TEST(ClassifyGrowth, LateStartIsSeenInAShortWindow) {
  GrowthTrend g = Classify(Make(
      200, [](int i) { return i < 150 ? 300.0 : 300 + 4.0 * (i - 150); }, 2));
  EXPECT_EQ(g.kind, GrowthKind::kUnbounded);
  // The longest window that rises steadily: not the whole series, and its
  // floor's slope is at most the leak's (0.4/s), a conservative projection.
  EXPECT_LT(g.window_samples, 150u);
  EXPECT_GT(g.slope_per_s, 0.2);
  EXPECT_LE(g.slope_per_s, 0.42);
}

TEST(ClassifyGrowth, SawtoothFollowsTheFloor) {
  auto saw = [](double floor_slope) {
    return
        [floor_slope](int i) { return 400 + 15.0 * (i % 8) + floor_slope * i; };
  };
  GrowthTrend flat = Classify(Make(300, saw(0), 1));
  EXPECT_NE(flat.kind, GrowthKind::kUnbounded);
  EXPECT_GE(flat.block_samples, 9u);  // every block holds a trough
  GrowthTrend rising = Classify(Make(300, saw(0.5), 1));
  EXPECT_EQ(rising.kind, GrowthKind::kUnbounded);
  EXPECT_NEAR(rising.slope_per_s, 0.05, 0.01);  // the floor's, not a tooth's
}

TEST(ClassifyGrowth, WanderingNoiseIsNotATrend) {
  // AR(1) noise (phi 0.7) has long runs; the serial-correlation correction
  // keeps them from passing as rises. Allow 3 of 50 seeds.
  int unbounded = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise(0, 5);
    double e = 0;
    Series s;
    for (int i = 0; i < 200; ++i) {
      e = 0.7 * e + noise(rng);
      s.t.push_back(i);
      s.v.push_back(300 + e);
    }
    unbounded += Classify(s).kind == GrowthKind::kUnbounded;
  }
  EXPECT_LE(unbounded, 3);
}

// The step rule's search (detectors.cc): one level shift up is one large
// rise, found where it lands; a leak's rises, white noise and a level that
// holds are none; two shifts are two.
TEST(FindLargeRises, OneStepIsOneAndALeakIsNone) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> step, leak, flat;
  for (int i = 0; i < 100; ++i) {
    double noise = z(rng);
    step.push_back((i < 40 ? 400 : 520) + 4 * noise);
    leak.push_back(400 + 2.0 * i + 4 * noise);
    flat.push_back(400);
  }
  internal::LargeDrops r = internal::FindLargeRises(step);
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(r.last, 40u);
  EXPECT_EQ(internal::FindLargeRises(leak).count, 0u);
  EXPECT_EQ(internal::FindLargeRises(flat).count, 0u);
  for (int i = 70; i < 100; ++i) step[i] += 120;
  EXPECT_EQ(internal::FindLargeRises(step).count, 2u);
}

TEST(ClassifyGrowth, TooFewPointsIsUnknown) {
  GrowthTrend g = Classify(Make(5, [](int i) { return i * 100.0; }));
  EXPECT_EQ(g.kind, GrowthKind::kUnknown);
  EXPECT_EQ(ToString(g.kind), "unknown");
  std::vector<double> empty;
  EXPECT_EQ(ClassifyGrowth(empty, empty).kind, GrowthKind::kUnknown);
}

TEST(ClassifyGrowth, FixedBlockAndLongInputs) {
  // More samples than kMaxGrowthSamples: only the last ones are used.
  Series s = Make(
      5000, [](int i) { return i < 4000 ? 100.0 : 100 + (i - 4000) * 1.0; }, 1);
  GrowthOptions o;
  o.block_samples = 4;
  GrowthTrend g = ClassifyGrowth(s.t, s.v, o);
  EXPECT_EQ(g.kind, GrowthKind::kUnbounded);
  EXPECT_EQ(g.block_samples, 4u);
  EXPECT_LE(g.window_samples, kMaxGrowthSamples);
}

}  // namespace
TEST(ClassifyGrowth, NonFiniteInputIsUnknownNotAHang) {
  std::vector<double> t, v;
  for (int i = 0; i < 40; ++i) {
    t.push_back(i);
    v.push_back(1000.0 * i);
  }
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    std::vector<double> values = v, times = t;
    values[20] = bad;
    EXPECT_EQ(ClassifyGrowth(t, values).kind, GrowthKind::kUnknown);
    times[5] = bad;
    EXPECT_EQ(ClassifyGrowth(times, v).kind, GrowthKind::kUnknown);
  }
  EXPECT_EQ(ClassifyGrowth(t, v).kind, GrowthKind::kUnbounded);
}

}  // namespace memmon
