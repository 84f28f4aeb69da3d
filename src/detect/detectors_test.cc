// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The detectors as pure functions over synthetic series (1 sample a second).

#include "memmon/detectors.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "detect/analyze.h"
#include "detect/detection_engine.h"
#include "detect/growth_internal.h"

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
std::vector<std::size_t> Evaluate(
    const std::vector<Sample>& series, const MonitorConfig& config,
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
  // Judged from trend_window (10) samples on. At i = 9 (118 MiB) it is
  // below 20 % but certain and projected to pass it within a second; from
  // i = 10 it is above. Every sample from then on holds.
  ASSERT_FALSE(held.empty());
  EXPECT_EQ(held.front(), 9u);
  EXPECT_EQ(held.size(), 31u);

  DetectionInput early_in{std::span(series).first(10), &series[0], &config};
  std::optional<Finding> early = DetectMemoryGrowth(early_in);
  ASSERT_TRUE(early);
  EXPECT_TRUE(early->projected);
  EXPECT_NEAR(early->level, 118 * kMiB, 1);
  EXPECT_NEAR(early->limit, 120 * kMiB, 1);
  EXPECT_GT(early->time_to_limit_s, 0.9);
  EXPECT_LT(early->time_to_limit_s, 1.5);  // 2 MiB at ~2 MiB/s
  EXPECT_NE(Describe(*early).find("projected to pass it in 1.0 s"),
            std::string::npos)
      << Describe(*early);

  DetectionInput in{series, &series[0], &config};
  std::optional<Finding> f = DetectMemoryGrowth(in);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->projected);
  EXPECT_STREQ(f->metric, "heap_inuse_bytes");
  EXPECT_NEAR(f->slope_per_s, 2 * kMiB, 1);
  EXPECT_GT(f->slope_lower_per_s, 1.9 * kMiB);
  EXPECT_LE(f->slope_lower_per_s, f->slope_per_s);
  EXPECT_NEAR(f->value, 78.0, 0.01);  // (178 - 100) / 100
  EXPECT_GT(f->confidence, 0.99);
  EXPECT_EQ(f->window_samples, 40u);
  std::string message = Describe(*f);
  EXPECT_NE(message.find("78.0 %"), std::string::npos) << message;
  EXPECT_NE(message.find("2.0 MiB/s"), std::string::npos) << message;
  EXPECT_NE(message.find("rising steadily"), std::string::npos) << message;
}

TEST(DetectMemoryGrowth, SlowLeakUnderNoiseWarnsBeforeTheThreshold) {
  // 200 MiB, +0.02 MiB/s (+72 MiB/hour) under 1 MiB of noise, sampled every
  // 10 s: the 20 % limit (240 MiB) is 33 minutes away after 200 samples.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1);
  std::vector<Sample> series;
  for (int i = 0; i < 200; ++i) {
    Sample s;
    s.monotonic =
        std::chrono::steady_clock::time_point{} + std::chrono::seconds(10 * i);
    s.heap_inuse_bytes =
        static_cast<uint64_t>((200 + 0.2 * i + noise(rng)) * kMiB);
    series.push_back(s);
  }
  MonitorConfig config;
  config.max_samples = 200;
  DetectionInput in{series, &series[0], &config};
  std::optional<Finding> f = DetectMemoryGrowth(in);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->projected);
  EXPECT_LT(f->value, 20.0);
  EXPECT_GT(f->confidence, 0.999);
  EXPECT_NEAR(f->slope_per_s, 0.02 * kMiB, 0.004 * kMiB);
  EXPECT_LT(f->time_to_limit_s, 24 * 3600.0);
  // Without early warnings it waits for the threshold.
  config.growth_projection_horizon = std::chrono::seconds(0);
  EXPECT_FALSE(DetectMemoryGrowth(in));
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
  MonitorConfig config;                                     // floor 16 MiB
  config.growth_projection_horizon = std::chrono::seconds(0);
  EXPECT_TRUE(Evaluate(HeapSeries(mib), config, DetectMemoryGrowth).empty());
  config.growth_floor_bytes = 1 << 20;
  EXPECT_FALSE(Evaluate(HeapSeries(mib), config, DetectMemoryGrowth).empty());
  // Projected, it passes 1 + 16 MiB within minutes: an early warning.
  config.growth_floor_bytes = 16 << 20;
  config.growth_projection_horizon = std::chrono::hours(24);
  auto series = HeapSeries(mib);
  auto f = DetectMemoryGrowth({series, &series[0], &config});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->projected);
  EXPECT_NEAR(f->limit, 17 * kMiB, 1);
  // ... but not when a day at the slope's lower bound does not get there.
  config.growth_floor_bytes = 1ull << 40;
  EXPECT_FALSE(DetectMemoryGrowth({series, &series[0], &config}));
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

std::vector<Sample> CountSeries(
    std::optional<uint64_t> Sample::*field, const std::vector<uint64_t>& values,
    std::chrono::milliseconds every = std::chrono::seconds(1)) {
  std::vector<Sample> out;
  std::chrono::steady_clock::time_point t{};
  for (uint64_t v : values) {
    Sample s;
    s.*field = v;
    s.monotonic = t;
    t += every;
    out.push_back(s);
  }
  return out;
}

// A staircase: `base` for `flat` samples, then +`step` every `every`
// samples, `n` samples in all.
std::vector<uint64_t> Staircase(uint64_t base, int flat, uint64_t step,
                                int every, int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(
        i < flat ? base
                 : base + step * static_cast<uint64_t>((i - flat) / every + 1));
  }
  return out;
}

TEST(DetectThreadLeak, AStaircaseIsALeak) {
  MonitorConfig config;  // limit: +50 % and at least +10
  config.growth_projection_horizon = std::chrono::seconds(0);
  // 20 threads, then one more every 3 samples from i = 30: the limit (30)
  // at i = 57; above its level for longer than a burst (30 samples) from
  // i = 60, its 31st sample up.
  auto series = CountSeries(&Sample::threads, Staircase(20, 30, 1, 3, 100));
  auto held = Evaluate(series, config, DetectThreadLeak);
  ASSERT_FALSE(held.empty());
  EXPECT_GE(held.front(), 60u);
  EXPECT_LE(held.front(), 75u);
  DetectionInput in{series, &series[0], &config};
  auto f = DetectThreadLeak(in);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->projected);
  EXPECT_EQ(f->threshold, 30);
  EXPECT_GE(f->level, 30);
  EXPECT_NEAR(f->slope_per_s * 3, 1, 0.1);  // one every 3 s
  EXPECT_NE(Describe(*f).find("threads are rising steadily: up from 20"),
            std::string::npos)
      << Describe(*f);
  // The count it reports is the one observed now, not the fitted level
  // (which a ramp's line can put above every sample).
  EXPECT_NE(Describe(*f).find("up from 20 to " +
                              std::to_string(*series.back().threads) + " "),
            std::string::npos)
      << Describe(*f);
}

