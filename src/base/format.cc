// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "base/format.h"

#include <fmt/format.h>

namespace memmon::internal {

std::string HumanBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = b < 0 ? -b : b;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  const char* sign = b < 0 ? "-" : "";
  // Whole bytes print whole; a fraction (a rate) keeps three digits.
  if (u == 0) {
    return v >= 100 ? fmt::format("{}{:.0f} B", sign, v)
                    : fmt::format("{}{:.3g} B", sign, v);
  }
  return fmt::format("{}{:.1f} {}", sign, v, units[u]);
}

std::string SignedHumanBytes(double b) {
  return b > 0 ? "+" + HumanBytes(b) : HumanBytes(b);
}

std::string HumanDuration(double s) {
  if (s < 120) return fmt::format("{:.1f} s", s);
  if (s < 7200) return fmt::format("{:.1f} min", s / 60);
  if (s < 172800) return fmt::format("{:.1f} h", s / 3600);
  return fmt::format("{:.1f} d", s / 86400);
}

std::string HumanSourceLocation(std::string_view file, int64_t line) {
  if (file.empty()) return "";
  std::string_view base = file.substr(file.rfind('/') + 1);
  return line > 0 ? fmt::format("{}:{}", base, line) : std::string(base);
}

}  // namespace memmon::internal
