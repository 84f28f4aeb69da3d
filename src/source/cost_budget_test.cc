// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/cost_budget.h"

#include <gtest/gtest.h>

namespace memmon::internal {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(CostBudget, CheapReadingsRunEveryTime) {
  CostBudget b(microseconds(100), 0.01);
  CostBudget::Clock::time_point t{};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(b.Due(t));
    b.Record(t, t + microseconds(50));
    t += milliseconds(10);
  }
}

TEST(CostBudget, OneSlowReadingAlonePausesNothing) {
  CostBudget b(microseconds(100), 0.01);
  CostBudget::Clock::time_point t{};
  b.Record(t, t + milliseconds(10));  // e.g. the first call's lazy binding
  EXPECT_TRUE(b.Due(t + milliseconds(10)));
  b.Record(t + milliseconds(10), t + milliseconds(10) + microseconds(5));
  EXPECT_TRUE(b.Due(t + milliseconds(11)));
}

TEST(CostBudget, CostlyReadingsAreSpacedToTheDutyCycle) {
  CostBudget b(microseconds(100), 0.01);
  CostBudget::Clock::time_point t{};
  // Two 10 ms readings in a row at 1 %: the second is followed by 990 ms.
  b.Record(t, t + milliseconds(10));
  b.Record(t + milliseconds(100), t + milliseconds(110));
  EXPECT_FALSE(b.Due(t + milliseconds(111)));
  EXPECT_FALSE(b.Due(t + milliseconds(1099)));
  EXPECT_TRUE(b.Due(t + milliseconds(1100)));
  // Sampling every 100 ms for 100 s: readings at 0 and 100 ms, then every
  // 1000 ms from 1100 ms: 101 readings, 1.01 s of 100 s.
  CostBudget c(microseconds(100), 0.01);
  int runs = 0;
  for (int i = 0; i < 1000; ++i) {
    CostBudget::Clock::time_point now = t + milliseconds(100) * i;
    if (!c.Due(now)) continue;
    ++runs;
    c.Record(now, now + milliseconds(10));
  }
  EXPECT_EQ(runs, 101);
}

TEST(CostBudget, BecomesCheapAgain) {
  CostBudget b(microseconds(100), 0.5);
  CostBudget::Clock::time_point t{};
  b.Record(t, t + milliseconds(10));
  b.Record(t + milliseconds(10), t + milliseconds(20));  // pause 10 ms
  EXPECT_FALSE(b.Due(t + milliseconds(25)));
  EXPECT_TRUE(b.Due(t + milliseconds(30)));
  b.Record(t + milliseconds(30), t + milliseconds(30) + microseconds(1));
  EXPECT_TRUE(b.Due(t + milliseconds(31)));
}

}  // namespace
}  // namespace memmon::internal
