// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "base/format.h"

#include <gtest/gtest.h>

namespace memmon::internal {
namespace {

TEST(HumanBytes, PowersOf1024WithOneDecimal) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(251.1 * (1 << 20)), "251.1 MiB");
  EXPECT_EQ(HumanBytes(-2.0 * (1 << 30)), "-2.0 GiB");
  EXPECT_EQ(HumanBytes(3.0 * (1ull << 40)), "3.0 TiB");
  EXPECT_EQ(HumanBytes(5000.0 * (1ull << 40)), "5000.0 TiB");
}

TEST(HumanBytes, FractionsOfAByteKeepThreeDigits) {
  EXPECT_EQ(HumanBytes(0.25), "0.25 B");  // a slow rate, not "0 B"
  EXPECT_EQ(HumanBytes(12.5), "12.5 B");
  EXPECT_EQ(HumanBytes(-0.5), "-0.5 B");
}

TEST(SignedHumanBytes, PlusWhenPositive) {
  EXPECT_EQ(SignedHumanBytes(1536), "+1.5 KiB");
  EXPECT_EQ(SignedHumanBytes(-2.0 * (1 << 30)), "-2.0 GiB");
  EXPECT_EQ(SignedHumanBytes(0), "0 B");
}

TEST(HumanDuration, OneDecimalInTheLargestUnitThatReadsWell) {
  EXPECT_EQ(HumanDuration(0.4), "0.4 s");
  EXPECT_EQ(HumanDuration(45), "45.0 s");
  EXPECT_EQ(HumanDuration(119.9), "119.9 s");
  EXPECT_EQ(HumanDuration(120), "2.0 min");
  EXPECT_EQ(HumanDuration(750), "12.5 min");
  EXPECT_EQ(HumanDuration(3.2 * 3600), "3.2 h");
  EXPECT_EQ(HumanDuration(2.1 * 86400), "2.1 d");
}

}  // namespace
}  // namespace memmon::internal
