// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The detectors as pure functions over synthetic series (1 sample a second).

#include "memmon/detectors.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace memmon {
namespace {

constexpr double kMiB = 1 << 20;

std::vector<Sample> HeapSeries(const std::vector<double>& mib) {
  std::vector<Sample> out;
  std::chrono::steady_clock::time_point t{};
  for (double v : mib) {
    Sample s;
    s.monotonic = t;
    t += std::chrono::seconds(1);
    s.heap_inuse_bytes = static_cast<uint64_t>(v * kMiB);
    s.rss_bytes = static_cast<uint64_t>(v * kMiB) + (8 << 20);
    out.push_back(s);
  }
  return out;
}

// Runs the detector at every point, as the monitor does, with the first
// sample as baseline. Returns the indices at which the condition held.
std::vector<std::size_t> Evaluate(const std::vector<Sample>& series,
                                  const MonitorConfig& config,
                                  std::optional<Finding> (*detector)(const DetectionInput&)) {
  std::vector<std::size_t> held;
  for (std::size_t i = 0; i < series.size(); ++i) {
    DetectionInput in{std::span(series).first(i + 1), &series[0], &config};
    if (detector(in)) held.push_back(i);
  }
  return held;
}

TEST(DetectMemoryGrowth, SteadyLeakHolds) {
  std::vector<double> mib;
  for (int i = 0; i < 40; ++i) mib.push_back(100 + 2.0 * i);  // +2 MiB/s
  auto series = HeapSeries(mib);
  MonitorConfig config;
  auto held = Evaluate(series, config, DetectMemoryGrowth);
  // 20 % of 100 MiB is passed at i = 10; from then on every sample holds.
  ASSERT_FALSE(held.empty());
  EXPECT_EQ(held.front(), 10u);
  EXPECT_EQ(held.size(), 30u);

  DetectionInput in{series, &series[0], &config};
  std::optional<Finding> f = DetectMemoryGrowth(in);
  ASSERT_TRUE(f);
  EXPECT_STREQ(f->metric, "heap_inuse_bytes");
  EXPECT_NEAR(f->slope_per_s, 2 * kMiB, 1);
  EXPECT_NEAR(f->value, 78.0, 0.01);  // (178 - 100) / 100
  EXPECT_GT(f->confidence, 0.99);
  std::string message = Describe(*f);
  EXPECT_NE(message.find("78.0 %"), std::string::npos) << message;
  EXPECT_NE(message.find("2.0 MiB/s"), std::string::npos) << message;
}

TEST(DetectMemoryGrowth, SingleStepNeverHolds) {
  std::vector<double> mib(15, 100.0);
  mib.resize(40, 300.0);  // one jump of 200 %, then flat
  MonitorConfig config;
  EXPECT_TRUE(Evaluate(HeapSeries(mib), config, DetectMemoryGrowth).empty());
}

TEST(DetectMemoryGrowth, NoisyFlatSeriesNeverHolds) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 5);  // 5 % noise
  std::vector<double> mib;
  for (int i = 0; i < 200; ++i) mib.push_back(100 + noise(rng));
  MonitorConfig config;
  config.alert_threshold_pct = 5;  // noise alone passes the ratio often
  config.growth_floor_bytes = 1 << 20;
  EXPECT_TRUE(Evaluate(HeapSeries(mib), config, DetectMemoryGrowth).empty());
}

TEST(DetectMemoryGrowth, FloorStopsSmallHeapsFromAlerting) {
  std::vector<double> mib;
  for (int i = 0; i < 40; ++i) mib.push_back(1 + 0.1 * i);  // 1 -> 4.9 MiB
  MonitorConfig config;  // floor 16 MiB
  EXPECT_TRUE(Evaluate(HeapSeries(mib), config, DetectMemoryGrowth).empty());
  config.growth_floor_bytes = 1 << 20;
  EXPECT_FALSE(Evaluate(HeapSeries(mib), config, DetectMemoryGrowth).empty());
}

