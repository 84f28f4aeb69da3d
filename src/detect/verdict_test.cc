// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/verdict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace memmon::internal {
namespace {

constexpr double kMiB = 1 << 20;

struct Shape {
  std::string name;
  int samples;
  std::function<double(int i, std::mt19937_64& rng)> value;
  Unit unit;
  VerdictKind want;
};

// Gaussian noise of `sd`, seeded per series.
double Noise(std::mt19937_64& rng, double sd) {
  return std::normal_distribution<double>(0, sd)(rng);
}

// Test names and failures show the shape's name, not its bytes.
void PrintTo(const Shape& shape, std::ostream* os) { *os << shape.name; }

class Verdicts : public testing::TestWithParam<Shape> {};

TEST_P(Verdicts, SaysWhatTheSeriesDid) {
  const Shape& shape = GetParam();
  std::mt19937_64 rng(42);
  std::vector<double> t, v;
  for (int i = 0; i < shape.samples; ++i) {
    t.push_back(30.0 * i);
    v.push_back(shape.value(i, rng));
  }
  GrowthOptions options;
  options.min_points = 10;
  Verdict verdict = JudgeSeries(t, v, shape.unit, options);
  EXPECT_EQ(ToString(verdict.kind), ToString(shape.want)) << verdict.reason;
  EXPECT_FALSE(verdict.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Synthetic, Verdicts,
    testing::Values(
        // 150 -> 400 MiB, each sample closing 30 % of the gap, then flat.
        Shape{"warm_up", 300,
              [](int i, std::mt19937_64& rng) {
                return (400 - 250 * std::pow(0.7, i)) * kMiB +
                       Noise(rng, 1 * kMiB);
              },
              Unit::kBytes, VerdictKind::kWarmUp},
        // A 300 MiB floor; a cache filling 15 MiB a sample, flushed every 6.
        Shape{"sawtooth", 300,
              [](int i, std::mt19937_64& rng) {
                return (300 + 15 * (i % 6)) * kMiB + Noise(rng, 0.5 * kMiB);
              },
              Unit::kBytes, VerdictKind::kSawtooth},
        // 200 MiB, +100 MiB for good at 40 % of the series.
        Shape{"step", 300,
              [](int i, std::mt19937_64& rng) {
                return (i < 120 ? 200 : 300) * kMiB + Noise(rng, 1 * kMiB);
              },
              Unit::kBytes, VerdictKind::kBounded},
        // +0.5 MiB a sample under 2 MiB of noise, from the start.
        Shape{"leak", 300,
              [](int i, std::mt19937_64& rng) {
                return (200 + 0.5 * i) * kMiB + Noise(rng, 2 * kMiB);
              },
              Unit::kBytes, VerdictKind::kLeak},
        Shape{"flat", 300,
              [](int, std::mt19937_64& rng) {
                return 200 * kMiB + Noise(rng, 3 * kMiB);
              },
              Unit::kBytes, VerdictKind::kFlat},
        // One-sample spikes are not teeth.
        Shape{"flat_with_spikes", 300,
              [](int i, std::mt19937_64& rng) {
                return (i % 37 == 5 ? 260 : 200) * kMiB + Noise(rng, 3 * kMiB);
              },
              Unit::kBytes, VerdictKind::kFlat},
        // A count at 40 that now and then reads 39 or 41: flat, no teeth.
        Shape{"count_toggling", 300,
              [](int i, std::mt19937_64&) {
                return 40.0 + (i % 17 == 3) - (i % 23 == 7);
              },
              Unit::kCount, VerdictKind::kFlat},
        // Bursts to 70 threads held for 3 samples: flat, not a sawtooth.
        Shape{"count_bursts", 300,
              [](int i, std::mt19937_64&) { return i % 40 < 3 ? 70.0 : 16.0; },
              Unit::kCount, VerdictKind::kFlat},
        // One more thread every 3 samples.
        Shape{"count_leak", 300,
              [](int i, std::mt19937_64&) { return 24.0 + i / 3; },
              Unit::kCount, VerdictKind::kLeak},
        // Fewer than 2 x min_points samples.
        Shape{"short", 19,
              [](int i, std::mt19937_64&) { return 100.0 * kMiB + i * kMiB; },
              Unit::kBytes, VerdictKind::kUnknown}),
    [](const testing::TestParamInfo<Shape>& info) { return info.param.name; });

TEST(JudgeRecording, MemoryThreadsAndFdsOrWhyNot) {
  SamplesCsv csv;
  csv.columns = {"time_s", "rss_bytes", "threads"};
  for (int i = 0; i < 100; ++i) {
    TimedSample ts;
    ts.time_s = i;
    ts.sample.rss_bytes = static_cast<uint64_t>(100 * kMiB + i * kMiB);
    ts.sample.threads = 8;
    csv.samples.push_back(ts);
  }
  std::vector<QuantityVerdict> v = JudgeRecording(csv, DefaultMonitorConfig());
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].quantity, "rss_bytes");  // no heap column: RSS
  EXPECT_EQ(v[0].verdict.kind, VerdictKind::kLeak) << v[0].verdict.reason;
  EXPECT_EQ(v[1].quantity, "threads");
  EXPECT_EQ(v[1].verdict.kind, VerdictKind::kFlat) << v[1].verdict.reason;
  EXPECT_EQ(v[2].quantity, "fds");
  EXPECT_EQ(v[2].verdict.kind, VerdictKind::kUnknown);
  EXPECT_EQ(v[2].verdict.reason, "no fds column");
}

}  // namespace
}  // namespace memmon::internal
