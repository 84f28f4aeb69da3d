// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// "Nothing is lost" is checked byte by byte: a Ledger records every accepted
// write and every delivered or failed flush, and Verify() requires each
// accepted byte to be delivered (with its value) or reported failed exactly
// once, nothing else delivered, and each key's flushes in offset order.

#include "memmon/fs/write_buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fs/fs_test_util.h"

namespace memmon::fs {
namespace {

using namespace std::chrono_literals;
using testing::CounterDelta;
using testing::ThreadCount;
using testing::ThreadsBackTo;
using testing::WaitFor;

class Ledger {
 public:
  // Records an accepted write.
  void Accepted(std::string_view key, uint64_t offset, std::string_view data) {
    std::lock_guard l(mu_);
    auto& bytes = accepted_[std::string(key)];
    for (std::size_t i = 0; i < data.size(); ++i) {
      bool fresh = bytes.emplace(offset + i, data[i]).second;
      EXPECT_TRUE(fresh) << "test writes a byte twice";
    }
  }
  // The flush callback's body: records the delivery (ok) unless `fail`.
  Status Deliver(std::string_view key, std::string_view data, uint64_t offset,
                 Status result = Status::Ok()) {
    std::lock_guard l(mu_);
    ++calls_;
    if (!result.ok()) return result;
    deliveries_.push_back({std::string(key), offset, std::string(data)});
    return result;
  }
  void Failed(const FailedFlush& f) {
    std::lock_guard l(mu_);
    failed_.push_back(f);
  }

  // Every accepted byte delivered or failed exactly once, in order per key.
  void Verify() const {
    std::lock_guard l(mu_);
    std::map<std::string, std::map<uint64_t, char>> seen;
    std::map<std::string, uint64_t> next_offset;
    auto mark = [&](const std::string& key, uint64_t offset, uint64_t size,
                    const std::string* data) {
      auto& acc =
          accepted_.find(key) == accepted_.end() ? empty_ : accepted_.at(key);
      for (uint64_t i = 0; i < size; ++i) {
        auto it = acc.find(offset + i);
        ASSERT_NE(it, acc.end())
            << key << "@" << offset + i << " never written";
        char c = data != nullptr ? (*data)[i] : it->second;
        EXPECT_EQ(c, it->second) << key << "@" << offset + i;
        bool fresh = seen[key].emplace(offset + i, c).second;
        ASSERT_TRUE(fresh) << key << "@" << offset + i << " delivered twice";
      }
    };
    for (const Delivery& d : deliveries_) {
      EXPECT_GE(d.offset, next_offset[d.key]) << d.key << " out of order";
      next_offset[d.key] = d.offset + d.data.size();
      mark(d.key, d.offset, d.data.size(), &d.data);
    }
    for (const FailedFlush& f : failed_) mark(f.key, f.offset, f.size, nullptr);
    for (const auto& [key, bytes] : accepted_) {
      EXPECT_EQ(seen[key].size(), bytes.size()) << key << ": bytes lost";
    }
  }

  std::size_t deliveries() const {
    std::lock_guard l(mu_);
    return deliveries_.size();
  }
  int calls() const {
    std::lock_guard l(mu_);
    return calls_;
  }
  std::vector<std::string> keys_delivered() const {
    std::lock_guard l(mu_);
    std::vector<std::string> keys;
    for (const auto& d : deliveries_) keys.push_back(d.key);
    return keys;
  }
  std::size_t failed() const {
    std::lock_guard l(mu_);
    return failed_.size();
  }

