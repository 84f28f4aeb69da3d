// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Small helpers shared by the end-to-end tests.
#ifndef MEMMON_TESTS_TEST_UTIL_H_
#define MEMMON_TESTS_TEST_UTIL_H_

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/test_support.h"
#include "memmon/monitor.h"

namespace memmon::testing_util {

// A config for tests: fast, quiet, a baseline at the first sample, no
// cooldown.
inline MonitorConfig TestConfig() {
  MonitorConfig c = DefaultMonitorConfig();
  c.sample_interval = std::chrono::milliseconds(5);
  c.warmup_samples = 0;
  c.alert_log = "none";
  c.alert_cooldown = std::chrono::seconds(0);
  return c;
}

using test_support::WaitFor;

// A simulated process for MemoryMonitor (a SampleSource): sample i has the
// fields `shape(i, &sample)` sets, taken at a simulated clock of one
// second a sample, so a test can leak gigabytes without allocating them.
// Records what the monitor asked of it.
class SimulatedProcess : public SampleSource {
 public:
  using Shape = std::function<void(uint64_t i, Sample* s)>;
  explicit SimulatedProcess(Shape shape) : shape_(std::move(shape)) {}

  Status Open() override { return open_status_; }
  bool Read(Sample* s) override {
    uint64_t i = reads_.fetch_add(1);
    s->monotonic = std::chrono::steady_clock::time_point() +
                   std::chrono::hours(1) + std::chrono::seconds(i);
    s->time = std::chrono::system_clock::time_point() +
              std::chrono::hours(24 * 365 * 56) + std::chrono::seconds(i);
    shape_(i, s);
    return !exited_;
  }
  void ReleaseFreeMemory() override { releases_.fetch_add(1); }
  void SnapshotHeap(const char* reason) override {
    std::lock_guard l(mu_);
    snapshots_.emplace_back(reason);
  }

  std::vector<AllocationSite> TopAllocationSites(std::size_t n) override {
    std::lock_guard l(mu_);
    ++top_sites_calls_;
    return {sites_.begin(), sites_.begin() + static_cast<std::ptrdiff_t>(
                                                 std::min(n, sites_.size()))};
  }

  // Set before the monitor uses it.
  void FailOpen(Status s) { open_status_ = std::move(s); }
  void SetTopSites(std::vector<AllocationSite> sites) {
    std::lock_guard l(mu_);
    sites_ = std::move(sites);
  }
  int top_sites_calls() const {
    std::lock_guard l(mu_);
    return top_sites_calls_;
  }
  void Exit() { exited_ = true; }

  uint64_t reads() const { return reads_.load(); }
  uint64_t releases() const { return releases_.load(); }
  std::vector<std::string> snapshots() const {
    std::lock_guard l(mu_);
    return snapshots_;
  }

 private:
  Shape shape_;
  Status open_status_ = Status::Ok();
  std::atomic<bool> exited_{false};
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> releases_{0};
  mutable std::mutex mu_;
  std::vector<std::string> snapshots_;
  std::vector<AllocationSite> sites_;
  int top_sites_calls_ = 0;
};

// A leak of `step` bytes a sample over `base`, in the heap and in RSS.
inline SimulatedProcess::Shape SteadyLeak(uint64_t base, uint64_t step) {
  return [base, step](uint64_t i, Sample* s) {
    s->heap_inuse_bytes = base + step * i;
    s->rss_bytes = base + step * i + (32 << 20);
    s->threads = 4;
    s->open_fds = 8;
    s->allocator = AllocatorKind::kGlibc;
  };
}

// Threads that wait until this is destroyed: a thread count raised step by
// step, as a thread leak raises it.
class ParkedThreads {
 public:
  ParkedThreads() = default;
  ParkedThreads(const ParkedThreads&) = delete;
  ParkedThreads& operator=(const ParkedThreads&) = delete;
  ~ParkedThreads() {
    release_.count_down();
    for (std::thread& t : threads_) t.join();
  }
  // Starts `n` more threads; returns once all of them run.
  void Add(int n) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        running_.fetch_add(1);
        release_.wait();
      });
    }
    while (running_.load() < static_cast<int>(threads_.size())) {
      std::this_thread::yield();
    }
  }

 private:
  std::latch release_{1};
  std::atomic<int> running_{0};
  std::vector<std::thread> threads_;
};

inline std::size_t CountAlerts(const MemoryMonitor& m, AlertType type,
                               AlertState state = AlertState::kFiring) {
  std::size_t n = 0;
  for (const MemoryAlert& a : m.GetAlerts())
    n += a.type == type && a.state == state;
  return n;
}

// A fresh empty file under /tmp, removed when the object goes.
class TempFile {
 public:
  TempFile() {
    char name[] = "/tmp/memmon-test-XXXXXX";
    int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    path_ = fd >= 0 ? name : "";
  }
  ~TempFile() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace memmon::testing_util

#endif  // MEMMON_TESTS_TEST_UTIL_H_