TEST(DetectThreadLeak, OneStepHeldIsNotALeak) {
  // A pool of 100 workers starting at 200 s and never exiting: a level,
  // not a trend.
  MonitorConfig config;
  std::vector<uint64_t> counts(200, 12);
  counts.resize(600, 112);
  auto series = CountSeries(&Sample::threads, counts);
  EXPECT_TRUE(Evaluate(series, config, DetectThreadLeak).empty());
  // Nor a step that ramps up over a few samples.
  counts.assign(200, 12);
  for (uint64_t c : {40, 70, 100}) counts.push_back(c);
  counts.resize(600, 112);
  series = CountSeries(&Sample::threads, counts);
  EXPECT_TRUE(Evaluate(series, config, DetectThreadLeak).empty());
}

TEST(DetectThreadLeak, BurstsThatReturnAreNotALeakAtAnyInterval) {
  // Bursts of 1..30 samples, at 100 ms and at 60 s sampling.
  for (auto every :
       {std::chrono::milliseconds(100), std::chrono::milliseconds(60000)}) {
    for (int length : {1, 5, 12, 30}) {
      MonitorConfig config;
      std::vector<uint64_t> counts(70, 20);
      for (int burst = 0; burst < 4; ++burst) {
        for (int i = 0; i < length; ++i) counts.push_back(80);
        counts.resize(counts.size() + 40, 20);
      }
      auto series = CountSeries(&Sample::threads, counts, every);
      EXPECT_TRUE(Evaluate(series, config, DetectThreadLeak).empty())
          << length << " samples every " << every.count() << " ms";
    }
  }
}

TEST(DetectThreadLeak, ASteadyClimbWarnsBeforeTheLimit) {
  MonitorConfig config;  // limit: 20 + 10 = 30
  std::vector<uint64_t> counts;
  for (int i = 0; i < 38; ++i)
    counts.push_back(20 + i / 4);  // +1 per 4 samples, 29 at i = 37
  auto series =
      CountSeries(&Sample::threads, counts, std::chrono::milliseconds(30000));
  auto f = DetectThreadLeak({series, &series[0], &config});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->projected);
  EXPECT_EQ(f->limit, 30);
  EXPECT_GT(f->time_to_limit_s, 0);
  EXPECT_NE(Describe(*f).find("projected to reach the limit of 30"),
            std::string::npos)
      << Describe(*f);
}

TEST(DetectFdLeak, UsesItsOwnLimits) {
  MonitorConfig config;
  config.fd_growth_pct = 100;
  config.fd_growth_floor = 5;
  config.growth_projection_horizon = std::chrono::seconds(0);
  // 10 descriptors, +1 every 2 samples from i = 10: 20 (the limit) at 29;
  // up for longer than a burst (30 samples) from i = 40.
  auto series = CountSeries(&Sample::open_fds, Staircase(10, 10, 1, 2, 60));
  auto held = Evaluate(series, config, DetectFdLeak);
  ASSERT_FALSE(held.empty());
  EXPECT_GE(held.front(), 40u);
  EXPECT_LE(held.front(), 50u);
  auto f = DetectFdLeak({series, &series[0], &config});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->limit, 20);
  EXPECT_NE(Describe(*f).find("open descriptors are rising steadily"),
            std::string::npos)
      << Describe(*f);
}

// Sets the samples' times `every` apart, from 0.
void Space(std::vector<Sample>* v, std::chrono::milliseconds every) {
  std::chrono::steady_clock::time_point t{};
  for (Sample& s : *v) {
    s.monotonic = t;
    t += every;
  }
}

TEST(DetectHeapFragmentation, RatioAndFloor) {
  MonitorConfig config;  // 50 %, 64 MiB floor, held 150 s
  Sample s;
  s.heap_inuse_bytes = 50ull << 20;
  s.heap_free_bytes = 100ull << 20;  // 66.7 %
  std::vector<Sample> v(6, s);       // 0 .. 150 s
  Space(&v, std::chrono::seconds(30));
  auto f = DetectHeapFragmentation({v, &v[0], &config});
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->value, 66.67, 0.01);
  EXPECT_EQ(f->window_samples, 5u);  // 30 .. 150 s
  EXPECT_FALSE(DetectHeapFragmentation({std::span(v).first(5), &v[0], &config}))
      << "held for only 120 s";
  for (Sample& x : v) x.heap_free_bytes = 40ull << 20;  // below 50 %
  EXPECT_FALSE(DetectHeapFragmentation({v, &v[0], &config}));
  for (Sample& x : v)
    x.heap_inuse_bytes = 1ull << 20;  // 97 % but only 40 MiB free
  EXPECT_FALSE(DetectHeapFragmentation({v, &v[0], &config}));
  v[5].heap_free_bytes.reset();
  EXPECT_FALSE(DetectHeapFragmentation({v, &v[0], &config}));
}

TEST(DetectHeapFragmentation, TheHoldIsTimeNotSamples) {
  // 20 s of fragmentation is not 150 s, at 1 s or at 100 ms sampling; a
  // history that is full before it spans the hold is the hold.
  for (auto every :
       {std::chrono::milliseconds(1000), std::chrono::milliseconds(100)}) {
    MonitorConfig config;
    config.max_samples = 100000;
    Sample s;
    s.heap_inuse_bytes = 50ull << 20;
    s.heap_free_bytes = 100ull << 20;
    std::vector<Sample> v(static_cast<std::size_t>(20000 / every.count()), s);
    Space(&v, every);
    EXPECT_FALSE(DetectHeapFragmentation({v, &v[0], &config})) << every.count();
    v.resize(static_cast<std::size_t>(151000 / every.count()), s);
    Space(&v, every);
    EXPECT_TRUE(DetectHeapFragmentation({v, &v[0], &config})) << every.count();
    config.max_samples = 100;  // 100 s at 1 s, 10 s at 100 ms: all there is
    EXPECT_TRUE(DetectHeapFragmentation(
        {std::span(v).last(100), &v[v.size() - 100], &config}))
        << every.count();
  }
}

TEST(DetectHeapFragmentation, NotRightAfterAPeak) {
  MonitorConfig config;  // hold 150 s: a peak within the last 300 s counts
  Sample calm;
  calm.heap_inuse_bytes = 200ull << 20;
  calm.heap_free_bytes = 50ull << 20;
  Sample peak = calm;
  peak.heap_inuse_bytes = 900ull << 20;
  Sample after = calm;
  after.heap_free_bytes = 700ull << 20;  // 78 % free: the peak's leftovers
  std::vector<Sample> v{calm, calm, peak, peak};
  for (int i = 0; i < 8; ++i) v.push_back(after);
  Space(&v, std::chrono::seconds(30));
  auto held = Evaluate(v, config, DetectHeapFragmentation);
  // The last peak sample (index 3, 90 s) leaves the 300 s look-back at 13.
  EXPECT_TRUE(held.empty());
  for (int i = 0; i < 4; ++i) v.push_back(after);
  Space(&v, std::chrono::seconds(30));
  held = Evaluate(v, config, DetectHeapFragmentation);
  EXPECT_EQ(held, (std::vector<std::size_t>{13, 14, 15}));
}

