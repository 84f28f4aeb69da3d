// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/leak_sites.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "profile/heap_profile.h"

namespace memmon::profile {
namespace {

// A heap profile holding `bytes[site]` in use at each named leaf function.
Profile Snapshot(const std::map<std::string, double>& bytes) {
  Profile p;
  p.sample_types = {{"inuse_objects", "count"}, {"inuse_space", "bytes"}};
  uint64_t id = 1;
  for (const auto& [name, b] : bytes) {
    p.functions.push_back({id, name, name, "site.cc", 0});
    p.locations.push_back({id, 0, 0x1000 * id, {{id, 1}}, false});
    p.samples.push_back({{id}, {1, static_cast<int64_t>(b)}, {}});
    ++id;
  }
  return p;
}

TEST(LeakSitesTest, TellsLeakFromCacheAndNoise) {
  std::vector<Profile> profiles;
  const double MiB = 1 << 20;
  for (int i = 0; i < 20; ++i) {
    profiles.push_back(Snapshot({
        {"Leak", 8 * MiB * i},                       // steady growth
        {"SlowLeak", 1 * MiB * i},                   // slower, still a leak
        {"Cache", 64 * MiB * std::min(i, 6) / 6.0},  // fills, then capped
        {"Steady", 32 * MiB},                        // never moves
        {"Sawtooth", 16 * MiB * (i % 4)},            // noise
    }));
  }
  std::vector<TimedProfile> series;
  for (int i = 0; i < 20; ++i) series.push_back({30.0 * i, &profiles[i]});
  std::vector<SiteGrowth> ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 5u);
  EXPECT_EQ(ranked[0].function, "Leak");
  EXPECT_EQ(ranked[0].kind, GrowthKind::kUnbounded);
  EXPECT_NEAR(ranked[0].slope_bytes_per_s, 8 * MiB / 30, 1);
  EXPECT_GE(ranked[0].confidence, 0.95);
  EXPECT_EQ(ranked[1].function, "SlowLeak");
  EXPECT_EQ(ranked[1].kind, GrowthKind::kUnbounded);
  EXPECT_EQ(ranked[2].function, "Cache");
  EXPECT_EQ(ranked[2].kind, GrowthKind::kBounded);
  EXPECT_EQ(ranked[2].last_bytes, 64 * MiB);
  // Noise that ends higher than it started is bounded, never a leak.
  for (std::size_t i = 3; i < ranked.size(); ++i) {
    EXPECT_NE(ranked[i].kind, GrowthKind::kUnbounded) << ranked[i].function;
  }
  EXPECT_EQ(ranked[3].function, "Sawtooth");
  EXPECT_EQ(ranked[4].function, "Steady");
  EXPECT_EQ(ranked[4].kind, GrowthKind::kFlat);
  EXPECT_EQ(ranked[0].inuse_bytes.size(), 20u);
  EXPECT_EQ(ranked[0].file, "site.cc");
}

// The monitor's trend machinery (ClassifyGrowth) judges sites too: a
// one-off step (a buffer allocated once, kept) is bounded, not a leak.
TEST(LeakSitesTest, AStepIsBoundedNotALeak) {
  std::vector<Profile> profiles;
  const double MiB = 1 << 20;
  for (int i = 0; i < 12; ++i) {
    profiles.push_back(
        Snapshot({{"Step", i < 6 ? 0.0 : 48 * MiB}, {"Leak", 2 * MiB * i}}));
  }
  std::vector<TimedProfile> series;
  for (int i = 0; i < 12; ++i) series.push_back({10.0 * i, &profiles[i]});
  std::vector<SiteGrowth> ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].function, "Leak");
  EXPECT_EQ(ranked[0].kind, GrowthKind::kUnbounded);
  EXPECT_GT(ranked[0].slope_lower_bytes_per_s, 0);
  EXPECT_EQ(ranked[1].function, "Step");
  EXPECT_EQ(ranked[1].kind, GrowthKind::kBounded);
}

TEST(LeakSitesTest, SitesAppearingLaterStartAtZero) {
  std::vector<Profile> profiles;
  for (int i = 0; i < 8; ++i) {
    std::map<std::string, double> m{{"Old", 1000}};
    if (i >= 2) m["New"] = (i - 1) * 4.0 * (1 << 20);
    profiles.push_back(Snapshot(m));
  }
  std::vector<TimedProfile> series;
  for (int i = 0; i < 8; ++i) series.push_back({1.0 * i, &profiles[i]});
  auto ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].function, "New");
  EXPECT_EQ(ranked[0].first_bytes, 0);
  EXPECT_EQ(ranked[0].kind, GrowthKind::kUnbounded);
}

