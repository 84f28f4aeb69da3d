// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The sampler's top-sites text, parsed (the rest of AllocatorStats needs a
// real allocator: tests/allocator_test.cc).

#include "source/allocator_stats.h"

#include <gtest/gtest.h>

namespace memmon::internal {
namespace {

TEST(ParseTopSites, ReadsEachFieldInOrder) {
  auto sites = ParseTopSites(
      "41943040\t27\tLeaky::Grow\t/src/leaky.cc\n"
      "1048576\t0\tmain\t\n",
      5);
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0].function, "Leaky::Grow");
  EXPECT_EQ(sites[0].file, "/src/leaky.cc");
  EXPECT_EQ(sites[0].line, 27);
  EXPECT_EQ(sites[0].inuse_bytes, 41943040.0);
  EXPECT_EQ(sites[1].function, "main");
  EXPECT_EQ(sites[1].file, "");
  EXPECT_EQ(sites[1].line, 0);
}

TEST(ParseTopSites, StopsAtTheLimitAndAtACutLine) {
  std::string text = "3\t1\ta\tf\n2\t1\tb\tf\n1\t1\tc\tf\n";
  EXPECT_EQ(ParseTopSites(text, 2).size(), 2u);
  EXPECT_EQ(ParseTopSites("3\t1\ta\tf\n2\t1\tb", 5).size(), 1u);
  EXPECT_TRUE(ParseTopSites("", 5).empty());
}

TEST(ParseTopSites, SkipsLinesThatDoNotParse) {
  auto sites = ParseTopSites(
      "x\t1\tbad_bytes\tf\n"
      "1\t-\tbad_line\tf\n"
      "12abc\t1\ttrailing\tf\n"
      "1\t1\t\tf\n"  // no function
      "1\tonly two fields\n"
      "5\t9\tgood\tfile\twith tab\n",
      5);
  ASSERT_EQ(sites.size(), 1u);
  EXPECT_EQ(sites[0].function, "good");
  EXPECT_EQ(sites[0].file, "file\twith tab");  // the rest of the line
}

}  // namespace
}  // namespace memmon::internal