 private:
  struct Delivery {
    std::string key;
    uint64_t offset;
    std::string data;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::map<uint64_t, char>> accepted_;
  const std::map<uint64_t, char> empty_;
  std::vector<Delivery> deliveries_;
  std::vector<FailedFlush> failed_;
  int calls_ = 0;
};

// Options whose flushes go to `ledger`; failures recorded there too.
WriteBufferOptions To(Ledger& ledger) {
  WriteBufferOptions o;
  o.flush = [&ledger](std::string_view k, std::string_view d, uint64_t off) {
    return ledger.Deliver(k, d, off);
  };
  o.on_failure = [&ledger](const FailedFlush& f) { ledger.Failed(f); };
  o.max_age = 0s;
  o.initial_backoff = 1ms;
  o.max_backoff = 4ms;
  return o;
}

// Writes `data` and records it when accepted.
Status Put(WriteBuffer& wb, Ledger& ledger, std::string_view key,
           uint64_t offset, std::string_view data) {
  Status s = wb.Write(key, offset, data);
  if (s.ok()) ledger.Accepted(key, offset, data);
  return s;
}

TEST(WriteBuffer, FlushesBySizeAndByCount) {
  Ledger ledger;
  WriteBufferOptions o = To(ledger);
  o.max_buffer_bytes = 8;
  o.max_buffer_writes = 3;
  WriteBuffer wb(o);
  // "a": 4-byte writes, sealed at 8 bytes. "b": 1-byte writes, at 3 writes.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(Put(wb, ledger, "a", 4 * i, "aaaa").ok());
  }
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Put(wb, ledger, "b", i, std::string(1, 'b' + i)).ok());
  }
  ASSERT_TRUE(Put(wb, ledger, "c", 0, "c").ok());
  ASSERT_TRUE(wb.FlushAll().ok());
  WriteBufferStats st = wb.Stats();
  EXPECT_EQ(st.flushed_by_size, 2u);
  EXPECT_EQ(st.flushed_by_count, 2u);
  EXPECT_EQ(st.flushed_by_request, 1u);  // "c"
  EXPECT_EQ(st.flushes, 5u);
  EXPECT_EQ(st.bytes_flushed, 16u + 6u + 1u);
  EXPECT_EQ(st.pending_bytes, 0u);
  EXPECT_EQ(st.open_buffers, 0u);
  ledger.Verify();
}

TEST(WriteBuffer, AGapStartsANewBufferAfterFlushingTheOld) {
  Ledger ledger;
  WriteBuffer wb(To(ledger));
  ASSERT_TRUE(Put(wb, ledger, "a", 0, "0123").ok());
  ASSERT_TRUE(Put(wb, ledger, "a", 100, "xyz").ok());  // not contiguous
  ASSERT_TRUE(wb.FlushAll().ok());
  EXPECT_EQ(wb.Stats().flushed_by_gap, 1u);
  EXPECT_EQ(ledger.deliveries(), 2u);
  ledger.Verify();
}

TEST(WriteBuffer, FlushesByAgeOnTheInjectedClock) {
  ManualClock clock;
  Ledger ledger;
  WriteBufferOptions o = To(ledger);
  o.max_age = 10s;
  o.age_check_interval = 1h;  // only the explicit FlushDue() below
  o.clock = &clock;
  WriteBuffer wb(o);
  ASSERT_TRUE(Put(wb, ledger, "old", 0, "x").ok());
  clock.Advance(6s);
  ASSERT_TRUE(Put(wb, ledger, "new", 0, "y").ok());
  EXPECT_EQ(wb.FlushDue(), 0);
  clock.Advance(4s);
  EXPECT_EQ(wb.FlushDue(), 1);  // "old" is 10 s old, "new" 4 s
  EXPECT_TRUE(WaitFor([&] { return ledger.deliveries() == 1; }));
  EXPECT_EQ(ledger.keys_delivered(), std::vector<std::string>{"old"});
  EXPECT_EQ(wb.Stats().open_buffers, 1u);
  EXPECT_EQ(wb.Stats().flushed_by_age, 1u);
  ASSERT_TRUE(wb.Close().ok());
  ledger.Verify();
}

TEST(WriteBuffer, TheFlusherFlushesByAgeUnasked) {
  Ledger ledger;
  WriteBufferOptions o = To(ledger);
  o.max_age = 2ms;
  WriteBuffer wb(o);
  ASSERT_TRUE(Put(wb, ledger, "a", 0, "x").ok());
  EXPECT_TRUE(WaitFor([&] { return ledger.deliveries() == 1; }));
  EXPECT_EQ(wb.Stats().flushed_by_age, 1u);
  ledger.Verify();
}

