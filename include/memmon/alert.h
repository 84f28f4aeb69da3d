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
};
inline constexpr int kAlertTypeCount = 6;

// Exactly "memory_growth", "thread_leak", "allocator_pressure",
// "heap_fragmentation", "object_threshold", "fd_leak".
std::string_view ToString(AlertType type);

// Parses the names above. Returns false for anything else.
bool ParseAlertType(std::string_view name, AlertType* type);

// Where live heap memory was allocated: a site of the heap sampler's
// profile (the first frame outside the allocation API and the C++ standard
// library) and the sampled bytes still in use that it allocated.
struct AllocationSite {
  std::string function;  // as pprof shows it: "ns::Cache::Put"
  std::string file;      // source file, when debug info says (else empty)
  int64_t line = 0;      // 0 when unknown
  double inuse_bytes = 0;
};

struct MemoryAlert {
  AlertType type = AlertType::kMemoryGrowth;
  std::chrono::system_clock::time_point time{};
  // Seconds since the monitor's first sample (the `time_s` of the JSON
  // line).
  double time_s = 0;
  // One readable sentence: what, how much, against which limit, and why.
  std::string message;
  // The measured quantity and the limit it passed, in the unit the message
  // names (percent, threads, descriptors).
  double value = 0;
  double threshold = 0;
  // The sample that raised it.
  Sample sample;
  // memory_growth with MonitorConfig::enable_stack_traces, when the heap
  // sampler is loaded: the sites holding the most live heap at the alert,
  // largest first (at most five). Empty otherwise.
  std::vector<AllocationSite> top_sites;
};

// The alert as one JSON object on one line (no trailing newline):
// {"type":..,"time":"RFC 3339","time_s":..,"message":..,"value":..,
// "threshold":..} and, when it has any, "top_sites":[{"function":..,
// "file":..,"line":..,"inuse_bytes":..},..].
std::string ToJson(const MemoryAlert& alert);

}  // namespace memmon

#endif  // MEMMON_ALERT_H_