// Two snapshots cannot pass the trend test: the growth is shown, but the
// site is not called unbounded (a leak) -- it is unknown.
TEST(LeakSitesTest, FewSnapshotsReportGrowthWithoutConfidence) {
  Profile a = Snapshot({{"X", 0}}), b = Snapshot({{"X", 8 << 20}});
  std::vector<TimedProfile> series{{0, &a}, {10, &b}};
  auto ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 1u);
  EXPECT_EQ(ranked[0].kind, GrowthKind::kUnknown);
  EXPECT_EQ(ranked[0].confidence, 0);
  EXPECT_NEAR(ranked[0].slope_bytes_per_s, (8 << 20) / 10.0, 1e-6);
  EXPECT_TRUE(RankLeakSites({}).empty());
  EXPECT_EQ(ToString(GrowthKind::kBounded), "bounded");
}

// Two stacks through one leaf ("Grow"), called from A (heavier) and B, with
// the leaf inlined into its caller's location in the first.
Profile TwoStacks(double a_bytes, double b_bytes) {
  Profile p;
  p.sample_types = {{"inuse_space", "bytes"}};
  p.functions = {{1, "Grow", "Grow", "grow.cc", 0},
                 {2, "A", "A", "a.cc", 0},
                 {3, "B", "B", "b.cc", 0},
                 {4, "main", "main", "main.cc", 0}};
  p.locations = {{1, 0, 0x10, {{1, 7}, {2, 20}}, false},  // Grow inlined in A
                 {2, 0, 0x20, {{1, 9}}, false},
                 {3, 0, 0x30, {{3, 30}}, false},
                 {4, 0, 0x40, {{4, 40}}, false}};
  p.samples = {{{1, 4}, {static_cast<int64_t>(a_bytes)}, {}},
               {{2, 3, 4}, {static_cast<int64_t>(b_bytes)}, {}}};
  return p;
}

TEST(LeakSitesTest, CarriesTheHeaviestStackOfTheLatestSnapshot) {
  // B is heavier first, A later: the later snapshot's heaviest stack wins.
  Profile first = TwoStacks(1 << 20, 4 << 20);
  Profile last = TwoStacks(8 << 20, 4 << 20);
  std::vector<TimedProfile> series = {{0, &first}, {10, &last}};
  std::vector<SiteGrowth> ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 1u);
  const SiteGrowth& g = ranked[0];
  EXPECT_EQ(g.function, "Grow");
  EXPECT_EQ(g.stack_snapshot, 1u);
  EXPECT_EQ(g.stack_bytes, 8 << 20);
  ASSERT_EQ(g.stack.size(), 3u);  // Grow (inlined), A, main
  EXPECT_EQ(g.stack[0].function, "Grow");
  EXPECT_EQ(g.stack[0].file, "grow.cc");
  EXPECT_EQ(g.stack[0].line, 7);
  EXPECT_EQ(g.stack[1].function, "A");
  EXPECT_EQ(g.stack[1].line, 20);
  EXPECT_EQ(g.stack[2].function, "main");
}

TEST(LeakSitesTest, OneProfileRanksByBytesInUse) {
  Profile p =
      Snapshot({{"Small", 1 << 20}, {"Big", 9 << 20}, {"Mid", 4 << 20}});
  std::vector<TimedProfile> series = {{0, &p}};
  std::vector<SiteGrowth> ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].function, "Big");
  EXPECT_EQ(ranked[1].function, "Mid");
  EXPECT_EQ(ranked[2].function, "Small");
  for (const SiteGrowth& g : ranked) EXPECT_EQ(g.kind, GrowthKind::kFlat);
}

TEST(LeakSitesTest, NamesLoseTheirParameterLists) {
  Profile p =
      Snapshot({{"ns::Cache<int>::Put(int) const", 1 << 20},
                {"Foo::operator()(int)", 2 << 20},
                {"Work(char*) [clone .isra.0]", 3 << 20},
                {"[unknown]", 4 << 20},
                {"std::construct_at<(anonymous namespace)::S, int&>", 5 << 20},
                {"(anonymous namespace)::S& Reg<(anonymous "
                 "namespace)::S>::Add<int&>(int&)",
                 6 << 20},
                {"Pool::operator new(unsigned long)", 7 << 20}});
  std::vector<TimedProfile> series = {{0, &p}};
  std::vector<SiteGrowth> ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 7u);
  EXPECT_EQ(ranked[0].function, "Pool::operator new");
  EXPECT_EQ(ranked[1].function, "Reg<(anonymous namespace)::S>::Add<int&>");
  EXPECT_EQ(ranked[2].function,
            "std::construct_at<(anonymous namespace)::S, int&>");
  ranked.erase(ranked.begin(), ranked.begin() + 3);
  EXPECT_EQ(ranked[0].function, "[unknown]");
  EXPECT_EQ(ranked[1].function, "Work");
  EXPECT_EQ(ranked[2].function, "Foo::operator()");
  EXPECT_EQ(ranked[3].function, "ns::Cache<int>::Put");
  EXPECT_EQ(ranked[3].stack.at(0).function, "ns::Cache<int>::Put");
}