TEST(DetectAllocatorPressure, OnlyWhenKnown) {
  MonitorConfig config;    // 20 %, over 150 s
  config.max_samples = 1;  // one sample is all the history there is
  std::vector<Sample> v(1);
  EXPECT_FALSE(DetectAllocatorPressure({v, &v[0], &config}));
  v[0].allocator_cpu_fraction = 0.15;
  EXPECT_FALSE(DetectAllocatorPressure({v, &v[0], &config}));
  v[0].allocator_cpu_fraction = 0.25;
  auto f = DetectAllocatorPressure({v, &v[0], &config});
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->value, 25.0);
  // The median over the last 150 s (5 samples at 30 s): one spike is not
  // pressure.
  config.max_samples = 100;
  std::vector<Sample> spike(6);
  Space(&spike, std::chrono::seconds(30));
  for (Sample& s : spike) s.allocator_cpu_fraction = 0.01;
  spike.back().allocator_cpu_fraction = 0.5;
  EXPECT_FALSE(DetectAllocatorPressure({spike, &spike[0], &config}));
  for (std::size_t i = 3; i < 6; ++i) spike[i].allocator_cpu_fraction = 0.3;
  f = DetectAllocatorPressure({spike, &spike[0], &config});
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->value, 30.0);
  // Not before the history spans the hold.
  EXPECT_FALSE(
      DetectAllocatorPressure({std::span(spike).last(5), &spike[1], &config}));
}

// The whole pipeline with the default configuration (start-up, sustain,
// cooldown): the alerts `mib` raises, sampled `every` apart.
std::vector<MemoryAlert> Alerts(const std::vector<double>& mib,
                                std::chrono::milliseconds every) {
  MonitorConfig config;
  config.alert_log = "none";
  internal::DetectionEngine engine(config);
  std::vector<MemoryAlert> out;
  auto series = HeapSeries(mib);
  for (std::size_t i = 0; i < series.size(); ++i) {
    Sample s = series[i];
    s.monotonic = std::chrono::steady_clock::time_point{} +
                  every * static_cast<int64_t>(i);
    for (MemoryAlert& a : engine.Push(static_cast<double>(i), s)) {
      out.push_back(std::move(a));
    }
  }
  return out;
}

// Seeded noise: +-`pct` % Gaussian around each value, AR(1) with `rho`.
std::vector<double> Noisy(std::vector<double> mib, double pct, double rho,
                          uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  double e = 0;
  for (double& v : mib) {
    e = rho * e + std::sqrt(1 - rho * rho) * z(rng);
    v *= 1 + pct / 100 * e;
  }
  return mib;
}

constexpr std::chrono::milliseconds kTimescales[] = {
    std::chrono::milliseconds(100), std::chrono::milliseconds(1000),
    std::chrono::milliseconds(60000)};

TEST(MemoryGrowthEpisodes, AWarmUpOfFiftySamplesIsNotALeak) {
  // Linear from 100 to 300 MiB over 50 samples, then flat, with noise.
  for (auto every : kTimescales) {
    for (double rho : {0.0, 0.8}) {
      std::vector<double> mib;
      for (int i = 0; i < 600; ++i) mib.push_back(100 + 4.0 * std::min(i, 50));
      auto alerts = Alerts(Noisy(mib, 1, rho, 3), every);
      EXPECT_TRUE(alerts.empty())
          << every.count() << " ms, rho " << rho << ": " << alerts[0].message;
    }
  }
}

TEST(MemoryGrowthEpisodes, ASawtoothOfSixtySampleTeethIsNotALeak) {
  // A cache that fills from 200 MiB to 320 MiB over 60 samples and is
  // flushed, from the start: its first tooth, and teeth too long for two
  // drops to fit the 100-sample history.
  for (auto every : kTimescales) {
    for (double rho : {0.0, 0.8}) {
      std::vector<double> mib;
      for (int i = 0; i < 900; ++i) mib.push_back(200 + 2.0 * (i % 60));
      auto alerts = Alerts(Noisy(mib, 1, rho, 5), every);
      EXPECT_TRUE(alerts.empty())
          << every.count() << " ms, rho " << rho << ": " << alerts[0].message;
    }
  }
}

TEST(MemoryGrowthEpisodes, ALeakFromTheStartAlertsAfterTheStartUp) {
  // +1 MiB a sample from 100 MiB: past +20 % at sample 20.
  for (auto every : kTimescales) {
    std::vector<double> mib;
    for (int i = 0; i < 400; ++i) mib.push_back(100 + 1.0 * i);
    auto alerts = Alerts(Noisy(mib, 1, 0, 7), every);
    ASSERT_FALSE(alerts.empty()) << every.count();
    EXPECT_EQ(alerts[0].type, AlertType::kMemoryGrowth);
    // Growth is measured from the baseline (sample 60, 160 MiB): +20 % is
    // 192 MiB at sample 92; the rise is certain well before.
    EXPECT_GE(alerts[0].time_s, 60);
    EXPECT_LE(alerts[0].time_s, 20 + 120) << alerts[0].message;
  }
}

TEST(MemoryGrowthEpisodes, ARefillIsNotGrowthButRisingPastItIs) {
  // Flat at 200 MiB, one flush-like drop from a 300 MiB peak, then a rise
  // back to 300: memory that came back. Rising on to 400 is growth.
  std::vector<double> mib(100, 200.0);
  for (int i = 0; i < 50; ++i) mib.push_back(200 + 2.0 * i);  // to 298
  for (int i = 0; i < 50; ++i) mib.push_back(200 + 2.0 * i);  // again
  MonitorConfig config;
  config.max_samples = 1000;
  config.growth_projection_horizon = std::chrono::seconds(0);
  for (int i = 50; i < 100; ++i) mib.push_back(200 + 2.0 * i);
  auto held = Evaluate(HeapSeries(mib), config, DetectMemoryGrowth);
  // The first rise is growth: nothing says it will come back.
  ASSERT_FALSE(held.empty());
  EXPECT_LT(held.front(), 150u);
  // After the drop at 150, growth again only past 298 MiB + a quarter of
  // the 98 MiB drop (322.5 MiB): 2 MiB a sample from 200 at index 150.
  auto again = std::find_if(held.begin(), held.end(),
                            [](std::size_t i) { return i >= 150; });
  ASSERT_NE(again, held.end());
  EXPECT_GE(*again, 150u + 62);
  EXPECT_LE(*again, 150u + 64);
}

TEST(MemoryGrowthEpisodes, AProjectionReachesNoFurtherThanItsEvidence) {
  // 1000 MiB, a step to 1014, then a rise of 0.5 MiB/s: after 12 s of it
  // the level is a tenth of the way to the 1200 MiB limit and the rise is
  // a quarter of the growth (kExplainedShare), but the limit is ~360 s
  // away, beyond 24 x 11 s; after 40 s it is within 24 x 39 s, and it
  // warns.
  std::vector<double> mib(30, 1000.0);
  mib.resize(60, 1014.0);
  auto rise = [&](int n) {
    std::vector<double> v = mib;
    for (int i = 1; i <= n; ++i) v.push_back(1014 + 0.5 * i);
    return HeapSeries(v);
  };
  MonitorConfig config;
  auto short_rise = rise(12);
  EXPECT_FALSE(DetectMemoryGrowth({short_rise, &short_rise[0], &config}));
  auto long_rise = rise(40);
  auto f = DetectMemoryGrowth({long_rise, &long_rise[0], &config});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->projected);
  EXPECT_LE(f->time_to_limit_s, 24 * f->window_s);
}

