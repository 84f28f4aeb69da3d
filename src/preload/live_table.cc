// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "live_table.h"

#include <sys/mman.h>

namespace memmon::preload {

bool LiveTable::Init(std::size_t slots) {
  std::size_t n = 1;
  while (n < slots) n <<= 1;
  std::size_t filter_bytes = std::size_t{1} << kFilterBits;
  std::size_t bytes = n * sizeof(Entry) + filter_bytes;
  // Untouched pages cost nothing: RSS grows with the entries actually used.
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return false;
  filter_ = static_cast<std::atomic<uint8_t>*>(mem);
  slots_count_ = n;
  mask_ = n - 1;
  slots_ = reinterpret_cast<Entry*>(static_cast<char*>(mem) + filter_bytes);
  return true;
}

void LiveTable::FilterAdd(const void* p, int delta) {
  std::atomic<uint8_t>& c = filter_[FilterIndex(p)];
  uint8_t v = c.load(std::memory_order_relaxed);
  for (;;) {
    if (v == 255) return;  // saturated: sticky, never decremented
    uint8_t next = static_cast<uint8_t>(v + delta);
    if (delta < 0 && v == 0) return;
    if (c.compare_exchange_weak(v, next, std::memory_order_relaxed)) return;
  }
}

bool LiveTable::Insert(const void* p, std::size_t size, StackRecord* stack) {
  if (slots_ == nullptr) return false;
  const uintptr_t key = reinterpret_cast<uintptr_t>(p);
  std::size_t i = Hash(p) & mask_;
  for (int probe = 0; probe < kMaxProbe; ++probe, i = (i + 1) & mask_) {
    Entry& e = slots_[i];
    uintptr_t k = e.key.load(std::memory_order_relaxed);
    if (k != kEmpty && k != kTomb) continue;
    if (!e.key.compare_exchange_strong(k, kBusy, std::memory_order_acquire)) {
      continue;
    }
    e.size.store(size, std::memory_order_relaxed);
    e.stack.store(stack, std::memory_order_relaxed);
    e.key.store(key, std::memory_order_release);
    FilterAdd(p, +1);
    live_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

bool LiveTable::Erase(const void* p) {
  if (slots_ == nullptr) return false;
  const uintptr_t key = reinterpret_cast<uintptr_t>(p);
  std::size_t i = Hash(p) & mask_;
  for (int probe = 0; probe < kMaxProbe; ++probe, i = (i + 1) & mask_) {
    Entry& e = slots_[i];
    uintptr_t k = e.key.load(std::memory_order_acquire);
    if (k == kEmpty) return false;
    if (k != key) continue;
    if (!e.key.compare_exchange_strong(k, kBusy, std::memory_order_acquire)) {
      return false;
    }
    e.key.store(kTomb, std::memory_order_release);
    FilterAdd(p, -1);
    live_.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

}  // namespace memmon::preload
