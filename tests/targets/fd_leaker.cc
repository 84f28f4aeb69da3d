// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A process that leaks descriptors: opens one /dev/null every `step_ms`
// (default 10) for `count` times (default 300), then exits. `memmon watch`
// tests watch it from outside.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 300;
  int step_ms = argc > 2 ? std::atoi(argv[2]) : 10;
  for (int i = 0; i < count; ++i) {
    if (open("/dev/null", O_RDONLY) < 0) return 1;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(step_ms));  // the leak's pace
  }
  return 0;
}