TEST(MemoryGrowthEpisodes, AStepIsNoPartOfTheTrendAfterIt) {
  // 1000 MiB, a step to 1100 (half way to the 1200 MiB limit), then a
  // rise of 0.2 MiB/s. The rise is judged on the samples after the step
  // (one large rise: a change of level, not a slope), and warns only once
  // it accounts for a quarter of the growth over the baseline: not after
  // 40 s (8 of 108 MiB), but after 200 s (40 of 140 MiB).
  std::vector<double> mib(30, 1000.0);
  mib.resize(60, 1100.0);
  auto rise = [&](int n) {
    std::vector<double> v = mib;
    for (int i = 1; i <= n; ++i) v.push_back(1100 + 0.2 * i);
    return HeapSeries(v);
  };
  MonitorConfig config;
  auto early = rise(40);
  EXPECT_FALSE(DetectMemoryGrowth({early, &early[0], &config}));
  auto later = rise(200);
  auto f = DetectMemoryGrowth({later, &later[0], &config});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->projected);
  // The window is the rise after the step, not the step.
  EXPECT_LE(f->window_samples, 200u);
  EXPECT_NEAR(f->slope_per_s, 0.2 * kMiB, 0.01 * kMiB);
}

TEST(MemoryGrowthEpisodes, AnEarlyWarningNeedsATenthOfTheWay) {
  // A steady rise of 1 % of the limit's margin so far is not evidence
  // enough to page on; at a tenth of the way it is.
  std::vector<double> mib(30, 1000.0);
  for (int i = 1; i <= 20; ++i) mib.push_back(1000 + 0.1 * i);  // to 1002
  auto series = HeapSeries(mib);
  MonitorConfig config;
  EXPECT_FALSE(DetectMemoryGrowth({series, &series[0], &config}));
  for (int i = 21; i <= 60; ++i) mib.push_back(1000 + 0.5 * (i - 20) + 2);
  series = HeapSeries(mib);  // to 1022: 11 % of the way to 1200
  auto f = DetectMemoryGrowth({series, &series[0], &config});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->projected);
}

TEST(MemoryGrowthEpisodes, ALeakKeepsHoldingWhileItRises) {
  // Flat, then +4 MiB a sample with a 0.25 MiB wiggle of period 3, from
  // sample 10 to 60: once it holds, it holds on every sample of the rise
  // (the kink where the leak starts is not taken for correlated noise, so
  // the episode does not end and fire again).
  std::vector<double> mib;
  for (int i = 0; i < 60; ++i) {
    mib.push_back(60 + 4.0 * std::clamp(i, 10, 60) + 0.25 * (i % 3));
  }
  auto series = HeapSeries(mib);
  MonitorConfig config;
  auto held = Evaluate(series, config, DetectMemoryGrowth);
  ASSERT_FALSE(held.empty());
  EXPECT_LE(held.front(), 20u);
  EXPECT_EQ(held.size(), 60 - held.front()) << "a gap after " << held.front();
}

// The whole pipeline (DetectionEngine, default configuration: start-up 60
// samples, 100 samples of history and the long history, sustain 3) at
// 100 ms, 1 s and 60 s, with white and with serially correlated noise.
// Every series is seeded; the noise is Gaussian with the stated standard
// deviation (in percent of the level), AR(1) with rho 0.8 for the
// correlated kind, clipped at +-10 %. The counts (threads, descriptors)
// get +-1 on 5 % of the samples (seeded), as real counts jitter.
struct NoiseKind {
  const char* name;
  double rho;
};
constexpr NoiseKind kNoiseKinds[] = {{"iid", 0.0}, {"AR(1) rho 0.8", 0.8}};

struct Series3 {
  std::vector<double> mib;
  std::vector<double> threads, fds;
};

Series3 Flat3(int n, double mib, double threads, double fds) {
  return {std::vector<double>(static_cast<std::size_t>(n), mib),
          std::vector<double>(static_cast<std::size_t>(n), threads),
          std::vector<double>(static_cast<std::size_t>(n), fds)};
}