TEST(DetectMemoryGrowth, FallsBackToRssWhenTheHeapIsUnknown) {
  std::vector<double> mib;
  for (int i = 0; i < 30; ++i) mib.push_back(100 + 4.0 * i);
  auto series = HeapSeries(mib);
  for (Sample& s : series) s.heap_inuse_bytes.reset();
  MonitorConfig config;
  DetectionInput in{series, &series[0], &config};
  auto f = DetectMemoryGrowth(in);
  ASSERT_TRUE(f);
  EXPECT_STREQ(f->metric, "rss_bytes");
}

TEST(DetectMemoryGrowth, NeedsABaselineAndFourPoints) {
  auto series = HeapSeries({100, 200, 300});
  MonitorConfig config;
  EXPECT_FALSE(DetectMemoryGrowth({series, nullptr, &config}));
  EXPECT_FALSE(DetectMemoryGrowth({series, &series[0], &config}));
}

std::vector<Sample> CountSeries(std::optional<uint64_t> Sample::*field,
                                const std::vector<uint64_t>& values) {
  std::vector<Sample> out;
  for (uint64_t v : values) {
    Sample s;
    s.*field = v;
    out.push_back(s);
  }
  return out;
}

TEST(DetectThreadLeak, RatioAndFloorBothApply) {
  MonitorConfig config;  // +50 % and at least +10
  auto series = CountSeries(&Sample::threads, {4, 9, 13, 14, 102});
  auto held = Evaluate(series, config, DetectThreadLeak);
  EXPECT_EQ(held, (std::vector<std::size_t>{3, 4}));
  DetectionInput in{series, &series[0], &config};
  auto f = DetectThreadLeak(in);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->current, 102);
  EXPECT_EQ(f->threshold, 14);
  EXPECT_NE(Describe(*f).find("threads grew from 4 to 102"), std::string::npos)
      << Describe(*f);
}

TEST(DetectFdLeak, UsesItsOwnLimits) {
  MonitorConfig config;
  config.fd_growth_pct = 100;
  config.fd_growth_floor = 5;
  auto series = CountSeries(&Sample::open_fds, {10, 19, 20});
  EXPECT_EQ(Evaluate(series, config, DetectFdLeak),
            (std::vector<std::size_t>{2}));
}

TEST(DetectHeapFragmentation, RatioAndFloor) {
  MonitorConfig config;  // 50 %, 64 MiB floor
  Sample s;
  s.heap_inuse_bytes = 50ull << 20;
  s.heap_free_bytes = 100ull << 20;  // 66.7 %
  std::vector<Sample> v{s};
  auto f = DetectHeapFragmentation({v, &v[0], &config});
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->value, 66.67, 0.01);
  v[0].heap_free_bytes = 40ull << 20;  // below 50 %
  EXPECT_FALSE(DetectHeapFragmentation({v, &v[0], &config}));
  v[0].heap_inuse_bytes = 1ull << 20;  // 97 % but only 40 MiB free
  EXPECT_FALSE(DetectHeapFragmentation({v, &v[0], &config}));
  v[0].heap_free_bytes.reset();
  EXPECT_FALSE(DetectHeapFragmentation({v, &v[0], &config}));
}

TEST(DetectAllocatorPressure, OnlyWhenKnown) {
  MonitorConfig config;  // 5 %
  std::vector<Sample> v(1);
  EXPECT_FALSE(DetectAllocatorPressure({v, &v[0], &config}));
  v[0].allocator_cpu_fraction = 0.04;
  EXPECT_FALSE(DetectAllocatorPressure({v, &v[0], &config}));
  v[0].allocator_cpu_fraction = 0.08;
  auto f = DetectAllocatorPressure({v, &v[0], &config});
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->value, 8.0);
}

TEST(DefaultDetector, OnePerTypeButObjectThreshold) {
  for (int i = 0; i < kAlertTypeCount; ++i) {
    auto type = static_cast<AlertType>(i);
    EXPECT_EQ(DefaultDetector(type) == nullptr,
              type == AlertType::kObjectThreshold)
        << ToString(type);
  }
}

}  // namespace
}  // namespace memmon
