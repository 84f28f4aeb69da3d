// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cli/units.h"

#include <gtest/gtest.h>

namespace memmon::cli {
namespace {

using namespace std::chrono_literals;

std::chrono::nanoseconds Duration(std::string_view text) {
  std::chrono::nanoseconds d{-1};
  Status s = ParseDuration(text, &d);
  EXPECT_TRUE(s.ok()) << text << ": " << s.message();
  return d;
}

uint64_t Size(std::string_view text) {
  uint64_t v = 0;
  Status s = ParseSize(text, &v);
  EXPECT_TRUE(s.ok()) << text << ": " << s.message();
  return v;
}

TEST(ParseDuration, UnitsPeopleType) {
  EXPECT_EQ(Duration("100ms"), 100ms);
  EXPECT_EQ(Duration("2s"), 2s);
  EXPECT_EQ(Duration("1.5s"), 1500ms);
  EXPECT_EQ(Duration("5m"), 5min);
  EXPECT_EQ(Duration("1h"), 1h);
  EXPECT_EQ(Duration("250us"), 250us);
  EXPECT_EQ(Duration("0s"), 0s);
}

TEST(ParseDuration, RefusesWithAReason) {
  for (const char* bad :
       {"", "10", "ms", "2 s", "-1s", "1.2.3s", "5d", "1e3s", "99999999999h"}) {
    std::chrono::nanoseconds d{};
    Status s = ParseDuration(bad, &d);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("duration"), std::string::npos) << s.message();
  }
  std::chrono::nanoseconds d{};
  EXPECT_NE(ParseDuration("10", &d).message().find("missing unit"),
            std::string::npos);
}

TEST(ParseSize, UnitsPeopleType) {
  EXPECT_EQ(Size("4096"), 4096u);
  EXPECT_EQ(Size("512k"), 512u << 10);
  EXPECT_EQ(Size("512K"), 512u << 10);
  EXPECT_EQ(Size("512KiB"), 512u << 10);
  EXPECT_EQ(Size("2M"), 2u << 20);
  EXPECT_EQ(Size("2MB"), 2u << 20);
  EXPECT_EQ(Size("1G"), 1ull << 30);
  EXPECT_EQ(Size("1"), 1u);
}

TEST(ParseSize, RefusesWithAReason) {
  for (const char* bad : {"", "k", "1.5M", "-2", "2X", "2Mi",
                          "99999999999999999999", "20000000000000T"}) {
    uint64_t v = 0;
    Status s = ParseSize(bad, &v);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("size"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace memmon::cli
