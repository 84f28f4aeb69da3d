// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// WriteBuffer: gathers a filesystem's writes per key (an object being
// written) into contiguous buffers and hands each buffer to a flush
// callback -- an upload, usually -- as (key, data, offset).
//
// A key's buffer is flushed when it holds max_buffer_bytes, when it has taken
// max_buffer_writes writes, when its first write is max_age old, when a
// write to the key is not contiguous with it, or on Flush / FlushAll / Sync /
// Close. Flushes run on background flusher threads owned by the buffer; at
// most queue_capacity are handed to them at a time, the rest wait in order.
//
// Nothing is lost. Every byte of every accepted write (Write returned ok) is
// passed to the callback exactly once in a call that returned ok, or is
// reported failed: counted in Stats(), passed to on_failure, and returned as
// an error by the next Flush(key) / FlushAll / Sync / Close that covers it.
// In particular:
//   - a full flush queue delays a flush, never skips it;
//   - bytes written while the key's previous buffer is being flushed go to a
//     new buffer, flushed after it;
//   - a rejected write leaves nothing behind (no empty buffer for Sync to
//     wait on);
//   - a callback error is retried with exponential backoff, up to
//     max_attempts calls, and only then reported failed.
// A key's flushes are made in the order its bytes were written, one at a
// time: a key's buffer is not flushed while an earlier one of the same key
// is in the callback or waiting to be retried.
//
// Memory: the bytes not yet flushed (buffered, queued, in the callback) are
// at most max_pending_bytes; a write that would pass it is rejected with
// kUnavailable, as is every write after Close().
//
// Threads: flush_threads flushers, started by the constructor, stopped and
// joined by Close(); the destructor calls Close(). The callback runs on them
// with no lock held: it may call Write, but not Flush, FlushAll, Sync or
// Close (which would wait for it).
//
// Counters: every buffer (open, queued or being flushed) is one object in
// "write-buffers", with the bytes it has reserved.
//
// Thread-safety: every member function may be called from any thread,
// concurrently.
#ifndef MEMMON_FS_WRITE_BUFFER_H_
#define MEMMON_FS_WRITE_BUFFER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "memmon/fs/common.h"
#include "memmon/status.h"

namespace memmon::fs {

// A flush that failed max_attempts times: these bytes were not delivered.
struct FailedFlush {
  std::string key;
  uint64_t offset = 0;
  uint64_t size = 0;
  int attempts = 0;
  Status error;  // the callback's last error
};

struct WriteBufferOptions {
  // Called with a key's contiguous bytes starting at `offset`; an error
  // means none of them were stored. Required.
  std::function<Status(std::string_view key, std::string_view data,
                       uint64_t offset)>
      flush;
  uint64_t max_buffer_bytes = 8 << 20;  // flush a buffer at this size
  uint32_t max_buffer_writes = 0;       // ... at this many writes; 0: never
  std::chrono::nanoseconds max_age{std::chrono::seconds(5)};  // 0: never
  // How often a flusher looks for buffers past max_age (0: max_age / 4,
  // between 1 ms and 1 s).
  std::chrono::nanoseconds age_check_interval{0};
  uint64_t max_pending_bytes = 256 << 20;  // bytes not yet flushed
  int queue_capacity = 16;                 // flushes handed to flushers
  int flush_threads = 2;
  int max_attempts = 4;  // callback calls for one buffer before it fails
  std::chrono::nanoseconds initial_backoff{std::chrono::milliseconds(10)};
  std::chrono::nanoseconds max_backoff{std::chrono::seconds(1)};
  // Called on a flusher thread for every failed flush (optional).
  std::function<void(const FailedFlush&)> on_failure;
  Clock* clock = nullptr;  // nullptr: SteadyClock(); must outlive the buffer
};

struct WriteBufferStats {
  uint64_t writes = 0;           // accepted
  uint64_t bytes_written = 0;    // accepted
  uint64_t writes_rejected = 0;  // over max_pending_bytes, or closed
  uint64_t flushes = 0;          // callback calls that returned ok
  uint64_t bytes_flushed = 0;
  uint64_t flush_retries = 0;  // callback errors followed by a retry
  uint64_t flushes_failed = 0;
  uint64_t bytes_failed = 0;
  // Why buffers were flushed.
  uint64_t flushed_by_size = 0;
  uint64_t flushed_by_count = 0;
  uint64_t flushed_by_age = 0;
  uint64_t flushed_by_request = 0;  // Flush, FlushAll, Sync, Close
  uint64_t flushed_by_gap = 0;      // a write not contiguous with the buffer
  uint64_t open_buffers = 0;        // taking writes
  uint64_t queued_flushes = 0;      // handed to the flushers
  uint64_t waiting_flushes = 0;     // sealed, waiting for queue room
  uint64_t pending_bytes = 0;       // not yet flushed or failed
};

template <Counting kCounting = Counting::kOn>
class BasicWriteBuffer {
 public:
  explicit BasicWriteBuffer(WriteBufferOptions options);
  ~BasicWriteBuffer();  // Close()
  BasicWriteBuffer(const BasicWriteBuffer&) = delete;
  BasicWriteBuffer& operator=(const BasicWriteBuffer&) = delete;

  // Accepts `data` for `key` at `offset` (appended to the key's buffer when
  // contiguous with it). Errors, after which nothing of the write is kept:
  // Unavailable when over max_pending_bytes; FailedPrecondition after
  // Close(); InvalidArgument without a flush callback. Empty data: ok.
  Status Write(std::string_view key, uint64_t offset, std::string_view data);

  // Flushes what was written to `key` before the call and waits until it is
  // delivered or failed; the error of any failed flush of `key` not yet
  // reported.
  Status Flush(std::string_view key);
  // The same for every key.
  Status FlushAll();
  // FlushAll, waiting until `deadline` at most: Unavailable when it passes
  // (the flushes go on).
  Status Sync(std::chrono::steady_clock::time_point deadline);

  // Flushes buffers whose first write is max_age old by the clock; how
  // many. The flushers call it every age_check_interval.
  int FlushDue();

  // Stops taking writes, flushes everything, waits for the flushes (retries
  // included), stops and joins the flushers. Returns the failures not yet
  // reported. Idempotent (later calls: ok); safe to call concurrently.
  Status Close();

  WriteBufferStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using WriteBuffer = BasicWriteBuffer<Counting::kOn>;

extern template class BasicWriteBuffer<Counting::kOn>;
extern template class BasicWriteBuffer<Counting::kOff>;

}  // namespace memmon::fs

#endif  // MEMMON_FS_WRITE_BUFFER_H_
