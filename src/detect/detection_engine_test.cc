// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/detection_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace memmon::internal {
namespace {

Sample At(double t) {
  Sample s;
  auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(t));
  s.monotonic = std::chrono::steady_clock::time_point(d);
  return s;
}

MonitorConfig Config() {
  MonitorConfig c = DefaultMonitorConfig();
  c.alert_log = "none";
  return c;
}

TEST(DetectionEngine, OneAlertPerEpisodeAtTheSampleThatRaisesIt) {
  DetectionEngine r(Config());  // warm-up 1, sustain 3, hold 5
  std::vector<MemoryAlert> all;
  for (int i = 0; i < 30; ++i) {
    Sample s = At(i * 30.0);
    s.threads = i < 5 ? 10 : 60;
    for (MemoryAlert& a : r.Push(i * 30.0, s)) all.push_back(a);
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].type, AlertType::kThreadLeak);
  // Baseline at i = 1; 60 threads from i = 5; held 5 samples at i = 9;
  // sustained 3 at i = 11.
  EXPECT_DOUBLE_EQ(all[0].time_s, 11 * 30.0);
  EXPECT_NE(all[0].message.find("threads grew from 10 to 60"),
            std::string::npos);
  ASSERT_TRUE(r.baseline().has_value());
  EXPECT_EQ(r.baseline()->threads, 10u);
}

TEST(DetectionEngine, DisabledDetectorsStayQuietAndResetMovesTheBaseline) {
  DetectionEngine r(Config());
  r.SetDetector(AlertType::kThreadLeak, nullptr);
  int alerts = 0;
  for (int i = 0; i < 20; ++i) {
    Sample s = At(i);
    s.threads = i < 3 ? 10 : 60;
    alerts += static_cast<int>(r.Push(i, s).size());
  }
  EXPECT_EQ(alerts, 0);
  r.ResetBaseline();
  Sample s = At(100);
  s.threads = 60;
  EXPECT_TRUE(r.Push(100, s).empty());
  EXPECT_EQ(r.baseline()->threads, 60u);
  EXPECT_EQ(r.sample_count(), 21u);
}

std::vector<MemoryAlert> Replay(
    DetectionEngine& r, int from, int to, double every_s,
    const std::function<void(int, Sample*)>& shape) {
  std::vector<MemoryAlert> all;
  for (int i = from; i < to; ++i) {
    Sample s = At(i * every_s);
    shape(i, &s);
    for (MemoryAlert& a : r.Push(i * every_s, s)) all.push_back(a);
  }
  return all;
}

TEST(DetectionEngine, ACountThatReturnsResolvesItsEpisode) {
  DetectionEngine r(Config());  // hysteresis 3, resolve_after 5 min
  // 10 threads, 60 from i = 5 to 19, then 10 again; a sample every 30 s.
  std::vector<MemoryAlert> all = Replay(r, 0, 60, 30, [](int i, Sample* s) {
    s->threads = i >= 5 && i < 20 ? 60 : 10;
  });
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, AlertState::kFiring);
  EXPECT_DOUBLE_EQ(all[0].time_s, 11 * 30.0);
  const MemoryAlert& res = all[1];
  EXPECT_EQ(res.type, AlertType::kThreadLeak);
  EXPECT_EQ(res.state, AlertState::kResolved);
  // The condition last held at i = 19 (its 5-sample minimum fell at i = 20);
  // 5 min (10 samples) later, at i = 29, it has been absent on more than
  // hysteresis_samples samples too.
  EXPECT_DOUBLE_EQ(res.time_s, 29 * 30.0);
  EXPECT_DOUBLE_EQ(res.episode_start_s, 11 * 30.0);
  EXPECT_EQ(res.episode_start, all[0].time);
  EXPECT_DOUBLE_EQ(res.value, 10);
  EXPECT_DOUBLE_EQ(res.threshold, 20);  // max(10 x 1.5, 10 + 10)
  EXPECT_NE(res.message.find("threads returned to 10, below the limit of 20"),
            std::string::npos)
      << res.message;
  EXPECT_NE(ToJson(res).find(R"("state":"resolved")"), std::string::npos);
  EXPECT_NE(ToJson(res).find(R"("episode_start_s":330.0)"), std::string::npos);
  EXPECT_NE(ToJson(all[0]).find(R"("state":"firing")"), std::string::npos);
  EXPECT_EQ(ToJson(all[0]).find("episode_start_s"), std::string::npos);
}

