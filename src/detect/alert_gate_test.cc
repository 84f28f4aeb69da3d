// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/alert_gate.h"

#include <gtest/gtest.h>

#include <string>

namespace memmon::internal {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Feeds a pattern ('1' condition holds, '0' not), one sample per second,
// and returns the pattern of fires.
std::string Feed(AlertGate& g, const std::string& pattern, std::size_t sustain,
                 std::size_t hysteresis, AlertGate::Clock::duration cooldown,
                 AlertGate::Clock::time_point* t) {
  std::string fired;
  for (char c : pattern) {
    *t += seconds(1);
    fired += g.Update(c == '1', *t, sustain, hysteresis, cooldown) ? 'A' : '.';
  }
  return fired;
}

TEST(AlertGate, OneAlertPerEpisodeAfterSustain) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  EXPECT_EQ(Feed(g, "0111111111", 3, 2, seconds(0), &t), "...A......");
}

TEST(AlertGate, ShortBlipsDoNotAlert) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  EXPECT_EQ(Feed(g, "1101101100", 3, 2, seconds(0), &t), "..........");
}

TEST(AlertGate, HysteresisKeepsAFlickeringEpisodeOpen) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  // One absent sample does not end the episode (hysteresis 2); two do.
  EXPECT_EQ(Feed(g, "111011100111", 3, 2, seconds(0), &t), "..A........A");
}

TEST(AlertGate, CooldownDelaysTheNextEpisode) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  // Second episode starts 6 s after the first alert; cooldown is 8 s, so it
  // fires at 8 s, while the condition still holds.
  EXPECT_EQ(Feed(g, "1110011111111", 1, 2, seconds(8), &t), "A.......A....");
}

TEST(AlertGate, ResetEpisodeAllowsANewAlertButKeepsCooldown) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  EXPECT_EQ(Feed(g, "11", 1, 2, minutes(0), &t), "A.");
  g.ResetEpisode();
  EXPECT_EQ(Feed(g, "11", 1, 2, minutes(0), &t), "A.");
  g.ResetEpisode();
  EXPECT_EQ(Feed(g, "11", 1, 2, minutes(10), &t), "..");
}

}  // namespace
}  // namespace memmon::internal
