// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The process-wide table of object counters and their per-thread slots.
//
// Layout: counter ids are dense (0, 1, 2, ...). Each thread that touches a
// counter owns a ThreadBlock: a table of pointers to chunks of 64 slots,
// allocated on first touch. The owner is the only writer of its slots, so
// an update is a relaxed load and store (no lock prefix, no cache line
// shared with another writer). Readers sum, under the registry lock, the
// slots of all live blocks plus each counter's `retired` totals, into which
// an exiting thread folds its slots (a thread_local destructor).
//
// Names are found without a lock: an immutable open-addressing table is
// published through an atomic pointer and replaced (copy on write) when a
// name is added. Old tables are kept until the process exits, which bounds
// their memory at twice the last table.
//
// Thread-safety: all members may be called concurrently.
#ifndef MEMMON_SRC_MONITOR_OBJECT_REGISTRY_H_
#define MEMMON_SRC_MONITOR_OBJECT_REGISTRY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "memmon/object_counter.h"

namespace memmon::internal {

struct CounterTotals {
  uint64_t increments = 0;
  uint64_t decrements = 0;
  uint64_t inc_bytes = 0;
  uint64_t dec_bytes = 0;
  int64_t count() const {
    return static_cast<int64_t>(increments - decrements);
  }
  int64_t bytes() const { return static_cast<int64_t>(inc_bytes - dec_bytes); }
};

// One thread's counts for one counter. Written only by its thread.
struct Slot {
  std::atomic<uint64_t> increments{0};
  std::atomic<uint64_t> decrements{0};
  std::atomic<uint64_t> inc_bytes{0};
  std::atomic<uint64_t> dec_bytes{0};
};

inline constexpr uint32_t kSlotsPerChunk = 64;
inline constexpr uint32_t kMaxChunks = 256;  // 16384 counters on the fast path

struct ThreadBlock {
  std::atomic<Slot*> chunks[kMaxChunks] = {};
  ThreadBlock* next = nullptr;  // registry's list, guarded by its mutex
};

// What an observation found that needs reporting.
struct ObjectEvent {
  enum Kind {
    kThresholdCrossed,
    kRearmed,  // fell below the re-arm level after a crossing
    kNegativeCount,
  } kind;
  const ObjectCounter* counter;
  int64_t count;
  int64_t bytes;
  uint64_t threshold;
  // kRearmed: the re-arm level, and when the crossing was observed.
  double rearm_below = 0;
  std::chrono::system_clock::time_point crossed{};
};

class ObjectRegistry {
 public:
  static ObjectRegistry& Get();  // never destroyed

  ObjectCounter& Track(std::string_view name,
                       std::optional<uint64_t> threshold);
  // Lock-free; nullptr when the name was never tracked.
  ObjectCounter* Find(std::string_view name) const;

  // This thread's slot for counter `id`, creating it; nullptr when the
  // thread is exiting or the id is beyond the fast path (use the atomics).
  Slot* SlotFor(uint32_t id);
  // ObjectCounter's slow path: adds to this thread's slot for `c` (created
  // on first touch) or, when there can be none, to its shared atomics.
  [[gnu::cold, gnu::noinline]] static void AddSlow(const ObjectCounter& c,
                                                   uint64_t inc, uint64_t dec,
                                                   uint64_t inc_bytes,
                                                   uint64_t dec_bytes) noexcept;
  CounterTotals Totals(uint32_t id) const;

  // Updates peaks and last-change times of every counter at `now`; when
  // `events` is given, also runs the threshold and negative-count checks
  // (re-arming a threshold once the count falls below
  // threshold * (1 - rearm_fraction), which is reported too) and appends
  // what happened. Allocates only when an event is appended.
  void Observe(std::chrono::system_clock::time_point now, double rearm_fraction,
               std::vector<ObjectEvent>* events);
  // Snapshots of every counter, by name.
  std::vector<TrackedObject> Snapshot() const;

  void ReleaseThread(ThreadBlock* block);  // thread exit

 private:
  ObjectRegistry() = default;

  struct NameTable {
    uint64_t mask = 0;
    std::unique_ptr<ObjectCounter*[]> entries;  // nullptr = empty
  };
  // What the registry remembers about a counter between observations.
  struct Observed {
    uint64_t increments = 0;
    uint64_t decrements = 0;
    int64_t peak_count = 0;
    int64_t peak_bytes = 0;
    std::optional<std::chrono::system_clock::time_point> last_increment;
    std::optional<std::chrono::system_clock::time_point> last_decrement;
    bool armed = true;
    std::chrono::system_clock::time_point crossed{};  // when armed fell
    bool negative = false;
    bool tracking_error = false;
  };

  CounterTotals TotalsLocked(uint32_t id) const REQUIRES(mu_);
  void ObserveLocked(uint32_t id, std::chrono::system_clock::time_point now,
                     double rearm_fraction, std::vector<ObjectEvent>* events)
      REQUIRES(mu_);
  TrackedObject SnapshotLocked(uint32_t id) const REQUIRES(mu_);
  static uint64_t Hash(std::string_view name);

  // Guards the tables below and every ThreadBlock's `next`; the names are
  // read without it (names_), the slots by their owners without it.
  mutable Mutex mu_;
  std::vector<std::unique_ptr<ObjectCounter>> counters_
      GUARDED_BY(mu_);                              // by id
  std::deque<Slot> overflow_ GUARDED_BY(mu_);       // by id; stable addresses
  std::deque<Slot> retired_ GUARDED_BY(mu_);        // by id
  std::vector<Observed> observed_ GUARDED_BY(mu_);  // by id
  ThreadBlock* blocks_ GUARDED_BY(mu_) = nullptr;
  std::atomic<const NameTable*> names_{nullptr};
  // All ever published.
  std::vector<std::unique_ptr<NameTable>> name_tables_ GUARDED_BY(mu_);
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_MONITOR_OBJECT_REGISTRY_H_
