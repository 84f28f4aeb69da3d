// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A free list per size class, each under its own lock; the figures Stats()
// reports are relaxed atomics, exact once the threads using the pool are
// done. Fresh buffers come from calloc (zero pages for large classes cost
// nothing until touched); returned ones are zeroed with memset over their
// whole capacity, outside any lock. The "pool-buffers" counter follows those
// figures in batches (Impl::Publish).

#include "memmon/fs/byte_pool.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "base/mutex.h"
#include "memmon/object_counter.h"

namespace memmon::fs {
namespace {

using ::memmon::internal::Mutex;
using ::memmon::internal::MutexLock;

char* AllocateZeroed(std::size_t bytes) {
  void* p = std::calloc(1, bytes);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<char*>(p);
}

}  // namespace

template <Counting kCounting>
struct BasicBytePool<kCounting>::Impl final : internal::BufferHome {
  struct alignas(64) SizeClass {
    mutable Mutex mu;
    std::vector<char*> idle GUARDED_BY(mu);
  };

  explicit Impl(const BytePoolOptions& o)
      : min_shift(std::countr_zero(
            std::bit_ceil(std::max<std::size_t>(o.min_class_bytes, 1)))),
        max_shift(std::max(min_shift,
                           static_cast<int>(std::countr_zero(std::bit_ceil(
                               std::max<std::size_t>(o.max_class_bytes, 1)))))),
        max_held_bytes(o.max_held_bytes),
        classes(static_cast<std::size_t>(max_shift - min_shift + 1)),
        counter(kCounting == Counting::kOn ? &GetObjectCounter("pool-buffers")
                                           : nullptr) {}

  ~Impl() {
    for (SizeClass& c : classes) {
      MutexLock l(&c.mu);
      for (char* p : c.idle) {
        held_bytes.fetch_sub(ClassBytes(&c), std::memory_order_relaxed);
        Free(p, ClassBytes(&c));
      }
      c.idle.clear();
    }
    Publish();
  }

  std::size_t ClassBytes(const SizeClass* c) const {
    return std::size_t{1} << (min_shift + (c - classes.data()));
  }
  // The class serving `size` bytes, or nullptr when oversize.
  SizeClass* ClassFor(std::size_t size) {
    if (size > (std::size_t{1} << max_shift)) return nullptr;
    int shift = std::max(
        min_shift, static_cast<int>(std::countr_zero(std::bit_ceil(size))));
    return &classes[static_cast<std::size_t>(shift - min_shift)];
  }

  // Returns the allocation's number; the caller publishes (MaybePublish)
  // once bytes_out holds the buffer.
  char* Allocate(std::size_t bytes, uint64_t* number) {
    char* p = AllocateZeroed(bytes);
    *number = allocations.fetch_add(1, std::memory_order_relaxed) + 1;
    return p;
  }
  void Free(char* p, std::size_t bytes) {
    std::free(p);
    uint64_t n = frees.fetch_add(1, std::memory_order_relaxed) + 1;
    if constexpr (kCounting == Counting::kOn) MaybePublish(n, bytes);
  }

  // The counter follows the pool's own figures -- allocations - frees
  // buffers, bytes_out + held_bytes bytes -- published at each of the first
  // kPublishEvery allocations and frees (a small pool is counted exactly),
  // then at every kPublishEvery-th, at every one of a buffer of
  // kPublishBytes or more, and at Stats() and destruction. Between those it
  // is off by the allocations and frees since the last publish, fewer than
  // kPublishEvery of each, all of buffers under kPublishBytes: under 32
  // buffers and 1 MiB either way. Each publish exchanges the published figures,
  // so publishers racing each other add exactly the net change between them; a
  // publish that reads the figures mid-update is corrected by the next.
  static constexpr uint64_t kPublishEvery = 32;
  static constexpr std::size_t kPublishBytes = 32 << 10;
  void MaybePublish(uint64_t n, std::size_t bytes) {
    if (n % kPublishEvery == 0 || n < kPublishEvery || bytes >= kPublishBytes)
      Publish();
  }
  void Publish() const {
    if constexpr (kCounting == Counting::kOn) {
      auto get = [](const std::atomic<uint64_t>& a) {
        return static_cast<int64_t>(a.load(std::memory_order_relaxed));
      };
      int64_t objects = get(allocations) - get(frees);
      int64_t bytes = get(bytes_out) + get(held_bytes);
      int64_t had_objects = published_objects.exchange(objects);
      int64_t had_bytes = published_bytes.exchange(bytes);
      if (objects != had_objects || bytes != had_bytes)
        counter->Add(objects - had_objects, bytes - had_bytes);
    }
  }

