// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The filesystem components with memmon's object counters (Counting::kOn,
// what a service uses) against the same code without them (kOff), in the
// same binary and run: the counting's cost. And the cache under threads,
// sharded against one lock: why LruCache shards.
//
//   build/bin/fs_benchmark --benchmark_min_time=0.2
//   build/bin/fs_benchmark --benchmark_filter=Counted --benchmark_repetitions=5
//     --benchmark_enable_random_interleaving=true
//     --benchmark_report_aggregates_only=true       (one command line)
//
// Results and the machine: docs/benchmarks.md, docs/components.md.

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "memmon/fs/byte_pool.h"
#include "memmon/fs/lru_cache.h"
#include "memmon/fs/write_buffer.h"

namespace memmon::fs {
namespace {

constexpr Counting kOn = Counting::kOn;
constexpr Counting kOff = Counting::kOff;

std::vector<std::string> Keys(int n) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    keys.push_back("bucket/object-" + std::to_string(i) + "/block-" +
                   std::to_string(i % 64));
  }
  return keys;
}

// Every Put replaces the coldest entry: an insert and an eviction, the two
// operations that touch the counter.
template <Counting kC>
void BM_Cache_PutEvict(benchmark::State& state) {
  BasicLruCache<kC> cache({.max_bytes = 0, .max_entries = 4096});
  std::vector<std::string> keys = Keys(16384);
  auto value = std::make_shared<const std::string>(4096, 'v');
  std::size_t i = 0;
  for (auto _ : state) {
    cache.Put(keys[i], value).IgnoreError();
    i = (i + 1) % keys.size();
  }
}

// Gets that hit: the counter is not touched (the floor of the comparison).
template <Counting kC>
void BM_Cache_GetHit(benchmark::State& state) {
  BasicLruCache<kC> cache({.max_bytes = 0, .max_entries = 4096});
  std::vector<std::string> keys = Keys(4096);
  auto value = std::make_shared<const std::string>(4096, 'v');
  for (const auto& k : keys) cache.Put(k, value).IgnoreError();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.Get(keys[i]));
    i = (i + 1) % keys.size();
  }
}

// A filesystem's mix: reads through the cache over a working set twice its
// capacity, a miss filled by a Put.
template <Counting kC>
void BM_Cache_ReadThrough(benchmark::State& state) {
  BasicLruCache<kC> cache({.max_bytes = 0, .max_entries = 4096});
  std::vector<std::string> keys = Keys(8192);
  auto value = std::make_shared<const std::string>(4096, 'v');
  uint64_t x = 88172645463325252ull;
  for (auto _ : state) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift
    // Skewed: half the reads go to an eighth of the keys.
    std::size_t i = (x & 1) ? (x >> 8) % 1024 : (x >> 8) % keys.size();
    if (cache.Get(keys[i]) == nullptr) cache.Put(keys[i], value).IgnoreError();
  }
}

// 4 KiB writes to 64 objects, flushed at 1 MiB by a callback that stores
// nothing: the buffering itself.
template <Counting kC>
void BM_WriteBuffer_Write(benchmark::State& state) {
  WriteBufferOptions o;
  o.flush = [](std::string_view, std::string_view, uint64_t) {
    return Status::Ok();
  };
  o.max_buffer_bytes = 1 << 20;
  o.max_age = std::chrono::nanoseconds(0);
  o.max_pending_bytes = uint64_t{1} << 34;
  o.flush_threads = 1;
  BasicWriteBuffer<kC> wb(o);
  std::vector<std::string> keys = Keys(64);
  std::vector<uint64_t> offsets(keys.size());
  std::string data(4096, 'w');
  std::size_t i = 0;
  for (auto _ : state) {
    wb.Write(keys[i], offsets[i], data).IgnoreError();
    offsets[i] += data.size();
    i = (i + 1) % keys.size();
  }
  wb.Close().IgnoreError();
}

// Get and return a 64 KiB buffer: a hit, zeroed on return.
template <Counting kC>
void BM_Pool_GetReturn(benchmark::State& state) {
  BasicBytePool<kC> pool;
  for (auto _ : state) {
    PooledBuffer b = pool.Get(64 << 10);
    benchmark::DoNotOptimize(b.data());
  }
}

// A pool that holds nothing: every Get allocates and every return frees,
// both counted (the worst case for the counting).
template <Counting kC>
void BM_Pool_AllocateFree(benchmark::State& state) {
  BasicBytePool<kC> pool({.max_held_bytes = 0});
  for (auto _ : state) {
    PooledBuffer b = pool.Get(4096);
    benchmark::DoNotOptimize(b.data());
  }
}

