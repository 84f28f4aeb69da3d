// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The cache is an array of shards, each a mutex over an LRU list and a hash
// index of string_views into the list's keys, with their hashes (list nodes
// do not move, so the views stay valid until the entry is erased: the index
// entry is erased first). A key is hashed once per call, for the shard and
// the index both. A shard is cache-line aligned so that two cores locking
// neighbouring shards do not share a line.

#include "memmon/fs/lru_cache.h"

#include <algorithm>
#include <bit>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "memmon/object_counter.h"

namespace memmon::fs {
namespace {

using ::memmon::internal::Mutex;
using ::memmon::internal::MutexLock;
using TimePoint = Clock::time_point;

constexpr int kMaxShards = 256;
constexpr int kAutoShards = 16;

// Shard i's share of a capacity: total / n, the remainder to the first
// shards; never 0 when the total is not (0 means "no limit").
uint64_t ShareOf(uint64_t total, int n, int i) {
  if (total == 0) return 0;
  uint64_t share =
      total / static_cast<uint64_t>(n) +
      (static_cast<uint64_t>(i) < total % static_cast<uint64_t>(n));
  return std::max<uint64_t>(share, 1);
}

int ShardCount(const LruCacheOptions& o) {
  if (o.shards > 0) {
    return static_cast<int>(
        std::bit_ceil(static_cast<unsigned>(std::min(o.shards, kMaxShards))));
  }
  // Small caches keep one exact LRU order. So do caches on one or two CPUs:
  // there, measured, sharding does not pay (docs/components.md, "Cache
  // contention"): at most two threads run at once, and what they share
  // most is the hot entries themselves, not the lock.
  bool small = (o.max_entries != 0 && o.max_entries < 1024) ||
               (o.max_bytes != 0 && o.max_bytes < (16u << 20));
  unsigned cpus = std::thread::hardware_concurrency();
  if (small || cpus <= 2) return 1;
  return static_cast<int>(
      std::min<unsigned>(kAutoShards, std::bit_ceil(2 * cpus)));
}

// A key and its hash, computed once per call.
struct HashedKey {
  explicit HashedKey(std::string_view k)
      : key(k), hash(std::hash<std::string_view>{}(k)) {}
  HashedKey(std::string_view k, std::size_t h) : key(k), hash(h) {}
  bool operator==(const HashedKey& o) const { return key == o.key; }
  std::string_view key;
  std::size_t hash;
};
struct HashOf {
  std::size_t operator()(const HashedKey& k) const { return k.hash; }
};

}  // namespace

template <Counting kCounting>
struct BasicLruCache<kCounting>::Impl {
  struct Entry {
    std::string key;
    std::size_t hash;  // of key
    Value value;
    uint64_t charge;
    TimePoint expires;  // TimePoint::max() without a TTL
  };
  using List = std::list<Entry>;

  struct alignas(64) Shard {
    mutable Mutex mu;
    List lru GUARDED_BY(mu);  // front: most recently used
    std::unordered_map<HashedKey, typename List::iterator, HashOf> index
        GUARDED_BY(mu);
    uint64_t bytes GUARDED_BY(mu) = 0;
    uint64_t max_bytes GUARDED_BY(mu) = 0;
    uint64_t max_entries GUARDED_BY(mu) = 0;
    uint64_t hits GUARDED_BY(mu) = 0;
    uint64_t misses GUARDED_BY(mu) = 0;
    uint64_t evictions GUARDED_BY(mu) = 0;
    uint64_t expirations GUARDED_BY(mu) = 0;
    bool closed GUARDED_BY(mu) = false;
    // What the "cache-entries" counter holds for this shard, and the byte
    // difference from `bytes` that makes it publish (MaybePublish()).
    int64_t published_objects GUARDED_BY(mu) = 0;
    int64_t published_bytes GUARDED_BY(mu) = 0;
    int64_t publish_bytes GUARDED_BY(mu) = 0;
    // The same, as MaybePublish compares them (SetPublished()): the lowest
    // entry count and bytes that need no publishing, and the byte span
    // above the lowest that needs none either.
    int64_t quiet_objects_low GUARDED_BY(mu) = 0;
    int64_t quiet_bytes_low GUARDED_BY(mu) = 0;
    uint64_t quiet_bytes_span GUARDED_BY(mu) = 0;
  };

