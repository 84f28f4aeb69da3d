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
// Why it looks like this: most frees are of unsampled blocks. Under glibc
// the free path tells them by the chunk header (hooks.cc, kBigChunk) and
// comes here only for big and sampled blocks; under allocators that keep no
// header it first reads one byte of a counting filter (64 KiB): zero means
// "certainly not sampled" and costs one load. Only a non-zero
// counter leads to the table, an open-addressing array probed linearly for
// at most kMaxProbe slots. Keys move EMPTY -> BUSY -> address -> BUSY ->
// TOMB -> BUSY -> ...; EMPTY never comes back, so a key always sits before
// the first EMPTY slot of its probe run and a lookup may stop there. When no
// slot is free within kMaxProbe the sample is dropped and counted.
//
// In a long run every slot has been used once, so EMPTY slots are gone and
// a lookup of an absent key (a free whose filter counter another sample
// shares) would scan all kMaxProbe slots, 16 cache lines. Each level
// therefore keeps the largest distance from its home slot at which a key
// was ever placed, and lookups go no further: at the default rate few
// samples are live, keys sit at or next to their home slot, and a lookup
// reads one or two lines.
//
// Readers (snapshots) read a key, then the payload, then the key again and
// keep the entry only if the key did not change.
//
// An entry is 16 bytes (the address, and the size packed with a 24-bit
// stack reference), because its pages are what the table costs in RSS:
// samples land in random slots, so a long-running process touches them all.
// Sizes above 2^40 - 1 bytes are recorded as 2^40 - 1.
//
// Age: each slot also has a 32-bit allocation time (a Tick, in a parallel
// array after the levels, 4 bytes a slot: the entry stays 16 bytes and the
// ticks' pages cost a quarter of the entries' in RSS). It is stored before
// the key is published and read between the reader's two key loads.
//
// Live bytes: with EnableLiveBytes(rate) the table keeps the sampler's
// estimate of the bytes in live sampled blocks (the sum of their sample
// weights), updated on sampled inserts and erases only: the peak heap
// profile (peak_heap.h) watches it. Erasing then reads the entry's size.
#ifndef MEMMON_SRC_PRELOAD_LIVE_TABLE_H_
#define MEMMON_SRC_PRELOAD_LIVE_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"
#include "preload/prefetch.h"

namespace memmon::preload {

// The counting filter, static so that it exists before anything is
// initialised. Counter 0 is saturated from the start: it is the null
// pointer's. MarkForever saturates a counter for good (a block that must
// always take the slow path).
inline constexpr int kFilterBits = 16;
extern MEMMON_HIDDEN std::atomic<uint8_t>
    g_live_filter[std::size_t{1} << kFilterBits];

class alignas(64) LiveTable {
 public:
  static constexpr int kMaxProbe = 64;
  static constexpr int kLevels = 4;

  // Reserves the levels (1/8/64/512 x `first_level_slots` entries) with
  // mmap. False when mmap fails. Without `keep_filter`, inserts and erases
  // leave the filter alone (two atomic updates of a cold line less a
  // sample): for a caller that never asks MaybeContains, as under glibc,
  // where free() tells sampled blocks by their header.
  MEMMON_IN_MALLOC bool Init(std::size_t first_level_slots = 4096,
                             bool keep_filter = true);
  bool initialized() const { return levels_[0].slots != nullptr; }

