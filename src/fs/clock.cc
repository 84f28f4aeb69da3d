// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/fs/common.h"

namespace memmon::fs {
namespace {

class Steady final : public Clock {
 public:
  time_point Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

Clock& SteadyClock() {
  static Steady* clock = new Steady();  // never destroyed: usable at exit
  return *clock;
}

}  // namespace memmon::fs
