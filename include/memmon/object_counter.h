// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Object counters: how many objects of a kind are alive and how many bytes
// they hold, cheap enough for every constructor of a hot type.
//
//   memmon::ObjectCounter& entries = monitor.TrackObject("cache-entries",
//   10000); entries.Increment(size_bytes);     // ~1 ns: a per-thread slot, no
//   lock, no atomic RMW entries.Decrement(size_bytes);
//   monitor.IncrementObject("cache-entries", size_bytes);   // by name: a
//   lock-free lookup first
//
// Counters are process-wide and live until the process exits: tracking a
// name twice (from any monitor, or through Tracked<T>) returns the same
// counter, and a handle never dangles.
//
// How it is fast and exact: each thread owns a slot per counter and is the
// only writer of it (a relaxed load and store, no lock prefix); readers sum
// the slots of all live threads plus what exited threads left behind. After
// any interleaving of increments and decrements, once the threads are done
// (joined, or synchronised with the reader), the totals are exact.
//
// What is observed rather than exact: peaks and the times of the last
// increment and decrement are taken when the monitor samples (and when
// GetTrackedObjects() reads), so they are accurate to one sample interval;
// a count below zero is detected there too and reported as a tracking error.
//
// Thread-safety: every function may be called from any thread.
// Allocation: Increment/Decrement allocate only the first time a thread
// touches a block of 64 counters (one small block per thread and block).
#ifndef MEMMON_OBJECT_COUNTER_H_
#define MEMMON_OBJECT_COUNTER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

namespace memmon {

// A snapshot of one counter.
struct TrackedObject {
  std::string name;
  int64_t count = 0;       // increments - decrements; < 0 is a tracking error
  int64_t bytes = 0;       // bytes incremented - bytes decremented
  int64_t peak_count = 0;  // highest count observed (at samples and reads)
  int64_t peak_bytes = 0;
  uint64_t alert_threshold =
      0;  // object_threshold fires at count >= this; 0 = never
  uint64_t increments = 0;  // cumulative calls
  uint64_t decrements = 0;
  // When an increment / decrement was first observed after the previous
  // observation (accurate to one sample interval); empty if never.
  std::optional<std::chrono::system_clock::time_point> last_increment;
  std::optional<std::chrono::system_clock::time_point> last_decrement;
  // The count has been observed below zero: more decrements than
  // increments, a bug in the instrumentation being counted.
  bool tracking_error = false;
};

namespace internal {
class ObjectRegistry;
struct Slot;
}  // namespace internal

class ObjectCounter {
 public:
  ObjectCounter(const ObjectCounter&) = delete;
  ObjectCounter& operator=(const ObjectCounter&) = delete;

  void Increment(uint64_t bytes = 0) noexcept;
  void Decrement(uint64_t bytes = 0) noexcept;
  // Several objects and bytes at once, either sign: for code that gathers
  // its changes and publishes them in batches (memmon::fs::LruCache does,
  // under a lock it holds anyway). Counts as `objects` increments (or
  // -objects decrements) of `bytes` in total.
  void Add(int64_t objects, int64_t bytes) noexcept;

  const std::string& name() const { return name_; }
  uint64_t alert_threshold() const {
    return threshold_.load(std::memory_order_relaxed);
  }
  // Current totals (sums every thread's slot; takes the registry lock).
  int64_t count() const;
  int64_t bytes() const;

 private:
  friend class internal::ObjectRegistry;
  friend struct std::default_delete<ObjectCounter>;
  ObjectCounter(std::string name, uint32_t id, internal::Slot* overflow);
  ~ObjectCounter() = default;

