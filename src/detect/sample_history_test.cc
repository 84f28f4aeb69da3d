// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/sample_history.h"

#include <gtest/gtest.h>

namespace memmon::internal {
namespace {

Sample Numbered(uint64_t n) {
  Sample s;
  s.threads = n;
  return s;
}

TEST(SampleHistory, KeepsTheLastCapacityOldestFirst) {
  SampleHistory h(5);
  for (uint64_t i = 1; i <= 23; ++i) {
    h.Push(Numbered(i));
    auto v = h.view();
    ASSERT_EQ(v.size(), std::min<uint64_t>(i, 5));
    for (std::size_t k = 0; k < v.size(); ++k) {
      EXPECT_EQ(*v[k].threads, i - v.size() + 1 + k) << "after push " << i;
    }
  }
}

TEST(SampleHistory, CapacityOne) {
  SampleHistory h(1);
  EXPECT_TRUE(h.empty());
  for (uint64_t i = 1; i <= 4; ++i) h.Push(Numbered(i));
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(*h.view()[0].threads, 4u);
}

}  // namespace
}  // namespace memmon::internal
