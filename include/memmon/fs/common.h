// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What the filesystem components (lru_cache.h, write_buffer.h, byte_pool.h)
// share: the clock their TTLs and buffer ages are measured on, and the
// switch that builds a component with or without memmon's object counters.
//
// Thread-safety: every function may be called from any thread.
#ifndef MEMMON_FS_COMMON_H_
#define MEMMON_FS_COMMON_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace memmon::fs {

// Whether a component counts its objects through memmon's object counters
// ("cache-entries", "write-buffers", "pool-buffers"). kOn is what a service
// uses (LruCache, WriteBuffer, BytePool); kOff exists so that the cost of
// the counting can be measured against the same code without it
// (src/fs/fs_benchmark.cc).
enum class Counting { kOn, kOff };

// A monotonic time source. The components read it for TTLs and buffer ages;
// tests pass a ManualClock to make those deterministic. WriteBuffer's retry
// backoffs are not on it: its flushers wait for them on
// std::chrono::steady_clock.
class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point Now() const = 0;
};

// std::chrono::steady_clock; lives until the process exits.
Clock& SteadyClock();

// A clock that moves only when told to: for tests. Starts an hour past the
// epoch so that "now minus a TTL" stays positive.
class ManualClock final : public Clock {
 public:
  ManualClock() = default;
  time_point Now() const override {
    return time_point(std::chrono::nanoseconds(ns_.load()));
  }
  void Advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> ns_{
      std::chrono::nanoseconds(std::chrono::hours(1)).count()};
};

}  // namespace memmon::fs

#endif  // MEMMON_FS_COMMON_H_