  const std::string name_;
  const uint32_t id_;
  // Shared atomics for updates that cannot use a per-thread slot (a thread
  // that is exiting, an id beyond the fast path, no memory for a slot).
  internal::Slot* const overflow_;
  std::atomic<uint64_t> threshold_{0};
};

// The process-wide counter for `name`, created on first use. A second call
// with the same name returns the same counter and sets its threshold (0:
// no object_threshold alert).
ObjectCounter& TrackObject(std::string_view name, uint64_t alert_threshold = 0);

// The process-wide counter for `name`, created (with no threshold) on first
// use; an existing counter's threshold is left as it is.
ObjectCounter& GetObjectCounter(std::string_view name);

// Counts `n` objects of `counter` for the guard's lifetime: a member guard
// for types that cannot derive from Tracked<T>.
class ObjectGuard {
 public:
  explicit ObjectGuard(ObjectCounter& counter, uint64_t bytes = 0) noexcept
      : counter_(&counter), bytes_(bytes) {
    counter_->Increment(bytes_);
  }
  ObjectGuard(const ObjectGuard& other) noexcept
      : ObjectGuard(*other.counter_, other.bytes_) {}
  ObjectGuard(ObjectGuard&& other) noexcept
      : counter_(other.counter_), bytes_(other.bytes_) {
    other.counter_ = nullptr;
  }
  ObjectGuard& operator=(const ObjectGuard&) = delete;
  ObjectGuard& operator=(ObjectGuard&&) = delete;
  ~ObjectGuard() {
    if (counter_ != nullptr) counter_->Decrement(bytes_);
  }
  // Moves the guard's bytes to `bytes` (for objects whose size changes);
  // the count is unchanged.
  void Resize(uint64_t bytes) noexcept {
    if (counter_ == nullptr) return;
    counter_->Decrement(bytes_);
    counter_->Increment(bytes);
    bytes_ = bytes;
  }

 private:
  ObjectCounter* counter_;
  uint64_t bytes_;
};

namespace internal {
std::string DemangledTypeName(const std::type_info& type);

template <typename T>
concept HasTrackedName = requires {
  { T::kTrackedName } -> std::convertible_to<std::string_view>;
};
}  // namespace internal

// The name Tracked<T> counts under: T::kTrackedName if T declares one
// (`static constexpr std::string_view kTrackedName = "cache-entries";`),
// else T's demangled type name.
template <typename T>
std::string TrackedName() {
  if constexpr (internal::HasTrackedName<T>) {
    return std::string(std::string_view(T::kTrackedName));
  } else {
    return internal::DemangledTypeName(typeid(T));
  }
}

// A base that makes a type count itself: every live T is one object of
// sizeof(T) bytes in the counter named TrackedName<T>().
//
//   class CacheEntry : memmon::Tracked<CacheEntry> { ... };
//   memmon::Tracked<CacheEntry>::Counter().count();
template <typename T>
class Tracked {
 public:
  static ObjectCounter& Counter() {
    static ObjectCounter& counter = GetObjectCounter(TrackedName<T>());
    return counter;
  }

 protected:
  Tracked() noexcept { Counter().Increment(sizeof(T)); }
  Tracked(const Tracked&) noexcept : Tracked() {}
  Tracked(Tracked&&) noexcept : Tracked() {}
  Tracked& operator=(const Tracked&) noexcept { return *this; }
  Tracked& operator=(Tracked&&) noexcept { return *this; }
  ~Tracked() { Counter().Decrement(sizeof(T)); }
};

// An allocator adaptor that counts a container's live allocations (count)
// and bytes into a counter:
//
//   memmon::ObjectCounter& c = memmon::TrackObject("index-nodes");
//   std::vector<int, memmon::CountingAllocator<int>>
//   v{memmon::CountingAllocator<int>(c)};
template <typename T, typename Base = std::allocator<T>>
class CountingAllocator {
 public:
  using value_type = T;
  template <typename U>
  struct rebind {
    using other = CountingAllocator<
        U, typename std::allocator_traits<Base>::template rebind_alloc<U>>;
  };

  explicit CountingAllocator(ObjectCounter& counter,
                             Base base = Base()) noexcept
      : counter_(&counter), base_(std::move(base)) {}
  template <typename U, typename B>
  CountingAllocator(const CountingAllocator<U, B>& other) noexcept
      : counter_(other.counter()), base_(other.base()) {}

  T* allocate(std::size_t n) {
    T* p = std::allocator_traits<Base>::allocate(base_, n);
    counter_->Increment(n * sizeof(T));
    return p;
  }
  void deallocate(T* p, std::size_t n) noexcept {
    counter_->Decrement(n * sizeof(T));
    std::allocator_traits<Base>::deallocate(base_, p, n);
  }

  ObjectCounter* counter() const { return counter_; }
  const Base& base() const { return base_; }

  template <typename U, typename B>
  friend bool operator==(const CountingAllocator& a,
                         const CountingAllocator<U, B>& b) {
    return a.counter() == b.counter();
  }

 private:
  ObjectCounter* counter_;
  Base base_;
};

}  // namespace memmon

#endif  // MEMMON_OBJECT_COUNTER_H_
