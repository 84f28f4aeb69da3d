// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// One mutex guards three collections a byte moves through:
//   open     key -> the buffer taking the key's writes;
//   waiting  sealed buffers, in sealing order, waiting for queue room;
//   queue    at most queue_capacity sealed buffers handed to the flushers,
//            each idle, in the callback, or waiting for a retry.
// A buffer leaves `open` when sealed (which is what makes bytes written
// during its flush go to a new buffer), and leaves `queue` only when its
// callback returned ok or it has failed for good: there is no path on which
// accepted bytes are dropped. Sealing numbers buffers (seq); a flusher takes
// the first task of the queue with no earlier task of the same key, so a
// key's bytes are flushed in order, and a waiter (Flush, Sync, ...) waits
// until no task numbered at or below the last one sealed for it remains.
//
// The callback runs with the mutex released; its task stays in the queue,
// marked in flight, and only its own flusher erases it (list iterators stay
// valid across the unlock).

#include "memmon/fs/write_buffer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "memmon/object_counter.h"

namespace memmon::fs {
namespace {

using ::memmon::internal::Mutex;
using ::memmon::internal::MutexLock;
using Steady = std::chrono::steady_clock;

enum class Reason { kSize, kCount, kAge, kRequest, kGap };

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const {
    return std::hash<std::string_view>{}(s);
  }
};

constexpr std::size_t kMaxUnreported = 1024;

}  // namespace

template <Counting kCounting>
struct BasicWriteBuffer<kCounting>::Impl {
  struct Buffer {
    std::string data;
    uint64_t offset = 0;
    uint32_t writes = 0;
    Clock::time_point first_write;
    uint64_t counted = 0;  // bytes counted in "write-buffers"
  };
  struct Task {
    uint64_t seq = 0;
    std::string key;
    Buffer buf;
    int attempts = 0;
    Steady::time_point not_before;  // retries wait for this
    bool in_flight = false;
  };
  using Queue = std::list<Task>;

  explicit Impl(WriteBufferOptions o)
      : options(std::move(o)),
        clock(options.clock != nullptr ? options.clock : &SteadyClock()),
        queue_capacity(
            static_cast<std::size_t>(std::max(1, options.queue_capacity))),
        max_attempts(std::max(1, options.max_attempts)),
        counter(kCounting == Counting::kOn ? &GetObjectCounter("write-buffers")
                                           : nullptr) {
    if (options.max_age.count() > 0) {
      age_interval =
          options.age_check_interval.count() > 0
              ? options.age_check_interval
              : std::clamp<std::chrono::nanoseconds>(
                    options.max_age / 4, std::chrono::milliseconds(1),
                    std::chrono::seconds(1));
    }
    {
      MutexLock l(&mu);
      next_age_check = Steady::now() + age_interval;
    }
    int n = std::max(1, options.flush_threads);
    for (int i = 0; i < n; ++i) threads.emplace_back([this] { FlusherLoop(); });
  }

  void CountBytes(Buffer& b) {
    uint64_t cap = b.data.capacity();
    if (cap == b.counted) return;
    if constexpr (kCounting == Counting::kOn) {
      counter->Decrement(b.counted);
      counter->Increment(cap);
    }
    b.counted = cap;
  }

  // Moves the open buffer `it` to the waiting list (then the queue).
  template <typename It>
  void Seal(It it, Reason why) REQUIRES(mu) {
    switch (why) {
      case Reason::kSize:
        ++stats.flushed_by_size;
        break;
      case Reason::kCount:
        ++stats.flushed_by_count;
        break;
      case Reason::kAge:
        ++stats.flushed_by_age;
        break;
      case Reason::kRequest:
        ++stats.flushed_by_request;
        break;
      case Reason::kGap:
        ++stats.flushed_by_gap;
        break;
    }
    Task& t = waiting.emplace_back();
    t.seq = ++last_seq;
    t.key = it->first;
    t.buf = std::move(it->second);
    open.erase(it);
    Promote();
  }

