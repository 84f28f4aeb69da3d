// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The two transcendental functions a heap sample needs, without libm's
// lookup tables: glibc's log and exp read a few hundred bytes of tables,
// cold at every sample (cachegrind: ~5 L1 misses a sample between them).
// Both are exact to about 1e-12 relative, far below what sampling can
// resolve (sample_math_test.cc checks them against libm).
#ifndef MEMMON_SRC_PRELOAD_SAMPLE_MATH_H_
#define MEMMON_SRC_PRELOAD_SAMPLE_MATH_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#include "preload/in_malloc.h"

namespace memmon::preload {

// ln(u) for u in (0, 1]: u = 2^e * m with m in [sqrt(1/2), sqrt(2)), and
// ln(m) = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.172, by its series to
// t^13 (the next term is below 1e-12 of the result).
MEMMON_IN_MALLOC inline double LogUnit(double u) {
  uint64_t bits;
  std::memcpy(&bits, &u, sizeof(bits));
  int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1023} << 52);
  double m;
  std::memcpy(&m, &bits, sizeof(m));
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++e;
  }
  const double t = (m - 1.0) / (m + 1.0);
  const double t2 = t * t;
  const double series =
      1.0 +
      t2 * (1.0 / 3 +
            t2 * (1.0 / 5 +
                  t2 * (1.0 / 7 +
                        t2 * (1.0 / 9 + t2 * (1.0 / 11 + t2 * (1.0 / 13))))));
  return e * 0.6931471805599453 + 2.0 * t * series;
}

// 1 - exp(-x) for x >= 0: its Taylor series below 1/4 (to x^10; the next
// term is below 1e-13 of the result), libm above (big allocations, rare).
MEMMON_IN_MALLOC inline double OneMinusExpNeg(double x) {
  if (x >= 0.25) return -std::expm1(-x);
  // x - x^2/2! + x^3/3! - ... - x^10/10!, in Horner form.
  constexpr double c2 = -1.0 / 2, c3 = 1.0 / 6, c4 = -1.0 / 24, c5 = 1.0 / 120,
                   c6 = -1.0 / 720, c7 = 1.0 / 5040, c8 = -1.0 / 40320,
                   c9 = 1.0 / 362880, c10 = -1.0 / 3628800;
  return x *
         (1 +
          x * (c2 +
               x * (c3 +
                    x * (c4 +
                         x * (c5 +
                              x * (c6 +
                                   x * (c7 +
                                        x * (c8 + x * (c9 + x * c10)))))))));
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_SAMPLE_MATH_H_
