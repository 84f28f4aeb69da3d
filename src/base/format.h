// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Numbers for people: the one way memmon prints a byte count or a duration,
// in alert messages, on the command line and in the report page.
//
// Thread-safety: pure functions.
#ifndef MEMMON_SRC_BASE_FORMAT_H_
#define MEMMON_SRC_BASE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace memmon::internal {

// Powers of 1024 with one decimal: "1.5 KiB", "251.1 MiB", "-2.0 GiB";
// under 1 KiB three significant digits: "512 B", "0.25 B" (a rate).
std::string HumanBytes(double bytes);
// A change: HumanBytes with a "+" when positive ("+1.5 KiB", "-2.0 GiB").
std::string SignedHumanBytes(double bytes);

// One decimal: "0.4 s", "45.0 s" (under 2 min), "12.5 min" (under 2 h),
// "3.2 h" (under 2 d), "2.1 d".
std::string HumanDuration(double seconds);

// A source position for people: the file's base name and the line,
// "cache.cc:42"; "cache.cc" without a line (<= 0); "" without a file.
std::string HumanSourceLocation(std::string_view file, int64_t line);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_BASE_FORMAT_H_
