// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/config.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cmath>

#include "detect/trend.h"

namespace memmon {
namespace {

Status CheckPct(const char* name, double v) {
  if (std::isnan(v) || v < 0 || std::isinf(v)) {
    return Status::InvalidArgument(
        fmt::format("{} must be a finite number >= 0, got {}", name, v));
  }
  return Status::Ok();
}

}  // namespace

MonitorConfig DefaultMonitorConfig() { return MonitorConfig{}; }

Status Validate(const MonitorConfig& c) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  if (c.pid < 0) {
    return Status::InvalidArgument(fmt::format(
        "pid must be 0 (this process) or a process id, got {}", c.pid));
  }
  if (c.sample_interval.count() <= 0) {
    return Status::InvalidArgument(fmt::format(
        "sample_interval must be positive, got {}", c.sample_interval));
  }
  if (c.max_samples == 0) {
    return Status::InvalidArgument("max_samples must be at least 1, got 0");
  }
  if (c.max_alerts == 0) {
    return Status::InvalidArgument("max_alerts must be at least 1, got 0");
  }
  for (auto [name, v] :
       {std::pair{"alert_threshold_pct", c.alert_threshold_pct},
        std::pair{"thread_growth_pct", c.thread_growth_pct},
        std::pair{"fd_growth_pct", c.fd_growth_pct},
        std::pair{"allocator_cpu_pct", c.allocator_cpu_pct},
        std::pair{"fragmentation_pct", c.fragmentation_pct}}) {
    if (Status s = CheckPct(name, v); !s.ok()) return s;
  }
  if (Status s = CheckPct("object_rearm_pct", c.object_rearm_pct); !s.ok()) {
    return s;
  }
  if (c.object_rearm_pct > 100) {
    return Status::InvalidArgument(fmt::format(
        "object_rearm_pct must be at most 100, got {}", c.object_rearm_pct));
  }
  if (c.trend_window < 4 || c.trend_window > internal::kMaxTrendPoints) {
    return Status::InvalidArgument(
        fmt::format("trend_window must be between 4 and {}, got {}",
                    internal::kMaxTrendPoints, c.trend_window));
  }
  if (c.sustain_samples == 0) {
    return Status::InvalidArgument("sustain_samples must be at least 1, got 0");
  }
  if (c.hysteresis_samples == 0) {
    return Status::InvalidArgument(
        "hysteresis_samples must be at least 1, got 0");
  }
  if (c.resolve_after.count() < 0) {
    return Status::InvalidArgument(fmt::format(
        "resolve_after must not be negative, got {}", c.resolve_after));
  }
  if (c.growth_projection_horizon.count() < 0) {
    return Status::InvalidArgument(
        fmt::format("growth_projection_horizon must not be negative, got {}",
                    c.growth_projection_horizon));
  }
  if (c.oom_horizon.count() < 0) {
    return Status::InvalidArgument(
        fmt::format("oom_horizon must not be negative, got {}", c.oom_horizon));
  }
  if (!(c.oom_profile_fraction > 0 && c.oom_profile_fraction <= 1)) {
    return Status::InvalidArgument(
        fmt::format("oom_profile_fraction must be in (0, 1], got {}",
                    c.oom_profile_fraction));
  }
  if (c.hold.count() <= 0) {
    return Status::InvalidArgument(
        fmt::format("hold must be positive, got {}", c.hold));
  }
  if (c.alert_cooldown.count() < 0) {
    return Status::InvalidArgument(fmt::format(
        "alert_cooldown must not be negative, got {}", c.alert_cooldown));
  }
  if (c.alert_log.empty()) {
    return Status::InvalidArgument(
        "alert_log must be \"stderr\", \"none\" or a file path, got \"\"");
  }
  return Status::Ok();
}

}  // namespace memmon
