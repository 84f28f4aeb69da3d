// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ProcessSource's allocator readings under the cost budget, on this
// process's real allocator.

#include "source/process_source.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
#include <optional>
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

// The breakdown's totals under their cost budget: with 2000 mappings a
// smaps read costs far more than the 50 us read for free, so after two
// reads in a row the next ones (within 99 x that cost) are skipped -- and a
// skipped read leaves every rss_* part unknown, not 0 or stale, while the
// rest of the sample is read.
TEST(ProcessSource, ABudgetSkippedSmapsReadLeavesTheBreakdownUnknown) {
  std::vector<void*> maps;
  for (int i = 0; i < 2000; ++i) {
    // Alternating protections keep neighbours from merging into one.
    void* p = mmap(nullptr, 4096, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    maps.push_back(p);
  }
  ProcessSource source(DefaultMonitorConfig());
  ASSERT_TRUE(source.Open().ok());
  int read = 0, skipped = 0;
  for (int i = 0; i < 4; ++i) {
    Sample s;
    s.monotonic = std::chrono::steady_clock::now();
    ASSERT_TRUE(source.Read(&s));
    ASSERT_TRUE(s.rss_bytes.has_value());
    const std::optional<uint64_t> parts[] = {
        s.rss_heap_bytes, s.rss_stacks_bytes,     s.rss_code_bytes,
        s.rss_file_bytes, s.rss_anon_other_bytes, s.rss_unexplained_bytes};
    if (s.rss_heap_bytes) {
      ++read;
      for (const auto& p : parts) EXPECT_TRUE(p.has_value());
      EXPECT_GT(*s.rss_code_bytes, 0u);
    } else {
      ++skipped;
      for (const auto& p : parts) EXPECT_FALSE(p.has_value());
      EXPECT_FALSE(s.rss_heap_inuse_bytes.has_value());
      EXPECT_FALSE(s.rss_allocator_free_bytes.has_value());
    }
  }
  EXPECT_EQ(read, 2);  // two costly reads in a row start the pause
  EXPECT_EQ(skipped, 2);
  for (void* p : maps) munmap(p, 4096);
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
