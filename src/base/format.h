// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Numbers for people: byte counts and durations as alert messages and the
// command line print them.
//
// Thread-safety: pure functions.
#ifndef MEMMON_SRC_BASE_FORMAT_H_
#define MEMMON_SRC_BASE_FORMAT_H_

#include <string>

namespace memmon::internal {

// "512 B" is "512.0 B"; powers of 1024: "1.5 KiB", "251.1 MiB", "-2.0 GiB".
std::string HumanBytes(double bytes);

// "0.4 s", "45 s", "12.5 min", "3.2 h", "2.1 d".
std::string HumanDuration(double seconds);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_BASE_FORMAT_H_
