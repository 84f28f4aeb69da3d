// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/fs/lru_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fs/fs_test_util.h"

namespace memmon::fs {
namespace {

using namespace std::chrono_literals;
using testing::CounterDelta;
using testing::ThreadCount;
using testing::ThreadsBackTo;
using testing::WaitFor;

std::string Str(const LruCache::Value& v) { return v ? *v : "<miss>"; }

TEST(LruCache, GetPutDeleteClearAndStats) {
  LruCache cache({.max_bytes = 1 << 20});
  EXPECT_EQ(cache.Get("a"), nullptr);
  ASSERT_TRUE(cache.Put("a", std::string("alpha")).ok());
  ASSERT_TRUE(cache.Put("b", std::string("beta")).ok());
  EXPECT_EQ(Str(cache.Get("a")), "alpha");
  EXPECT_EQ(Str(cache.Get("b")), "beta");
  EXPECT_TRUE(cache.Delete("a"));
  EXPECT_FALSE(cache.Delete("a"));
  EXPECT_FALSE(cache.Delete("b2"));  // exact key only
  EXPECT_EQ(cache.Get("a"), nullptr);
  LruCacheStats st = cache.Stats();
  EXPECT_EQ(st.hits, 2u);
  EXPECT_EQ(st.misses, 2u);
  EXPECT_DOUBLE_EQ(st.hit_rate, 0.5);
  EXPECT_EQ(st.entries, 1u);
  EXPECT_EQ(st.bytes, 1u + 4u);
  cache.Clear();
  st = cache.Stats();
  EXPECT_EQ(st.entries, 0u);
  EXPECT_EQ(st.bytes, 0u);
  EXPECT_EQ(st.evictions, 0u);
}

// Delete takes the exact key: deleting "blk/1" leaves "blk/10" and
// "blk/1/x", which it prefixes, and "blk/", which prefixes it; with one
// shard and with many (the keys may share a shard or not).
TEST(LruCache, DeleteTakesTheExactKeyNotAPrefix) {
  for (int shards : {1, 16}) {
    SCOPED_TRACE(shards);
    LruCache cache({.max_bytes = 1 << 20, .shards = shards});
    for (const char* key : {"blk/", "blk/1", "blk/10", "blk/1/x"}) {
      ASSERT_TRUE(cache.Put(key, std::string("v:") + key).ok());
    }
    EXPECT_TRUE(cache.Delete("blk/1"));
    EXPECT_EQ(cache.Get("blk/1"), nullptr);
    EXPECT_EQ(Str(cache.Get("blk/10")), "v:blk/10");
    EXPECT_EQ(Str(cache.Get("blk/1/x")), "v:blk/1/x");
    EXPECT_EQ(Str(cache.Get("blk/")), "v:blk/");
    EXPECT_EQ(cache.Stats().entries, 3u);
  }
}

TEST(LruCache, EvictsTheLeastRecentlyUsedByEntries) {
  LruCache cache({.max_bytes = 0, .max_entries = 3});
  EXPECT_EQ(cache.Stats().shards, 1);  // small: one exact LRU order
  for (const char* k : {"a", "b", "c"}) {
    ASSERT_TRUE(cache.Put(k, std::string(k)).ok());
  }
  EXPECT_NE(cache.Get("a"), nullptr);  // b is now the coldest
  ASSERT_TRUE(cache.Put("d", std::string("d")).ok());
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_NE(cache.Get("a"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
  EXPECT_NE(cache.Get("d"), nullptr);
  EXPECT_EQ(cache.Stats().evictions, 1u);
  EXPECT_EQ(cache.Stats().entries, 3u);
}

TEST(LruCache, EvictsByBytesAndRejectsWhatCannotFit) {
  LruCache cache({.max_bytes = 100});
  ASSERT_TRUE(cache.Put("k1", std::string(38, 'x')).ok());  // charge 40
  ASSERT_TRUE(cache.Put("k2", std::string(38, 'y')).ok());
  ASSERT_TRUE(cache.Put("k3", std::string(38, 'z')).ok());  // 120 > 100
  EXPECT_EQ(cache.Get("k1"), nullptr);
  EXPECT_EQ(cache.Stats().bytes, 80u);
  EXPECT_EQ(cache.Stats().evictions, 1u);
  // Too big for the cache: refused, and the older value is not left stale.
  Status s = cache.Put("k2", std::string(200, 'w'));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(cache.Get("k2"), nullptr);
  EXPECT_EQ(cache.Stats().bytes, 40u);
  EXPECT_EQ(cache.Put("k4", LruCache::Value()).code(),
            StatusCode::kInvalidArgument);
}

TEST(LruCache, ReplacingAValueRechargesIt) {
  LruCache cache({.max_bytes = 1000});
  ASSERT_TRUE(cache.Put("k", std::string(10, 'a')).ok());
  ASSERT_TRUE(cache.Put("k", std::string(50, 'b')).ok());
  EXPECT_EQ(cache.Stats().entries, 1u);
  EXPECT_EQ(cache.Stats().bytes, 51u);
  EXPECT_EQ(Str(cache.Get("k")), std::string(50, 'b'));
}

TEST(LruCache, AValueOutlivesItsEviction) {
  LruCache cache({.max_bytes = 0, .max_entries = 1});
  ASSERT_TRUE(cache.Put("a", std::string("first")).ok());
  LruCache::Value held = cache.Get("a");
  ASSERT_TRUE(cache.Put("b", std::string("second")).ok());
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(*held, "first");
}

TEST(LruCache, EntriesExpireAfterTheTtl) {
  ManualClock clock;
  LruCache cache({.max_bytes = 1 << 20,
                  .ttl = 10s,
                  .sweep_interval = 0s,
                  .clock = &clock});
  ASSERT_TRUE(cache.Put("a", std::string("x")).ok());
  clock.Advance(9s);
  EXPECT_NE(cache.Get("a"), nullptr);  // a Get does not extend the TTL
  clock.Advance(1s);
  EXPECT_EQ(cache.Get("a"), nullptr);
  LruCacheStats st = cache.Stats();
  EXPECT_EQ(st.expirations, 1u);
  EXPECT_EQ(st.hits, 1u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.entries, 0u);
}

TEST(LruCache, SweepExpiredRemovesOnlyExpiredEntries) {
  ManualClock clock;
  LruCache cache({.max_bytes = 1 << 20,
                  .ttl = 10s,
                  .sweep_interval = 0s,
                  .clock = &clock});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(cache.Put("old" + std::to_string(i), std::string("v")).ok());
  }
  clock.Advance(6s);
  ASSERT_TRUE(cache.Put("new", std::string("v")).ok());
  clock.Advance(5s);
  EXPECT_EQ(cache.SweepExpired(), 5u);
  EXPECT_EQ(cache.Stats().entries, 1u);
  EXPECT_EQ(cache.Stats().expirations, 5u);
  EXPECT_NE(cache.Get("new"), nullptr);
}

TEST(LruCache, TheSweeperRemovesExpiredEntries) {
  ManualClock clock;
  LruCache cache({.max_bytes = 1 << 20,
                  .ttl = 1s,
                  .sweep_interval = 1ms,
                  .clock = &clock});
  ASSERT_TRUE(cache.Put("a", std::string("x")).ok());
  clock.Advance(2s);
  EXPECT_TRUE(WaitFor([&] { return cache.Stats().entries == 0; }));
  EXPECT_EQ(cache.Stats().expirations, 1u);
}

TEST(LruCache, ResizeEvictsDownToTheNewCapacity) {
  LruCache cache({.max_bytes = 0, .max_entries = 10});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cache.Put("k" + std::to_string(i), std::string("v")).ok());
  }
  cache.Resize(0, 4);
  LruCacheStats st = cache.Stats();
  EXPECT_EQ(st.entries, 4u);
  EXPECT_EQ(st.evictions, 6u);
  EXPECT_EQ(st.max_entries, 4u);
  for (int i = 6; i < 10; ++i) {
    EXPECT_NE(cache.Get("k" + std::to_string(i)), nullptr) << i;
  }
  cache.Resize(12, 0);  // bytes now: 4 entries of 3 bytes fit exactly
  EXPECT_EQ(cache.Stats().entries, 4u);
  cache.Resize(6, 0);
  EXPECT_EQ(cache.Stats().entries, 2u);
}

TEST(LruCache, CloseStopsTheSweeperAndIsIdempotent) {
  int before = ThreadCount();
  {
    LruCache cache({.max_bytes = 1 << 20, .ttl = 1h, .sweep_interval = 1h});
    EXPECT_EQ(ThreadCount(), before + 1);
    ASSERT_TRUE(cache.Put("a", std::string("x")).ok());
    cache.Close();  // must not wait for the hour
    EXPECT_TRUE(ThreadsBackTo(before));
    cache.Close();
    EXPECT_EQ(cache.Put("b", std::string("y")).code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ(cache.Get("a"), nullptr);
    EXPECT_EQ(cache.Stats().entries, 0u);
  }
  {
    LruCache cache({.max_bytes = 1 << 20, .ttl = 1h, .sweep_interval = 1h});
    EXPECT_EQ(ThreadCount(), before + 1);
  }  // the destructor closes
  EXPECT_TRUE(ThreadsBackTo(before));
  // No TTL: no thread at all.
  LruCache no_ttl({.max_bytes = 1 << 20});
  EXPECT_TRUE(ThreadsBackTo(before));
}

// Close from several threads while others still use the cache: one closes,
// the rest return; nothing is left and no thread is.
TEST(LruCache, ConcurrentCloseWhileInUse) {
  int before = ThreadCount();
  CounterDelta entries("cache-entries");
  {
    LruCache cache({.max_bytes = 1 << 20, .ttl = 1h, .sweep_interval = 1ms});
    std::atomic<bool> stop{false};
    std::vector<std::thread> users;
    for (int t = 0; t < 2; ++t) {
      users.emplace_back([&cache, &stop, t] {
        for (int i = 0; !stop.load(); ++i) {
          std::string key = "k" + std::to_string((i * 7 + t) % 100);
          cache.Put(key, std::string(10, 'v')).IgnoreError();
          cache.Get(key);
        }
      });
    }
    std::vector<std::thread> closers;
    for (int t = 0; t < 3; ++t)
      closers.emplace_back([&cache] { cache.Close(); });
    for (auto& c : closers) c.join();
    stop = true;
    for (auto& u : users) u.join();
    EXPECT_EQ(cache.Stats().entries, 0u);
  }
  EXPECT_EQ(entries.count(), 0);
  EXPECT_EQ(entries.bytes(), 0);
  EXPECT_TRUE(ThreadsBackTo(before));
}

TEST(LruCache, CountsItsEntriesAndReturnsToZero) {
  CounterDelta entries("cache-entries");
  {
    LruCache cache({.max_bytes = 0, .max_entries = 3});
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(cache.Put("k" + std::to_string(i), std::string(8, 'v')).ok());
    }
    EXPECT_EQ(cache.Stats().entries, 3u);  // publishes the counter's batch
    EXPECT_EQ(entries.count(), 3);
    EXPECT_EQ(entries.bytes(), 3 * 10);
    EXPECT_TRUE(cache.Delete("k4"));
    cache.Stats();
    EXPECT_EQ(entries.count(), 2);
    EXPECT_EQ(entries.bytes(), 2 * 10);
  }
  EXPECT_EQ(entries.count(), 0);
  EXPECT_EQ(entries.bytes(), 0);
}

// Between publications the counter lags by less than a batch a shard.
TEST(LruCache, TheCounterLagsByLessThanABatch) {
  CounterDelta entries("cache-entries");
  LruCache cache({.max_bytes = 64 << 20, .shards = 1});  // 1 MiB batches
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(cache.Put("k" + std::to_string(i), std::string(98, 'v')).ok());
    int64_t behind = static_cast<int64_t>(i + 1) - entries.count();
    EXPECT_GE(behind, 0);
    EXPECT_LT(behind, 32) << i;
  }
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(cache.Delete("k" + std::to_string(i)));
    int64_t off = entries.count() - static_cast<int64_t>(99 - i);
    EXPECT_LT(std::abs(off), 32) << i;
  }
  cache.Stats();
  EXPECT_EQ(entries.count(), 0);
  EXPECT_EQ(entries.bytes(), 0);
}