  explicit Impl(const LruCacheOptions& o)
      : ttl(std::max(o.ttl, std::chrono::nanoseconds(0))),
        clock(o.clock != nullptr ? o.clock : &SteadyClock()),
        shard_count(ShardCount(o)),
        shard_shift(64 - std::countr_zero(static_cast<unsigned>(shard_count))),
        shards(new Shard[static_cast<std::size_t>(shard_count)]),
        counter(kCounting == Counting::kOn ? &GetObjectCounter("cache-entries")
                                           : nullptr) {
    for (int i = 0; i < shard_count; ++i) {
      Shard& s = shards[static_cast<std::size_t>(i)];
      MutexLock l(&s.mu);
      s.max_bytes = ShareOf(o.max_bytes, shard_count, i);
      s.max_entries = ShareOf(o.max_entries, shard_count, i);
      s.publish_bytes = PublishBytes(s.max_bytes);
      SetPublished(s, 0, 0);
    }
    if (ttl.count() > 0 && o.sweep_interval.count() > 0) {
      sweep_interval = o.sweep_interval;
      sweeper = std::thread([this] { SweepLoop(); });
    }
  }

  // The key is hashed once: the shard takes the top bits of a Fibonacci
  // mix of the hash, the shard's table the hash itself.
  Shard& ShardFor(const HashedKey& key) {
    if (shard_count == 1) return shards[0];
    return shards[(key.hash * 0x9E3779B97F4A7C15ull) >> shard_shift];
  }

  bool Expired(const Entry& e, TimePoint now) const { return e.expires <= now; }
  TimePoint Now() const {
    return ttl.count() > 0 ? clock->Now() : TimePoint::min();
  }

  // Counting in batches: the counter is brought to the shard's own entry
  // count and bytes (kept anyway) when they have moved kPublishObjects
  // entries or publish_bytes bytes (1/64 of the shard's byte capacity, 4 KiB
  // to 1 MiB) from what it holds, and whenever Stats, Clear, Resize, a sweep
  // or Close runs. A cache that evicts as much as it inserts -- the steady
  // state -- seldom publishes at all, and an operation pays two comparisons
  // instead of two counter updates (docs/components.md has both measured).
  static constexpr int64_t kPublishObjects = 32;
  static int64_t PublishBytes(uint64_t shard_max_bytes) {
    if (shard_max_bytes == 0) return 1 << 20;
    return static_cast<int64_t>(
        std::clamp<uint64_t>(shard_max_bytes / 64, 4 << 10, 1 << 20));
  }
  // |now - published| >= limit as one unsigned comparison each, with the
  // bounds worked out when the counter was last published: now - (published
  // - (limit - 1)) falls outside [0, 2 (limit - 1)]. A subtraction and a
  // comparison each on Put's path.
  void MaybePublish(Shard& s) REQUIRES(s.mu) {
    if constexpr (kCounting == Counting::kOn) {
      if (static_cast<uint64_t>(static_cast<int64_t>(s.lru.size()) -
                                s.quiet_objects_low) >
              2 * (kPublishObjects - 1) ||
          static_cast<uint64_t>(static_cast<int64_t>(s.bytes) -
                                s.quiet_bytes_low) > s.quiet_bytes_span) {
        Publish(s);
      }
    }
  }
  // Records what the counter holds for the shard, and the bounds
  // MaybePublish compares with.
  static void SetPublished(Shard& s, int64_t objects, int64_t bytes)
      REQUIRES(s.mu) {
    s.published_objects = objects;
    s.published_bytes = bytes;
    s.quiet_objects_low = objects - (kPublishObjects - 1);
    s.quiet_bytes_low = bytes - (s.publish_bytes - 1);
    s.quiet_bytes_span = static_cast<uint64_t>(2 * (s.publish_bytes - 1));
  }
  // Out of line: the rare path, kept out of Put's.
  [[gnu::noinline]] void Publish(Shard& s) REQUIRES(s.mu) {
    if constexpr (kCounting == Counting::kOn) {
      int64_t objects = static_cast<int64_t>(s.lru.size());
      int64_t bytes = static_cast<int64_t>(s.bytes);
      if (objects != s.published_objects || bytes != s.published_bytes) {
        counter->Add(objects - s.published_objects, bytes - s.published_bytes);
        SetPublished(s, objects, bytes);
      }
    }
  }

