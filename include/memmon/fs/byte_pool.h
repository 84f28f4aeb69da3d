// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// BytePool: reusable byte buffers for a filesystem's reads and uploads, in
// power-of-two size classes from min_class_bytes to max_class_bytes.
//
// Get(n) returns a buffer of n bytes (capacity: n's class), all zero: a
// returned buffer is zeroed over its whole capacity before it is reused, so
// no bytes of one file reach a reader of another. Get(0) returns an empty
// buffer without touching the pool; a request above max_class_bytes is
// allocated exactly and freed on return (counted as oversize). The pool
// keeps at most max_held_bytes of idle buffers; a buffer returned beyond
// that is freed.
//
// A PooledBuffer returns itself to its pool when destroyed (or Release()d);
// the pool must outlive its buffers. Stats() says how many are out.
//
// Counters: every buffer the pool allocated and has not freed (out or idle)
// is one object in "pool-buffers", with its capacity. The counter follows
// the pool's own figures in batches: exact after Stats() and destruction,
// over the pool's first 32 allocations and frees, and at once for buffers
// of 32 KiB or more; otherwise off by fewer than 32 buffers (under 1 MiB)
// -- the price of counting at no measurable cost.
//
// Thread-safety: Get, Stats and returning buffers may be called from any
// thread, concurrently (a lock per size class). A PooledBuffer is a value:
// one thread at a time. Threads: none.
#ifndef MEMMON_FS_BYTE_POOL_H_
#define MEMMON_FS_BYTE_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "memmon/fs/common.h"

namespace memmon::fs {

struct BytePoolOptions {
  std::size_t min_class_bytes = 4096;     // rounded up to a power of two
  std::size_t max_class_bytes = 4 << 20;  // rounded up; larger: oversize
  uint64_t max_held_bytes = 64 << 20;     // idle bytes kept, all classes
};

struct BytePoolStats {
  uint64_t gets = 0;          // Get calls, Get(0) included
  uint64_t hits = 0;          // served from an idle buffer
  uint64_t misses = 0;        // a class was empty: allocated
  uint64_t oversize = 0;      // above max_class_bytes: allocated, not pooled
  uint64_t allocations = 0;   // misses + oversize
  uint64_t frees = 0;         // buffers freed (oversize, beyond max_held_bytes)
  uint64_t buffers_out = 0;   // handed out, not yet returned
  uint64_t bytes_out = 0;     // their capacity
  uint64_t buffers_held = 0;  // idle in the pool
  uint64_t bytes_held = 0;
};

namespace internal {
// What a PooledBuffer returns itself to.
class BufferHome {
 public:
  virtual void Return(char* data, std::size_t capacity) noexcept = 0;

 protected:
  ~BufferHome() = default;
};
}  // namespace internal

// A buffer from a BytePool; move-only, returned to the pool on destruction.
class PooledBuffer {
 public:
  PooledBuffer() = default;
  PooledBuffer(PooledBuffer&& o) noexcept
      : home_(std::exchange(o.home_, nullptr)),
        data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  PooledBuffer& operator=(PooledBuffer&& o) noexcept {
    if (this != &o) {
      Release();
      home_ = std::exchange(o.home_, nullptr);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~PooledBuffer() { Release(); }

  char* data() const { return data_; }
  std::size_t size() const { return size_; }          // as requested
  std::size_t capacity() const { return capacity_; }  // the size class
  bool empty() const { return size_ == 0; }
  std::span<char> span() const { return {data_, size_}; }

  // Returns the buffer to its pool now; the object becomes empty.
  void Release() noexcept {
    if (home_ != nullptr) home_->Return(data_, capacity_);
    home_ = nullptr;
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

 private:
  template <Counting>
  friend class BasicBytePool;
  PooledBuffer(internal::BufferHome* home, char* data, std::size_t size,
               std::size_t capacity)
      : home_(home), data_(data), size_(size), capacity_(capacity) {}

  internal::BufferHome* home_ = nullptr;
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

template <Counting kCounting = Counting::kOn>
class BasicBytePool {
 public:
  explicit BasicBytePool(BytePoolOptions options = {});
  ~BasicBytePool();  // frees the idle buffers
  BasicBytePool(const BasicBytePool&) = delete;
  BasicBytePool& operator=(const BasicBytePool&) = delete;

  // A zeroed buffer of `size` bytes (see the file comment for 0 and
  // oversize). Throws std::bad_alloc when memory runs out.
  PooledBuffer Get(std::size_t size);

  // The size class a request of `size` bytes is served from; 0 for 0 and
  // for oversize requests.
  std::size_t ClassSize(std::size_t size) const;

  BytePoolStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using BytePool = BasicBytePool<Counting::kOn>;

extern template class BasicBytePool<Counting::kOn>;
extern template class BasicBytePool<Counting::kOff>;

}  // namespace memmon::fs

#endif  // MEMMON_FS_BYTE_POOL_H_
