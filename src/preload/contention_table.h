// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ContentionTable: per-stack totals of the mutex or the block profile (one
// table each): contentions (fixed point, contention_math.h) and delay.
//
// Contract: lock-free and allocation-free after Init() (one mmap of
// `slots` records, pages touched as records are claimed), safe inside
// malloc and inside the lock hooks. Fixed capacity: a stack that finds no
// slot within kMaxProbes of its hash is dropped and counted (dropped()).
//
// A slot is claimed by a CAS of its key from 0 to kClaiming, filled (depth,
// frames), then published by storing the stack's hash (release). A reader
// that meets a slot still being filled moves on: the same stack may then
// take two slots, which the profile sums (pprof adds samples with equal
// stacks), so nothing is lost and nobody waits.
#ifndef MEMMON_SRC_PRELOAD_CONTENTION_TABLE_H_
#define MEMMON_SRC_PRELOAD_CONTENTION_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"
#include "preload/stack_table.h"

namespace memmon::preload {

struct ContentionRecord {
  std::atomic<uint64_t> key;  // 0 free, kClaiming, else the stack's hash
  uint32_t depth;
  uint32_t reserved;
  std::atomic<uint64_t> count_scaled;
  std::atomic<uint64_t> delay_nanos;
  uintptr_t frames[kMaxStackDepth];  // return addresses, innermost first
};

class ContentionTable {
 public:
  static constexpr int kMaxProbes = 64;
  static constexpr uint64_t kClaiming = 1;

  // Reserves room for `slots` stacks (rounded up to a power of two). False
  // when mmap failed: Add() then drops everything.
  MEMMON_IN_MALLOC bool Init(std::size_t slots);
  bool initialized() const {
    return records_.load(std::memory_order_acquire) != nullptr;
  }

  // Adds one sampled event's weight to the stack's totals. False (and
  // counted in dropped()) when the table has no room for the stack.
  MEMMON_IN_MALLOC bool Add(const uintptr_t* frames, int depth,
                            uint64_t count_scaled,
                            uint64_t delay_nanos) noexcept;

  // Calls fn(const ContentionRecord&) for every published record.
  template <typename Fn>
  void ForEach(Fn fn) const {
    ContentionRecord* r = records_.load(std::memory_order_acquire);
    if (r == nullptr) return;
    for (std::size_t i = 0; i < slots_; ++i) {
      if (r[i].key.load(std::memory_order_acquire) > kClaiming) fn(r[i]);
    }
  }

  // Sampled events recorded (Add calls that found a slot), and dropped.
  uint64_t events() const { return events_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t stacks() const { return stacks_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return slots_; }

  MEMMON_IN_MALLOC static uint64_t HashFrames(const uintptr_t* frames,
                                              int depth);

 private:
  std::atomic<ContentionRecord*> records_{nullptr};
  std::size_t slots_ = 0;
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> stacks_{0};
};

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_CONTENTION_TABLE_H_
