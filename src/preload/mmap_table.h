// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The program's large anonymous mappings (mmap_hooks.cc): each private
// anonymous mmap of at least MEMMON_MMAP_MIN bytes the program (or one of
// its libraries) made through the PLT, with the stack that made it and
// when, kept while it is mapped. Every such mapping is recorded, none
// sampled: they are few and large.
//
// A fixed array of entries (no allocation; the array is static), lock-free:
// a slot is claimed by moving its `start` from 0 (free) to kBusy with a
// compare-and-swap, filled, then published by storing the address; it is
// changed (a partial munmap, an mremap) the same way, from the address to
// kBusy and back. Readers skip free and busy slots. No thread ever waits
// for another, so the hooks stay async-signal-tolerant: a signal handler
// that unmaps a range whose entry its own thread holds busy leaves that
// entry stale (it is then dropped at the next munmap of it, or shows in the
// profile until then).
//
// munmap and mremap change the table before the kernel frees the range, so
// the range cannot be handed to another thread's mmap while its old entry
// is still in the table. A failed munmap (EINVAL: an unaligned address) has
// then dropped the entry all the same.
//
// Partial unmaps trim an entry: a head or a tail cut moves its start or
// shortens it; a hole in the middle keeps the larger side and counts an
// approximation (the profile's comment reports them).
//
// Contract: MEMMON_IN_MALLOC (jemalloc and tcmalloc call mmap inside
// malloc); every member may run on any thread, in a signal handler too.
#ifndef MEMMON_SRC_PRELOAD_MMAP_TABLE_H_
#define MEMMON_SRC_PRELOAD_MMAP_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"

namespace memmon::preload {

inline constexpr std::size_t kDefaultMmapMin = std::size_t{1} << 20;

struct MmapEntry {
  std::atomic<uintptr_t> start;  // 0: free; kBusy: being written
  std::atomic<uintptr_t> length;
  std::atomic<uint32_t> stack_ref;  // StackTable::Ref
  std::atomic<int64_t> time_nanos;  // CLOCK_MONOTONIC when mapped
};

class MEMMON_IN_MALLOC MmapTable {
 public:
  static constexpr std::size_t kCapacity = 4096;
  static constexpr uintptr_t kBusy = 1;

  // Records [start, start+length). False when the table is full (counted).
  bool Insert(uintptr_t start, uintptr_t length, uint32_t stack_ref,
              int64_t time_nanos);

  // The range [start, start+length) is being unmapped: entries inside it
  // leave, entries it overlaps are trimmed.
  void Unmap(uintptr_t start, uintptr_t length);

  // mremap of `old_start`: the entry starting there (its slot, or -1) is
  // taken out of readers' sight until Moved or Restore.
  int Claim(uintptr_t old_start, uintptr_t* length);
  void Restore(int slot, uintptr_t start);
  // The remap succeeded: the claimed entry of `length` bytes, of which
  // [old_start, old_start+old_size) was remapped, now starts at new_start.
  void Moved(int slot, uintptr_t old_start, uintptr_t length,
             uintptr_t old_size, uintptr_t new_start, uintptr_t new_size);

  // fn(start, length, stack_ref, time_nanos) for each entry published now.
  template <typename Fn>
  void ForEach(Fn fn) const {
    const std::size_t end = high_water_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < end && i < kCapacity; ++i) {
      const MmapEntry& e = entries_[i];
      uintptr_t s = e.start.load(std::memory_order_acquire);
      if (s <= kBusy) continue;
      uintptr_t len = e.length.load(std::memory_order_relaxed);
      uint32_t ref = e.stack_ref.load(std::memory_order_relaxed);
      int64_t t = e.time_nanos.load(std::memory_order_relaxed);
      if (e.start.load(std::memory_order_acquire) != s) continue;  // changed
      fn(s, len, ref, t);
    }
  }

  // Entries in the table (munmap skips the scan while it is 0).
  uint64_t live() const { return live_.load(std::memory_order_relaxed); }
  uint64_t recorded() const {
    return recorded_.load(std::memory_order_relaxed);
  }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t approximations() const {
    return approximations_.load(std::memory_order_relaxed);
  }
  void CountApproximation() {
    approximations_.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  void Publish(MmapEntry& e, uintptr_t start, uintptr_t length);
  void Free(MmapEntry& e);

  MmapEntry entries_[kCapacity] = {};
  std::atomic<std::size_t> high_water_{0};  // slots ever used
  std::atomic<uint64_t> live_{0};
  std::atomic<uint64_t> recorded_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> approximations_{0};
};

// The process's table and MEMMON_MMAP_MIN (0: nothing is recorded).
MmapTable& Mmaps();
std::size_t MmapMinBytes();

// Reads MEMMON_MMAP_MIN and finds the next mmap, munmap and mremap
// (mmap_hooks.cc). From the library constructor, before sampling starts.
void PrepareMmapHooks();

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_MMAP_TABLE_H_
