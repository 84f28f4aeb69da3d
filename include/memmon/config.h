// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// MonitorConfig: what a MemoryMonitor samples, how often, and when it alerts.
// DefaultMonitorConfig() gives the values of the Go original (30 s, 20 %,
// 100 samples) plus the limits it hard-coded, as named fields.
//
// Every alert rule has a ratio *and* an absolute floor, so a 2 MiB process
// growing to 3 MiB (50 %) does not page anyone, and a sustain/hysteresis/
// cooldown triple so one condition raises one alert per episode.
#ifndef MEMMON_CONFIG_H_
#define MEMMON_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "memmon/status.h"

namespace memmon {

struct MonitorConfig {
  // The process to watch: 0 (default) is this process. Another process is
  // read from /proc only: no allocator statistics, no object counters.
  int pid = 0;
  // Time between two samples taken by the monitor's thread. Must be > 0.
  std::chrono::nanoseconds sample_interval = std::chrono::seconds(30);
  // memory_growth: growth of heap in use (RSS when the heap is unknown) over
  // the baseline, in percent, that a sustained rise must pass. >= 0.
  double alert_threshold_pct = 20.0;
  // Samples kept in memory (oldest dropped first). Must be >= 1. The trend
  // rules also judge a long history of the whole run since the baseline,
  // in as many points (at least 16), each the minimum of a block of
  // samples (docs/detection.md, "The long history").
  std::size_t max_samples = 100;
  // Read the allocator's statistics (glibc, jemalloc, tcmalloc) each sample.
  bool enable_allocator_stats = true;
  // memory_growth alerts name the allocation sites holding the most live
  // heap (MemoryAlert::top_sites, the message and the JSON line) when the
  // heap sampler is loaded (no effect otherwise). Costs one symbolized walk
  // of the sampled heap per growth alert (0.07 ms; the first one in a process
  // also loads the writer and reads debug info: milliseconds), nothing per
  // sample.
  bool enable_stack_traces = false;
  // Read PSS from /proc/self/smaps_rollup each sample. Costly (30 us small,
  // milliseconds at gigabytes resident), so off by default.
  bool enable_pss = false;

  // --- memory_growth ---
  // Absolute floor: growth below this many bytes never alerts.
  uint64_t growth_floor_bytes = 16ull << 20;
  // memory_growth, thread_leak, fd_leak: the shortest window a trend is
  // judged over, in floor points (longer windows, up to the history since
  // the baseline, are judged too; docs/detection.md). 4..64.
  std::size_t trend_window = 10;
  // Early warning: a steady rise that is below the threshold but, at the
  // lower confidence bound of its slope, will pass it within this horizon
  // alerts now (when its trend confidence is >= 99.9 %). Also applies to
  // thread_leak and fd_leak. Zero disables early warnings. >= 0.
  std::chrono::nanoseconds growth_projection_horizon = std::chrono::hours(24);

  // --- thread_leak (the Go original's goroutine_leak: 50 %) ---
  double thread_growth_pct = 50.0;
  uint64_t thread_growth_floor = 10;  // threads

  // --- fd_leak ---
  double fd_growth_pct = 50.0;
  uint64_t fd_growth_floor = 32;  // descriptors

  // --- oom_risk ---
  // Fires when the memory the binding limit counts (Sample::
  // memory_limit_usage_bytes) rises steadily and the earliest time at which
  // its trend reaches the limit (at the upper confidence bound of the
  // slope) is within this horizon -- whatever the growth threshold says.
  // Zero disables it. >= 0.
  std::chrono::nanoseconds oom_horizon = std::chrono::hours(1);
  // When usage reaches this fraction of the limit, the monitor writes a heap
  // snapshot (reason "oom_risk"; with the heap sampler), once until usage
  // falls back below it: the evidence survives the kill. (0, 1]; 1 never.
  double oom_profile_fraction = 0.9;

  // --- allocator_pressure (the Go original's gc_pressure was 5 % CPU in
  // Go's collector; a C++ service spends about that in malloc and free, so
  // the native counterpart is 20 %: docs/profiler.md, "Allocator time") ---
  double allocator_cpu_pct = 20.0;

  // --- heap_fragmentation (the Go original's 50 % idle) ---
  // Free-but-held bytes as a percentage of (in use + free).
  double fragmentation_pct = 50.0;
  uint64_t fragmentation_floor_bytes = 64ull << 20;  // free bytes

  // --- object_threshold ---
  // After a crossing, a counter re-arms when its count falls below
  // threshold x (1 - object_rearm_pct / 100). 0..100.
  double object_rearm_pct = 10.0;

  // --- episodes ---
  // The start-up: samples taken before the baseline is set, on which
  // nothing is judged. A start-up that fills caches or starts a pool rises
  // exactly like a leak until it stops, and a sawtooth's first tooth looks
  // like one until it drops: growth is measured from the first sample after
  // them, the baseline. Counted in samples, because what tells a warm-up
  // from a leak is how many samples it spans (docs/detection.md). A leak
  // from the start alerts once it has grown past the limit over the
  // baseline (or is projected to). 0 makes the first sample the baseline.
  std::size_t warmup_samples = 60;
  // A condition must hold on this many consecutive samples to alert.
  std::size_t sustain_samples = 3;
  // ...and be absent on this many consecutive samples to end its episode.
  std::size_t hysteresis_samples = 3;
  // ...and, besides, for at least this long since it last held. An episode
  // that fired ends with a `resolved` record, so this is how long a problem
  // must stay away to count as over: longer than a continuing leak's
  // condition drops out (up to 90 s in the labelled corpus, where 2 of the
  // 16 leaks would otherwise resolve and fire again). >= 0.
  std::chrono::nanoseconds resolve_after = std::chrono::minutes(5);
  // Minimum time between two alerts of the same type.
  std::chrono::nanoseconds alert_cooldown = std::chrono::minutes(10);
  // Alerts kept in memory (oldest dropped first). Must be >= 1.
  std::size_t max_alerts = 1000;
  // heap_fragmentation and allocator_pressure judge a level over this much
  // time, not one reading: fragmentation must have held on every sample of
  // the last `hold` and the heap must be off its peak over twice that; the
  // allocator's median share over the last `hold` must be above its limit.
  // Time, so a 5 s episode is the same at 1 s and at 100 ms sampling: the
  // detection engine keeps when fragmentation started holding and the
  // heap's peak however short the history; allocator_pressure, judged on
  // the history, takes the whole history as the hold when it is full
  // before it spans `hold`. Must be > 0.
  std::chrono::nanoseconds hold = std::chrono::seconds(150);

  // Where each alert is logged as one JSON line: "stderr" (default),
  // "none", or a file path (opened for append, created 0600).
  std::string alert_log = "stderr";
};

// The defaults above: 30 s interval, 20 % growth, 100 samples.
MonitorConfig DefaultMonitorConfig();

// Ok, or InvalidArgument naming the first field that is out of range.
Status Validate(const MonitorConfig& config);

}  // namespace memmon

#endif  // MEMMON_CONFIG_H_
