// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/contention_table.h"

#include <sys/mman.h>

#include <cstring>

namespace memmon::preload {

bool ContentionTable::Init(std::size_t slots) {
  std::size_t n = 1;
  while (n < slots) n <<= 1;
  void* mem =
      mmap(nullptr, n * sizeof(ContentionRecord), PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return false;
  slots_ = n;
  records_.store(static_cast<ContentionRecord*>(mem),
                 std::memory_order_release);
  return true;
}

uint64_t ContentionTable::HashFrames(const uintptr_t* frames, int depth) {
  uint64_t h = 0xCBF29CE484222325ull ^ static_cast<uint64_t>(depth);
  for (int i = 0; i < depth; ++i) {
    h ^= frames[i];
    h *= 0x100000001B3ull;
    h ^= h >> 29;
  }
  return h < 2 ? h + 2 : h;  // never 0 (free) nor kClaiming
}

bool ContentionTable::Add(const uintptr_t* frames, int depth,
                          uint64_t count_scaled,
                          uint64_t delay_nanos) noexcept {
  ContentionRecord* records = records_.load(std::memory_order_acquire);
  if (records == nullptr) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (depth < 0) depth = 0;
  if (depth > kMaxStackDepth) depth = kMaxStackDepth;
  const uint64_t h = HashFrames(frames, depth);
  const std::size_t bytes = sizeof(uintptr_t) * static_cast<std::size_t>(depth);
  const std::size_t mask = slots_ - 1;
  std::size_t i = static_cast<std::size_t>(h) & mask;
  for (int probe = 0; probe < kMaxProbes && probe < static_cast<int>(slots_);
       ++probe, i = (i + 1) & mask) {
    ContentionRecord& r = records[i];
    uint64_t key = r.key.load(std::memory_order_acquire);
    if (key == 0) {
      if (!r.key.compare_exchange_strong(key, kClaiming,
                                         std::memory_order_acquire)) {
        if (key != h) continue;  // another stack took it, or is filling it
      } else {
        r.depth = static_cast<uint32_t>(depth);
        if (bytes != 0) std::memcpy(r.frames, frames, bytes);
        r.count_scaled.store(0, std::memory_order_relaxed);
        r.delay_nanos.store(0, std::memory_order_relaxed);
        r.key.store(h, std::memory_order_release);
        stacks_.fetch_add(1, std::memory_order_relaxed);
        key = h;
      }
    }
    if (key != h || r.depth != static_cast<uint32_t>(depth) ||
        (bytes != 0 && std::memcmp(r.frames, frames, bytes) != 0)) {
      continue;
    }
    r.count_scaled.fetch_add(count_scaled, std::memory_order_relaxed);
    r.delay_nanos.fetch_add(delay_nanos, std::memory_order_relaxed);
    events_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace memmon::preload
