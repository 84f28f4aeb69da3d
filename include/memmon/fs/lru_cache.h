// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// LruCache: the block cache of an object-store filesystem. Keys are strings
// (an object name and a block number, say), values immutable byte strings
// shared with the readers that got them, so a Get costs no copy and an
// evicted block stays valid for whoever still holds it.
//
// Limits: a byte capacity (key plus value bytes) and an entry capacity,
// either may be 0 for none; an optional TTL after which an entry is a miss.
// A Put that goes over a limit evicts the least recently used entries.
//
// Sharding: the cache is split into shards by key hash, each with its own
// lock, LRU list and a share of the capacities, so that readers on different
// cores rarely meet on one lock (docs/components.md has the contention
// measured). LRU order and the capacities are per shard: with N shards the
// evicted entry is the least recently used of its shard, and a value must
// fit in a shard's share of the byte capacity. `shards = 0` picks N: 1 for
// small caches (under 1024 entries or 16 MiB) and on machines with one or
// two CPUs, where sharding was measured not to pay; else twice the CPUs, at
// most 16.
//
// Threads: one sweeper, owned by the cache, removes expired entries every
// `sweep_interval` (no thread when there is no TTL or sweep_interval is 0;
// an expired entry is never returned either way). Close() stops and joins
// it; the destructor calls Close().
//
// Counters: every entry is one object in "cache-entries", with its charge
// (key + value bytes), while it is in the cache. A shard publishes its
// changes in batches, at 32 entries or 1/64 of its byte capacity (at least
// 4 KiB, at most 1 MiB) of net change, so the counter may lag the cache by
// that much per shard; Stats(), Clear(), Resize(), each sweep and Close()
// publish everything (the counter is exact right after them).
//
// Thread-safety: every member function may be called from any thread,
// concurrently. Allocation: Put allocates the entry; Get does not.
//
// Typical use:
//   memmon::fs::LruCache cache({.max_bytes = 256 << 20, .ttl = 5min});
//   if (auto block = cache.Get(key)) return *block;
//   std::string data = store.Read(key);
//   cache.Put(key, std::move(data)).IgnoreError();  // too big: not cached
#ifndef MEMMON_FS_LRU_CACHE_H_
#define MEMMON_FS_LRU_CACHE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "memmon/fs/common.h"
#include "memmon/status.h"

namespace memmon::fs {

struct LruCacheOptions {
  uint64_t max_bytes = 64 << 20;    // key + value bytes; 0: no byte limit
  uint64_t max_entries = 0;         // 0: no entry limit
  std::chrono::nanoseconds ttl{0};  // 0: entries do not expire
  // How often the sweeper removes expired entries (with a TTL only); 0: no
  // sweeper thread (expired entries are still never returned, and leave on
  // eviction or SweepExpired()).
  std::chrono::nanoseconds sweep_interval{std::chrono::seconds(1)};
  int shards = 0;          // rounded up to a power of two, at most 256; 0: auto
  Clock* clock = nullptr;  // nullptr: SteadyClock(); must outlive the cache
};

struct LruCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;       // expired entries included
  uint64_t evictions = 0;    // removed to make room (Put, Resize)
  uint64_t expirations = 0;  // removed for age (Get, Put, sweeper)
  double hit_rate = 0;       // hits / (hits + misses); 0 before any Get
  uint64_t entries = 0;
  uint64_t bytes = 0;  // key + value bytes of the entries
  uint64_t max_bytes = 0;
  uint64_t max_entries = 0;
  int shards = 0;
};

template <Counting kCounting = Counting::kOn>
class BasicLruCache {
 public:
  using Value = std::shared_ptr<const std::string>;

  explicit BasicLruCache(LruCacheOptions options = {});
  ~BasicLruCache();  // Close()
  BasicLruCache(const BasicLruCache&) = delete;
  BasicLruCache& operator=(const BasicLruCache&) = delete;

  // The value under `key`, now the most recently used of its shard; nullptr
  // when absent or expired (an expired entry is removed and counted).
  Value Get(std::string_view key);

  // Stores `value` under `key`, replacing any value there, and evicts the
  // least recently used entries of the shard until it fits. Errors:
  // InvalidArgument when value is null or key + value exceed a shard's byte
  // capacity (an older value under `key` is removed: it would be stale);
  // FailedPrecondition after Close().
  Status Put(std::string_view key, Value value);
  Status Put(std::string_view key, std::string value) {
    return Put(key, std::make_shared<const std::string>(std::move(value)));
  }

  // Removes the entry with exactly this key; true when there was one.
  bool Delete(std::string_view key);

  // Removes every entry (not counted as evictions).
  void Clear();

  // New capacities (0: none), each split over the shards; evicts the least
  // recently used entries down to them.
  void Resize(uint64_t max_bytes, uint64_t max_entries);

  // Removes the entries expired at the clock's Now(); how many. The sweeper
  // calls it every sweep_interval; tests with a ManualClock call it directly.
  uint64_t SweepExpired();

  // Stops and joins the sweeper and drops every entry; later Puts fail,
  // Gets miss. Idempotent; safe to call concurrently.
  void Close();

  // The statistics; also publishes every shard's pending counter changes.
  LruCacheStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using LruCache = BasicLruCache<Counting::kOn>;

extern template class BasicLruCache<Counting::kOn>;
extern template class BasicLruCache<Counting::kOff>;

}  // namespace memmon::fs

#endif  // MEMMON_FS_LRU_CACHE_H_
