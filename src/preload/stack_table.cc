// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/stack_table.h"

#include <sys/mman.h>

#include <cstring>

namespace memmon::preload {

bool StackTable::Init(std::size_t index_slots, std::size_t arena_bytes) {
  std::size_t n = 1;
  while (n < index_slots) n <<= 1;
  std::size_t index_bytes = n * sizeof(std::atomic<StackRecord*>);
  void* mem = mmap(nullptr, index_bytes + arena_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return false;
  index_ = static_cast<std::atomic<StackRecord*>*>(mem);
  index_slots_ = n;
  arena_ = static_cast<char*>(mem) + index_bytes;
  // References are 24-bit multiples of 16 bytes; offset 0 means "overflow".
  if (arena_bytes > (std::size_t{1} << 24) * kRecordAlign) {
    arena_bytes = (std::size_t{1} << 24) * kRecordAlign;
  }
  arena_bytes_ = arena_bytes;
  arena_used_.store(kRecordAlign, std::memory_order_relaxed);
  return true;
}

uint64_t StackTable::HashFrames(const uintptr_t* frames, int depth) {
  uint64_t h = 0xCBF29CE484222325ull ^ static_cast<uint64_t>(depth);
  for (int i = 0; i < depth; ++i) {
    h ^= frames[i];
    h *= 0x100000001B3ull;
    h ^= h >> 29;
  }
  return h | 1;  // never 0
}

StackRecord* StackTable::Intern(const uintptr_t* frames, int depth,
                                StackRecord* hint) noexcept {
  if (index_ == nullptr || depth <= 0) return overflow();
  if (depth > kMaxStackDepth) depth = kMaxStackDepth;
  const uint64_t h = HashFrames(frames, depth);
  const std::size_t frame_bytes =
      sizeof(uintptr_t) * static_cast<std::size_t>(depth);
  // Whether record `r` is this stack (the hash first: it rules out most).
  auto is_this_stack = [&](const StackRecord* r) {
    return r->hash == h && r->depth == static_cast<uint32_t>(depth) &&
           std::memcmp(r->frames, frames, frame_bytes) == 0;
  };
  if (hint != nullptr && is_this_stack(hint)) return hint;
  const std::size_t mask = index_slots_ - 1;
  StackRecord* fresh = nullptr;
  // Keep the index at most 3/4 full so probe runs stay short.
  const uint64_t limit = index_slots_ / 4 * 3;
  std::size_t i = static_cast<std::size_t>(h) & mask;
  for (std::size_t probe = 0; probe < index_slots_;
       ++probe, i = (i + 1) & mask) {
    StackRecord* r = index_[i].load(std::memory_order_acquire);
    if (r != nullptr) {
      if (is_this_stack(r)) return r;
      continue;
    }
    if (fresh == nullptr) {
      if (count_.load(std::memory_order_relaxed) >= limit) break;
      std::size_t need =
          (sizeof(StackRecord) + frame_bytes + 15) & ~std::size_t{15};
      std::size_t at = arena_used_.fetch_add(need, std::memory_order_relaxed);
      if (at + need > arena_bytes_) break;
      fresh = reinterpret_cast<StackRecord*>(arena_ + at);
      fresh->hash = h;
      fresh->depth = static_cast<uint32_t>(depth);
      std::memcpy(fresh->frames, frames, frame_bytes);
    }
    StackRecord* expected = nullptr;
    if (index_[i].compare_exchange_strong(expected, fresh,
                                          std::memory_order_acq_rel)) {
      count_.fetch_add(1, std::memory_order_relaxed);
      return fresh;
    }
    // Someone published here first: it may be our stack.
    if (is_this_stack(expected)) return expected;
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return overflow();
}

}  // namespace memmon::preload