  // Unlinks an entry (the counter follows at the next MaybePublish).
  void Remove(Shard& s, typename List::iterator it) REQUIRES(s.mu) {
    s.bytes -= it->charge;
    s.index.erase(HashedKey(it->key, it->hash));
    s.lru.erase(it);
  }

  // Evicts from the cold end until the shard is within its capacities.
  void EvictToFit(Shard& s, TimePoint now) REQUIRES(s.mu) {
    while ((s.max_bytes != 0 && s.bytes > s.max_bytes) ||
           (s.max_entries != 0 && s.lru.size() > s.max_entries)) {
      auto victim = std::prev(s.lru.end());
      if (ttl.count() > 0 && Expired(*victim, now)) {
        ++s.expirations;
      } else {
        ++s.evictions;
      }
      Remove(s, victim);
    }
  }

  uint64_t Sweep() {
    TimePoint now = clock->Now();
    uint64_t removed = 0;
    for (int i = 0; i < shard_count; ++i) {
      Shard& s = shards[static_cast<std::size_t>(i)];
      MutexLock l(&s.mu);
      for (auto it = s.lru.begin(); it != s.lru.end();) {
        auto next = std::next(it);
        if (Expired(*it, now)) {
          Remove(s, it);
          ++s.expirations;
          ++removed;
        }
        it = next;
      }
      Publish(s);
    }
    return removed;
  }

  // Sweeps every sweep_interval until Close() sets `stopping`.
  void SweepLoop() EXCLUDES(sweep_mu) {
    for (;;) {
      {
        MutexLock l(&sweep_mu);
        const auto deadline = std::chrono::steady_clock::now() + sweep_interval;
        while (!stopping && sweep_cv.wait_until(sweep_mu, deadline) ==
                                std::cv_status::no_timeout) {
        }
        if (stopping) return;
      }
      Sweep();
    }
  }

  const std::chrono::nanoseconds ttl;
  Clock* const clock;
  const int shard_count;
  const int shard_shift;
  const std::unique_ptr<Shard[]> shards;
  ObjectCounter* const counter;