  void SealAll(Reason why) REQUIRES(mu) {
    while (!open.empty()) Seal(open.begin(), why);
  }

  int SealDue() REQUIRES(mu) {
    if (options.max_age.count() <= 0) return 0;
    Clock::time_point now = clock->Now();
    int sealed = 0;
    for (auto it = open.begin(); it != open.end();) {
      auto next = std::next(it);
      if (now - it->second.first_write >= options.max_age) {
        Seal(it, Reason::kAge);
        ++sealed;
      }
      it = next;
    }
    return sealed;
  }

  // Waiting buffers into the queue while it has room.
  void Promote() REQUIRES(mu) {
    bool moved = false;
    while (queue.size() < queue_capacity && !waiting.empty()) {
      queue.push_back(std::move(waiting.front()));
      waiting.pop_front();
      moved = true;
    }
    if (moved) work_cv.notify_all();
  }

  // The first task a flusher may take now, or queue.end(); *wake is lowered
  // to the time a retry becomes due.
  typename Queue::iterator Pick(Steady::time_point now,
                                Steady::time_point* wake) REQUIRES(mu) {
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if (it->in_flight) continue;
      bool blocked = false;  // an earlier task of the same key
      for (auto jt = queue.begin(); jt != it; ++jt) {
        if (jt->key == it->key) {
          blocked = true;
          break;
        }
      }
      if (blocked) continue;
      if (it->not_before <= now) return it;
      *wake = std::min(*wake, it->not_before);
    }
    return queue.end();
  }

  // A task leaves the queue: delivered or failed for good.
  void Release(typename Queue::iterator it) REQUIRES(mu) {
    pending_bytes -= it->buf.data.size();
    if constexpr (kCounting == Counting::kOn)
      counter->Decrement(it->buf.counted);
    queue.erase(it);
    Promote();
    work_cv.notify_all();  // a task of the same key may be free now
    done_cv.notify_all();
  }

  std::chrono::nanoseconds Backoff(int attempts) const {
    auto d = std::max(options.initial_backoff, std::chrono::nanoseconds(0));
    for (int i = 1; i < attempts && d < options.max_backoff; ++i) d *= 2;
    return std::min(d, options.max_backoff);
  }

  void FlusherLoop() {
    MutexLock l(&mu);
    for (;;) {
      Steady::time_point now = Steady::now();
      if (age_interval.count() > 0 && now >= next_age_check) {
        next_age_check = now + age_interval;
        SealDue();
      }
      Steady::time_point wake = Steady::time_point::max();
      auto it = Pick(now, &wake);
      if (it != queue.end()) {
        it->in_flight = true;
        ++it->attempts;
        mu.unlock();
        Status s = options.flush(it->key, it->buf.data, it->buf.offset);
        mu.lock();
        Finish(it, std::move(s));
        continue;
      }
      if (stopping && queue.empty() && waiting.empty()) return;
      if (age_interval.count() > 0) wake = std::min(wake, next_age_check);
      if (wake == Steady::time_point::max()) {
        work_cv.wait(mu);
      } else {
        work_cv.wait_until(mu, wake);
      }
    }
  }

  void Finish(typename Queue::iterator it, Status s) REQUIRES(mu) {
    uint64_t size = it->buf.data.size();
    if (s.ok()) {
      ++stats.flushes;
      stats.bytes_flushed += size;
      Release(it);
      return;
    }
    if (it->attempts < max_attempts) {
      ++stats.flush_retries;
      it->in_flight = false;
      it->not_before = Steady::now() + Backoff(it->attempts);
      work_cv.notify_all();
      return;
    }
    ++stats.flushes_failed;
    stats.bytes_failed += size;
    FailedFlush f{it->key, it->buf.offset, size, it->attempts, std::move(s)};
    if (unreported.size() == kMaxUnreported) unreported.pop_front();
    unreported.push_back(f);
    Release(it);
    if (options.on_failure) {
      mu.unlock();
      options.on_failure(f);
      mu.lock();
    }
  }

  // Whether a task numbered at or below `seq` (of `key`, if given) remains.
  bool Outstanding(uint64_t seq, const std::string_view* key) REQUIRES(mu) {
    auto covers = [&](const Task& t) {
      return t.seq <= seq && (key == nullptr || t.key == *key);
    };
    return std::any_of(waiting.begin(), waiting.end(), covers) ||
           std::any_of(queue.begin(), queue.end(), covers);
  }

  // The failures (of `key`, if given) not yet returned, as one status.
  Status TakeUnreported(const std::string_view* key) REQUIRES(mu) {
    std::size_t n = 0;
    Status first;
    for (auto it = unreported.begin(); it != unreported.end();) {
      if (key != nullptr && it->key != *key) {
        ++it;
        continue;
      }
      if (n++ == 0) {
        first =
            Status(it->error.code(),
                   "flush of " + it->key + " at " + std::to_string(it->offset) +
                       " (" + std::to_string(it->size) +
                       " bytes) failed after " + std::to_string(it->attempts) +
                       " attempts: " + it->error.message());
      }
      it = unreported.erase(it);
    }
    if (n <= 1) return first;
    return Status(first.code(), std::to_string(n) + " flushes failed; first: " +
                                    first.message());
  }

  // Waits until nothing numbered at or below `seq` remains, or `deadline`.
  bool WaitDone(uint64_t seq, const std::string_view* key,
                Steady::time_point deadline) REQUIRES(mu) {
    while (Outstanding(seq, key)) {
      if (deadline == Steady::time_point::max()) {
        done_cv.wait(mu);
      } else if (done_cv.wait_until(mu, deadline) == std::cv_status::timeout &&
                 Outstanding(seq, key)) {
        return false;
      }
    }
    return true;
  }

  Status SyncUntil(Steady::time_point deadline) {
    MutexLock l(&mu);
    SealAll(Reason::kRequest);
    if (!WaitDone(last_seq, nullptr, deadline)) {
      return Status::Unavailable("write buffer sync: deadline passed with " +
                                 std::to_string(waiting.size() + queue.size()) +
                                 " flushes outstanding");
    }
    return TakeUnreported(nullptr);
  }

  const WriteBufferOptions options;
  Clock* const clock;
  const std::size_t queue_capacity;
  const int max_attempts;
  ObjectCounter* const counter;
  std::chrono::nanoseconds age_interval{0};

  mutable Mutex mu;
  std::condition_variable_any work_cv;  // flushers: work or a retry is due
  std::condition_variable_any done_cv;  // waiters: a task left the queue
  std::unordered_map<std::string, Buffer, StringHash, std::equal_to<>> open
      GUARDED_BY(mu);
  std::deque<Task> waiting GUARDED_BY(mu);
  Queue queue GUARDED_BY(mu);
  std::deque<FailedFlush> unreported GUARDED_BY(mu);
  uint64_t last_seq GUARDED_BY(mu) = 0;
  uint64_t pending_bytes GUARDED_BY(mu) = 0;
  WriteBufferStats stats GUARDED_BY(mu);
  Steady::time_point next_age_check GUARDED_BY(mu);
  bool closed GUARDED_BY(mu) = false;
  bool stopping GUARDED_BY(mu) = false;

  Mutex close_mu;  // serialises Close()
  bool joined GUARDED_BY(close_mu) = false;
  // Started by the constructor; joined by the first Close().
  std::vector<std::thread> threads GUARDED_BY(close_mu);
};

