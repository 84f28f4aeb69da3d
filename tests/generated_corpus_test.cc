// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The generated corpus (tools/synth.h): the generator is deterministic and
// its labels say what its series do; and memmon's detectors, judged on 200
// series of the development set and 200 of the held-out set with the
// monitor's and `memmon analyze`'s configurations, keep their precision
// and recall above stated floors, and their precision above the Go
// original's rules. `corpus_eval --generated` prints the full figures.

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "corpus.h"
#include "synth.h"

namespace memmon::corpus {
namespace {

using synth::Quantity;
using synth::Synthetic;

constexpr int kSeriesPerSet = 200;
// Sanitizer builds (tests/CMakeLists.txt) judge 1 series per class and
// set, and check no figure.
#ifdef MEMMON_GENERATED_FEW_SERIES
constexpr int kJudgedPerSet = 12;
#else
constexpr int kJudgedPerSet = kSeriesPerSet;
#endif

// Floors, not targets. Measured over the 200 series of each set on the
// detectors of 2026-12-04 (issue 15: start-up, trend-based counts, refills,
// time holds, median-centred serial correlation, the long history),
// precision / recall:
//   development  monitor 0.932 / 0.980   analyze 0.941 / 0.990
//   held-out     monitor 0.950 / 0.949   analyze 0.970 / 0.959
// (the Go rules' precision: 0.550 and 0.551; before issue 15 memmon's was
// 0.571-0.594). Before the monitor judged its long history too, its recall
// was 0.847 / 0.867: its 100 samples cannot hold enough troughs of a leak
// under a long-toothed sawtooth. Each floor is the lower of the two sets
// less about 5 points, so that a change that makes memmon worse on series
// it was not tuned to fails here.
constexpr double kMinPrecisionMonitor = 0.88;
constexpr double kMinRecallMonitor = 0.89;
constexpr double kMinPrecisionAnalyze = 0.89;
constexpr double kMinRecallAnalyze = 0.90;
// And per class, so that one class cannot fall behind the aggregate: no
// class alarms falsely on more than this share of its series, and no class
// with a leak is detected on fewer than this share of them. The worst
// measured over these 200-series sets (issue 15's audit, 2026-12-05):
// sawtooth_flat 3 false alarms of 17 (development, both configurations),
// leak_under_sawtooth 11 of 16 detected (held-out, monitor); the floors
// sit under them (15 % and 70 % would fail on those today).
constexpr double kMaxClassFalseAlarms = 0.20;
constexpr double kMinClassRecall = 0.65;

bool SameSample(const Sample& a, const Sample& b) {
  return a.monotonic == b.monotonic && a.time == b.time &&
         a.heap_inuse_bytes == b.heap_inuse_bytes &&
         a.heap_free_bytes == b.heap_free_bytes && a.rss_bytes == b.rss_bytes &&
         a.threads == b.threads && a.open_fds == b.open_fds;
}

bool SameSeries(const Synthetic& a, const Synthetic& b) {
  if (a.samples.size() != b.samples.size()) return false;
  for (size_t i = 0; i < a.samples.size(); ++i) {
    if (a.samples[i].time_s != b.samples[i].time_s ||
        !SameSample(a.samples[i].sample, b.samples[i].sample)) {
      return false;
    }
  }
  return a.class_name == b.class_name && a.expect == b.expect &&
         a.onset == b.onset && a.due == b.due && a.params == b.params;
}

TEST(SynthGenerator, IsDeterministic) {
  for (int index : {0, 5, 8, 11}) {
    Synthetic a = synth::GenerateSeries(synth::kDevelopmentSeed, index);
    Synthetic b = synth::GenerateSeries(synth::kDevelopmentSeed, index);
    EXPECT_TRUE(SameSeries(a, b)) << index;
    // The same class, another index or another set: other draws.
    Synthetic c = synth::GenerateSeries(synth::kDevelopmentSeed, index + 12);
    Synthetic d = synth::GenerateSeries(synth::kHeldOutSeed, index);
    EXPECT_EQ(c.class_name, a.class_name);
    EXPECT_FALSE(SameSeries(a, c)) << index;
    EXPECT_FALSE(SameSeries(a, d)) << index;
  }
  // GenerateSet is GenerateSeries over the indexes.
  std::vector<Synthetic> set = synth::GenerateSet(synth::kHeldOutSeed, 3);
  ASSERT_EQ(set.size(), 3u);
  EXPECT_TRUE(
      SameSeries(set[2], synth::GenerateSeries(synth::kHeldOutSeed, 2)));
}

// A fixed draw, so that a change of the generator (or of its platform's
// arithmetic) shows: series 6 of the development set.
TEST(SynthGenerator, KnownDraw) {
  Synthetic s = synth::GenerateSeries(synth::kDevelopmentSeed, 6);
  EXPECT_EQ(s.class_name, "leak_from_start");
  EXPECT_EQ(s.due, 576);
  EXPECT_EQ(s.samples.size(), 776u);
}

TEST(SynthGenerator, LabelsAreConsistent) {
  std::map<std::string, int> per_class;
  for (uint64_t seed : {synth::kDevelopmentSeed, synth::kHeldOutSeed}) {
    for (const Synthetic& s : synth::GenerateSet(seed, kSeriesPerSet)) {
      SCOPED_TRACE(testing::Message()
                   << "seed " << seed << " index " << s.index << " "
                   << s.class_name << " " << s.params);
      ++per_class[s.class_name];
      int n = static_cast<int>(s.samples.size());
      ASSERT_GE(n, 300);
      ASSERT_LE(n, 1500);
      for (int i = 1; i < n; ++i) {
        ASSERT_GT(s.samples[i].time_s, s.samples[i - 1].time_s);
      }
      EXPECT_GE(s.interval_s, 0.1);
      EXPECT_LE(s.interval_s, 60);
      if (s.expect.empty()) {
        EXPECT_EQ(s.onset, -1);
        EXPECT_EQ(s.due, -1);
        continue;
      }
      ASSERT_EQ(s.expect.size(), 1u);
      ASSERT_EQ(static_cast<int>(s.clean.size()), n);
      ASSERT_GE(s.onset, 0);
      // The noise-free leak passes its limit over the baseline first at
      // `due`, with the time to see the outcome after it.
      ASSERT_GT(s.due, s.onset);
      ASSERT_LT(s.due, n);
      EXPECT_TRUE(n == 1500 || n >= s.due + 200);
      EXPECT_EQ(s.limit, synth::LimitOver(s.quantity, s.baseline));
      EXPECT_TRUE(synth::PassesLimit(s.quantity, s.clean[s.due], s.limit));
      EXPECT_FALSE(synth::PassesLimit(s.quantity, s.clean[s.due - 1], s.limit));
      for (int i = 1; i < s.onset; ++i) {
        EXPECT_EQ(s.clean[i], s.clean[0]) << "a rise before the onset, " << i;
      }
      // The leak rates are solved for a drawn due sample: the labels land
      // in the drawn ranges.
      int rise = s.due - s.onset;
      const std::string& k = s.class_name;
      if (k == "leak_from_start") {
        EXPECT_TRUE(rise >= 20 && rise <= 600) << rise;
      } else if (k == "leak_late") {
        EXPECT_TRUE(rise >= 10 && rise <= 400) << rise;
      } else if (k == "leak_under_sawtooth") {
        EXPECT_TRUE(rise >= 100 && rise <= 800) << rise;
      } else if (k == "accelerating") {
        EXPECT_TRUE(rise >= 50 && rise <= 600) << rise;
      }
      const char* type = s.quantity == Quantity::kHeap      ? "memory_growth"
                         : s.quantity == Quantity::kThreads ? "thread_leak"
                                                            : "fd_leak";
      EXPECT_EQ(*s.expect.begin(), type);
    }
  }
  EXPECT_EQ(per_class.size(), synth::ClassNames().size());
  for (const auto& [name, count] : per_class) {
    EXPECT_GE(count, 2 * (kSeriesPerSet / 12)) << name;
  }
}

// `corpus_eval --generated --csv INDEX | memmon analyze -` decides as the
// evaluation does: the CSV text parses back to the same samples.
TEST(SynthGenerator, CsvTextReadsBack) {
  for (int index : {3, 7, 8, 10}) {
    Synthetic s = synth::GenerateSeries(synth::kDevelopmentSeed, index);
    internal::SamplesCsv csv;
    ASSERT_TRUE(
        internal::ParseSamplesCsv(s.CsvText(synth::kDevelopmentSeed), &csv)
            .ok());
    ASSERT_EQ(csv.samples.size(), s.samples.size());
    for (size_t i = 0; i < csv.samples.size(); ++i) {
      ASSERT_EQ(csv.samples[i].time_s, s.samples[i].time_s) << i;
      ASSERT_TRUE(SameSample(csv.samples[i].sample, s.samples[i].sample)) << i;
    }
    for (const std::string& column : s.Csv().columns) {
      EXPECT_TRUE(csv.Has(column)) << column;
    }
  }
}

struct SetAndConfig {
  uint64_t seed;
  ConfigKind config;
};

std::string Name(const SetAndConfig& p) {
  return std::string(p.seed == synth::kDevelopmentSeed ? "Development"
                                                       : "HeldOut") +
         (p.config == ConfigKind::kMonitor ? "Monitor" : "Analyze");
}

// Test output shows the set and configuration, not their bytes.
void PrintTo(const SetAndConfig& p, std::ostream* os) { *os << Name(p); }

class GeneratedCorpus : public testing::TestWithParam<SetAndConfig> {};

TEST_P(GeneratedCorpus, PrecisionAndRecallAboveTheFloors) {
  const SetAndConfig& p = GetParam();
  Tally memmon, go;
  std::map<std::string, Tally> per_class;
  for (const Synthetic& s : synth::GenerateSet(p.seed, kJudgedPerSet)) {
    SyntheticResult r = JudgeSynthetic(s, p.config);
    memmon.Add(s, r.memmon_outcome, s.expect);
    go.Add(s, r.go_outcome, r.go_expect);
    per_class[s.class_name].Add(s, r.memmon_outcome, s.expect);
  }
  for (const auto& [name, t] : per_class) {
    std::printf("  %-20s %2d series, %2d false alarms, %2d/%2d detected\n",
                name.c_str(), t.series, t.false_alarm, t.detected, t.positives);
  }
  std::printf("%s: memmon precision %.3f recall %.3f, Go precision %.3f\n",
              Name(p).c_str(), memmon.Precision(), memmon.Recall(),
              go.Precision());
  if (kJudgedPerSet < kSeriesPerSet) {
    GTEST_SKIP() << "the figures are checked on " << kSeriesPerSet
                 << " series per set, in the release build";
  }
  bool monitor = p.config == ConfigKind::kMonitor;
  double min_precision = monitor ? kMinPrecisionMonitor : kMinPrecisionAnalyze;
  double min_recall = monitor ? kMinRecallMonitor : kMinRecallAnalyze;
  std::string figures =
      std::to_string(memmon.right) + "/" + std::to_string(memmon.alerted) +
      " alerted rightly, " + std::to_string(memmon.detected) + "/" +
      std::to_string(memmon.positives) +
      " leaks detected; `corpus_eval --generated --list` says which";
  EXPECT_GE(memmon.Precision(), min_precision) << figures;
  EXPECT_GE(memmon.Recall(), min_recall) << figures;
  // What docs/detection.md claims: memmon's alerts are right more often
  // than the Go rules'.
  EXPECT_LT(go.Precision(), memmon.Precision())
      << "Go rules " << go.right << "/" << go.alerted << "; " << figures;
  EXPECT_EQ(per_class.size(), synth::ClassNames().size());
  for (const auto& [name, t] : per_class) {
    ASSERT_GT(t.series, 0) << name;
    EXPECT_LE(t.false_alarm, kMaxClassFalseAlarms * t.series)
        << name << ": " << t.false_alarm << " of " << t.series
        << " series alarmed falsely";
    if (t.positives > 0) {
      EXPECT_GE(t.detected, kMinClassRecall * t.positives)
          << name << ": " << t.detected << " of " << t.positives
          << " leaks detected";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Sets, GeneratedCorpus,
    testing::Values(SetAndConfig{synth::kDevelopmentSeed, ConfigKind::kMonitor},
                    SetAndConfig{synth::kDevelopmentSeed, ConfigKind::kAnalyze},
                    SetAndConfig{synth::kHeldOutSeed, ConfigKind::kMonitor},
                    SetAndConfig{synth::kHeldOutSeed, ConfigKind::kAnalyze}),
    [](const testing::TestParamInfo<SetAndConfig>& info) {
      return Name(info.param);
    });

}  // namespace
}  // namespace memmon::corpus