// The alerts that fire on `s` (heap `pct` % noise of kind `noise`, seed
// `seed`), sampled `every` apart; their time_s is the sample's index.
// `fixed`, when given, replaces the engine's estimate of the noise
// (DetectionEngine::SetNoise) for heap and RSS.
std::vector<MemoryAlert> PipelineFiring(const Series3& s, double pct,
                                        const NoiseKind& noise, uint64_t seed,
                                        std::chrono::milliseconds every,
                                        const NoiseEstimate* fixed = nullptr) {
  MonitorConfig config;
  config.alert_log = "none";
  internal::DetectionEngine engine(config);
  if (fixed != nullptr) engine.SetNoise(*fixed, *fixed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  double e = 0;
  std::vector<MemoryAlert> out;
  for (std::size_t i = 0; i < s.mib.size(); ++i) {
    e = noise.rho * e + std::sqrt(1 - noise.rho * noise.rho) * z(rng);
    double heap = s.mib[i] * (1 + std::clamp(pct / 100 * e, -0.1, 0.1));
    auto jitter = [&](double v) {
      double r = u(rng);
      return static_cast<uint64_t>(v + (r < 0.025 ? -1 : r < 0.05 ? 1 : 0));
    };
    Sample x;
    x.monotonic = std::chrono::steady_clock::time_point{} +
                  every * static_cast<int64_t>(i);
    x.heap_inuse_bytes = static_cast<uint64_t>(heap * kMiB);
    x.heap_free_bytes = 4 << 20;
    x.rss_bytes = static_cast<uint64_t>(heap * kMiB) + (40 << 20);
    x.threads = jitter(s.threads[i]);
    x.open_fds = jitter(s.fds[i]);
    for (MemoryAlert& a : engine.Push(static_cast<double>(i), x)) {
      if (a.state == AlertState::kFiring) out.push_back(std::move(a));
    }
  }
  return out;
}

std::string Where(std::chrono::milliseconds every, const NoiseKind& noise) {
  return std::to_string(every.count()) + " ms, " + noise.name;
}

std::string First(const std::vector<MemoryAlert>& alerts) {
  return alerts.empty()
             ? "no alert"
             : std::string(ToString(alerts[0].type)) + " at " +
                   std::to_string(alerts[0].time_s) + ": " + alerts[0].message;
}

// A positive: the first alert is of `type`, at or after `onset` and at
// most 120 samples after the later of the onset and `due` (the sample
// where the noise-free series passes its limit over the baseline).
void ExpectDetected(const std::vector<MemoryAlert>& alerts, AlertType type,
                    int onset, int due, const std::string& where) {
  ASSERT_FALSE(alerts.empty()) << where;
  EXPECT_EQ(alerts[0].type, type) << where << ": " << First(alerts);
  EXPECT_GE(alerts[0].time_s, onset) << where << ": " << First(alerts);
  EXPECT_LE(alerts[0].time_s, std::max(onset, due) + 120)
      << where << ": " << First(alerts);
}

TEST(Pipeline, AStepAtAnyPointIsNotALeak) {
  // +30 % in one sample (a config reload), during the start-up, at the
  // baseline, just after it and late; 1 % noise, white, or AR(1) with rho
  // 0.5 or 0.8; three seeds each (fixed before the rule was measured on
  // them). Before the step rule (docs/detection.md, "Steps"), the step one
  // sample after the baseline fired under AR(1) noise at every interval,
  // and the one at 100 with rho 0.8: past the limit, a correlated wander
  // after the step passed for a rise.
  constexpr NoiseKind kStepNoise[] = {
      {"iid", 0.0}, {"AR(1) rho 0.5", 0.5}, {"AR(1) rho 0.8", 0.8}};
  for (int at : {30, 60, 61, 100, 400}) {
    for (auto every : kTimescales) {
      for (const NoiseKind& noise : kStepNoise) {
        for (uint64_t seed : {11, 111, 211}) {
          Series3 s = Flat3(700, 400, 20, 100);
          for (int i = at; i < 700; ++i) s.mib[i] = 520;
          auto alerts = PipelineFiring(s, 1, noise, seed + at, every);
          EXPECT_TRUE(alerts.empty())
              << "step at " << at << ", " << Where(every, noise) << ", seed "
              << seed + at << ": " << First(alerts);
        }
      }
    }
  }
}

TEST(Pipeline, NoiseOfTenPercentIsNotALeak) {
  // Flat 300 MiB, noise of 3.3 % standard deviation clipped at +-10 %,
  // white or AR(1) with rho 0.5, 0.8 or 0.9.
  constexpr NoiseKind kTenPercentNoise[] = {{"iid", 0.0},
                                            {"AR(1) rho 0.5", 0.5},
                                            {"AR(1) rho 0.8", 0.8},
                                            {"AR(1) rho 0.9", 0.9}};
  for (auto every : kTimescales) {
    for (const NoiseKind& noise : kTenPercentNoise) {
      Series3 s = Flat3(1000, 300, 20, 100);
      auto alerts = PipelineFiring(s, 3.3, noise, 13, every);
      EXPECT_TRUE(alerts.empty())
          << Where(every, noise) << ": " << First(alerts);
    }
  }
}

TEST(Pipeline, FlatCorrelatedNoiseIsNotALeak) {
  // Flat 300 MiB, 1000 samples, AR(1) noise with rho 0.5, 0.8 and 0.9 of
  // 1, 2 and 3 % standard deviation, clipped at +-10 %; five seeds, fixed
  // before they were run, at 100 ms, 1 s and 60 s: no alert on any of the
  // 135 series. Measured: 0 of 135 with the engine's estimate of the noise
  // over the run (DetectionInput::heap_noise); 0 of 90 at rho 0.8-0.9
  // before it too, but tools/noise_eval's 40 seeds (5 + 100 k) went from 25
  // of 360 to 0, and other seeds still alarm now and then (9 + 100 k, held
  // out: 15 -> 6 of 360; docs/detection.md's "Known limits").
  for (auto every : kTimescales) {
    for (double rho : {0.5, 0.8, 0.9}) {
      NoiseKind noise{"AR(1)", rho};
      for (double pct : {1.0, 2.0, 3.0}) {
        for (uint64_t seed : {61, 67, 71, 73, 79}) {
          Series3 s = Flat3(1000, 300, 20, 100);
          auto alerts = PipelineFiring(s, pct, noise, seed, every);
          EXPECT_TRUE(alerts.empty())
              << Where(every, noise) << " rho " << rho << ", " << pct
              << " %, seed " << seed << ": " << First(alerts);
        }
      }
    }
  }
}

TEST(Pipeline, FlatStronglyCorrelatedNoiseAlarmsNoMoreThanMeasured) {
  // A regression pin: flat 300 MiB under AR(1) noise of 2 %, rho 0.8 and
  // 0.9, at 1 s (the alerts are the same at 100 ms and 60 s), 40 seeds
  // each (5 + 100 k: tools/noise_eval's development seeds, on which the
  // run-long estimate of the noise was measured). Measured: none of the 80
  // series alerts; 10 did with only the samples judged to estimate from,
  // 20 before that. Other seeds alarmed now and then before the early
  // warnings took rho's upper bound (7 + 100 k: 5 of 80; 9 + 100 k: 2 of
  // 80), none since (docs/detection.md, "Known limits"): the bound, 1,
  // lets one of these 80 series change and fails on two.
  int alarmed = 0;
  for (double rho : {0.8, 0.9}) {
    NoiseKind noise{"AR(1)", rho};
    for (uint64_t k = 0; k < 40; ++k) {
      Series3 s = Flat3(1000, 300, 20, 100);
      alarmed += !PipelineFiring(s, 2, noise, 5 + 100 * k,
                                 std::chrono::milliseconds(1000))
                      .empty();
    }
  }
  RecordProperty("alarmed_of_80", alarmed);
  EXPECT_LE(alarmed, 1);
}

TEST(Pipeline, TheRunLongNoiseEstimateIsWhatQuietsAWander) {
  // Three of the series that raised early warnings before the engine
  // estimated the noise over the run (flat 300 MiB, AR(1) noise of 2 %:
  // rho 0.8, seeds 705 and 3905, at samples 418 and 208; rho 0.5, seed 53,
  // at sample 94, whose window was every sample since the baseline, so
  // that only the start-up's samples could tell): with the estimate fixed
  // at "white" (rho 0, size unknown: the detectors see only the samples
  // they judge, as before) they still do; with the engine's own, not.
  const NoiseEstimate white{0, std::numeric_limits<double>::quiet_NaN()};
  for (auto [seed, rho] :
       {std::pair<uint64_t, double>{705, 0.8}, {3905, 0.8}, {53, 0.5}}) {
    NoiseKind noise{"AR(1)", rho};
    Series3 s = Flat3(1000, 300, 20, 100);
    auto before = PipelineFiring(s, 2, noise, seed,
                                 std::chrono::milliseconds(1000), &white);
    ASSERT_FALSE(before.empty()) << seed;
    EXPECT_EQ(before[0].type, AlertType::kMemoryGrowth) << First(before);
    EXPECT_NE(before[0].message.find("projected to pass it"), std::string::npos)
        << First(before);
    auto now =
        PipelineFiring(s, 2, noise, seed, std::chrono::milliseconds(1000));
    EXPECT_TRUE(now.empty()) << seed << ": " << First(now);
  }
}

TEST(Pipeline, ALeakUnderStronglyCorrelatedNoiseStillAlertsInTime) {
  // Flat 300 MiB, then from sample 300 a leak of 1 or 0.2 MiB a sample
  // (past +20 % at 360 and 600) under AR(1) noise of 2 %, rho 0.9, ten
  // seeds: a noise estimate that says "strongly correlated" must not make
  // a leak late. Each is caught within 120 samples of passing the limit.
  // Measured (tools/noise_eval --leaks, 20 seeds): 1 MiB a sample at most
  // 84 samples after the onset, 0.2 MiB at most 417 (both as before).
  NoiseKind noise{"AR(1) rho 0.9", 0.9};
  for (double rate : {1.0, 0.2}) {
    int due = 300 + static_cast<int>(std::ceil(60 / rate));
    for (uint64_t k = 0; k < 10; ++k) {
      Series3 s = Flat3(800, 300, 20, 100);
      for (int i = 300; i < 800; ++i) s.mib[i] = 300 + rate * (i - 300);
      auto alerts = PipelineFiring(s, 2, noise, 5 + 100 * k,
                                   std::chrono::milliseconds(1000));
      ExpectDetected(
          alerts, AlertType::kMemoryGrowth, 300, due,
          fmt::format("{} MiB a sample, seed {}", rate, 5 + 100 * k));
    }
  }
}

TEST(NoiseCorrelationTrack, EstimatesAR1NoiseOverARun) {
  // 1024 samples of 300 MiB under AR(1) noise of 2 % (6 MiB), flat, with a
  // leak of 0.5 MiB a sample, with an accelerating one (0.001 i^2 MiB) and
  // under a sawtooth (teeth of 40 samples, 120 MiB: its flushes are left
  // out); ten seeds each. The mean estimate is within 0.03 of rho and the
  // standard deviation within 20 % of 6 MiB, for every shape. Measured: rho
  // within 0.02; the size 1-5 % over up to rho 0.8, 11-17 % over at 0.9 (an
  // overestimate only makes early warnings more careful). White noise's
  // estimate is under 0.1 on every seed (measured: 0 on 9 of 10, 0.068 on
  // one, above its significance floor of 2 / sqrt(1024)).
  auto shape = [](int which, int i) {
    switch (which) {
      case 1:
        return 0.5 * i;
      case 2:
        return 0.001 * i * i;
      case 3:
        return 3.0 * (i % 40);
      default:
        return 0.0;
    }
  };
  for (int which = 0; which < 4; ++which) {
    for (double rho : {0.0, 0.5, 0.8, 0.9}) {
      double sum_rho = 0, sum_sd = 0;
      for (uint64_t seed = 1; seed <= 10; ++seed) {
        std::mt19937_64 rng(seed);
        std::normal_distribution<double> z(0, 1);
        internal::NoiseCorrelationTrack track;
        EXPECT_TRUE(std::isnan(track.estimate().rho));
        double e = 0;
        for (int i = 0; i < 1024; ++i) {
          e = rho * e + std::sqrt(1 - rho * rho) * z(rng);
          track.Add((300 + shape(which, i) + 6 * e) * kMiB);
          if (i == 30) {
            EXPECT_TRUE(std::isnan(track.estimate().rho));
          }
        }
        NoiseEstimate got = track.estimate();
        if (rho == 0) {
          EXPECT_LT(got.rho, 0.1) << "shape " << which << ", seed " << seed;
        }
        sum_rho += got.rho;
        sum_sd += got.sd / kMiB;
      }
      EXPECT_NEAR(sum_rho / 10, rho, 0.03) << "shape " << which;
      EXPECT_NEAR(sum_sd / 10, 6, 1.2) << "shape " << which << ", rho " << rho;
    }
  }
}

TEST(NoiseCorrelationTrack, ItsUpperBoundCoversRhoAndNarrowsAsChunksCome) {
  // 300 MiB under AR(1) noise of 2 %, rho 0.5, 0.8 and 0.9, 200 seeds each,
  // read after 8 chunks (256 samples) and after 32 (1024). The one-sided
  // 95 % bound is at least the estimate, and at or above the true rho on at
  // least 85 % of the seeds after 8 chunks (measured: 182, 183 and 180 of
  // 200; the estimate alone 103, 94 and 92; the spread of 8 chunks is itself
  // uncertain, so the bound covers a little less than 95 %); after 32 chunks
  // it lies closer to the estimate than after 8, on average.
  for (double rho : {0.5, 0.8, 0.9}) {
    int covered_early = 0, estimate_covers = 0;
    double width_early = 0, width_late = 0;
    for (uint64_t seed = 1; seed <= 200; ++seed) {
      std::mt19937_64 rng(seed);
      std::normal_distribution<double> z(0, 1);
      internal::NoiseCorrelationTrack track;
      double e = 0;
      for (int i = 0; i < 1024; ++i) {
        e = rho * e + std::sqrt(1 - rho * rho) * z(rng);
        track.Add((300 + 6 * e) * kMiB);
        if (i + 1 == 256 || i + 1 == 1024) {
          NoiseEstimate got = track.estimate();
          ASSERT_GE(got.rho_upper, got.rho) << seed;
          if (i + 1 == 256) {
            covered_early += got.rho_upper >= rho;
            estimate_covers += got.rho >= rho;
            width_early += got.rho_upper - got.rho;
          } else {
            width_late += got.rho_upper - got.rho;
          }
        }
      }
    }
    RecordProperty(fmt::format("covered_of_200_rho_{}", rho), covered_early);
    RecordProperty(fmt::format("estimate_covers_of_200_rho_{}", rho),
                   estimate_covers);
    EXPECT_GE(covered_early, 170) << "rho " << rho;
    EXPECT_LT(width_late, width_early) << "rho " << rho;
  }
}

// Realisations of flat noise whose wander raised an early warning while
// the run's estimate of rho was low (tools/noise_eval, the monitor's
// defaults, 2 %: seed 1307 at rho 0.8, 3909 at 0.9, 2313 at 0.8, 1617 at
// 0.9; the estimate 0.53-0.77 at the alert). Judged with the estimate's
// upper bound, none alerts.
TEST(Pipeline, AWanderWhileTheNoiseEstimateRunsLowIsNotALeak) {
  for (auto [seed, rho] : {std::pair<uint64_t, double>{1307, 0.8},
                           {3909, 0.9},
                           {2313, 0.8},
                           {1617, 0.9}}) {
    NoiseKind noise{"AR(1)", rho};
    Series3 s = Flat3(1000, 300, 20, 100);
    auto alerts =
        PipelineFiring(s, 2, noise, seed, std::chrono::milliseconds(1000));
    EXPECT_TRUE(alerts.empty()) << "seed " << seed << ": " << First(alerts);
  }
}

TEST(Pipeline, DescriptorBurstsThatReturnAreNotALeak) {
  // 100 descriptors; bursts to 250 of 30 samples in all, reached at once
  // or over a ramp of up to 15 samples, every 80 samples; 1 % heap noise.
  for (int ramp : {1, 5, 8, 15}) {
    for (auto every : kTimescales) {
      for (const NoiseKind& noise : kNoiseKinds) {
        Series3 s = Flat3(800, 300, 20, 100);
        for (int start = 100; start + 30 < 800; start += 80) {
          for (int j = 0; j < 30; ++j) {
            s.fds[start + j] = j < ramp ? 100 + 150.0 * (j + 1) / ramp : 250;
          }
        }
        auto alerts = PipelineFiring(s, 1, noise, 17 + ramp, every);
        EXPECT_TRUE(alerts.empty())
            << "ramp " << ramp << ", " << Where(every, noise) << ": "
            << First(alerts);
      }
    }
  }
}

TEST(Pipeline, ALateLeakAlerts) {
  // Flat 200 MiB, +1 MiB a sample from 300: +20 % (240 MiB) at 341.
  for (auto every : kTimescales) {
    for (const NoiseKind& noise : kNoiseKinds) {
      Series3 s = Flat3(700, 200, 20, 100);
      for (int i = 300; i < 700; ++i) s.mib[i] = 200 + (i - 300);
      auto alerts = PipelineFiring(s, 1, noise, 19, every);
      ExpectDetected(alerts, AlertType::kMemoryGrowth, 300, 341,
                     Where(every, noise));
    }
  }
}

TEST(Pipeline, ALeakUnderASawtoothAlerts) {
  // Teeth of 20 samples, 0..60 MiB, on a floor rising 0.25 MiB a sample
  // from 200 MiB: the floor passes +20 % over its baseline (sample 60, 215
  // MiB, plus the tooth there) late; a leak under the cache.
  for (auto every : kTimescales) {
    for (const NoiseKind& noise : kNoiseKinds) {
      Series3 s = Flat3(1400, 0, 20, 100);
      for (int i = 0; i < 1400; ++i) {
        s.mib[i] = 200 + 0.25 * i + 3.0 * (i % 20);
      }
      double base = s.mib[60];
      double limit = std::max(1.2 * base, base + 16);
      int due = 0;
      while (200 + 0.25 * due <= limit) ++due;
      auto alerts = PipelineFiring(s, 1, noise, 23, every);
      ExpectDetected(alerts, AlertType::kMemoryGrowth, 0, due,
                     Where(every, noise));
    }
  }
}

TEST(Pipeline, AnAcceleratingLeakAlerts) {
  // 200 MiB + 0.002 x i^2 MiB: +20 % over the baseline (207.2 MiB) at 144.
  for (auto every : kTimescales) {
    for (const NoiseKind& noise : kNoiseKinds) {
      Series3 s = Flat3(600, 0, 20, 100);
      for (int i = 0; i < 600; ++i) s.mib[i] = 200 + 0.002 * i * i;
      auto alerts = PipelineFiring(s, 1, noise, 29, every);
      ExpectDetected(alerts, AlertType::kMemoryGrowth, 0, 144,
                     Where(every, noise));
    }
  }
}

TEST(Pipeline, ThreadAndDescriptorStaircasesAlert) {
  for (auto every : kTimescales) {
    for (const NoiseKind& noise : kNoiseKinds) {
      // 20 threads, +1 every 5 samples from 100: the limit (30) at 145.
      Series3 s = Flat3(600, 300, 20, 100);
      for (int i = 100; i < 600; ++i) s.threads[i] = 20 + (i - 100) / 5 + 1;
      ExpectDetected(PipelineFiring(s, 1, noise, 31, every),
                     AlertType::kThreadLeak, 100, 145, Where(every, noise));
      // 100 descriptors, +2 every 3 samples from 100: the limit (150) at
      // 172.
      s = Flat3(600, 300, 20, 100);
      for (int i = 100; i < 600; ++i) s.fds[i] = 100 + 2 * ((i - 100) / 3 + 1);
      ExpectDetected(PipelineFiring(s, 1, noise, 37, every), AlertType::kFdLeak,
                     100, 172, Where(every, noise));
    }
  }
}

TEST(DefaultDetector, OnePerTypeButObjectThreshold) {
  for (int i = 0; i < kAlertTypeCount; ++i) {
    auto type = static_cast<AlertType>(i);
    EXPECT_EQ(DefaultDetector(type) == nullptr,
              type == AlertType::kObjectThreshold)
        << ToString(type);
  }
}

// The engine runs the built-in rules with a TrendCache
// (internal::RunBuiltinDetector); they must find exactly what the public
// detectors find without one. A monitor-like
// history of 100 slides over 600 samples of leaks, noise, steps, sawtooth
// and rising counts; one cache for all detectors and all series.
TEST(Detectors, TrendCacheChangesNothing) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1);
  internal::TrendCache cache;
  MonitorConfig config;
  int findings = 0;
  for (int shape = 0; shape < 6; ++shape) {
    std::vector<Sample> series;
    std::chrono::steady_clock::time_point t{};
    for (int i = 0; i < 600; ++i) {
      double x = i;
      double mib = 300 + 2 * noise(rng);
      if (shape == 1) mib += 0.05 * x;                       // slow leak
      if (shape == 2) mib += i > 300 ? 0.8 * (x - 300) : 0;  // late leak
      if (shape == 3) mib += i > 200 ? 60 : 0;               // a step
      if (shape == 4) mib += 3.0 * (i % 9);                  // sawtooth
      Sample s;
      s.monotonic = t;
      t += std::chrono::milliseconds(900 + rng() % 200);
      s.heap_inuse_bytes = static_cast<uint64_t>(mib * kMiB);
      if (shape == 5 && i % 50 == 7) s.heap_inuse_bytes.reset();  // unknown
      s.rss_bytes = static_cast<uint64_t>((mib + 40) * kMiB);
      s.threads = 16 + (shape >= 4 ? static_cast<uint64_t>(i / 20) : rng() % 2);
      s.open_fds = 40 + (shape == 5 ? static_cast<uint64_t>(i / 8) : 0);
      series.push_back(s);
    }
    for (std::size_t end = 1; end <= series.size(); ++end) {
      std::span<const Sample> h = std::span(series).first(end);
      h = h.last(std::min<std::size_t>(h.size(), 100));
      DetectionInput in{h, &series[0], &config};
      for (AlertType type : {AlertType::kMemoryGrowth, AlertType::kThreadLeak,
                             AlertType::kFdLeak}) {
        std::optional<Finding> a = DefaultDetector(type)(in);
        std::optional<Finding> b =
            internal::RunBuiltinDetector(type, in, &cache);
        ASSERT_EQ(a.has_value(), b.has_value()) << shape << " " << end;
        if (!a) continue;
        ++findings;
        EXPECT_EQ(a->type, b->type);
        EXPECT_EQ(a->value, b->value);
        EXPECT_EQ(a->level, b->level);
        EXPECT_EQ(a->slope_per_s, b->slope_per_s);
        EXPECT_EQ(a->slope_lower_per_s, b->slope_lower_per_s);
        EXPECT_EQ(a->confidence, b->confidence);
        EXPECT_EQ(a->window_samples, b->window_samples);
        EXPECT_EQ(a->projected, b->projected);
        EXPECT_EQ(a->time_to_limit_s, b->time_to_limit_s);
      }
    }
  }
  EXPECT_GT(findings, 300);  // leaks were found, so both paths ran
  EXPECT_GT(cache.hits(), cache.misses());
}

}  // namespace
}  // namespace memmon

