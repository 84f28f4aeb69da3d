// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Alert types and the alert record a MemoryMonitor raises.
#ifndef MEMMON_ALERT_H_
#define MEMMON_ALERT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memmon/sample.h"

namespace memmon {

enum class AlertType {
  kMemoryGrowth,       // sustained growth of heap in use (or RSS)
  kThreadLeak,         // thread count grown and staying up
  kAllocatorPressure,  // allocator's share of CPU above a limit
  kHeapFragmentation,  // free-but-held bytes dominate the heap, sustained
  kObjectThreshold,    // a tracked object count crossed its threshold
  kFdLeak,             // open descriptors grown and staying up
  kOomRisk,  // memory projected to reach the binding limit within a horizon
};
inline constexpr int kAlertTypeCount = 7;

// Exactly "memory_growth", "thread_leak", "allocator_pressure",
// "heap_fragmentation", "object_threshold", "fd_leak", "oom_risk".
std::string_view ToString(AlertType type);

// Parses the names above. Returns false for anything else.
bool ParseAlertType(std::string_view name, AlertType* type);

// An alert record opens an episode (kFiring) or ends it (kResolved): the
// condition that raised it has been absent for the hysteresis
// (MonitorConfig::hysteresis_samples and resolve_after). Every episode that
// fired resolves at most once; one still open when monitoring stops has no
// resolved record.
enum class AlertState {
  kFiring,
  kResolved,
};

// Exactly "firing", "resolved".
std::string_view ToString(AlertState state);

// Where live heap memory was allocated: a site of the heap sampler's
// profile (the first frame outside the allocation API and the C++ standard
// library) and the sampled bytes still in use that it allocated.
struct AllocationSite {
  std::string function;  // as pprof shows it: "ns::Cache::Put"
  std::string file;      // source file, when debug info says (else empty)
  int64_t line = 0;      // 0 when unknown
  double inuse_bytes = 0;
};

// One alert record. A firing record says what is wrong; the resolved record
// of the same episode (same type, later) says why it is over. A callback
// that pages someone should look at `state`.
struct MemoryAlert {
  AlertType type = AlertType::kMemoryGrowth;
  AlertState state = AlertState::kFiring;
  std::chrono::system_clock::time_point time{};
  // Seconds since the monitor's first sample (the `time_s` of the JSON
  // line).
  double time_s = 0;
  // One readable sentence. Firing: what, how much, against which limit, and
  // why. Resolved: why the episode ended ("heap_inuse_bytes came back to
  // 210.0 MiB, below the limit of 240.0 MiB"; "threads stopped rising at
  // 40 ...").
  std::string message;
  // The measured quantity and the limit, in the unit the message names
  // (percent, threads, descriptors): the limit it passed when firing, the
  // quantity now against the same limit when resolved.
  double value = 0;
  double threshold = 0;
  // The sample that raised it (firing) or ended it (resolved).
  Sample sample;
  // Resolved records only: when the episode's firing record was raised
  // (its `time` and `time_s`).
  std::chrono::system_clock::time_point episode_start{};
  double episode_start_s = 0;
  // memory_growth with MonitorConfig::enable_stack_traces, when the heap
  // sampler is loaded: the sites holding the most live heap at the alert,
  // largest first (at most five). Empty otherwise.
  std::vector<AllocationSite> top_sites;
};

// The alert as one JSON object on one line (no trailing newline):
// {"type":..,"state":"firing"|"resolved","time":"RFC 3339","time_s":..,
// "message":..,"value":..,"threshold":..}; a resolved record adds
// "episode_start_s":.. (the firing record's time_s); a firing one, when it
// has any, "top_sites":[{"function":..,"file":..,"line":..,
// "inuse_bytes":..},..].
std::string ToJson(const MemoryAlert& alert);

}  // namespace memmon

#endif  // MEMMON_ALERT_H_