TEST(DetectionEngine, ALeakThatStopsFiresThenResolvesAsBounded) {
  DetectionEngine r(Config());
  // 100 MiB of heap, +4 MiB per 30 s sample from i = 10 to 40 (to 220 MiB,
  // past the 20 % limit of 120 MiB), then flat there.
  constexpr double kMiB = 1 << 20;
  std::vector<MemoryAlert> all = Replay(r, 0, 100, 30, [&](int i, Sample* s) {
    int rising = std::clamp(i, 10, 40) - 10;
    s->heap_inuse_bytes = static_cast<uint64_t>((100 + 4 * rising) * kMiB +
                                                (i % 3) * 0.25 * kMiB);
  });
  ASSERT_EQ(all.size(), 2u) << (all.empty() ? "" : all.back().message);
  EXPECT_EQ(all[0].type, AlertType::kMemoryGrowth);
  EXPECT_EQ(all[0].state, AlertState::kFiring);
  EXPECT_EQ(all[1].type, AlertType::kMemoryGrowth);
  EXPECT_EQ(all[1].state, AlertState::kResolved);
  EXPECT_GT(all[1].time_s, 40 * 30.0);  // after the leak stopped
  EXPECT_DOUBLE_EQ(all[1].episode_start_s, all[0].time_s);
  EXPECT_NE(all[1].message.find("heap_inuse_bytes stopped rising at 220."),
            std::string::npos)
      << all[1].message;
  EXPECT_NE(all[1].message.find("above the limit of 120.3 MiB: bounded"),
            std::string::npos)
      << all[1].message;
  EXPECT_NEAR(all[1].value, 120, 1);  // percent over the baseline
  EXPECT_DOUBLE_EQ(all[1].threshold, 20);
}

TEST(DetectionEngine, AllocatorPressureAndFragmentationSayWhatFell) {
  DetectionEngine r(Config());
  constexpr uint64_t kMiB = 1 << 20;
  // 10 % allocator CPU and 75 % of the heap free but held from i = 5 to
  // 29, then 1 % and 10 %.
  std::vector<MemoryAlert> all = Replay(r, 0, 60, 30, [](int i, Sample* s) {
    bool bad = i >= 5 && i < 30;
    s->allocator_cpu_fraction = bad ? 0.10 : 0.01;
    s->heap_inuse_bytes = 200 * kMiB;
    s->heap_free_bytes = (bad ? 600 : 22) * kMiB;
  });
  std::vector<std::string> resolved;
  for (const MemoryAlert& a : all) {
    if (a.state == AlertState::kResolved) resolved.push_back(a.message);
  }
  ASSERT_EQ(resolved.size(), 2u);
  // Fragmentation's condition fails on the first sample below its limit,
  // the allocator's median two samples later.
  EXPECT_EQ(resolved[0],
            "the free-but-held share of the heap fell to 9.9 % (22.0 MiB "
            "free, 200.0 MiB in use), below the 50.0 % limit");
  EXPECT_EQ(resolved[1],
            "the allocator's CPU share fell to 1.0 % (median over the last 5 "
            "samples), below the 5.0 % limit");
}

TEST(DetectionEngine, AResetResolvesAnEpisodeThatFired) {
  DetectionEngine r(Config());
  auto shape = [](int i, Sample* s) { s->threads = i >= 5 ? 60 : 10; };
  std::vector<MemoryAlert> all = Replay(r, 0, 15, 30, shape);
  ASSERT_EQ(all.size(), 1u);
  r.ResetBaseline();
  std::vector<MemoryAlert> at_reset = Replay(r, 15, 16, 30, shape);
  ASSERT_EQ(at_reset.size(), 1u);
  EXPECT_EQ(at_reset[0].state, AlertState::kResolved);
  EXPECT_DOUBLE_EQ(at_reset[0].time_s, 15 * 30.0);
  EXPECT_NE(at_reset[0].message.find("the baseline was reset"),
            std::string::npos)
      << at_reset[0].message;
  // Judged against the new baseline (60), nothing more.
  EXPECT_TRUE(Replay(r, 16, 40, 30, shape).empty());
}

TEST(DetectionEngine, AContinuingLeakThatFlickersIsOneEpisode) {
  DetectionEngine r(Config());
  // The count dips below the limit for 3 samples (90 s) every 10: past
  // hysteresis_samples, but never resolve_after (5 min).
  std::vector<MemoryAlert> all = Replay(r, 0, 100, 30, [](int i, Sample* s) {
    s->threads = i < 5 ? 10 : (i % 10 < 3 ? 15 : 60);
  });
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, AlertState::kFiring);
}

}  // namespace
}  // namespace memmon::internal