  // Blocks are 16-byte aligned; the next 16 bits index the filter (a shift
  // and a mask on the free path, no multiply). Live samples are sparse, so
  // aliasing within 1 MiB strides costs little.
  MEMMON_IN_MALLOC static std::size_t FilterIndex(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) >> 4) &
           ((std::size_t{1} << kFilterBits) - 1);
  }
  // Fast test: false means `p` is certainly not in the table.
  MEMMON_IN_MALLOC static bool MaybeContains(const void* p) {
    return g_live_filter[FilterIndex(p)].load(std::memory_order_relaxed) != 0;
  }
  // Saturates p's filter counter for good (bootstrap arena blocks).
  static void MarkForever(const void* p) {
    g_live_filter[FilterIndex(p)].store(255, std::memory_order_relaxed);
  }

  static constexpr uint64_t kMaxSize = (uint64_t{1} << 40) - 1;
  static constexpr uint32_t kMaxStackRef = (1u << 24) - 1;

  // Coarse monotonic time: CLOCK_MONOTONIC_COARSE nanoseconds >> 24 (one
  // tick is 16.8 ms; 32 bits wrap after 2.3 years, so an age, the modular
  // difference of two ticks, is right below that). A vDSO call, a few ns:
  // only sampled allocations take it.
  static constexpr int kTickShift = 24;
  static constexpr double kTickSeconds = 1.6777216e-2;  // 2^24 ns
  MEMMON_IN_MALLOC static uint32_t NowTick() noexcept;
  static double TickAgeSeconds(uint32_t now, uint32_t then) {
    return static_cast<double>(static_cast<uint32_t>(now - then)) *
           kTickSeconds;
  }

  // Keeps the live-bytes estimate from now on, weighting a sample of
  // `size` bytes as SampleWeightBytes(size, rate) (rounded). Call before
  // the first insert (InitSlow does, when the peak profile is on).
  void EnableLiveBytes(uint64_t rate) {
    rate_ = rate;
    track_live_bytes_ = true;
  }
  bool tracks_live_bytes() const { return track_live_bytes_; }
  // The estimate, bytes (0 without EnableLiveBytes).
  int64_t live_bytes() const {
    return live_bytes_.load(std::memory_order_relaxed);
  }
  // What one sample of `size` bytes adds to the estimate.
  MEMMON_IN_MALLOC int64_t WeightOf(std::size_t size) const noexcept;

  // `stack_ref` < 2^24 (StackTable::Ref). Returns the entry's slot
  // reference (non-zero, see EraseSlot), or 0 when every level is full
  // around `p`. `tick` is the allocation's time (NowTick). When the table
  // keeps live bytes, *live_bytes (if given) gets the estimate right after
  // this insert.
  MEMMON_IN_MALLOC std::size_t Insert(const void* p, std::size_t size,
                                      uint32_t stack_ref, uint32_t tick = 0,
                                      int64_t* live_bytes = nullptr) noexcept;
  // Removes `p`; false when it was not there.
  MEMMON_IN_MALLOC bool Erase(const void* p) noexcept;
  // Removes `p`, which Insert put at slot reference `slot`: one store, no
  // lookup (no load of the entry's cold line, no locked instruction). Only
  // the freeing thread may do this, and only once: the caller keeps the
  // reference with the block (hooks.cc keeps it in a sampled block's wrap
  // header). A reference outside the table is ignored (false).
  MEMMON_IN_MALLOC bool EraseSlot(std::size_t slot, const void* p) noexcept;
  // Starts loading the line where Insert(p, ...) will look first, so that
  // the miss overlaps the caller's work in between (the stack walk).
  MEMMON_IN_MALLOC void Prefetch(const void* p) const {
    const Level& level = levels_[0];
    if (level.slots != nullptr) {
      PrefetchLine(&level.slots[Hash(p) & level.mask]);
    }
  }

  // Calls fn(address, size, stack_ref) for every entry seen stably.
  template <typename Fn>
  void ForEach(Fn fn) const {
    Scan<false>([&](uintptr_t k, std::size_t size, uint32_t ref, uint32_t) {
      fn(k, size, ref);
    });
  }

  // Calls fn(address, size, stack_ref, tick) for every entry seen stably.
  template <typename Fn>
  void ForEachTimed(Fn fn) const {
    Scan<true>(fn);
  }

  // Entries, counted by a scan (for tests; the sampler counts its inserts
  // and erases per thread instead of sharing a counter between threads).
  uint64_t CountLive() const {
    uint64_t n = 0;
    ForEach([&](uintptr_t, std::size_t, uint32_t) { ++n; });
    return n;
  }
  // Entries of the levels in use.
  std::size_t capacity() const;
  // Entries of all levels (what capacity() can grow to).
  std::size_t total_slots() const { return total_slots_; }

 private:
  // Every entry seen stably: key, payload (and, when kTimed, its tick),
  // key again; kept only if the key did not change.
  template <bool kTimed, typename Fn>
  void Scan(Fn fn) const {
    for (const Level& level : levels_) {
      if (!level.active.load(std::memory_order_acquire)) break;
      for (std::size_t i = 0; i <= level.mask; ++i) {
        const Entry& e = level.slots[i];
        uintptr_t k = e.key.load(std::memory_order_acquire);
        if (k <= kBusy) continue;
        uint64_t meta = e.meta.load(std::memory_order_relaxed);
        uint32_t tick = 0;
        if constexpr (kTimed) {
          tick = ticks_[&e - levels_[0].slots].load(std::memory_order_relaxed);
        }
        if (e.key.load(std::memory_order_acquire) != k) continue;
        fn(k, static_cast<std::size_t>(meta >> 24),
           static_cast<uint32_t>(meta & kMaxStackRef), tick);
      }
    }
  }

  static constexpr uintptr_t kEmpty = 0, kTomb = 1, kBusy = 2;
  struct Entry {
    std::atomic<uintptr_t> key;
    std::atomic<uint64_t> meta;  // size << 24 | stack_ref
  };
  static_assert(sizeof(Entry) == 16);
  // Levels fill in order: a level is used only once an insert found no room
  // in the ones before it, so the pages touched (the RSS cost) follow the
  // number of live samples instead of the capacity.
  struct Level {
    Entry* slots = nullptr;
    std::size_t mask = 0;
    std::atomic<bool> active{false};
    // Largest probe index a key was ever inserted at; raised before the key
    // is published, and the erase of a key happens after its insertion, so
    // the eraser sees a bound that covers it.
    std::atomic<int> max_probe{0};
  };

  MEMMON_IN_MALLOC static std::size_t Hash(const void* p) {
    uint64_t x = reinterpret_cast<uintptr_t>(p) >> 4;
    return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ull) >> 20);
  }
  MEMMON_IN_MALLOC static void FilterAdd(const void* p, int delta) noexcept;
  // The estimate loses the weight of `meta`'s size (an erased entry).
  MEMMON_IN_MALLOC void SubtractLive(uint64_t meta) noexcept;

  // First, with the first level, in the object's first cache line: all
  // that EraseSlot reads besides the entry.
  std::size_t total_slots_ = 0;  // of all levels (contiguous from levels_[0])
  bool keep_filter_ = true;
  bool track_live_bytes_ = false;  // EnableLiveBytes
  uint64_t rate_ = 0;              // for WeightOf
  Level levels_[kLevels];
  // One per slot, after the levels' entries (see "Age" above).
  std::atomic<uint32_t>* ticks_ = nullptr;
  // Written by every sampled insert and erase of every thread: its own line.
  alignas(64) std::atomic<int64_t> live_bytes_{0};
};

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_LIVE_TABLE_H_
