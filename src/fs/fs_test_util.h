// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Helpers shared by the filesystem components' tests.
#ifndef MEMMON_SRC_FS_FS_TEST_UTIL_H_
#define MEMMON_SRC_FS_FS_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <thread>

#include "base/test_support.h"
#include "memmon/object_counter.h"

namespace memmon::fs::testing {

// The threads of this process, from /proc/self/task. The first call starts
// and joins a thread first: a sanitizer runtime starts its own background
// thread with the process's first pthread_create, which would otherwise
// count as the component's in a test that runs alone (ctest runs each test
// in its own process).
inline int ThreadCount() {
  static const bool warmed_up = [] {
    std::thread([] {}).join();
    return true;
  }();
  (void)warmed_up;
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)e;
    ++n;
  }
  return n;
}

// Whether the thread count comes back to `n`: a joined thread can stay
// listed in /proc/self/task for a moment after pthread_join returns (the
// kernel wakes the joiner before it unlists the task), so this waits for it
// with a deadline.
bool ThreadsBackTo(int n);

// A counter's count and bytes relative to when the snapshot was taken
// (counters are process-wide: other tests in the binary leave theirs).
class CounterDelta {
 public:
  explicit CounterDelta(std::string_view name)
      : counter_(GetObjectCounter(name)),
        count0_(counter_.count()),
        bytes0_(counter_.bytes()) {}
  int64_t count() const { return counter_.count() - count0_; }
  int64_t bytes() const { return counter_.bytes() - bytes0_; }

 private:
  ObjectCounter& counter_;
  int64_t count0_;
  int64_t bytes0_;
};

using test_support::WaitFor;

inline bool ThreadsBackTo(int n) {
  return WaitFor([n] { return ThreadCount() == n; });
}

}  // namespace memmon::fs::testing

#endif  // MEMMON_SRC_FS_FS_TEST_UTIL_H_