// The Go version skipped a flush when its queue was full. Here the queue
// holds one flush, whose callback is stuck: every other sealed buffer waits,
// and all are delivered once the callback returns.
TEST(WriteBuffer, AFullQueueDelaysFlushesAndLosesNothing) {
  Ledger ledger;
  std::latch entered(1), release(1);
  std::atomic<bool> first{true};
  WriteBufferOptions o = To(ledger);
  o.flush = [&](std::string_view k, std::string_view d, uint64_t off) {
    if (first.exchange(false)) {
      entered.count_down();
      release.wait();
    }
    return ledger.Deliver(k, d, off);
  };
  o.max_buffer_bytes = 4;
  o.queue_capacity = 1;
  o.flush_threads = 1;
  WriteBuffer wb(o);
  constexpr int kKeys = 50;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(Put(wb, ledger, "k" + std::to_string(i), 0, "abcd").ok());
    if (i == 0) entered.wait();
  }
  WriteBufferStats st = wb.Stats();
  EXPECT_EQ(st.queued_flushes, 1u);
  EXPECT_EQ(st.waiting_flushes, kKeys - 1u);
  EXPECT_EQ(st.pending_bytes, 4u * kKeys);
  EXPECT_EQ(ledger.deliveries(), 0u);
  release.count_down();
  ASSERT_TRUE(wb.FlushAll().ok());
  EXPECT_EQ(ledger.deliveries(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(wb.Stats().flushed_by_size, static_cast<uint64_t>(kKeys));
  ledger.Verify();
}

// The Go version deleted the buffer after its flush, with the bytes written
// meanwhile. Here they go to a new buffer, flushed after the first.
TEST(WriteBuffer, BytesWrittenDuringAFlushAreFlushedAfterIt) {
  Ledger ledger;
  std::latch entered(1), release(1);
  std::atomic<int> in_callback{0}, max_in_callback{0};
  std::atomic<bool> first{true};
  WriteBufferOptions o = To(ledger);
  o.flush = [&](std::string_view k, std::string_view d, uint64_t off) {
    int n = in_callback.fetch_add(1) + 1;
    int m = max_in_callback.load();
    while (n > m && !max_in_callback.compare_exchange_weak(m, n)) {
    }
    if (first.exchange(false)) {
      entered.count_down();
      release.wait();
    }
    Status s = ledger.Deliver(k, d, off);
    in_callback.fetch_sub(1);
    return s;
  };
  o.flush_threads = 4;
  WriteBuffer wb(o);
  ASSERT_TRUE(Put(wb, ledger, "f", 0, "first-").ok());
  std::thread flusher([&] { EXPECT_TRUE(wb.Flush("f").ok()); });
  entered.wait();  // the first buffer is in the callback
  ASSERT_TRUE(Put(wb, ledger, "f", 6, "second-").ok());
  EXPECT_EQ(wb.Stats().open_buffers, 1u);
  std::thread flusher2([&] { EXPECT_TRUE(wb.Flush("f").ok()); });
  ASSERT_TRUE(WaitFor([&] { return wb.Stats().open_buffers == 0; }));
  ASSERT_TRUE(Put(wb, ledger, "f", 13, "third").ok());
  release.count_down();
  flusher.join();
  flusher2.join();
  ASSERT_TRUE(wb.FlushAll().ok());
  EXPECT_EQ(ledger.deliveries(), 3u);
  EXPECT_EQ(max_in_callback.load(), 1);  // one flush of a key at a time
  ledger.Verify();
}

// The Go version left an empty buffer behind a rejected write, and Sync
// waited for it until it timed out.
TEST(WriteBuffer, ARejectedWriteLeavesNothingBehind) {
  Ledger ledger;
  WriteBufferOptions o = To(ledger);
  o.max_pending_bytes = 8;
  WriteBuffer wb(o);
  ASSERT_TRUE(Put(wb, ledger, "a", 0, "12345678").ok());
  Status s = Put(wb, ledger, "b", 0, "9");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  WriteBufferStats st = wb.Stats();
  EXPECT_EQ(st.open_buffers, 1u);
  EXPECT_EQ(st.writes_rejected, 1u);
  EXPECT_EQ(st.pending_bytes, 8u);
  EXPECT_TRUE(wb.Sync(std::chrono::steady_clock::now() + 30s).ok());
  EXPECT_EQ(wb.Stats().pending_bytes, 0u);
  EXPECT_EQ(ledger.keys_delivered(), std::vector<std::string>{"a"});
  // Room again.
  ASSERT_TRUE(Put(wb, ledger, "b", 0, "9").ok());
  ASSERT_TRUE(wb.Close().ok());
  EXPECT_EQ(Put(wb, ledger, "c", 0, "x").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(wb.Stats().writes_rejected, 2u);
  ledger.Verify();
}

TEST(WriteBuffer, AFailingCallbackIsRetriedThenReported) {
  Ledger ledger;
  WriteBufferOptions o = To(ledger);
  o.flush = [&](std::string_view k, std::string_view d, uint64_t off) {
    return ledger.Deliver(
        k, d, off,
        k == "bad" ? Status::IoError("store refused") : Status::Ok());
  };
  o.max_attempts = 3;
  WriteBuffer wb(o);
  ASSERT_TRUE(Put(wb, ledger, "bad", 0, "lost?").ok());
  ASSERT_TRUE(Put(wb, ledger, "good", 0, "kept").ok());
  Status s = wb.FlushAll();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("bad at 0 (5 bytes) failed after 3 attempts: "
                             "store refused"),
            std::string::npos)
      << s.ToString();
  EXPECT_TRUE(wb.FlushAll().ok());  // reported once
  WriteBufferStats st = wb.Stats();
  EXPECT_EQ(st.flush_retries, 2u);
  EXPECT_EQ(st.flushes_failed, 1u);
  EXPECT_EQ(st.bytes_failed, 5u);
  EXPECT_EQ(st.flushes, 1u);
  EXPECT_EQ(ledger.calls(), 4);
  ASSERT_TRUE(WaitFor([&] { return ledger.failed() == 1; }));
  ledger.Verify();
}

TEST(WriteBuffer, ATransientFailureIsRetriedAndDeliveredOnce) {
  Ledger ledger;
  std::atomic<int> attempts{0};
  WriteBufferOptions o = To(ledger);
  o.flush = [&](std::string_view k, std::string_view d, uint64_t off) {
    return ledger.Deliver(
        k, d, off,
        attempts.fetch_add(1) < 2 ? Status::IoError("flaky") : Status::Ok());
  };
  o.max_attempts = 4;
  WriteBuffer wb(o);
  ASSERT_TRUE(Put(wb, ledger, "a", 0, "data").ok());
  ASSERT_TRUE(Put(wb, ledger, "a", 100, "more").ok());  // behind it, same key
  EXPECT_TRUE(wb.Flush("a").ok());
  EXPECT_EQ(wb.Stats().flush_retries, 2u);
  EXPECT_EQ(wb.Stats().flushes, 2u);
  EXPECT_EQ(ledger.deliveries(), 2u);
  ledger.Verify();
}

// The times at which a flush callback that always fails is called for one
// buffer, given up after `attempts` calls with these backoffs. A call's
// time is taken as it starts, and the retry's wait starts after it
// returned, so consecutive calls are at least the backoff apart.
std::vector<std::chrono::steady_clock::time_point> FailingCallTimes(
    int attempts, std::chrono::nanoseconds initial_backoff,
    std::chrono::nanoseconds max_backoff) {
  Ledger ledger;
  std::mutex calls_mu;
  std::vector<std::chrono::steady_clock::time_point> calls;
  WriteBufferOptions o = To(ledger);
  o.flush = [&](std::string_view k, std::string_view d, uint64_t off) {
    {
      std::lock_guard l(calls_mu);
      calls.push_back(std::chrono::steady_clock::now());
    }
    return ledger.Deliver(k, d, off, Status::IoError("store refused"));
  };
  o.max_attempts = attempts;
  o.initial_backoff = initial_backoff;
  o.max_backoff = max_backoff;
  {
    WriteBuffer wb(o);
    EXPECT_TRUE(Put(wb, ledger, "a", 0, "data").ok());
    EXPECT_EQ(wb.FlushAll().code(), StatusCode::kIoError);
    EXPECT_EQ(wb.Stats().flush_retries, static_cast<uint64_t>(attempts - 1));
  }  // the flushers joined: on_failure has run
  EXPECT_EQ(ledger.failed(), 1u);
  ledger.Verify();
  std::lock_guard l(calls_mu);
  return calls;
}

// A failed flush is retried after initial_backoff, then after twice that,
// and so on (lower bounds only: a loaded machine may take longer, never
// shorter).
TEST(WriteBuffer, RetriesWaitTheBackoffDoublingEachTime) {
  auto calls = FailingCallTimes(4, 10ms, 1s);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_GE(calls[1] - calls[0], 10ms);
  EXPECT_GE(calls[2] - calls[1], 20ms);
  EXPECT_GE(calls[3] - calls[2], 40ms);
}

TEST(WriteBuffer, FlushOfOneKeyLeavesTheOthers) {
  Ledger ledger;
  WriteBuffer wb(To(ledger));
  ASSERT_TRUE(Put(wb, ledger, "a", 0, "a").ok());
  ASSERT_TRUE(Put(wb, ledger, "b", 0, "b").ok());
  ASSERT_TRUE(wb.Flush("a").ok());
  EXPECT_EQ(ledger.keys_delivered(), std::vector<std::string>{"a"});
  EXPECT_EQ(wb.Stats().open_buffers, 1u);
  ASSERT_TRUE(wb.Close().ok());
  ledger.Verify();
}

TEST(WriteBuffer, SyncReturnsAtItsDeadline) {
  Ledger ledger;
  std::latch release(1);
  WriteBufferOptions o = To(ledger);
  o.flush = [&](std::string_view k, std::string_view d, uint64_t off) {
    release.wait();
    return ledger.Deliver(k, d, off);
  };
  WriteBuffer wb(o);
  ASSERT_TRUE(Put(wb, ledger, "a", 0, "x").ok());
  Status s = wb.Sync(std::chrono::steady_clock::now() + 5ms);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  release.count_down();
  EXPECT_TRUE(wb.Sync(std::chrono::steady_clock::now() + 30s).ok());
  ledger.Verify();
}

TEST(WriteBuffer, WithoutACallbackNothingIsAccepted) {
  WriteBuffer wb(WriteBufferOptions{});
  EXPECT_EQ(wb.Write("a", 0, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(wb.Close().ok());
}

TEST(WriteBuffer, CloseFlushesJoinsAndIsIdempotent) {
  int before = ThreadCount();
  CounterDelta buffers("write-buffers");
  Ledger ledger;
  {
    WriteBufferOptions o = To(ledger);
    o.flush_threads = 3;
    WriteBuffer wb(o);
    EXPECT_EQ(ThreadCount(), before + 3);
    ASSERT_TRUE(Put(wb, ledger, "a", 0, std::string(1000, 'a')).ok());
    ASSERT_TRUE(Put(wb, ledger, "b", 0, std::string(10, 'b')).ok());
    EXPECT_EQ(buffers.count(), 2);
    EXPECT_GE(buffers.bytes(), 1010);
    ASSERT_TRUE(wb.Close().ok());
    EXPECT_TRUE(ThreadsBackTo(before));
    EXPECT_EQ(buffers.count(), 0);
    EXPECT_EQ(buffers.bytes(), 0);
    EXPECT_TRUE(wb.Close().ok());
    EXPECT_EQ(ledger.deliveries(), 2u);
  }
  {
    WriteBuffer wb(To(ledger));
    ASSERT_TRUE(Put(wb, ledger, "c", 0, "c").ok());
  }  // the destructor closes, flushing
  EXPECT_TRUE(ThreadsBackTo(before));
  EXPECT_EQ(buffers.count(), 0);
  EXPECT_EQ(ledger.deliveries(), 3u);
  ledger.Verify();
}

// Close from several threads while writers still write: every write that
// was accepted is delivered, the later ones are refused, one Close joins.
TEST(WriteBuffer, ConcurrentCloseWhileWriting) {
  int before = ThreadCount();
  Ledger ledger;
  {
    WriteBufferOptions o = To(ledger);
    o.max_buffer_bytes = 64;
    WriteBuffer wb(o);
    // The closers start once each writer has had a write accepted; each
    // writer writes until one is refused because the buffer is closed.
    std::latch writing(2);
    std::atomic<uint64_t> accepted{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 2; ++t) {
      writers.emplace_back([&, t] {
        std::string key = "w" + std::to_string(t);
        uint64_t off = 0;
        for (;;) {
          Status s = Put(wb, ledger, key, off, "0123456789");
          if (s.ok()) {
            if (off == 0) writing.count_down();
            off += 10;
            accepted.fetch_add(1);
          } else if (s.code() == StatusCode::kFailedPrecondition) {
            break;  // closed
          }
        }
      });
    }
    std::vector<std::thread> closers;
    for (int t = 0; t < 3; ++t) {
      closers.emplace_back([&] {
        writing.wait();
        EXPECT_TRUE(wb.Close().ok());
      });
    }
    for (auto& c : closers) c.join();
    for (auto& w : writers) w.join();
    EXPECT_GE(accepted.load(), 2u);
    EXPECT_EQ(wb.Stats().writes, accepted.load());
    EXPECT_GE(wb.Stats().writes_rejected, 2u);
    EXPECT_EQ(wb.Stats().bytes_flushed, 10 * accepted.load());
    EXPECT_EQ(wb.Stats().pending_bytes, 0u);
    EXPECT_EQ(wb.Write("late", 0, "x").code(), StatusCode::kFailedPrecondition);
  }
  EXPECT_TRUE(ThreadsBackTo(before));
  ledger.Verify();
}

// Writers on many keys (contiguous runs, gaps), a small queue, flushes that
// fail a fifth of the time and are given up after two attempts, size, count
// and age triggers all at once: every accepted byte delivered or failed once.
TEST(WriteBuffer, ConcurrentWritersLoseNothing) {
  CounterDelta buffers("write-buffers");
  Ledger ledger;
  {
    WriteBufferOptions o = To(ledger);
    // A flush fails for good when its (key, offset) hashes to 0 mod 10,
    // once (then succeeds on the retry) when to 5 mod 10.
    std::mutex tries_mu;
    std::set<std::pair<std::string, uint64_t>> tried;
    o.flush = [&](std::string_view k, std::string_view d, uint64_t off) {
      std::size_t h = std::hash<std::string_view>{}(k) ^ (off * 2654435761u);
      bool fail = h % 10 == 0;
      if (h % 10 == 5) {
        std::lock_guard l(tries_mu);
        fail = tried.emplace(std::string(k), off).second;
      }
      return ledger.Deliver(k, d, off,
                            fail ? Status::IoError("injected") : Status::Ok());
    };
    o.max_buffer_bytes = 256;
    o.max_buffer_writes = 7;
    o.max_age = 1ms;
    o.max_pending_bytes = 4096;
    o.queue_capacity = 2;
    o.flush_threads = 2;
    o.max_attempts = 2;
    o.initial_backoff = 0ms;
    WriteBuffer wb(o);
    std::atomic<uint64_t> accepted{0}, refused{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        std::map<std::string, uint64_t> next;
        for (int i = 0; i < 3000; ++i) {
          std::string key =
              "t" + std::to_string(t) + "k" + std::to_string(rng() % 6);
          uint64_t& off = next[key];
          if (rng() % 10 == 0) off += 1 + rng() % 50;  // a gap
          std::string data(1 + rng() % 40, static_cast<char>('a' + rng() % 26));
          if (Put(wb, ledger, key, off, data).ok()) {
            off += data.size();
            accepted.fetch_add(1);
          } else {
            refused.fetch_add(1);
          }
          if (i % 500 == 0) wb.Flush(key).IgnoreError();
        }
      });
    }
    for (auto& w : writers) w.join();
    wb.Close().IgnoreError();
    WriteBufferStats st = wb.Stats();
    EXPECT_EQ(st.pending_bytes, 0u);
    EXPECT_EQ(st.bytes_flushed + st.bytes_failed, st.bytes_written);
    EXPECT_GT(st.flushes_failed, 0u);
    EXPECT_GT(st.flush_retries, 0u);
    // The stats count every call as the writers saw it.
    EXPECT_EQ(st.writes, accepted.load());
    EXPECT_EQ(st.writes_rejected, refused.load());
    EXPECT_EQ(st.writes + st.writes_rejected, 4u * 3000u);
    EXPECT_GT(st.writes, 0u);
  }
  EXPECT_EQ(buffers.count(), 0);
  EXPECT_EQ(buffers.bytes(), 0);
  ledger.Verify();
}

}  // namespace
}  // namespace memmon::fs
