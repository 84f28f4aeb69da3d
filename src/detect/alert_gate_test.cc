// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/alert_gate.h"

#include <gtest/gtest.h>

#include <string>

namespace memmon::internal {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

AlertGate::Rules Rules(std::size_t sustain, std::size_t hysteresis,
                       AlertGate::Clock::duration cooldown,
                       AlertGate::Clock::duration resolve_after = seconds(0)) {
  return {sustain, hysteresis, resolve_after, cooldown};
}

// Feeds a pattern ('1' condition holds, '0' not), one sample per second,
// and returns what the gate raised: 'A' fire, 'R' resolve, '.' nothing.
std::string Feed(AlertGate& g, const std::string& pattern,
                 const AlertGate::Rules& rules,
                 AlertGate::Clock::time_point* t) {
  std::string out;
  for (char c : pattern) {
    *t += seconds(1);
    switch (g.Update(c == '1', *t, rules)) {
      case AlertGate::Event::kNone:
        out += '.';
        break;
      case AlertGate::Event::kFire:
        out += 'A';
        break;
      case AlertGate::Event::kResolve:
        out += 'R';
        break;
    }
  }
  return out;
}

TEST(AlertGate, OneAlertPerEpisodeAfterSustain) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  EXPECT_EQ(Feed(g, "0111111111", Rules(3, 2, seconds(0)), &t), "...A......");
  EXPECT_TRUE(g.firing());
}

TEST(AlertGate, ShortBlipsDoNotAlert) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  EXPECT_EQ(Feed(g, "1101101100", Rules(3, 2, seconds(0)), &t), "..........");
}

TEST(AlertGate, AnEpisodeResolvesAfterTheHysteresis) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  EXPECT_EQ(Feed(g, "1110001", Rules(3, 3, seconds(0)), &t), "..A..R.");
  EXPECT_FALSE(g.firing());
}

TEST(AlertGate, HysteresisKeepsAFlickeringEpisodeOpen) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  // One absent sample does not end the episode (hysteresis 2); two do, and
  // resolve it; the next episode fires again.
  EXPECT_EQ(Feed(g, "111011100111", Rules(3, 2, seconds(0)), &t),
            "..A.....R..A");
}

TEST(AlertGate, FlappingWithinResolveAfterGivesNoResolution) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  // Absent for 5 samples (5 s) at a time: past the hysteresis, but never 6 s
  // since the condition last held, so one episode throughout.
  AlertGate::Rules rules = Rules(3, 2, seconds(0), seconds(6));
  EXPECT_EQ(Feed(g, "11100000111000001110000011", rules, &t),
            "..A.......................");
  // Six seconds after it last held (and past the hysteresis), it resolves.
  EXPECT_EQ(Feed(g, "000000", rules, &t), ".....R");
}

TEST(AlertGate, CooldownDelaysTheNextEpisode) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  // The first episode resolves after 2 absent samples; the second starts
  // 6 s after the first alert; cooldown is 8 s, so it fires at 8 s, while
  // the condition still holds.
  EXPECT_EQ(Feed(g, "1110011111111", Rules(1, 2, seconds(8)), &t),
            "A...R...A....");
}

TEST(AlertGate, AnEpisodeTheCooldownSuppressedDoesNotResolve) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  AlertGate::Rules rules = Rules(1, 2, minutes(10));
  EXPECT_EQ(Feed(g, "1100", rules, &t), "A..R");
  // A second episode inside the cooldown never fires, so it never resolves.
  EXPECT_EQ(Feed(g, "111000", rules, &t), "......");
  EXPECT_FALSE(g.in_episode());
}

TEST(AlertGate, ResetEpisodeAllowsANewAlertButKeepsCooldown) {
  AlertGate g;
  AlertGate::Clock::time_point t{};
  EXPECT_EQ(Feed(g, "11", Rules(1, 2, minutes(0)), &t), "A.");
  EXPECT_TRUE(g.ResetEpisode());  // it had fired: the caller resolves it
  EXPECT_EQ(Feed(g, "11", Rules(1, 2, minutes(0)), &t), "A.");
  EXPECT_TRUE(g.ResetEpisode());
  EXPECT_EQ(Feed(g, "11", Rules(1, 2, minutes(10)), &t), "..");
  EXPECT_FALSE(g.ResetEpisode());  // suppressed: nothing to resolve
}

}  // namespace
}  // namespace memmon::internal
