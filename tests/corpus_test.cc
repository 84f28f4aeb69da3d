// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Every series of the labelled corpus (tests/corpus/manifest.json) is
// classified right by memmon's detectors, replayed as `memmon analyze`
// replays them: the expected alert types fire, no other does, and none
// fires before the problem starts.

#include "corpus.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace memmon::corpus {

// Test output shows the series' name, not its bytes.
void PrintTo(const Series& s, std::ostream* os) { *os << s.name; }

namespace {

const std::string kDir = MEMMON_CORPUS_DIR;

std::vector<Series> LoadOrDie() {
  std::vector<Series> out;
  std::string error;
  if (!LoadManifest(kDir, &out, &error)) ADD_FAILURE() << error;
  return out;
}

class Corpus : public testing::TestWithParam<Series> {};

TEST_P(Corpus, ClassifiedRight) {
  const Series& s = GetParam();
  Result r;
  std::string error;
  ASSERT_TRUE(Evaluate(kDir, s, &r, &error)) << error;
  std::string alerts;
  for (const std::string& m : r.memmon.messages) alerts += "\n  " + m;
  EXPECT_EQ(r.memmon.Types(), s.expect)
      << s.name << ": " << s.description << "\nalerts:" << alerts;
  for (const auto& [type, times] : r.memmon.alert_s) {
    // One episode, or an early warning and, after the cooldown, the
    // threshold passed: never a stream of alerts.
    EXPECT_LE(times.size(), 2u) << s.name << ": " << type << alerts;
    for (double t : times) {
      EXPECT_GE(t, s.onset_s)
          << s.name << ": " << type << " before the onset" << alerts;
    }
  }
}

TEST(CorpusManifest, CoversTheIssuesCases) {
  std::vector<Series> all = LoadOrDie();
  EXPECT_GE(all.size(), 20u);
  int one_s = 0, thirty_s = 0;
  for (const Series& s : all) {
    one_s += s.interval_s == 1;
    thirty_s += s.interval_s == 30;
    if (!s.expect.empty()) {
      EXPECT_GE(s.onset_s, 0) << s.name;
    }
  }
  EXPECT_GE(one_s, 5);
  EXPECT_GE(thirty_s, 5);
}

INSTANTIATE_TEST_SUITE_P(Labelled, Corpus, testing::ValuesIn(LoadOrDie()),
                         [](const testing::TestParamInfo<Series>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace memmon::corpus
