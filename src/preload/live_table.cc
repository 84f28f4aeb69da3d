// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/live_table.h"

#include <sys/mman.h>
#include <time.h>

#include "preload/sample_math.h"

namespace memmon::preload {

// Counter 0 (the null pointer's) starts saturated; see live_table.h.
constinit std::atomic<uint8_t> g_live_filter[std::size_t{1} << kFilterBits] = {
    255};

bool LiveTable::Init(std::size_t first_level_slots, bool keep_filter) {
  keep_filter_ = keep_filter;
  total_slots_ = 0;
  std::size_t n = 64;
  while (n < first_level_slots) n <<= 1;
  std::size_t bytes = 0;
  std::size_t all_slots = 0;
  for (int l = 0; l < kLevels; ++l) all_slots += n << (3 * l);
  bytes = all_slots * sizeof(Entry);
  const std::size_t tick_bytes = all_slots * sizeof(std::atomic<uint32_t>);
  bytes += tick_bytes;
  // Untouched pages cost nothing: RSS grows with the entries actually used.
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return false;
  char* at = static_cast<char*>(mem);
  for (int l = 0; l < kLevels; ++l) {
    std::size_t slots = n << (3 * l);
    levels_[l].slots = reinterpret_cast<Entry*>(at);
    levels_[l].mask = slots - 1;
    at += slots * sizeof(Entry);
    total_slots_ += slots;
  }
  ticks_ = reinterpret_cast<std::atomic<uint32_t>*>(at);
  return true;
}

std::size_t LiveTable::capacity() const {
  std::size_t total = 0;
  for (const Level& level : levels_) {
    if (!level.active.load(std::memory_order_relaxed)) break;
    total += level.mask + 1;
  }
  return total;
}

void LiveTable::FilterAdd(const void* p, int delta) noexcept {
  std::atomic<uint8_t>& c = g_live_filter[FilterIndex(p)];
  uint8_t v = c.load(std::memory_order_relaxed);
  for (;;) {
    if (v == 255) return;  // saturated: sticky, never decremented
    if (delta < 0 && v == 0) return;
    uint8_t next = static_cast<uint8_t>(v + delta);
    if (c.compare_exchange_weak(v, next, std::memory_order_relaxed)) return;
  }
}

uint32_t LiveTable::NowTick() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  const uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000u +
                      static_cast<uint64_t>(ts.tv_nsec);
  return static_cast<uint32_t>(ns >> kTickShift);
}

int64_t LiveTable::WeightOf(std::size_t size) const noexcept {
  if (rate_ <= 1 || size == 0) return static_cast<int64_t>(size);
  const double s = static_cast<double>(size);
  return static_cast<int64_t>(
      s / OneMinusExpNeg(s / static_cast<double>(rate_)) + 0.5);
}

void LiveTable::SubtractLive(uint64_t meta) noexcept {
  live_bytes_.fetch_sub(WeightOf(static_cast<std::size_t>(meta >> 24)),
                        std::memory_order_relaxed);
}

std::size_t LiveTable::Insert(const void* p, std::size_t size,
                              uint32_t stack_ref, uint32_t tick,
                              int64_t* live_bytes) noexcept {
  if (!initialized()) return 0;
  const uintptr_t key = reinterpret_cast<uintptr_t>(p);
  const uint64_t sz = size < kMaxSize ? size : kMaxSize;
  for (Level& level : levels_) {
    if (!level.active.load(std::memory_order_acquire)) {
      level.active.store(true, std::memory_order_release);
    }
    std::size_t i = Hash(p) & level.mask;
    for (int probe = 0; probe < kMaxProbe; ++probe, i = (i + 1) & level.mask) {
      Entry& e = level.slots[i];
      uintptr_t k = e.key.load(std::memory_order_relaxed);
      if (k != kEmpty && k != kTomb) continue;
      if (!e.key.compare_exchange_strong(k, kBusy, std::memory_order_acquire)) {
        continue;
      }
      int bound = level.max_probe.load(std::memory_order_relaxed);
      while (bound < probe && !level.max_probe.compare_exchange_weak(
                                  bound, probe, std::memory_order_relaxed)) {
      }
      e.meta.store(sz << 24 | (stack_ref & kMaxStackRef),
                   std::memory_order_relaxed);
      ticks_[&e - levels_[0].slots].store(tick, std::memory_order_relaxed);
      e.key.store(key, std::memory_order_release);
      if (keep_filter_) FilterAdd(p, +1);
      if (track_live_bytes_) {
        const int64_t w = WeightOf(static_cast<std::size_t>(sz));
        const int64_t now =
            live_bytes_.fetch_add(w, std::memory_order_relaxed) + w;
        if (live_bytes != nullptr) *live_bytes = now;
      }
      return static_cast<std::size_t>(&e - levels_[0].slots) + 1;
    }
  }
  return 0;
}

bool LiveTable::EraseSlot(std::size_t slot, const void* p) noexcept {
  if (slot == 0 || slot > total_slots_) return false;
  // The key is `p` (only its freeing thread gets here, once), so no insert
  // can claim the slot before this store, and a reader that read the key
  // before it drops the entry when it reads the key again.
  Entry& e = levels_[0].slots[slot - 1];
  if (track_live_bytes_) SubtractLive(e.meta.load(std::memory_order_relaxed));
  e.key.store(kTomb, std::memory_order_release);
  if (keep_filter_) FilterAdd(p, -1);
  return true;
}

bool LiveTable::Erase(const void* p) noexcept {
  if (!initialized()) return false;
  const uintptr_t key = reinterpret_cast<uintptr_t>(p);
  for (Level& level : levels_) {
    if (!level.active.load(std::memory_order_acquire)) return false;
    const int probes = level.max_probe.load(std::memory_order_relaxed) + 1;
    std::size_t i = Hash(p) & level.mask;
    for (int probe = 0; probe < probes; ++probe, i = (i + 1) & level.mask) {
      Entry& e = level.slots[i];
      uintptr_t k = e.key.load(std::memory_order_acquire);
      if (k == kEmpty) break;  // not in this level
      if (k != key) continue;
      if (!e.key.compare_exchange_strong(k, kBusy, std::memory_order_acquire)) {
        return false;
      }
      if (track_live_bytes_) {
        SubtractLive(e.meta.load(std::memory_order_relaxed));
      }
      e.key.store(kTomb, std::memory_order_release);
      if (keep_filter_) FilterAdd(p, -1);
      return true;
    }
  }
  return false;
}

}  // namespace memmon::preload