template <Counting kCounting>
BasicWriteBuffer<kCounting>::BasicWriteBuffer(WriteBufferOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

template <Counting kCounting>
BasicWriteBuffer<kCounting>::~BasicWriteBuffer() {
  Close().IgnoreError();
}

template <Counting kCounting>
Status BasicWriteBuffer<kCounting>::Write(std::string_view key, uint64_t offset,
                                          std::string_view data) {
  Impl& d = *impl_;
  if (!d.options.flush) {
    return Status::InvalidArgument("write buffer has no flush callback");
  }
  if (data.empty()) return Status::Ok();
  MutexLock l(&d.mu);
  if (d.closed) {
    ++d.stats.writes_rejected;
    return Status::FailedPrecondition("write buffer is closed");
  }
  if (d.pending_bytes + data.size() > d.options.max_pending_bytes) {
    ++d.stats.writes_rejected;
    return Status::Unavailable(
        "write buffer full: " + std::to_string(d.pending_bytes) +
        " bytes pending, limit " + std::to_string(d.options.max_pending_bytes));
  }
  auto it = d.open.find(key);
  if (it != d.open.end() &&
      it->second.offset + it->second.data.size() != offset) {
    d.Seal(it, Reason::kGap);
    it = d.open.end();
  }
  if (it == d.open.end()) {
    it = d.open.emplace(std::string(key), typename Impl::Buffer{}).first;
    it->second.offset = offset;
    it->second.first_write = d.clock->Now();
    if constexpr (kCounting == Counting::kOn) d.counter->Increment(0);
  }
  typename Impl::Buffer& b = it->second;
  b.data.append(data);
  ++b.writes;
  d.CountBytes(b);
  d.pending_bytes += data.size();
  ++d.stats.writes;
  d.stats.bytes_written += data.size();
  if (b.data.size() >= d.options.max_buffer_bytes) {
    d.Seal(it, Reason::kSize);
  } else if (d.options.max_buffer_writes != 0 &&
             b.writes >= d.options.max_buffer_writes) {
    d.Seal(it, Reason::kCount);
  }
  return Status::Ok();
}

template <Counting kCounting>
Status BasicWriteBuffer<kCounting>::Flush(std::string_view key) {
  Impl& d = *impl_;
  MutexLock l(&d.mu);
  if (auto it = d.open.find(key); it != d.open.end()) {
    d.Seal(it, Reason::kRequest);
  }
  d.WaitDone(d.last_seq, &key, Steady::time_point::max());
  return d.TakeUnreported(&key);
}

template <Counting kCounting>
Status BasicWriteBuffer<kCounting>::FlushAll() {
  return impl_->SyncUntil(Steady::time_point::max());
}

template <Counting kCounting>
Status BasicWriteBuffer<kCounting>::Sync(Steady::time_point deadline) {
  return impl_->SyncUntil(deadline);
}

template <Counting kCounting>
int BasicWriteBuffer<kCounting>::FlushDue() {
  MutexLock l(&impl_->mu);
  return impl_->SealDue();
}

template <Counting kCounting>
Status BasicWriteBuffer<kCounting>::Close() {
  Impl& d = *impl_;
  MutexLock close(&d.close_mu);
  if (d.joined) return Status::Ok();
  {
    MutexLock l(&d.mu);
    d.closed = true;
    d.SealAll(Reason::kRequest);
    d.stopping = true;
    d.work_cv.notify_all();
  }
  for (std::thread& t : d.threads) t.join();
  d.joined = true;
  MutexLock l(&d.mu);
  return d.TakeUnreported(nullptr);
}

template <Counting kCounting>
WriteBufferStats BasicWriteBuffer<kCounting>::Stats() const {
  const Impl& d = *impl_;
  MutexLock l(&d.mu);
  WriteBufferStats st = d.stats;
  st.open_buffers = d.open.size();
  st.queued_flushes = d.queue.size();
  st.waiting_flushes = d.waiting.size();
  st.pending_bytes = d.pending_bytes;
  return st;
}

template class BasicWriteBuffer<Counting::kOn>;
template class BasicWriteBuffer<Counting::kOff>;

}  // namespace memmon::fs
