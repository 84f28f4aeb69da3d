// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cost_budget.h"

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

TEST(CostBudget, CostlyReadingsAreSpacedToTheDutyCycle) {
  CostBudget b(microseconds(100), 0.01);
  CostBudget::Clock::time_point t{};
  // A 10 ms reading at 1 % may run again 990 ms after it ended.
  ASSERT_TRUE(b.Due(t));
  b.Record(t, t + milliseconds(10));
  EXPECT_FALSE(b.Due(t + milliseconds(10)));
  EXPECT_FALSE(b.Due(t + milliseconds(999)));
  EXPECT_TRUE(b.Due(t + milliseconds(1000)));
  // Sampling every 100 ms for 100 s: the reading runs about 100 times and
  // uses 1 % of the time.
  CostBudget c(microseconds(100), 0.01);
  int runs = 0;
  for (int i = 0; i < 1000; ++i) {
    CostBudget::Clock::time_point now = t + milliseconds(100) * i;
    if (!c.Due(now)) continue;
    ++runs;
    c.Record(now, now + milliseconds(10));
  }
  EXPECT_EQ(runs, 100);
}

TEST(CostBudget, BecomesCheapAgain) {
  CostBudget b(microseconds(100), 0.5);
  CostBudget::Clock::time_point t{};
  b.Record(t, t + milliseconds(10));  // pause 10 ms
  EXPECT_FALSE(b.Due(t + milliseconds(15)));
  EXPECT_TRUE(b.Due(t + milliseconds(20)));
  b.Record(t + milliseconds(20), t + milliseconds(20) + microseconds(1));
  EXPECT_TRUE(b.Due(t + milliseconds(21)));
}

}  // namespace
}  // namespace memmon::internal
