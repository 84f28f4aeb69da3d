// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/fs/byte_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "fs/fs_test_util.h"

namespace memmon::fs {
namespace {

using testing::CounterDelta;

bool AllZero(const PooledBuffer& b) {
  return std::all_of(b.data(), b.data() + b.capacity(),
                     [](char c) { return c == 0; });
}

TEST(BytePool, SizeClassesArePowersOfTwo) {
  BytePool pool({.min_class_bytes = 3000, .max_class_bytes = 1 << 20});
  EXPECT_EQ(pool.ClassSize(0), 0u);
  EXPECT_EQ(pool.ClassSize(1), 4096u);
  EXPECT_EQ(pool.ClassSize(4096), 4096u);
  EXPECT_EQ(pool.ClassSize(4097), 8192u);
  EXPECT_EQ(pool.ClassSize(1 << 20), 1u << 20);
  EXPECT_EQ(pool.ClassSize((1 << 20) + 1), 0u);  // oversize
}

TEST(BytePool, ABufferIsZeroedOverItsWholeCapacityOnReturn) {
  BytePool pool;
  PooledBuffer b = pool.Get(100);
  ASSERT_NE(b.data(), nullptr);
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(b.capacity(), 4096u);
  EXPECT_TRUE(AllZero(b));
  char* first = b.data();
  std::memset(b.data(), 0xAB, b.capacity());  // past size(), as a bug might
  b.Release();
  EXPECT_EQ(b.data(), nullptr);
  PooledBuffer again = pool.Get(4000);
  EXPECT_EQ(again.data(), first);  // reused
  EXPECT_TRUE(AllZero(again));
  BytePoolStats st = pool.Stats();
  EXPECT_EQ(st.gets, 2u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.hits, 1u);
  EXPECT_EQ(st.allocations, 1u);
  EXPECT_EQ(st.buffers_out, 1u);
  EXPECT_EQ(st.bytes_out, 4096u);
  EXPECT_EQ(st.buffers_held, 0u);
}

TEST(BytePool, GetZeroReturnsAnEmptyBufferAndAllocatesNothing) {
  BytePool pool;
  PooledBuffer b = pool.Get(0);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(b.span().empty());
  b.Release();
  BytePoolStats st = pool.Stats();
  EXPECT_EQ(st.gets, 1u);
  EXPECT_EQ(st.allocations, 0u);
  EXPECT_EQ(st.buffers_out, 0u);
}

TEST(BytePool, OversizeRequestsAreAllocatedExactlyAndFreed) {
  CounterDelta buffers("pool-buffers");
  BytePool pool({.max_class_bytes = 1 << 16});
  {
    PooledBuffer big = pool.Get((1 << 16) + 5);
    EXPECT_EQ(big.capacity(), (1u << 16) + 5);
    EXPECT_TRUE(AllZero(big));
    EXPECT_EQ(buffers.count(), 1);
    EXPECT_EQ(buffers.bytes(), (1 << 16) + 5);
  }
  BytePoolStats st = pool.Stats();
  EXPECT_EQ(st.oversize, 1u);
  EXPECT_EQ(st.misses, 0u);
  EXPECT_EQ(st.frees, 1u);
  EXPECT_EQ(st.buffers_held, 0u);
  EXPECT_EQ(buffers.count(), 0);
}

TEST(BytePool, HoldsNoMoreThanItsLimit) {
  BytePool pool({.min_class_bytes = 4096, .max_held_bytes = 8192});
  {
    std::vector<PooledBuffer> out;
    for (int i = 0; i < 5; ++i) out.push_back(pool.Get(4096));
  }
  BytePoolStats st = pool.Stats();
  EXPECT_EQ(st.buffers_held, 2u);
  EXPECT_EQ(st.bytes_held, 8192u);
  EXPECT_EQ(st.frees, 3u);
}

TEST(BytePool, MovingABufferMovesItsReturn) {
  BytePool pool;
  PooledBuffer a = pool.Get(10);
  PooledBuffer b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  a = pool.Get(20);
  b = std::move(a);  // b's first buffer goes back
  EXPECT_EQ(pool.Stats().buffers_out, 1u);
  EXPECT_EQ(pool.Stats().buffers_held, 1u);
}

TEST(BytePool, CountsItsBuffersAndReturnsToZero) {
  CounterDelta buffers("pool-buffers");
  {
    BytePool pool;
    PooledBuffer a = pool.Get(5000);  // 8 KiB class
    PooledBuffer b = pool.Get(1);     // 4 KiB class
    pool.Stats();                     // publishes the counter exactly
    EXPECT_EQ(buffers.count(), 2);
    EXPECT_EQ(buffers.bytes(), 8192 + 4096);
    a.Release();  // idle: still the pool's
    pool.Stats();
    EXPECT_EQ(buffers.count(), 2);
    PooledBuffer c = pool.Get(6000);  // a hit: nothing new
    pool.Stats();
    EXPECT_EQ(buffers.count(), 2);
  }
  EXPECT_EQ(buffers.count(), 0);
  EXPECT_EQ(buffers.bytes(), 0);
}

// The counter follows the pool in batches: between Stats() calls it is off
// by fewer than 32 small buffers (unpublished allocations less unpublished
// frees); a buffer of 32 KiB or
// more is counted at once.
TEST(BytePool, TheCounterLagsByLessThanABatch) {
  CounterDelta buffers("pool-buffers");
  BytePool pool({.max_held_bytes = 0});  // every return frees
  std::vector<PooledBuffer> out;
  for (int i = 0; i < 31; ++i) {  // the first allocations: exact
    out.push_back(pool.Get(4096));
    EXPECT_EQ(buffers.count(), i + 1);
  }
  for (int i = 31; i < 100; ++i) {
    out.push_back(pool.Get(4096));
    int64_t behind = static_cast<int64_t>(i + 1) - buffers.count();
    EXPECT_GE(behind, 0);
    EXPECT_LT(behind, 32) << i;
  }
  for (int i = 0; i < 100; ++i) {
    out.pop_back();
    int64_t off = buffers.count() - static_cast<int64_t>(99 - i);
    EXPECT_LT(std::abs(off), 32) << i;
  }
  pool.Stats();
  EXPECT_EQ(buffers.count(), 0);
  EXPECT_EQ(buffers.bytes(), 0);
  {
    PooledBuffer big = pool.Get(32 << 10);
    EXPECT_EQ(buffers.count(), 1);
    EXPECT_EQ(buffers.bytes(), 32 << 10);
  }
  EXPECT_EQ(buffers.count(), 0);
  EXPECT_EQ(buffers.bytes(), 0);
}

TEST(BytePool, ConcurrentUseKeepsTheBooks) {
  CounterDelta buffers("pool-buffers");
  {
    BytePool pool({.max_class_bytes = 1 << 16, .max_held_bytes = 1 << 18});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&pool, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        std::vector<PooledBuffer> held;
        for (int i = 0; i < 5000; ++i) {
          PooledBuffer b = pool.Get(rng() % (1 << 17));
          ASSERT_TRUE(b.empty() ||
                      (b.data()[0] == 0 && b.data()[b.capacity() - 1] == 0));
          if (!b.empty()) b.data()[0] = b.data()[b.capacity() - 1] = 'x';
          held.push_back(std::move(b));
          if (held.size() > 8) held.erase(held.begin() + (rng() % 8));
        }
      });
    }
    for (auto& th : threads) th.join();
    BytePoolStats st = pool.Stats();
    EXPECT_EQ(st.buffers_out, 0u);
    EXPECT_EQ(st.bytes_out, 0u);
    EXPECT_EQ(st.allocations - st.frees, st.buffers_held);
    EXPECT_LE(st.bytes_held, 1u << 18);
    EXPECT_LE(st.hits + st.misses + st.oversize, st.gets);  // Get(0): none
    EXPECT_EQ(buffers.count(), static_cast<int64_t>(st.buffers_held));
    EXPECT_EQ(buffers.bytes(), static_cast<int64_t>(st.bytes_held));
  }
  EXPECT_EQ(buffers.count(), 0);
}

}  // namespace
}  // namespace memmon::fs
