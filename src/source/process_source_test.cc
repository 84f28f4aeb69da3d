// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ProcessSource's allocator readings under the cost budget, on this
// process's real allocator.

#include "source/process_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "memmon/config.h"

namespace memmon::internal {
namespace {

// A glibc heap with ~100 000 free chunks makes mallinfo2() cost
// milliseconds; after two such readings the budget pauses the next, which
// must say "skipped" and keep naming the allocator, not turn it unknown.
TEST(ProcessSource, ABudgetSkippedReadKeepsTheAllocatorAndSaysSkipped) {
  ProcessSource source(DefaultMonitorConfig());
  ASSERT_TRUE(source.Open().ok());
  Sample probe;
  probe.monotonic = std::chrono::steady_clock::now();
  ASSERT_TRUE(source.Read(&probe));
  if (probe.allocator != AllocatorKind::kGlibc) {
    GTEST_SKIP() << "needs glibc's malloc (a sanitizer runtime owns it)";
  }
  std::vector<void*> blocks(200000);
  for (void*& b : blocks) b = std::malloc(48);
  for (std::size_t i = 0; i < blocks.size(); i += 2) {
    std::free(blocks[i]);
    blocks[i] = nullptr;
  }
  int read = 0, skipped = 0;
  for (int i = 0; i < 4; ++i) {
    Sample s;
    s.monotonic = std::chrono::steady_clock::now();
    ASSERT_TRUE(source.Read(&s));
    EXPECT_EQ(s.allocator, AllocatorKind::kGlibc);
    if (s.allocator_skipped) {
      ++skipped;
      EXPECT_FALSE(s.heap_free_bytes.has_value());
    } else {
      ++read;
      EXPECT_TRUE(s.heap_free_bytes.has_value());
    }
  }
  EXPECT_GE(read, 2);  // two costly readings in a row start the pause
  EXPECT_GE(skipped, 1);
  for (void* b : blocks) std::free(b);
}

TEST(AllocatorCpuFraction, TheShareOfTheCpuBetweenTwoReadings) {
  const memmon_preload_allocator_time before{100000000, 1000000000};
  // 50 ms of allocator time in 200 ms of CPU.
  std::optional<double> f =
      AllocatorCpuFraction(before, {150000000, 1200000000});
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(*f, 0.25);
  // More than the CPU (an overestimate): 1.
  EXPECT_EQ(AllocatorCpuFraction(before, {400000000, 1200000000}), 1.0);
  // Too little CPU to say, the clock going backwards, or no clock: unknown.
  EXPECT_FALSE(AllocatorCpuFraction(before, {100000100, 1000000000 + 999999}));
  EXPECT_FALSE(AllocatorCpuFraction(before, {50000000, 1200000000}));
  EXPECT_FALSE(AllocatorCpuFraction({}, {}));
}

}  // namespace
}  // namespace memmon::internal
