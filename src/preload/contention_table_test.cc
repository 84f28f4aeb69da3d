// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/contention_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "preload/contention_math.h"

namespace memmon::preload {
namespace {

std::map<std::vector<uintptr_t>, std::pair<uint64_t, uint64_t>> Totals(
    const ContentionTable& t) {
  std::map<std::vector<uintptr_t>, std::pair<uint64_t, uint64_t>> out;
  t.ForEach([&](const ContentionRecord& r) {
    std::vector<uintptr_t> frames(r.frames, r.frames + r.depth);
    auto& v = out[frames];
    v.first += r.count_scaled.load();
    v.second += r.delay_nanos.load();
  });
  return out;
}

TEST(ContentionTable, AddsPerStack) {
  ContentionTable t;
  ASSERT_TRUE(t.Init(64));
  const uintptr_t a[] = {0x1000, 0x2000, 0x3000};
  const uintptr_t b[] = {0x1000, 0x2000, 0x3001};
  EXPECT_TRUE(t.Add(a, 3, 1024, 100));
  EXPECT_TRUE(t.Add(a, 3, 2048, 50));
  EXPECT_TRUE(t.Add(b, 3, 1024, 7));
  EXPECT_TRUE(t.Add(a, 2, 1024, 1));  // a prefix is another stack
  auto totals = Totals(t);
  ASSERT_EQ(totals.size(), 3u);
  EXPECT_EQ(totals[std::vector<uintptr_t>(a, a + 3)],
            std::make_pair(uint64_t{3072}, uint64_t{150}));
  EXPECT_EQ(totals[std::vector<uintptr_t>(b, b + 3)],
            std::make_pair(uint64_t{1024}, uint64_t{7}));
  EXPECT_EQ(t.events(), 4u);
  EXPECT_EQ(t.stacks(), 3u);
  EXPECT_EQ(t.dropped(), 0u);
}

TEST(ContentionTable, EmptyStackAndDeepStack) {
  ContentionTable t;
  ASSERT_TRUE(t.Init(16));
  EXPECT_TRUE(t.Add(nullptr, 0, 1024, 5));  // a stack that was not captured
  std::vector<uintptr_t> deep(kMaxStackDepth + 10);
  for (size_t i = 0; i < deep.size(); ++i) deep[i] = 0x400000 + i * 16;
  EXPECT_TRUE(t.Add(deep.data(), static_cast<int>(deep.size()), 1024, 5));
  int max_depth = 0;
  t.ForEach([&](const ContentionRecord& r) {
    max_depth = std::max(max_depth, static_cast<int>(r.depth));
  });
  EXPECT_EQ(max_depth, kMaxStackDepth);  // cut, not overflowing the record
}

TEST(ContentionTable, FullTableDropsAndCounts) {
  ContentionTable t;
  ASSERT_TRUE(t.Init(8));
  int added = 0, dropped = 0;
  for (uintptr_t i = 1; i <= 20; ++i) {
    uintptr_t frame = i * 0x1000;
    (t.Add(&frame, 1, 1024, 1) ? added : dropped)++;
  }
  EXPECT_EQ(added, 8);
  EXPECT_EQ(dropped, 12);
  EXPECT_EQ(t.dropped(), 12u);
  EXPECT_EQ(t.stacks(), 8u);
}

TEST(ContentionTable, UninitialisedDrops) {
  ContentionTable t;
  uintptr_t frame = 1;
  EXPECT_FALSE(t.Add(&frame, 1, 1024, 1));
  EXPECT_EQ(t.dropped(), 1u);
}

// Threads adding to the same few stacks at once: nothing lost (a stack may
// take two slots while one is being filled; the totals still add up).
TEST(ContentionTable, ConcurrentAddsLoseNothing) {
  ContentionTable t;
  ASSERT_TRUE(t.Init(256));
  constexpr int kThreads = 4, kPerThread = 20000, kStacks = 16;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&t, i] {
      std::mt19937_64 rng(7 + i);  // fixed seed
      for (int j = 0; j < kPerThread; ++j) {
        uintptr_t frames[2] = {0x1000 + rng() % kStacks, 0x9000};
        t.Add(frames, 2, 1024, 3);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  uint64_t count = 0, delay = 0;
  for (const auto& [frames, v] : Totals(t)) {
    count += v.first;
    delay += v.second;
  }
  EXPECT_EQ(count, uint64_t{kThreads} * kPerThread * 1024);
  EXPECT_EQ(delay, uint64_t{kThreads} * kPerThread * 3);
  EXPECT_EQ(t.dropped(), 0u);
  EXPECT_GE(t.stacks(), uint64_t{kStacks});
}

TEST(ContentionMath, MutexSamplingIsOneInN) {
  EXPECT_TRUE(MutexSampled(12345, 1));
  EXPECT_FALSE(MutexSampled(0, 0));  // off
  std::mt19937_64 rng(42);           // fixed seed
  constexpr int kDraws = 1000000;
  constexpr uint64_t kRate = 100;
  int sampled = 0;
  for (int i = 0; i < kDraws; ++i) sampled += MutexSampled(rng(), kRate);
  // Binomial(1e6, 0.01): sd ~ 99.5; 6 sigmas.
  EXPECT_NEAR(sampled, kDraws / kRate, 6 * 99.5);
  const ContentionWeight w = MutexWeight(2500, kRate);
  EXPECT_EQ(w.count_scaled, kRate * kContentionScale);
  EXPECT_EQ(w.delay_nanos, kRate * 2500);
}

TEST(ContentionMath, BlockRuleFollowsGo) {
  // At or above the rate: always, standing for itself.
  EXPECT_TRUE(BlockSampled(1000, 1000, ~uint64_t{0}));
  EXPECT_TRUE(BlockSampled(5000, 1000, ~uint64_t{0}));
  EXPECT_EQ(BlockWeight(5000, 1000).count_scaled, kContentionScale);
  EXPECT_EQ(BlockWeight(5000, 1000).delay_nanos, 5000u);
  EXPECT_FALSE(BlockSampled(5000, 0, 0));  // off
  // Below it: sampled about delay/rate of the time, standing for rate/delay
  // events and `rate` nanoseconds, so the expected totals are the truth.
  std::mt19937_64 rng(42);  // fixed seed
  constexpr uint64_t kRate = 10000, kDelay = 250;
  constexpr int kEvents = 2000000;
  double count = 0, delay = 0;
  for (int i = 0; i < kEvents; ++i) {
    if (!BlockSampled(kDelay, kRate, rng())) continue;
    const ContentionWeight w = BlockWeight(kDelay, kRate);
    count += static_cast<double>(w.count_scaled) / kContentionScale;
    delay += static_cast<double>(w.delay_nanos);
  }
  // p = 251/10000 (Go's <= takes delay+1 of rate draws); each sample
  // stands for 40 events: E[count] = 2e6 * 0.0251 * 40 = 2.008e6, sd of
  // samples ~ sqrt(2e6 * 0.0251) = 224, i.e. ~0.45 %: 6 sigmas is 2.7 %.
  EXPECT_NEAR(count / kEvents, 1.004, 0.03);
  EXPECT_NEAR(delay / (static_cast<double>(kEvents) * kDelay), 1.004, 0.03);
  EXPECT_EQ(BlockWeight(0, kRate).count_scaled, kRate * kContentionScale);
}

}  // namespace
}  // namespace memmon::preload
