// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Descriptors that rise and come back: opens one /dev/null every `step_ms`
// (default 20) for `count` times (default 450), a rise that lasts longer
// than a burst (docs/detection.md); then closes them all and lives on for
// `after_ms` (default 2000), so that a monitor sees the count return and
// resolves its fd_leak episode. tests/cli_resolve_test.sh watches it.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 450;
  int step_ms = argc > 2 ? std::atoi(argv[2]) : 20;
  int after_ms = argc > 3 ? std::atoi(argv[3]) : 2000;
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) return 1;
    fds.push_back(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
  }
  for (int fd : fds) close(fd);
  // The workload's own pace: the level it returned to, held.
  std::this_thread::sleep_for(std::chrono::milliseconds(after_ms));
  return 0;
}
