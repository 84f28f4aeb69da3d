// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/mmap_table.h"

namespace memmon::preload {

bool MmapTable::Insert(uintptr_t start, uintptr_t length, uint32_t stack_ref,
                       int64_t time_nanos) {
  for (std::size_t i = 0; i < kCapacity; ++i) {
    MmapEntry& e = entries_[i];
    uintptr_t expected = 0;
    if (e.start.load(std::memory_order_relaxed) != 0 ||
        !e.start.compare_exchange_strong(expected, kBusy,
                                         std::memory_order_acquire)) {
      continue;
    }
    e.stack_ref.store(stack_ref, std::memory_order_relaxed);
    e.time_nanos.store(time_nanos, std::memory_order_relaxed);
    std::size_t hw = high_water_.load(std::memory_order_relaxed);
    while (hw < i + 1 && !high_water_.compare_exchange_weak(
                             hw, i + 1, std::memory_order_release)) {
    }
    live_.fetch_add(1, std::memory_order_relaxed);
    recorded_.fetch_add(1, std::memory_order_relaxed);
    Publish(e, start, length);
    return true;
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void MmapTable::Publish(MmapEntry& e, uintptr_t start, uintptr_t length) {
  e.length.store(length, std::memory_order_relaxed);
  e.start.store(start, std::memory_order_release);
}

void MmapTable::Free(MmapEntry& e) {
  live_.fetch_sub(1, std::memory_order_relaxed);
  e.start.store(0, std::memory_order_release);
}

void MmapTable::Unmap(uintptr_t start, uintptr_t length) {
  if (live() == 0 || length == 0) return;
  const uintptr_t end = start + length;
  const std::size_t hw = high_water_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < hw && i < kCapacity; ++i) {
    MmapEntry& e = entries_[i];
    uintptr_t s = e.start.load(std::memory_order_acquire);
    if (s <= kBusy) continue;
    uintptr_t len = e.length.load(std::memory_order_relaxed);
    const uintptr_t e_end = s + len;
    if (e_end <= start || s >= end) continue;  // no overlap
    if (!e.start.compare_exchange_strong(s, kBusy, std::memory_order_acquire)) {
      continue;  // another thread is changing it
    }
    len = e.length.load(std::memory_order_relaxed);
    if (start <= s && end >= s + len) {
      Free(e);  // all of it
    } else if (start <= s) {
      Publish(e, end, s + len - end);  // the head cut
    } else if (end >= s + len) {
      Publish(e, s, start - s);  // the tail cut
    } else {
      // A hole in the middle: the larger side stays.
      approximations_.fetch_add(1, std::memory_order_relaxed);
      const uintptr_t head = start - s, tail = s + len - end;
      if (head >= tail) {
        Publish(e, s, head);
      } else {
        Publish(e, end, tail);
      }
    }
  }
}

int MmapTable::Claim(uintptr_t old_start, uintptr_t* length) {
  if (live() == 0) return -1;
  const std::size_t hw = high_water_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < hw && i < kCapacity; ++i) {
    MmapEntry& e = entries_[i];
    uintptr_t s = old_start;
    if (e.start.load(std::memory_order_relaxed) != old_start ||
        !e.start.compare_exchange_strong(s, kBusy, std::memory_order_acquire)) {
      continue;
    }
    *length = e.length.load(std::memory_order_relaxed);
    return static_cast<int>(i);
  }
  return -1;
}

void MmapTable::Restore(int slot, uintptr_t start) {
  entries_[slot].start.store(start, std::memory_order_release);
}

void MmapTable::Moved(int slot, uintptr_t old_start, uintptr_t length,
                      uintptr_t old_size, uintptr_t new_start,
                      uintptr_t new_size) {
  MmapEntry& e = entries_[slot];
  if (new_size == 0) {
    Free(e);
  } else if (old_size >= length) {
    Publish(e, new_start, new_size);  // the whole mapping moved or resized
  } else if (new_start == old_start) {
    // Its head resized in place: only a shrink is possible there, which
    // leaves a hole; the entry keeps its extent (an approximation).
    approximations_.fetch_add(1, std::memory_order_relaxed);
    Publish(e, old_start, length);
  } else {
    // Its head moved away: the entry follows the head, the tail left
    // behind is no longer recorded (an approximation).
    approximations_.fetch_add(1, std::memory_order_relaxed);
    Publish(e, new_start, new_size);
  }
}

}  // namespace memmon::preload
