// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "base/format.h"

#include <gtest/gtest.h>

#include <string>

namespace memmon::internal {
namespace {

struct Case {
  double value;
  std::string text;
};

TEST(HumanBytes, PowersOf1024WithOneDecimalAndFractionsOfAByte) {
  const double kMiB = 1 << 20, kGiB = 1 << 30, kTiB = 1024 * kGiB;
  for (const Case& c : std::initializer_list<Case>{
           {0, "0 B"},
           {512, "512 B"},
           {1023, "1023 B"},
           {1024, "1.0 KiB"},
           {1536, "1.5 KiB"},
           {251.1 * kMiB, "251.1 MiB"},
           {-2 * kGiB, "-2.0 GiB"},
           {3 * kTiB, "3.0 TiB"},
           {5000 * kTiB, "5000.0 TiB"},
           {0.25, "0.25 B"},  // a slow rate, not "0 B"
           {12.5, "12.5 B"},
           {-0.5, "-0.5 B"},
       }) {
    EXPECT_EQ(HumanBytes(c.value), c.text) << c.value;
  }
}

TEST(SignedHumanBytes, PlusWhenPositive) {
  EXPECT_EQ(SignedHumanBytes(1536), "+1.5 KiB");
  EXPECT_EQ(SignedHumanBytes(-2.0 * (1 << 30)), "-2.0 GiB");
  EXPECT_EQ(SignedHumanBytes(0), "0 B");
}

TEST(HumanSourceLocation, BaseNameAndLine) {
  EXPECT_EQ(HumanSourceLocation("/src/cache.cc", 42), "cache.cc:42");
  EXPECT_EQ(HumanSourceLocation("cache.cc", 0), "cache.cc");
  EXPECT_EQ(HumanSourceLocation("", 42), "");
}

TEST(HumanDuration, OneDecimalInTheLargestUnitThatReadsWell) {
  for (const Case& c : std::initializer_list<Case>{
           {0.4, "0.4 s"},
           {45, "45.0 s"},
           {119.9, "119.9 s"},
           {120, "2.0 min"},
           {750, "12.5 min"},
           {3.2 * 3600, "3.2 h"},
           {2.1 * 86400, "2.1 d"},
       }) {
    EXPECT_EQ(HumanDuration(c.value), c.text) << c.value;
  }
}

}  // namespace
}  // namespace memmon::internal
