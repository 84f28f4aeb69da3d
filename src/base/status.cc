// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/status.h"

#include <cstddef>
#include <iterator>

namespace memmon {

std::string_view ToString(StatusCode code) {
  // In StatusCode's order.
  constexpr std::string_view kNames[] = {
      "ok",        "invalid argument", "failed precondition", "not found",
      "I/O error", "unavailable",      "internal error",
  };
  auto i = static_cast<std::size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(memmon::ToString(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace memmon
