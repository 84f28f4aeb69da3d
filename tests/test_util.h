// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Small helpers shared by the end-to-end tests.
#ifndef MEMMON_TESTS_TEST_UTIL_H_
#define MEMMON_TESTS_TEST_UTIL_H_

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <thread>

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

// Waits until `done()` holds, polling every millisecond; false after
// `limit`. This is condition waiting with a deadline (which only guards
// against a hang), not a sleep standing in for synchronisation.
template <typename Pred>
bool WaitFor(Pred done, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

inline std::size_t CountAlerts(const MemoryMonitor& m, AlertType type) {
  std::size_t n = 0;
  for (const MemoryAlert& a : m.GetAlerts()) n += a.type == type;
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