TEST(LruCache, UninstrumentedCountsNothing) {
  CounterDelta entries("cache-entries");
  BasicLruCache<Counting::kOff> cache({.max_bytes = 1 << 20});
  ASSERT_TRUE(cache.Put("a", std::string("x")).ok());
  EXPECT_EQ(Str(cache.Get("a")), "x");
  EXPECT_EQ(entries.count(), 0);
}

// Threads on a sharded cache: the totals add up afterwards, and the
// counters match the cache (run under TSan for the races).
TEST(LruCache, ConcurrentUseKeepsTheBooks) {
  CounterDelta entries("cache-entries");
  int before = ThreadCount();
  {
    LruCache cache({.max_bytes = 64 << 10,
                    .max_entries = 2048,
                    .ttl = 1h,
                    .sweep_interval = 1ms,
                    .shards = 8});
    EXPECT_EQ(cache.Stats().shards, 8);
    constexpr int kThreads = 4, kOps = 20000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&cache, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        for (int i = 0; i < kOps; ++i) {
          std::string key = "k" + std::to_string(rng() % 4096);
          switch (rng() % 8) {
            case 0:
              cache.Delete(key);
              break;
            case 1:
            case 2:
              cache.Put(key, std::string(rng() % 64, 'v')).IgnoreError();
              break;
            default:
              if (auto v = cache.Get(key)) {
                EXPECT_LE(v->size(), 64u);
              }
          }
          if (i == kOps / 2 && t == 0) cache.Resize(32 << 10, 1024);
        }
      });
    }
    for (auto& th : threads) th.join();
    LruCacheStats st = cache.Stats();
    EXPECT_LE(st.bytes, 32u << 10);
    EXPECT_LE(st.entries, 1024u);
    EXPECT_EQ(static_cast<int64_t>(st.entries), entries.count());
    EXPECT_EQ(static_cast<int64_t>(st.bytes), entries.bytes());
    EXPECT_GT(st.hits, 0u);
    EXPECT_GT(st.evictions, 0u);
  }
  EXPECT_EQ(entries.count(), 0);
  EXPECT_EQ(entries.bytes(), 0);
  EXPECT_TRUE(ThreadsBackTo(before));
}

}  // namespace
}  // namespace memmon::fs
