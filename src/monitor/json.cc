// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// JSON views of samples, tracked objects and stats.

#include <nlohmann/json.hpp>

#include "memmon/monitor.h"

namespace memmon {
namespace {

using Json = nlohmann::ordered_json;

double UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

template <typename T>
Json OrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json SampleJson(const Sample& s) {
  Json j;
  j["time_unix_s"] = UnixSeconds(s.time);
  j["allocator"] = ToString(s.allocator);
  // "read", "skipped" (the cost budget's) or "none" (no allocator known).
  j["allocator_stats"] = s.allocator == AllocatorKind::kUnknown ? "none"
                         : s.allocator_skipped                  ? "skipped"
                                                                : "read";
  j["heap_inuse_bytes"] = OrNull(s.heap_inuse_bytes);
  j["heap_free_bytes"] = OrNull(s.heap_free_bytes);
  j["heap_system_bytes"] = OrNull(s.heap_system_bytes);
  j["total_allocated_bytes"] = OrNull(s.total_allocated_bytes);
  j["allocations"] = OrNull(s.allocations);
  j["frees"] = OrNull(s.frees);
  j["allocator_cpu_fraction"] = OrNull(s.allocator_cpu_fraction);
  j["rss_bytes"] = OrNull(s.rss_bytes);
  j["virtual_bytes"] = OrNull(s.virtual_bytes);
  j["pss_bytes"] = OrNull(s.pss_bytes);
  j["threads"] = OrNull(s.threads);
  j["open_fds"] = OrNull(s.open_fds);
  j["minor_faults"] = OrNull(s.minor_faults);
  j["major_faults"] = OrNull(s.major_faults);
  j["cpu_seconds"] = OrNull(s.cpu_seconds);
  j["rss_heap_bytes"] = OrNull(s.rss_heap_bytes);
  j["rss_heap_inuse_bytes"] = OrNull(s.rss_heap_inuse_bytes);
  j["rss_allocator_free_bytes"] = OrNull(s.rss_allocator_free_bytes);
  j["rss_stacks_bytes"] = OrNull(s.rss_stacks_bytes);
  j["rss_code_bytes"] = OrNull(s.rss_code_bytes);
  j["rss_file_bytes"] = OrNull(s.rss_file_bytes);
  j["rss_anon_other_bytes"] = OrNull(s.rss_anon_other_bytes);
  j["rss_unexplained_bytes"] = OrNull(s.rss_unexplained_bytes);
  return j;
}

Json ObjectJson(const TrackedObject& o) {
  auto time = [](const auto& t) {
    return t ? Json(UnixSeconds(*t)) : Json(nullptr);
  };
  Json j;
  j["count"] = o.count;
  j["bytes"] = o.bytes;
  j["peak_count"] = o.peak_count;
  j["peak_bytes"] = o.peak_bytes;
  j["alert_threshold"] = o.alert_threshold;
  j["increments"] = o.increments;
  j["decrements"] = o.decrements;
  j["last_increment_unix_s"] = time(o.last_increment);
  j["last_decrement_unix_s"] = time(o.last_decrement);
  j["tracking_error"] = o.tracking_error;
  return j;
}

}  // namespace

std::string ToJson(const Sample& sample) { return SampleJson(sample).dump(); }

std::string ToJson(const MemoryStats& st) {
  Json j;
  j["sample_count"] = st.sample_count;
  j["alert_count"] = st.alert_count;
  Json by_type = Json::object();
  for (int t = 0; t < kAlertTypeCount; ++t) {
    by_type[std::string(ToString(static_cast<AlertType>(t)))] = {
        {"fired", st.alerts_fired_by_type[t]},
        {"open", st.alerts_open_by_type[t]}};
  }
  j["alerts_by_type"] = std::move(by_type);
  j["retained_samples"] = st.retained_samples;
  j["running"] = st.running;
  j["growth_since_baseline_pct"] = OrNull(st.growth_since_baseline_pct);
  j["current_sample"] =
      st.current_sample ? SampleJson(*st.current_sample) : Json(nullptr);
  j["baseline_sample"] =
      st.baseline_sample ? SampleJson(*st.baseline_sample) : Json(nullptr);
  Json objects = Json::object();
  for (const auto& [name, o] : st.tracked_objects)
    objects[name] = ObjectJson(o);
  j["tracked_objects"] = std::move(objects);
  return j.dump();
}

}  // namespace memmon
