// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Config validation, status, alert names and the alert JSON line.

#include "memmon/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "memmon/alert.h"
#include "memmon/status.h"

namespace memmon {
namespace {

TEST(Config, DefaultsMatchTheGoOriginal) {
  MonitorConfig c = DefaultMonitorConfig();
  EXPECT_EQ(c.sample_interval, std::chrono::seconds(30));
  EXPECT_EQ(c.alert_threshold_pct, 20.0);
  EXPECT_EQ(c.max_samples, 100u);
  EXPECT_EQ(c.thread_growth_pct, 50.0);
  EXPECT_EQ(c.allocator_cpu_pct, 20.0);
  EXPECT_EQ(c.fragmentation_pct, 50.0);
  EXPECT_TRUE(Validate(c).ok());
}

struct BadField {
  const char* field;
  std::function<void(MonitorConfig&)> spoil;
};

class ConfigValidation : public testing::TestWithParam<BadField> {};

TEST_P(ConfigValidation, NamesTheField) {
  MonitorConfig c;
  GetParam().spoil(c);
  Status s = Validate(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind(GetParam().field, 0), 0u) << s.message();
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();

INSTANTIATE_TEST_SUITE_P(
    EveryField, ConfigValidation,
    testing::Values(
        BadField{"pid", [](MonitorConfig& c) { c.pid = -4; }},
        BadField{"sample_interval",
                 [](MonitorConfig& c) { c.sample_interval = {}; }},
        BadField{"sample_interval",
                 [](MonitorConfig& c) {
                   c.sample_interval = std::chrono::seconds(-1);
                 }},
        BadField{"max_samples", [](MonitorConfig& c) { c.max_samples = 0; }},
        BadField{"max_alerts", [](MonitorConfig& c) { c.max_alerts = 0; }},
        BadField{"alert_threshold_pct",
                 [](MonitorConfig& c) { c.alert_threshold_pct = -1; }},
        BadField{"alert_threshold_pct",
                 [](MonitorConfig& c) { c.alert_threshold_pct = kNaN; }},
        BadField{"thread_growth_pct",
                 [](MonitorConfig& c) { c.thread_growth_pct = kNaN; }},
        BadField{"fd_growth_pct",
                 [](MonitorConfig& c) { c.fd_growth_pct = -0.5; }},
        BadField{"allocator_cpu_pct",
                 [](MonitorConfig& c) { c.allocator_cpu_pct = INFINITY; }},
        BadField{"fragmentation_pct",
                 [](MonitorConfig& c) { c.fragmentation_pct = -3; }},
        BadField{"trend_window", [](MonitorConfig& c) { c.trend_window = 3; }},
        BadField{"trend_window", [](MonitorConfig& c) { c.trend_window = 65; }},
        BadField{"growth_projection_horizon",
                 [](MonitorConfig& c) {
                   c.growth_projection_horizon = std::chrono::hours(-1);
                 }},
        BadField{"hold",
                 [](MonitorConfig& c) { c.hold = std::chrono::seconds(0); }},
        BadField{"sustain_samples",
                 [](MonitorConfig& c) { c.sustain_samples = 0; }},
        BadField{"hysteresis_samples",
                 [](MonitorConfig& c) { c.hysteresis_samples = 0; }},
        BadField{"alert_cooldown",
                 [](MonitorConfig& c) {
                   c.alert_cooldown = std::chrono::seconds(-1);
                 }},
        BadField{"alert_log", [](MonitorConfig& c) { c.alert_log.clear(); }}));

TEST(Status, OkAndErrors) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "ok");
  Status bad = Status::NotFound("no process 42");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.ToString(), "not found: no process 42");
}

TEST(AlertType, NamesAreExactlyTheDocumentedOnes) {
  const char* names[] = {"memory_growth",
                         "thread_leak",
                         "allocator_pressure",
                         "heap_fragmentation",
                         "object_threshold",
                         "fd_leak",
                         "oom_risk"};
  AlertType types[] = {AlertType::kMemoryGrowth,
                       AlertType::kThreadLeak,
                       AlertType::kAllocatorPressure,
                       AlertType::kHeapFragmentation,
                       AlertType::kObjectThreshold,
                       AlertType::kFdLeak,
                       AlertType::kOomRisk};
  static_assert(std::size(types) == kAlertTypeCount);
  for (int i = 0; i < kAlertTypeCount; ++i) {
    EXPECT_EQ(ToString(types[i]), names[i]);
    AlertType parsed;
    ASSERT_TRUE(ParseAlertType(names[i], &parsed));
    EXPECT_EQ(parsed, types[i]);
  }
  AlertType parsed;
  EXPECT_FALSE(ParseAlertType("goroutine_leak", &parsed));
}

TEST(AlertJson, OneParsableLine) {
  MemoryAlert a;
  a.type = AlertType::kFdLeak;
  a.time = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1'700'000'000'123));
  a.time_s = 12.5;
  a.message = "open descriptors grew \"fast\"\nreally";
  a.value = 300;
  a.threshold = 96;
  std::string line = ToJson(a);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["type"], "fd_leak");
  EXPECT_EQ(j["time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["time_s"], 12.5);
  EXPECT_EQ(j["message"], a.message);
  EXPECT_EQ(j["value"], 300);
  EXPECT_EQ(j["threshold"], 96);
}

}  // namespace
}  // namespace memmon
