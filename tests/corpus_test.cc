// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Every series of the labelled corpus (tests/corpus/manifest.json) is
// classified right by memmon's detectors, replayed as `memmon analyze`
// replays them: the expected alert types fire, no other does, none fires
// before the problem starts, and each fires once (one episode, which does
// not resolve: every problem lasts to the end of its series).

#include "corpus.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "detect/analyze.h"
#include "detect/samples_csv.h"
#include "memmon/alert.h"

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

// The alert records `memmon analyze` raises on the series, firing and
// resolved.
std::vector<MemoryAlert> AnalyzeFile(const Series& s) {
  std::ifstream in(kDir + "/" + s.file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  internal::SamplesCsv csv;
  Status st = internal::ParseSamplesCsv(text.str(), &csv);
  EXPECT_TRUE(st.ok()) << st.message();
  return internal::AnalyzeSamples(csv, internal::AnalyzeDefaultConfig()).alerts;
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
    for (double t : times) {
      EXPECT_GE(t, s.onset_s)
          << s.name << ": " << type << " before the onset" << alerts;
    }
  }
  // One episode per problem: every problem in the corpus lasts to the end
  // of its series, so each expected type fires once and never resolves,
  // however its condition flickers (MonitorConfig::resolve_after).
  std::map<std::string, int> firing, resolved;
  for (const MemoryAlert& a : AnalyzeFile(s)) {
    ++(a.state == AlertState::kFiring
           ? firing
           : resolved)[std::string(ToString(a.type))];
  }
  for (const std::string& type : s.expect) {
    EXPECT_EQ(firing[type], 1) << s.name << ": " << type << alerts;
  }
  EXPECT_TRUE(resolved.empty()) << s.name << alerts;
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