namespace memmon {
namespace {

// Usage against a limit, 1 sample a second, with ±`noise` MiB of seeded
// Gaussian noise.
std::vector<Sample> LimitSeries(const std::vector<double>& usage_mib,
                                double limit_mib, double noise = 0,
                                unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise > 0 ? noise : 1);
  std::vector<Sample> out;
  std::chrono::steady_clock::time_point t{};
  for (double v : usage_mib) {
    Sample s;
    s.monotonic = t;
    t += std::chrono::seconds(1);
    double u = v + (noise > 0 ? n(rng) : 0);
    s.memory_limit_usage_bytes = static_cast<uint64_t>(u * kMiB);
    s.memory_limit_bytes = static_cast<uint64_t>(limit_mib * kMiB);
    s.rss_bytes = s.memory_limit_usage_bytes;
    out.push_back(s);
  }
  return out;
}

// A leak of 1 MiB/s toward a 400 MiB limit from 100 MiB: the kill is five
// minutes away, well within the hour: oom_risk holds from the trend window
// on, whatever memory_growth's threshold says, with the earliest time
// before the fitted one.
TEST(DetectOomRisk, ALeakTowardTheLimitWarnsEarly) {
  std::vector<double> mib;
  for (int i = 0; i < 60; ++i) mib.push_back(100 + 1.0 * i);
  auto series = LimitSeries(mib, 400, 0.5);
  MonitorConfig config;
  auto held = Evaluate(series, config, DetectOomRisk);
  ASSERT_FALSE(held.empty());
  EXPECT_LE(held.front(), 20u);
  DetectionInput in{series, &series[0], &config};
  std::optional<Finding> f = DetectOomRisk(in);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, AlertType::kOomRisk);
  EXPECT_TRUE(f->projected);
  EXPECT_NEAR(f->time_to_limit_s, 241, 20);  // 241 MiB left at 1 MiB/s
  EXPECT_LT(f->value, f->time_to_limit_s);
  EXPECT_EQ(f->threshold, 3600);
  EXPECT_NE(Describe(*f).find("projected to reach it in"), std::string::npos)
      << Describe(*f);
}