  void Return(char* data, std::size_t capacity) noexcept override {
    buffers_out.fetch_sub(1, std::memory_order_relaxed);
    bytes_out.fetch_sub(capacity, std::memory_order_relaxed);
    SizeClass* c =
        capacity > (std::size_t{1} << max_shift) ? nullptr : ClassFor(capacity);
    if (c == nullptr ||
        held_bytes.fetch_add(capacity, std::memory_order_relaxed) + capacity >
            max_held_bytes) {
      if (c != nullptr)
        held_bytes.fetch_sub(capacity, std::memory_order_relaxed);
      Free(data, capacity);
      return;
    }
    std::memset(data, 0, capacity);
    MutexLock l(&c->mu);
    c->idle.push_back(data);
  }

  const int min_shift;
  const int max_shift;
  const uint64_t max_held_bytes;
  std::vector<SizeClass> classes;
  ObjectCounter* const counter;
  std::atomic<uint64_t> gets{0}, hits{0}, misses{0}, oversize{0},
      allocations{0}, frees{0}, buffers_out{0}, bytes_out{0}, held_bytes{0};
  mutable std::atomic<int64_t> published_objects{0}, published_bytes{0};
};

template <Counting kCounting>
BasicBytePool<kCounting>::BasicBytePool(BytePoolOptions options)
    : impl_(std::make_unique<Impl>(options)) {}

template <Counting kCounting>
BasicBytePool<kCounting>::~BasicBytePool() = default;

template <Counting kCounting>
PooledBuffer BasicBytePool<kCounting>::Get(std::size_t size) {
  Impl& d = *impl_;
  d.gets.fetch_add(1, std::memory_order_relaxed);
  if (size == 0) return PooledBuffer();
  auto* c = d.ClassFor(size);
  std::size_t capacity = c == nullptr ? size : d.ClassBytes(c);
  char* p = nullptr;
  if (c == nullptr) {
    d.oversize.fetch_add(1, std::memory_order_relaxed);
  } else {
    MutexLock l(&c->mu);
    if (!c->idle.empty()) {
      p = c->idle.back();
      c->idle.pop_back();
    }
  }
  uint64_t allocation = 0;
  if (p != nullptr) {
    d.hits.fetch_add(1, std::memory_order_relaxed);
    d.held_bytes.fetch_sub(capacity, std::memory_order_relaxed);
  } else {
    if (c != nullptr) d.misses.fetch_add(1, std::memory_order_relaxed);
    p = d.Allocate(capacity, &allocation);
  }
  d.buffers_out.fetch_add(1, std::memory_order_relaxed);
  d.bytes_out.fetch_add(capacity, std::memory_order_relaxed);
  if constexpr (kCounting == Counting::kOn) {
    if (allocation != 0) d.MaybePublish(allocation, capacity);
  }
  return PooledBuffer(&d, p, size, capacity);
}

template <Counting kCounting>
std::size_t BasicBytePool<kCounting>::ClassSize(std::size_t size) const {
  if (size == 0) return 0;
  auto* c = impl_->ClassFor(size);
  return c == nullptr ? 0 : impl_->ClassBytes(c);
}

template <Counting kCounting>
BytePoolStats BasicBytePool<kCounting>::Stats() const {
  const Impl& d = *impl_;
  d.Publish();
  auto get = [](const std::atomic<uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
  };
  BytePoolStats st;
  st.gets = get(d.gets);
  st.hits = get(d.hits);
  st.misses = get(d.misses);
  st.oversize = get(d.oversize);
  st.allocations = get(d.allocations);
  st.frees = get(d.frees);
  st.buffers_out = get(d.buffers_out);
  st.bytes_out = get(d.bytes_out);
  st.bytes_held = get(d.held_bytes);
  for (auto& c : d.classes) {
    MutexLock l(&c.mu);
    st.buffers_held += c.idle.size();
  }
  return st;
}

template class BasicBytePool<Counting::kOn>;
template class BasicBytePool<Counting::kOff>;

}  // namespace memmon::fs