// ---- the age of live memory ------------------------------------------------

// Adds live-age labels (milliseconds, as heap_profile.cc writes them) to
// the sample of `name`.
void SetAge(Profile& p, const std::string& name, double median_s,
            double oldest_s) {
  for (Sample& s : p.samples) {
    if (p.FindFunction(p.FindLocation(s.location_ids[0])->lines[0].function_id)
            ->name != name) {
      continue;
    }
    s.labels.push_back(
        {kLiveAgeMedianLabel, "", static_cast<int64_t>(median_s * 1000), "ms"});
    s.labels.push_back(
        {kLiveAgeOldestLabel, "", static_cast<int64_t>(oldest_s * 1000), "ms"});
  }
}

// Two sites growing alike: one keeps its memory (a leak: the median age is
// half the run, rising), the other replaces it (churn running higher: the
// median age stays at a second). The leak is unbounded and ageing; the
// churn young and so bounded, ranked after it.
TEST(LeakSitesTest, AgeTellsKeptMemoryFromChurn) {
  std::vector<Profile> profiles;
  const double MiB = 1 << 20;
  for (int i = 0; i < 12; ++i) {
    profiles.push_back(
        Snapshot({{"Leak", 2 * MiB * i}, {"Churn", 2 * MiB * i}}));
    const double run_s = 10.0 * (i + 1);
    profiles.back().duration_nanos = static_cast<int64_t>(run_s * 1e9);
    SetAge(profiles.back(), "Leak", run_s / 2, run_s);
    SetAge(profiles.back(), "Churn", 1, 2);
  }
  std::vector<TimedProfile> series;
  for (int i = 0; i < 12; ++i) series.push_back({10.0 * i, &profiles[i]});
  std::vector<SiteGrowth> ranked = RankLeakSites(series);
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].function, "Leak");
  EXPECT_EQ(ranked[0].kind, GrowthKind::kUnbounded);
  EXPECT_EQ(ranked[0].age, SiteGrowth::Age::kAgeing);
  EXPECT_NEAR(ranked[0].age_slope, 0.5, 1e-6);
  EXPECT_NEAR(ranked[0].last_median_age_s, 60, 1e-3);
  EXPECT_NEAR(ranked[0].last_oldest_age_s, 120, 1e-3);
  EXPECT_EQ(ranked[1].function, "Churn");
  EXPECT_EQ(ranked[1].age, SiteGrowth::Age::kYoung);
  EXPECT_EQ(ranked[1].kind, GrowthKind::kBounded);
  EXPECT_NEAR(ranked[1].last_median_age_s, 1, 1e-3);
  EXPECT_EQ(ToString(ranked[1].age), "young");
}

// One profile (the exit heap alone): ages against the run's duration.
TEST(LeakSitesTest, AgeInOneProfile) {
  Profile p = Snapshot({{"Old", 1 << 20},
                        {"Young", 1 << 20},
                        {"Mid", 1 << 20},
                        {"NoAge", 1 << 20}});
  p.duration_nanos = 100'000'000'000;  // 100 s
  SetAge(p, "Old", 50, 99);
  SetAge(p, "Young", 2, 5);
  SetAge(p, "Mid", 15, 40);
  TimedProfile one{0, &p};
  std::map<std::string, SiteGrowth> by_name;
  for (SiteGrowth& g : RankLeakSites({&one, 1})) by_name[g.function] = g;
  EXPECT_EQ(by_name["Old"].age, SiteGrowth::Age::kAgeing);
  EXPECT_EQ(by_name["Young"].age, SiteGrowth::Age::kYoung);
  EXPECT_EQ(by_name["Mid"].age, SiteGrowth::Age::kSteady);
  EXPECT_EQ(by_name["NoAge"].age, SiteGrowth::Age::kUnknown);
  EXPECT_LT(by_name["NoAge"].last_median_age_s, 0);
}

