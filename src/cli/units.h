// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Durations and sizes as people type them on a command line.
//
//   duration: a non-negative decimal number and a unit: ns, us, ms, s, m, h
//             ("100ms", "2s", "1.5s", "5m"); a bare number is refused, since
//             "10" could mean seconds or milliseconds.
//   size:     a non-negative integer, optionally followed by k, M, G or T
//             (powers of 1024; "KiB", "MiB"... and "KB", "MB"... accepted as
//             the same), e.g. "512k", "2M", "4096".
#ifndef MEMMON_SRC_CLI_UNITS_H_
#define MEMMON_SRC_CLI_UNITS_H_

#include <chrono>
#include <cstdint>
#include <string_view>

#include "memmon/status.h"

namespace memmon::cli {

Status ParseDuration(std::string_view text, std::chrono::nanoseconds* out);
Status ParseSize(std::string_view text, uint64_t* out);

}  // namespace memmon::cli

#endif  // MEMMON_SRC_CLI_UNITS_H_
