// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The /metrics page: memmon's state in the Prometheus text exposition
// format (version 0.0.4): a HELP and a TYPE line per family, base units
// (bytes, seconds, ratios), counters ending in _total. docs/http.md lists
// every family.
//
// Thread-safety: pure functions of their input. Allocation: the text.
#ifndef MEMMON_SRC_HTTP_METRICS_H_
#define MEMMON_SRC_HTTP_METRICS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memmon/config.h"
#include "memmon/memmon_preload.h"
#include "memmon/monitor.h"
#include "memmon/sample.h"

namespace memmon::http {

struct MetricsInput {
  const MemoryStats* stats = nullptr;
  // The retained samples, oldest first (MemoryMonitor::GetSamples).
  const std::vector<Sample>* samples = nullptr;
  const MonitorConfig* config = nullptr;
  // The heap sampler's counters when it is loaded.
  std::optional<memmon_preload_counters> sampler;
};

// The trend memmon computes for one quantity, as the detectors judge it
// (ClassifyGrowth over the samples since the baseline, the detectors'
// options) and against the limit its rule uses.
struct GrowthOutlook {
  const char* quantity = "";  // "heap_inuse_bytes", "rss_bytes", ...
  bool unbounded = false;
  double slope_per_s = 0;
  double slope_lower_per_s = 0;
  double limit = 0;
  // Seconds until the fitted level, rising at slope_lower_per_s, reaches
  // `limit`: 0 when it is there, +infinity when it is not rising steadily.
  double time_to_limit_s = 0;
};

// The outlooks of the quantities that have a baseline and a known value:
// heap in use, RSS, threads, open descriptors (in that order).
std::vector<GrowthOutlook> Outlooks(const MemoryStats& stats,
                                    const std::vector<Sample>& samples,
                                    const MonitorConfig& config);

// The whole page.
std::string PrometheusText(const MetricsInput& in);

// The HTTP server's own state (BoundedServer::Counters): what it holds
// now, its bounds, and what it did.
struct ServerCounters {
  uint64_t threads = 0;          // all of the server's threads
  uint64_t workers = 0;          // of which serve requests
  uint64_t connections_max = 0;  // sockets it holds at most
  uint64_t at_gate = 0;          // waiting for their head, or refused
  uint64_t queued = 0;           // complete heads waiting for a worker
  uint64_t serving = 0;          // being served
  uint64_t waits = 0;            // ?seconds= requests waiting now
  uint64_t waits_max = 0;
  uint64_t shed_total = 0;                // connections refused with 503: full
  uint64_t keepalive_requests_total = 0;  // on a reused connection
  uint64_t gate_served_total = 0;         // served by the gate itself
  uint64_t gate_wakeups_total = 0;        // the gate woke to requests (rounds)
  uint64_t bytes_written_total = 0;
  uint64_t response_bytes_held = 0;  // response bodies built, not yet sent
  std::vector<std::pair<int, uint64_t>> responses_by_status;  // ascending
};

// The memmon_http_* families (appended to the page by the server).
std::string ServerMetricsText(const ServerCounters& c);

}  // namespace memmon::http

#endif  // MEMMON_SRC_HTTP_METRICS_H_
