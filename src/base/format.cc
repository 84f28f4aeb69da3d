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
  return fmt::format("{}{:.1f} {}", b < 0 ? "-" : "", v, units[u]);
}

std::string HumanDuration(double s) {
  if (s < 10) return fmt::format("{:.1f} s", s);
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.1f} min", s / 60);
  if (s < 172800) return fmt::format("{:.1f} h", s / 3600);
  return fmt::format("{:.1f} d", s / 86400);
}

}  // namespace memmon::internal
