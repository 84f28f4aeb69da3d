// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cli/oom_options.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "cli/command.h"
#include "cli/units.h"

namespace memmon::cli {

void AddOomOptions(CLI::App* app, std::string* horizon, std::string* fraction) {
  app->add_option("--oom-horizon", *horizon,
                  "oom_risk fires when the earliest projected time to the "
                  "memory limit is within this (30m, 2h; 0: off; default "
                  "1h; docs/limits.md)");
  if (fraction != nullptr) {
    app->add_option("--oom-profile-fraction", *fraction,
                    "write a heap profile (reason oom_risk) when usage reaches "
                    "this fraction of the limit, in (0, 1] (default 0.9)");
  }
}

int ParseOomOptions(const char* verb, const std::string& horizon,
                    const std::string& fraction, MonitorConfig* config) {
  if (!horizon.empty()) {
    std::chrono::nanoseconds d{0};
    if (Status s = ParseDuration(horizon, &d); !s.ok()) {
      std::fprintf(stderr, "memmon: %s: --oom-horizon: %s\n", verb,
                   s.message().c_str());
      return kExitUsage;
    }
    config->oom_horizon = d;
  }
  if (!fraction.empty()) {
    double f = 0;
    const char* end = fraction.data() + fraction.size();
    auto [p, ec] = std::from_chars(fraction.data(), end, f);
    if (ec != std::errc() || p != end || !std::isfinite(f)) {
      std::fprintf(stderr,
                   "memmon: %s: --oom-profile-fraction: not a number: %s\n",
                   verb, fraction.c_str());
      return kExitUsage;
    }
    if (!(f > 0 && f <= 1)) {
      std::fprintf(stderr,
                   "memmon: %s: --oom-profile-fraction: must be in (0, 1], "
                   "got %s\n",
                   verb, fraction.c_str());
      return kExitUsage;
    }
    config->oom_profile_fraction = f;
  }
  return kExitOk;
}

void PrintMemoryLimits(const char* prefix,
                       const internal::MemoryLimits& found) {
  if (const internal::MemoryLimit* b = found.Binding()) {
    std::fprintf(stderr, "%smemory limit: %s\n", prefix,
                 internal::DescribeLimit(*b).c_str());
  }
  for (const internal::MemoryLimit& l : found.limits) {
    if (l.kind == MemoryLimitKind::kCgroupV2High) {
      std::fprintf(stderr, "%salso %s\n", prefix,
                   internal::DescribeLimit(l).c_str());
    }
  }
}

}  // namespace memmon::cli
