// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// LiveTable: the set of sampled blocks not yet freed, keyed by address.
//
// Contract: lock-free, allocation-free after Init() (which mmaps), safe to
// call from inside malloc and free on any thread. An address is inserted by
// the thread that got it from malloc before the program sees it, and erased
// before it goes back to the allocator, so one address is never inserted
// twice at once.
//
// Why it looks like this: most frees are of unsampled blocks, so the free
// path first reads one byte of a counting filter (64 KiB, cache resident):
// zero means "certainly not sampled" and costs one load. Only a non-zero
// counter leads to the table, an open-addressing array probed linearly for
// at most kMaxProbe slots. Keys move EMPTY -> BUSY -> address -> BUSY ->
// TOMB -> BUSY -> ...; EMPTY never comes back, so a key always sits before
// the first EMPTY slot of its probe run and a lookup may stop there. When no
// slot is free within kMaxProbe the sample is dropped and counted.
//
// Readers (snapshots) read a key, then the payload, then the key again and
// keep the entry only if the key did not change.
#ifndef MEMMON_SRC_PRELOAD_LIVE_TABLE_H_
#define MEMMON_SRC_PRELOAD_LIVE_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace memmon::preload {

struct StackRecord;

class LiveTable {
 public:
  static constexpr int kMaxProbe = 64;
  static constexpr int kFilterBits = 16;

  // Maps `slots` (a power of two) entries. False when mmap fails.
  bool Init(std::size_t slots);
  bool initialized() const { return slots_ != nullptr; }

  // Fast test: false means `p` is certainly not in the table.
  bool MaybeContains(const void* p) const {
    return filter_[FilterIndex(p)].load(std::memory_order_relaxed) != 0;
  }

  bool Insert(const void* p, std::size_t size, StackRecord* stack);
  // Removes `p`; false when it was not there.
  bool Erase(const void* p);

  // Calls fn(address, size, stack) for every entry seen stably.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (std::size_t i = 0; i < slots_count_; ++i) {
      const Entry& e = slots_[i];
      uintptr_t k = e.key.load(std::memory_order_acquire);
      if (k <= kBusy) continue;
      std::size_t size = e.size.load(std::memory_order_relaxed);
      StackRecord* s = e.stack.load(std::memory_order_relaxed);
      if (e.key.load(std::memory_order_acquire) != k) continue;
      fn(k, size, s);
    }
  }

  uint64_t live() const { return live_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return slots_count_; }

 private:
  static constexpr uintptr_t kEmpty = 0, kTomb = 1, kBusy = 2;
  struct Entry {
    std::atomic<uintptr_t> key;
    std::atomic<std::size_t> size;
    std::atomic<StackRecord*> stack;
  };

  static std::size_t Hash(const void* p) {
    uint64_t x = reinterpret_cast<uintptr_t>(p) >> 4;
    return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ull) >> 20);
  }
  static std::size_t FilterIndex(const void* p) {
    uint64_t x = reinterpret_cast<uintptr_t>(p) >> 4;
    return static_cast<std::size_t>((x * 0xD6E8FEB86659FD93ull) >>
                                    (64 - kFilterBits));
  }
  void FilterAdd(const void* p, int delta);

  Entry* slots_ = nullptr;
  std::size_t slots_count_ = 0;
  std::size_t mask_ = 0;
  std::atomic<uint8_t>* filter_ = nullptr;
  std::atomic<uint64_t> live_{0};
};

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_LIVE_TABLE_H_
