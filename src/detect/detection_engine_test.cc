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

}  // namespace
}  // namespace memmon::internal
