// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/detection_engine.h"

#include <gtest/gtest.h>

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
  DetectionEngine r(Config());  // start-up 60 samples, sustain 3
  std::vector<MemoryAlert> all;
  for (int i = 0; i < 120; ++i) {
    Sample s = At(i * 30.0);
    // 10 threads, then one more every sample from i = 70: the limit (20)
    // at i = 80.
    s.threads = i < 70 ? 10 : 10 + (i - 69);
    for (MemoryAlert& a : r.Push(i * 30.0, s)) all.push_back(a);
  }
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].type, AlertType::kThreadLeak);
  // Projected to reach the limit once the rise since i = 70 is certain
  // (trend_window 10 points and 99.9 %), sustained for 3 samples.
  EXPECT_GE(all[0].time_s, 75 * 30.0);
  EXPECT_LE(all[0].time_s, 85 * 30.0);
  EXPECT_NE(all[0].message.find("threads are rising steadily from 10"),
            std::string::npos)
      << all[0].message;
  ASSERT_TRUE(r.baseline().has_value());
  EXPECT_EQ(r.baseline()->threads, 10u);
}

TEST(DetectionEngine, TheStartUpIsNotJudged) {
  // Threads rising one per sample from the start, for 40 samples, then
  // flat: a leak while it rises, unless the start-up is set aside.
  for (std::size_t startup : {0, 60}) {
    MonitorConfig c = Config();
    c.warmup_samples = startup;
    DetectionEngine r(c);
    int alerts = 0;
    for (int i = 0; i < 200; ++i) {
      Sample s = At(i);
      s.threads = 10 + static_cast<uint64_t>(std::min(i, 40));
      alerts += static_cast<int>(r.Push(i, s).size());
    }
    EXPECT_EQ(alerts, startup == 0 ? 1 : 0) << startup;
  }
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

}  // namespace
}  // namespace memmon::internal