  Mutex close_mu;  // serialises Close()
  Mutex sweep_mu;
  std::condition_variable_any sweep_cv;
  bool stopping GUARDED_BY(sweep_mu) = false;
  std::chrono::nanoseconds sweep_interval{0};
  // Started by the constructor when there is a TTL; joined by Close().
  std::thread sweeper GUARDED_BY(close_mu);
};

template <Counting kCounting>
BasicLruCache<kCounting>::BasicLruCache(LruCacheOptions options)
    : impl_(std::make_unique<Impl>(options)) {}

template <Counting kCounting>
BasicLruCache<kCounting>::~BasicLruCache() {
  Close();
}

template <Counting kCounting>
typename BasicLruCache<kCounting>::Value BasicLruCache<kCounting>::Get(
    std::string_view key) {
  HashedKey k(key);
  auto& s = impl_->ShardFor(k);
  TimePoint now = impl_->Now();
  MutexLock l(&s.mu);
  auto found = s.index.find(k);
  if (found == s.index.end()) {
    ++s.misses;
    return nullptr;
  }
  auto it = found->second;
  if (impl_->Expired(*it, now)) {
    impl_->Remove(s, it);
    impl_->MaybePublish(s);
    ++s.expirations;
    ++s.misses;
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it);
  ++s.hits;
  return it->value;
}

template <Counting kCounting>
Status BasicLruCache<kCounting>::Put(std::string_view key, Value value) {
  if (value == nullptr) return Status::InvalidArgument("null cache value");
  uint64_t charge = key.size() + value->size();
  HashedKey k(key);
  auto& s = impl_->ShardFor(k);
  TimePoint now = impl_->Now();
  TimePoint expires =
      impl_->ttl.count() > 0 ? now + impl_->ttl : TimePoint::max();
  MutexLock l(&s.mu);
  if (s.closed) return Status::FailedPrecondition("cache is closed");
  if (auto found = s.index.find(k); found != s.index.end()) {
    impl_->Remove(s, found->second);
  }
  if (s.max_bytes != 0 && charge > s.max_bytes) {
    impl_->MaybePublish(s);
    return Status::InvalidArgument("cache entry of " + std::to_string(charge) +
                                   " bytes exceeds the shard capacity of " +
                                   std::to_string(s.max_bytes));
  }
  s.lru.push_front(typename Impl::Entry{std::string(key), k.hash,
                                        std::move(value), charge, expires});
  s.index.emplace(HashedKey(s.lru.front().key, k.hash), s.lru.begin());
  s.bytes += charge;
  impl_->EvictToFit(s, now);
  impl_->MaybePublish(s);
  return Status::Ok();
}

template <Counting kCounting>
bool BasicLruCache<kCounting>::Delete(std::string_view key) {
  HashedKey k(key);
  auto& s = impl_->ShardFor(k);
  MutexLock l(&s.mu);
  auto found = s.index.find(k);
  if (found == s.index.end()) return false;
  impl_->Remove(s, found->second);
  impl_->MaybePublish(s);
  return true;
}

template <Counting kCounting>
void BasicLruCache<kCounting>::Clear() {
  for (int i = 0; i < impl_->shard_count; ++i) {
    auto& s = impl_->shards[static_cast<std::size_t>(i)];
    MutexLock l(&s.mu);
    while (!s.lru.empty()) impl_->Remove(s, s.lru.begin());
    impl_->Publish(s);
  }
}

template <Counting kCounting>
void BasicLruCache<kCounting>::Resize(uint64_t max_bytes,
                                      uint64_t max_entries) {
  TimePoint now = impl_->Now();
  for (int i = 0; i < impl_->shard_count; ++i) {
    auto& s = impl_->shards[static_cast<std::size_t>(i)];
    MutexLock l(&s.mu);
    s.max_bytes = ShareOf(max_bytes, impl_->shard_count, i);
    s.max_entries = ShareOf(max_entries, impl_->shard_count, i);
    s.publish_bytes = Impl::PublishBytes(s.max_bytes);
    impl_->EvictToFit(s, now);
    impl_->Publish(s);
    // The new publish_bytes in MaybePublish's bounds.
    Impl::SetPublished(s, s.published_objects, s.published_bytes);
  }
}

template <Counting kCounting>
uint64_t BasicLruCache<kCounting>::SweepExpired() {
  return impl_->ttl.count() > 0 ? impl_->Sweep() : 0;
}

template <Counting kCounting>
void BasicLruCache<kCounting>::Close() {
  MutexLock close(&impl_->close_mu);
  {
    MutexLock l(&impl_->sweep_mu);
    impl_->stopping = true;
  }
  impl_->sweep_cv.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
  for (int i = 0; i < impl_->shard_count; ++i) {
    auto& s = impl_->shards[static_cast<std::size_t>(i)];
    MutexLock l(&s.mu);
    s.closed = true;
    while (!s.lru.empty()) impl_->Remove(s, s.lru.begin());
    impl_->Publish(s);
  }
}

template <Counting kCounting>
LruCacheStats BasicLruCache<kCounting>::Stats() const {
  LruCacheStats st;
  st.shards = impl_->shard_count;
  for (int i = 0; i < impl_->shard_count; ++i) {
    auto& s = impl_->shards[static_cast<std::size_t>(i)];
    MutexLock l(&s.mu);
    impl_->Publish(s);  // the counter exact as of this call
    st.hits += s.hits;
    st.misses += s.misses;
    st.evictions += s.evictions;
    st.expirations += s.expirations;
    st.entries += s.lru.size();
    st.bytes += s.bytes;
    st.max_bytes += s.max_bytes;
    st.max_entries += s.max_entries;
  }
  uint64_t lookups = st.hits + st.misses;
  st.hit_rate = lookups == 0 ? 0
                             : static_cast<double>(st.hits) /
                                   static_cast<double>(lookups);
  return st;
}

template class BasicLruCache<Counting::kOn>;
template class BasicLruCache<Counting::kOff>;

}  // namespace memmon::fs
