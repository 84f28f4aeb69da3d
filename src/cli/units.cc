// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cli/units.h"

#include <charconv>
#include <cmath>
#include <string>

namespace memmon::cli {
namespace {

// Splits "12.5ms" into "12.5" and "ms".
void SplitNumber(std::string_view text, std::string_view* number,
                 std::string_view* unit) {
  size_t i = 0;
  while (
      i < text.size() &&
      (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  *number = text.substr(0, i);
  *unit = text.substr(i);
}

}  // namespace

Status ParseDuration(std::string_view text, std::chrono::nanoseconds* out) {
  std::string_view number, unit;
  SplitNumber(text, &number, &unit);
  double value = 0;
  auto [ptr, ec] =
      std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() ||
      ptr != number.data() + number.size()) {
    return Status::InvalidArgument(
        "bad duration \"" + std::string(text) +
        "\": want a number and a unit, e.g. 100ms, 2s, 5m");
  }
  double scale;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s")
    scale = 1e9;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  else {
    return Status::InvalidArgument(
        "bad duration \"" + std::string(text) +
        (unit.empty() ? "\": missing unit"
                      : "\": unknown unit \"" + std::string(unit) + "\"") +
        " (use ns, us, ms, s, m or h, e.g. 100ms, 2s, 5m)");
  }
  double ns = value * scale;
  if (!std::isfinite(ns) || ns > 9.2e18) {
    return Status::InvalidArgument("duration \"" + std::string(text) +
                                   "\" is too long");
  }
  *out = std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
  return Status::Ok();
}

Status ParseSize(std::string_view text, uint64_t* out) {
  std::string_view number, unit;
  SplitNumber(text, &number, &unit);
  uint64_t value = 0;
  auto [ptr, ec] =
      std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() ||
      ptr != number.data() + number.size()) {
    return Status::InvalidArgument(
        "bad size \"" + std::string(text) +
        "\": want a whole number of bytes, e.g. 4096, 512k, 2M");
  }
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  for (auto [names, s] : {std::pair{"kK", 10}, std::pair{"mM", 20},
                          std::pair{"gG", 30}, std::pair{"tT", 40}}) {
    if (unit.empty() ||
        std::string_view(names).find(unit[0]) == std::string_view::npos)
      continue;
    std::string_view rest = unit.substr(1);
    if (rest.empty() || rest == "B" || rest == "iB") shift = s;
  }
  if (shift < 0) {
    return Status::InvalidArgument("bad size \"" + std::string(text) +
                                   "\": unknown unit \"" + std::string(unit) +
                                   "\" (use k, M, G or T)");
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) {
    return Status::InvalidArgument("size \"" + std::string(text) +
                                   "\" is too large");
  }
  *out = value << shift;
  return Status::Ok();
}

}  // namespace memmon::cli
