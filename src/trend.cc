// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "trend.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace memmon::internal {

double TheilSenSlope(std::span<const double> x, std::span<const double> y) {
  std::size_t n = std::min({x.size(), y.size(), kMaxTrendPoints});
  x = x.last(n);
  y = y.last(n);
  std::array<double, kMaxTrendPoints*(kMaxTrendPoints - 1) / 2> slopes;
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double dx = x[j] - x[i];
      if (dx != 0) slopes[m++] = (y[j] - y[i]) / dx;
    }
  }
  if (m == 0) return 0;
  auto mid = slopes.begin() + static_cast<std::ptrdiff_t>(m / 2);
  std::nth_element(slopes.begin(), mid, slopes.begin() + static_cast<std::ptrdiff_t>(m));
  if (m % 2 == 1) return *mid;
  double upper = *mid;
  double lower = *std::max_element(slopes.begin(), mid);
  return (lower + upper) / 2;
}

double MannKendallRising(std::span<const double> y) {
  std::size_t n = std::min(y.size(), kMaxTrendPoints);
  y = y.last(n);
  if (n < 3) return 0.5;
  long s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      s += (y[j] > y[i]) - (y[j] < y[i]);
    }
  }
  double dn = static_cast<double>(n);
  double var = dn * (dn - 1) * (2 * dn + 5) / 18.0;
  // Continuity correction towards zero.
  double z = s > 0 ? (s - 1) / std::sqrt(var)
                   : s < 0 ? (s + 1) / std::sqrt(var) : 0.0;
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

}  // namespace memmon::internal
