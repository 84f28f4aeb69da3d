// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A free list per size class, each under its own lock; the figures Stats()
// reports are relaxed atomics, exact once the threads using the pool are
// done. Fresh buffers come from calloc (zero pages for large classes cost
// nothing until touched); returned ones are zeroed with memset over their
// whole capacity, outside any lock.

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
      for (char* p : c.idle) Free(p, ClassBytes(&c));
      c.idle.clear();
    }
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

  char* Allocate(std::size_t bytes) {
    char* p = AllocateZeroed(bytes);
    allocations.fetch_add(1, std::memory_order_relaxed);
    if constexpr (kCounting == Counting::kOn) counter->Increment(bytes);
    return p;
  }
  void Free(char* p, std::size_t bytes) {
    std::free(p);
    frees.fetch_add(1, std::memory_order_relaxed);
    if constexpr (kCounting == Counting::kOn) counter->Decrement(bytes);
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
  if (p != nullptr) {
    d.hits.fetch_add(1, std::memory_order_relaxed);
    d.held_bytes.fetch_sub(capacity, std::memory_order_relaxed);
  } else {
    if (c != nullptr) d.misses.fetch_add(1, std::memory_order_relaxed);
    p = d.Allocate(capacity);
  }
  d.buffers_out.fetch_add(1, std::memory_order_relaxed);
  d.bytes_out.fetch_add(capacity, std::memory_order_relaxed);
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
