// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/alloc_clock.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace memmon::preload {
namespace {

TEST(AllocClock, AWeightIsTheCallsSinceTheMark) {
  uint64_t mark = 0;
  EXPECT_EQ(TakeWeight(256, &mark), 256u);
  EXPECT_EQ(mark, 256u);
  // A call counted exactly moves the mark by one: the next timed call does
  // not stand for it.
  ++mark;
  EXPECT_EQ(TakeWeight(400, &mark), 143u);
}

TEST(AllocClock, WeightedTicksCapOnlyWhatStandsForOthers) {
  EXPECT_EQ(WeightedTicks(30, 200), 6000u);
  EXPECT_EQ(WeightedTicks(kMaxWeightedTicks * 4, 1), kMaxWeightedTicks * 4);
  EXPECT_EQ(WeightedTicks(kMaxWeightedTicks * 4, 2), kMaxWeightedTicks * 2);
}

TEST(AllocClock, JitteredPeriodStaysWithinItsRange) {
  int seen_low = 0, seen_high = 0;
  for (uint32_t seq = 0; seq < 10000; ++seq) {
    const int32_t p = JitteredPeriod(256, seq);
    ASSERT_GE(p, 193);
    ASSERT_LE(p, 256);
    seen_low += p < 209;
    seen_high += p > 240;
  }
  EXPECT_GT(seen_low, 1000);  // a quarter of the range each, about 2 500
  EXPECT_GT(seen_high, 1000);
}

TEST(AllocClock, TicksToNanosByTheRateSinceTheStart) {
  // 2.6 ticks a nanosecond.
  EXPECT_EQ(TicksToNanos(2600, 1000, 500, 1000 + 26000000, 500 + 10000000),
            1000u);
  EXPECT_EQ(TicksToNanos(77, 5, 5, 5, 5), 77u);  // no time yet: unchanged
}

// The estimator: one call in a jittered period of 193..256 timed, weighted
// by the calls since the last; over a million calls of two kinds in a
// fixed pattern (one slow call in four), the estimate is near the true
// sum: ~4 450 timed calls of coefficient of variation 1.2 give a standard
// error of 1.8 %, and the tolerance is six of them. Seeded. Without the
// jitter a period of 256 would time only one kind of call, and read 3.1x
// or 0.31x the truth.
TEST(AllocClock, SystematicEstimateOfAPatternedLoop) {
  std::mt19937_64 rng(42);
  uint64_t truth = 0, estimate = 0, mark = 0, count = 0, next = 0;
  uint32_t seq = 0;
  next = static_cast<uint64_t>(JitteredPeriod(256, seq++));
  for (int i = 0; i < 1000000; ++i) {
    const uint64_t ticks = (i % 4 == 0 ? 400 : 40) + rng() % 8;
    truth += ticks;
    ++count;
    if (count == next) {
      estimate += WeightedTicks(ticks, TakeWeight(count, &mark));
      next = count + static_cast<uint64_t>(JitteredPeriod(256, seq++));
    }
  }
  const double ratio =
      static_cast<double>(estimate) / static_cast<double>(truth);
  EXPECT_NEAR(ratio, 1.0, 0.11);
}

}  // namespace
}  // namespace memmon::preload
