// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// StackTable interns call stacks and keeps each stack's cumulative
// (un-biased) allocation totals.
//
// Contract: lock-free, allocation-free after Init() (which reserves address
// space with mmap; pages are touched as records are added), safe inside
// malloc. Records are immutable once published, except their atomic
// counters, and are never freed, so a StackRecord* stays valid for the life
// of the process.
//
// Interning: hash the frames, probe an open-addressing index of record
// pointers; a new record is built in the arena and published with a CAS.
// The loser of a race wastes its arena bytes and uses the winner's record.
// When the index or the arena is full, Intern() returns the overflow record
// (depth 0) and counts the drop.
#ifndef MEMMON_SRC_PRELOAD_STACK_TABLE_H_
#define MEMMON_SRC_PRELOAD_STACK_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"

namespace memmon::preload {

inline constexpr int kMaxStackDepth = 64;

struct StackRecord {
  uint64_t hash;
  uint32_t depth;
  uint32_t reserved;
  // Un-biased totals of every sample taken at this stack. Objects are in
  // units of 1/kObjectScale to keep fractional estimates without floats.
  std::atomic<uint64_t> alloc_objects_scaled;
  std::atomic<uint64_t> alloc_bytes;
  uintptr_t frames[];  // return addresses, innermost first
};

inline constexpr uint64_t kObjectScale = 1024;

class StackTable {
 public:
  MEMMON_IN_MALLOC bool Init(std::size_t index_slots, std::size_t arena_bytes);
  bool initialized() const { return index_ != nullptr; }

  // `hint` (may be null): a record of this table that is likely the
  // stack's, such as the thread's last one; tried before the index, whose
  // line is then not read.
  MEMMON_IN_MALLOC StackRecord* Intern(const uintptr_t* frames, int depth,
                                       StackRecord* hint = nullptr) noexcept;
  StackRecord* overflow() { return &overflow_record_; }

  // A 24-bit reference to a record (its arena offset / 16; 0 is the
  // overflow record), for the live table's packed entries.
  MEMMON_IN_MALLOC uint32_t Ref(const StackRecord* r) const {
    if (r == &overflow_record_) return 0;
    return static_cast<uint32_t>((reinterpret_cast<const char*>(r) - arena_) /
                                 kRecordAlign);
  }
  StackRecord* FromRef(uint32_t ref) {
    if (ref == 0 || arena_ == nullptr) return &overflow_record_;
    return reinterpret_cast<StackRecord*>(arena_ +
                                          std::size_t{ref} * kRecordAlign);
  }
  static constexpr std::size_t kRecordAlign = 16;

  template <typename Fn>
  void ForEach(Fn fn) const {
    for (std::size_t i = 0; i < index_slots_; ++i) {
      StackRecord* r = index_[i].load(std::memory_order_acquire);
      if (r != nullptr) fn(r);
    }
    fn(const_cast<StackRecord*>(&overflow_record_));
  }

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  MEMMON_IN_MALLOC static uint64_t HashFrames(const uintptr_t* frames,
                                              int depth);

  std::atomic<StackRecord*>* index_ = nullptr;
  std::size_t index_slots_ = 0;
  char* arena_ = nullptr;
  std::size_t arena_bytes_ = 0;
  std::atomic<std::size_t> arena_used_{0};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> dropped_{0};
  StackRecord overflow_record_{};  // depth 0; last member (flexible array)
};

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_STACK_TABLE_H_
