// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/alert.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <iterator>
#include <nlohmann/json.hpp>

namespace memmon {
namespace {

constexpr std::string_view kAlertNames[kAlertTypeCount] = {
    "memory_growth",      "thread_leak",      "allocator_pressure",
    "heap_fragmentation", "object_threshold", "fd_leak",
    "oom_risk",
};

}  // namespace

std::string_view ToString(AlertType type) {
  auto i = static_cast<int>(type);
  return i >= 0 && i < kAlertTypeCount ? kAlertNames[i] : "unknown";
}

bool ParseAlertType(std::string_view name, AlertType* type) {
  for (int i = 0; i < kAlertTypeCount; ++i) {
    if (kAlertNames[i] == name) {
      *type = static_cast<AlertType>(i);
      return true;
    }
  }
  return false;
}

std::string_view ToString(AlertState state) {
  return state == AlertState::kResolved ? "resolved" : "firing";
}

std::string_view ToString(AllocatorKind kind) {
  // In AllocatorKind's order.
  constexpr std::string_view kNames[] = {"unknown", "glibc", "jemalloc",
                                         "tcmalloc"};
  auto i = static_cast<std::size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::string ToJson(const MemoryAlert& alert) {
  auto secs = std::chrono::floor<std::chrono::seconds>(alert.time);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(alert.time - secs);
  nlohmann::ordered_json j;
  j["type"] = ToString(alert.type);
  j["state"] = ToString(alert.state);
  j["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", secs, ms.count());
  j["time_s"] = alert.time_s;
  j["message"] = alert.message;
  j["value"] = alert.value;
  j["threshold"] = alert.threshold;
  if (alert.state == AlertState::kResolved) {
    j["episode_start_s"] = alert.episode_start_s;
  }
  if (!alert.top_sites.empty()) {
    nlohmann::ordered_json sites = nlohmann::ordered_json::array();
    for (const AllocationSite& site : alert.top_sites) {
      nlohmann::ordered_json s;
      s["function"] = site.function;
      s["file"] = site.file;
      s["line"] = site.line;
      s["inuse_bytes"] = site.inuse_bytes;
      sites.push_back(std::move(s));
    }
    j["top_sites"] = std::move(sites);
  }
  return j.dump();
}

}  // namespace memmon