// The growth threshold does not gate oom_risk: at alert_threshold_pct 1000
// the leak above (60 % over the minute measured) is far from memory_growth's
// limit and too little of the way there to be projected, so memory_growth
// says nothing -- while oom_risk warns, naming the limit and what a cgroup
// counts.
TEST(DetectOomRisk, FiresWhateverTheGrowthThresholdSays) {
  std::vector<double> mib;
  for (int i = 0; i < 60; ++i) mib.push_back(100 + 1.0 * i);
  auto series = LimitSeries(mib, 400, 0.5);
  for (Sample& s : series) {
    s.heap_inuse_bytes = s.memory_limit_usage_bytes;
    s.memory_limit_kind = MemoryLimitKind::kCgroupV2Max;
  }
  MonitorConfig config;
  config.alert_threshold_pct = 1000;
  EXPECT_TRUE(Evaluate(series, config, DetectMemoryGrowth).empty());
  auto held = Evaluate(series, config, DetectOomRisk);
  ASSERT_FALSE(held.empty());
  EXPECT_LE(held.front(), 20u);
  DetectionInput in{series, &series[0], &config};
  std::optional<Finding> f = DetectOomRisk(in);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->limit_kind, MemoryLimitKind::kCgroupV2Max);
  // The earliest time comes from the upper bound of the slope.
  EXPECT_GT(f->slope_upper_per_s, f->slope_per_s);
  EXPECT_NEAR(f->value, (400 * kMiB - f->current) / f->slope_upper_per_s,
              0.05 * f->value + 2);
  std::string text = Describe(*f);
  EXPECT_NE(text.find("cgroup v2 memory.max"), std::string::npos) << text;
  EXPECT_NE(text.find("page cache and kernel memory"), std::string::npos)
      << text;
}