// A site of several stacks: the bytes-weighted median of their medians,
// the oldest of their oldest.
TEST(LeakSitesTest, AgeOfASiteOfSeveralStacks) {
  Profile p;
  p.sample_types = {{"inuse_objects", "count"}, {"inuse_space", "bytes"}};
  p.functions.push_back({1, "Site", "Site", "site.cc", 0});
  p.functions.push_back({2, "CallerA", "CallerA", "a.cc", 0});
  p.functions.push_back({3, "CallerB", "CallerB", "b.cc", 0});
  p.locations.push_back({1, 0, 0x1000, {{1, 1}}, false});
  p.locations.push_back({2, 0, 0x2000, {{2, 1}}, false});
  p.locations.push_back({3, 0, 0x3000, {{3, 1}}, false});
  auto age = [](double median_s, double oldest_s) {
    return std::vector<Label>{
        {kLiveAgeMedianLabel, "", static_cast<int64_t>(median_s * 1000), "ms"},
        {kLiveAgeOldestLabel, "", static_cast<int64_t>(oldest_s * 1000), "ms"}};
  };
  p.samples.push_back({{1, 2}, {1, 3 << 20}, age(10, 20)});
  p.samples.push_back({{1, 3}, {1, 1 << 20}, age(1, 30)});
  p.duration_nanos = 40'000'000'000;
  TimedProfile one{0, &p};
  std::vector<SiteGrowth> ranked = RankLeakSites({&one, 1});
  ASSERT_EQ(ranked.size(), 1u);
  EXPECT_NEAR(ranked[0].last_median_age_s, 10, 1e-3);  // 3 MiB of 4
  EXPECT_NEAR(ranked[0].last_oldest_age_s, 30, 1e-3);
}

// Ageing memory that still rises is a leak candidate even where the trend
// test is not confident (the killed run of tests/peak_age_test.sh: four
// snapshots, one of them a dip). Each site below grows by the same bytes
// over four snapshots with a dip at the third, so ClassifyGrowth does not
// confirm a trend for any; only the ages differ:
//   Kept     median age half the run (rising 0.5 s/s): unbounded;
//   Churn    median age 0.1 s: young, bounded;
//   Filled   ageing, but flat over the recent window (a cache at its cap):
//            bounded;
// and with three snapshots (no trend test at all) ageing rising memory is
// unbounded where memory without ages stays unknown.
TEST(LeakSitesTest, AgeingGrowthIsACandidateWithoutAConfidentTrend) {
  const double MiB = 1 << 20;
  const double kept[] = {0, 40 * MiB, 30 * MiB, 90 * MiB};
  const double filled[] = {0, 90 * MiB, 90 * MiB, 90 * MiB};
  std::vector<Profile> profiles;
  for (int i = 0; i < 4; ++i) {
    profiles.push_back(Snapshot({{"Kept", kept[i]},
                                 {"Churn", kept[i]},
                                 {"Filled", filled[i]},
                                 {"NoAge", kept[i]}}));
    const double run_s = 1.0 + 0.5 * i;
    profiles.back().duration_nanos = static_cast<int64_t>(run_s * 1e9);
    SetAge(profiles.back(), "Kept", run_s / 2, run_s);
    SetAge(profiles.back(), "Churn", 0.1, 0.2);
    SetAge(profiles.back(), "Filled", run_s / 2, run_s);
  }
  std::vector<TimedProfile> series;
  for (int i = 0; i < 4; ++i) series.push_back({0.5 * i, &profiles[i]});
  std::map<std::string, SiteGrowth> by_name;
  for (SiteGrowth& g : RankLeakSites(series)) by_name[g.function] = g;
  const SiteGrowth& k = by_name["Kept"];
  EXPECT_LT(k.confidence, 0.95);  // the trend test alone would not say
  EXPECT_GT(k.recent_slope_bytes_per_s, 0);
  EXPECT_EQ(k.age, SiteGrowth::Age::kAgeing);
  EXPECT_NEAR(k.age_slope, 0.5, 1e-3);
  EXPECT_EQ(k.kind, GrowthKind::kUnbounded);
  EXPECT_EQ(by_name["Churn"].age, SiteGrowth::Age::kYoung);
  EXPECT_EQ(by_name["Churn"].kind, GrowthKind::kBounded);
  EXPECT_EQ(by_name["Filled"].age, SiteGrowth::Age::kAgeing);
  EXPECT_EQ(by_name["Filled"].kind, GrowthKind::kBounded);
  EXPECT_EQ(by_name["NoAge"].kind, GrowthKind::kBounded);
  // Ranked first: the candidate before the bounded sites.
  EXPECT_EQ(RankLeakSites(series)[0].function, "Kept");

  // Three snapshots: no trend test; ages decide.
  std::vector<TimedProfile> three(series.begin() + 1, series.end());
  std::map<std::string, SiteGrowth> short_series;
  for (SiteGrowth& g : RankLeakSites(three)) short_series[g.function] = g;
  EXPECT_EQ(short_series["Kept"].kind, GrowthKind::kUnbounded);
  EXPECT_EQ(short_series["Churn"].kind, GrowthKind::kBounded);
  EXPECT_EQ(short_series["NoAge"].kind, GrowthKind::kUnknown);
}

}  // namespace
}  // namespace memmon::profile