#define MEMMON_BOTH(name)                                \
  BENCHMARK_TEMPLATE(name, kOn)->Name(#name "/Counted"); \
  BENCHMARK_TEMPLATE(name, kOff)->Name(#name "/Uncounted")

MEMMON_BOTH(BM_Cache_PutEvict);
MEMMON_BOTH(BM_Cache_GetHit);
MEMMON_BOTH(BM_Cache_ReadThrough);
MEMMON_BOTH(BM_WriteBuffer_Write);
MEMMON_BOTH(BM_Pool_GetReturn);
MEMMON_BOTH(BM_Pool_AllocateFree);

// ---- contention: one cache, several threads, 16 shards against 1 ----------

// The control: work that shares nothing, so its throughput with 2 threads
// over 1 is the parallelism the machine gave this run (2 on two idle CPUs).
void BM_Cache_ContendedControl(benchmark::State& state) {
  double x = 1 + state.thread_index();
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) x = x * 1.0000001 + 1e-9;
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cache_ContendedControl)->ThreadRange(1, 2)->UseRealTime();

constexpr int kContendedKeys = 32768;

// A value per key (a shared one would make every Get and Put of every key
// bump one reference count, a contention of the benchmark's own).
const std::vector<LruCache::Value>& Values() {
  static const auto* values = [] {
    auto* v = new std::vector<LruCache::Value>();
    for (int i = 0; i < kContendedKeys; ++i) {
      v->push_back(std::make_shared<const std::string>(4096, 'v'));
    }
    return v;
  }();
  return *values;
}

LruCache& SharedCache(int shards) {
  static std::mutex mu;
  static std::map<int, std::unique_ptr<LruCache>> caches;
  std::lock_guard l(mu);
  auto& c = caches[shards];
  if (c == nullptr) {
    c = std::make_unique<LruCache>(LruCacheOptions{
        .max_bytes = 0, .max_entries = kContendedKeys / 2, .shards = shards});
    std::vector<std::string> keys = Keys(kContendedKeys / 2);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      c->Put(keys[i], Values()[i]).IgnoreError();
    }
  }
  return *c;
}

// Read-through on a working set twice the capacity, half the reads on an
// eighth of the keys (about 1 Put in 4 operations), from state.threads()
// threads at once.
void BM_Cache_Contended(benchmark::State& state) {
  LruCache& cache = SharedCache(static_cast<int>(state.range(0)));
  static const std::vector<std::string> keys = Keys(kContendedKeys);
  const std::vector<LruCache::Value>& values = Values();
  uint64_t x =
      88172645463325252ull + static_cast<uint64_t>(state.thread_index());
  for (auto _ : state) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::size_t i =
        (x & 1) ? (x >> 8) % (keys.size() / 8) : (x >> 8) % keys.size();
    if (cache.Get(keys[i]) == nullptr) {
      cache.Put(keys[i], values[i]).IgnoreError();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
// Hits only (a hot set that fits): the lock is all the threads share.
void BM_Cache_ContendedHits(benchmark::State& state) {
  LruCache& cache = SharedCache(static_cast<int>(state.range(0)));
  static const std::vector<std::string> keys = Keys(kContendedKeys / 8);
  uint64_t x =
      88172645463325252ull + static_cast<uint64_t>(state.thread_index());
  for (auto _ : state) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    benchmark::DoNotOptimize(cache.Get(keys[(x >> 8) % keys.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cache_ContendedHits)
    ->ArgName("shards")
    ->Arg(1)
    ->Arg(16)
    ->ThreadRange(1, 4)
    ->UseRealTime();

// Hits, each thread on its own block of keys (clients reading different
// files): no entry, and no cache line of one, is shared between threads
// (entries are allocated in key order, so interleaved keys would share
// lines), only the locks.
void BM_Cache_ContendedDisjointHits(benchmark::State& state) {
  LruCache& cache = SharedCache(static_cast<int>(state.range(0)));
  static const std::vector<std::string> keys = Keys(kContendedKeys / 8);
  const std::size_t threads = static_cast<std::size_t>(state.threads());
  const std::size_t self = static_cast<std::size_t>(state.thread_index());
  uint64_t x = 88172645463325252ull + self;
  for (auto _ : state) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::size_t per_thread = keys.size() / threads;
    std::size_t i = self * per_thread + (x >> 8) % per_thread;
    benchmark::DoNotOptimize(cache.Get(keys[i]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cache_ContendedDisjointHits)
    ->ArgName("shards")
    ->Arg(1)
    ->Arg(16)
    ->ThreadRange(1, 4)
    ->UseRealTime();

BENCHMARK(BM_Cache_Contended)
    ->ArgName("shards")
    ->Arg(1)
    ->Arg(16)
    ->ThreadRange(1, 4)
    ->UseRealTime();

}  // namespace
}  // namespace memmon::fs

BENCHMARK_MAIN();
