// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What every stage's tests share (header only, for tests; base so that any
// stage's tests may include it): whether ThreadSanitizer instruments this
// build (MEMMON_TSAN), and waiting for a condition with a deadline.
#ifndef MEMMON_SRC_BASE_TEST_SUPPORT_H_
#define MEMMON_SRC_BASE_TEST_SUPPORT_H_

#include <chrono>
#include <thread>

#if defined(__SANITIZE_THREAD__)
#define MEMMON_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MEMMON_TSAN 1
#endif
#endif

namespace memmon::test_support {

// Waits until `done()` holds, polling every millisecond; false after
// `limit`. Condition waiting with a deadline that only guards against a
// hang, not a sleep standing in for synchronisation.
template <typename Pred>
bool WaitFor(Pred done, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace memmon::test_support

#endif  // MEMMON_SRC_BASE_TEST_SUPPORT_H_