// memmon analyze judges oom_risk from a samples.csv's memory_limit_*
// columns alone (the oom_kill test needs a memory cgroup; this does not):
// a leak of 1 MiB/s toward 400 MiB, as a CSV of two minutes (one past the
// default 60 warm-up samples), fires it; without the columns it is not
// judged.
TEST(DetectOomRisk, AnalyzeFiresItFromTheCsvColumns) {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 0.5);
  std::string text =
      "time_s,rss_bytes,memory_limit_bytes,"
      "memory_limit_usage_bytes\n";
  for (int i = 0; i < 120; ++i) {
    auto usage = static_cast<uint64_t>((100 + 1.0 * i + noise(rng)) * kMiB);
    text += fmt::format("{},{},{},{}\n", i, uint64_t{50} << 20,
                        uint64_t{400} << 20, usage);
  }
  internal::SamplesCsv csv;
  ASSERT_TRUE(internal::ParseSamplesCsv(text, &csv).ok());
  internal::Analysis a =
      internal::AnalyzeSamples(csv, internal::AnalyzeDefaultConfig());
  auto oom = std::find_if(a.alerts.begin(), a.alerts.end(), [](const auto& x) {
    return x.type == AlertType::kOomRisk && x.state == AlertState::kFiring;
  });
  ASSERT_NE(oom, a.alerts.end());
  // After the 60 warm-up samples, from the trend window on: not at the end.
  EXPECT_LT(oom->time_s, 90);
  for (const MemoryAlert& x : a.alerts) {
    EXPECT_NE(x.type, AlertType::kMemoryGrowth) << x.message;  // flat RSS
  }

  std::string no_limit = "time_s,rss_bytes\n";
  for (int i = 0; i < 120; ++i) {
    no_limit += fmt::format("{},{}\n", i, uint64_t(100 + i) << 20);
  }
  ASSERT_TRUE(internal::ParseSamplesCsv(no_limit, &csv).ok());
  a = internal::AnalyzeSamples(csv, internal::AnalyzeDefaultConfig());
  for (const MemoryAlert& x : a.alerts) EXPECT_NE(x.type, AlertType::kOomRisk);
  EXPECT_NE(std::find_if(
                a.not_judged.begin(), a.not_judged.end(),
                [](const std::string& n) { return n.starts_with("oom_risk"); }),
            a.not_judged.end());
}

// The same leak, with days to go before the limit (or the rule off): no
// alert; the horizon, not the growth, decides.
TEST(DetectOomRisk, FarFromTheLimitOrOffSaysNothing) {
  std::vector<double> mib;
  for (int i = 0; i < 120; ++i) mib.push_back(100 + 1.0 * i);
  MonitorConfig config;
  EXPECT_TRUE(
      Evaluate(LimitSeries(mib, 1 << 20, 0.5), config, DetectOomRisk).empty());
  config.oom_horizon = std::chrono::nanoseconds(0);
  EXPECT_TRUE(
      Evaluate(LimitSeries(mib, 400, 0.5), config, DetectOomRisk).empty());
}

// Flat just under the limit, with noise; a warm-up that levels off below
// it: no alert once it is flat (nothing is rising toward the limit).
TEST(DetectOomRisk, FlatNearTheLimitIsNoRisk) {
  MonitorConfig config;
  std::vector<double> flat(120, 380);
  EXPECT_TRUE(
      Evaluate(LimitSeries(flat, 400, 4), config, DetectOomRisk).empty());
  std::vector<double> warmup;
  for (int i = 0; i < 200; ++i) warmup.push_back(i < 30 ? 200 + 5 * i : 350);
  auto held = Evaluate(LimitSeries(warmup, 400, 1), config, DetectOomRisk);
  for (std::size_t i : held) EXPECT_LT(i, 80u) << "still firing at " << i;
}

// At the limit and still rising (a cgroup reclaiming page cache lets
// usage sit at the limit): at once, not projected.
TEST(DetectOomRisk, AtTheLimitAndRisingIsAtOnce) {
  std::vector<double> mib;
  for (int i = 0; i < 40; ++i) mib.push_back(300 + 3.0 * i);
  auto series = LimitSeries(mib, 400);
  MonitorConfig config;
  DetectionInput in{series, &series[0], &config};
  std::optional<Finding> f = DetectOomRisk(in);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->projected);
  EXPECT_EQ(f->value, 0);
  EXPECT_NE(Describe(*f).find("at or over the limit"), std::string::npos);
}

}  // namespace
}  // namespace memmon
