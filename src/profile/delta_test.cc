// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/delta.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace memmon::profile {
namespace {

// A profile of one mapping ("app") whose samples are stacks of addresses
// (leaf first) with two values each. Location ids follow `first_id`, so
// two profiles can number the same addresses differently.
Profile Make(
    const std::map<std::vector<uint64_t>, std::pair<int64_t, int64_t>>& samples,
    uint64_t first_id, int64_t time_nanos) {
  Profile p;
  p.sample_types = {{"alloc_space", "bytes"}, {"inuse_space", "bytes"}};
  p.mappings.push_back({1, 0x1000, 0x9000, 0, "app", "", true});
  p.time_nanos = time_nanos;
  std::map<uint64_t, uint64_t> ids;
  for (const auto& [stack, values] : samples) {
    Sample s;
    for (uint64_t address : stack) {
      auto [it, added] = ids.emplace(address, first_id + ids.size());
      if (added) {
        Function f{it->second, "f" + std::to_string(address),
                   "f" + std::to_string(address), "app.cc", 0};
        p.functions.push_back(f);
        p.locations.push_back(
            {it->second, 1, address, {{it->second, 1}}, false});
      }
      s.location_ids.push_back(it->second);
    }
    s.values = {values.first, values.second};
    p.samples.push_back(s);
  }
  return p;
}

// Sample values by the stack's addresses.
std::map<std::vector<uint64_t>, std::vector<int64_t>> ByStack(
    const Profile& p) {
  std::map<std::vector<uint64_t>, std::vector<int64_t>> out;
  for (const Sample& s : p.samples) {
    std::vector<uint64_t> stack;
    for (uint64_t id : s.location_ids) {
      const Location* loc = p.FindLocation(id);
      EXPECT_NE(loc, nullptr);
      if (loc == nullptr) continue;
      EXPECT_NE(p.FindFunction(loc->lines.at(0).function_id), nullptr);
      stack.push_back(loc->address);
    }
    out[stack] = s.values;
  }
  return out;
}

TEST(Subtract, MatchesStacksByAddressWhateverTheirIds) {
  Profile earlier = Make({{{0x1100, 0x1200}, {100, 50}},  // grows
                          {{0x1300}, {40, 40}},           // unchanged
                          {{0x1400, 0x1200}, {10, 10}}},  // gone
                         1, 1'000'000'000);
  Profile later = Make({{{0x1100, 0x1200}, {300, 80}},
                        {{0x1300}, {40, 40}},
                        {{0x1500}, {7, 7}}},  // new
                       100, 3'000'000'000);
  Profile delta;
  ASSERT_TRUE(Subtract(later, earlier, &delta).ok());
  auto by = ByStack(delta);
  EXPECT_EQ(by.size(), 3u);  // the unchanged stack cancels out
  EXPECT_EQ(by[(std::vector<uint64_t>{0x1100, 0x1200})],
            (std::vector<int64_t>{200, 30}));
  EXPECT_EQ(by[(std::vector<uint64_t>{0x1500})], (std::vector<int64_t>{7, 7}));
  EXPECT_EQ(by[(std::vector<uint64_t>{0x1400, 0x1200})],
            (std::vector<int64_t>{-10, -10}));
  EXPECT_EQ(delta.duration_nanos, 2'000'000'000);
}

TEST(Subtract, RefusesProfilesOfDifferentTypes) {
  Profile a = Make({}, 1, 0), b = Make({}, 1, 0);
  b.sample_types = {{"contentions", "count"}, {"delay", "nanoseconds"}};
  Profile out;
  EXPECT_EQ(Subtract(a, b, &out).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memmon::profile
