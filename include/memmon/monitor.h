// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// MemoryMonitor samples the current process on a background thread, keeps a
// bounded history, runs the detectors over it and raises alerts: a firing
// record when a problem's episode opens, a resolved record when it ends
// (memmon/alert.h).
//
// Thread-safety: every method may be called from any thread at any time,
// including while the monitor runs and from inside an OnAlert callback
// (callbacks run on the thread that took the sample, with no memmon lock
// held).
//
// Cost: a steady-state sample preads /proc/self/stat through a kept-open
// descriptor, fstats /proc/self/fd, asks the allocator for its statistics
// (budgeted to 1 % of a core) and runs the detectors; it does not allocate.
// docs/benchmarks.md has the measured figures (~7 us a steady tick, of
// which ~5 us collecting; ~87 us while a leak is being judged).
//
// Typical use:
//   memmon::MemoryMonitor monitor(memmon::DefaultMonitorConfig());
//   if (memmon::Status s = monitor.Start(); !s.ok()) { ...s.message()... }
//   ...
//   for (const memmon::MemoryAlert& a : monitor.GetAlerts()) ...
#ifndef MEMMON_MONITOR_H_
#define MEMMON_MONITOR_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/detectors.h"
#include "memmon/explain.h"
#include "memmon/object_counter.h"
#include "memmon/sample.h"
#include "memmon/sample_source.h"
#include "memmon/status.h"

namespace memmon {

struct MemoryStats {
  // The latest sample, and the baseline growth is measured against. Both are
  // empty until the first sample (the baseline until warm-up is over).
  std::optional<Sample> current_sample;
  std::optional<Sample> baseline_sample;
  uint64_t sample_count = 0;  // samples taken since construction
  uint64_t alert_count = 0;   // alerts fired since construction (resolved
                              // records not counted)
  // Per alert type, indexed by static_cast<int>(AlertType): episodes opened
  // (firing records) since construction, and episodes open now (fired, not
  // yet resolved; one per counter for object_threshold, else 0 or 1).
  std::array<uint64_t, kAlertTypeCount> alerts_fired_by_type{};
  std::array<uint64_t, kAlertTypeCount> alerts_open_by_type{};
  std::size_t retained_samples = 0;  // <= max_samples
  // Heap in use (RSS when the heap is unknown) now versus the baseline, in
  // percent; empty without a baseline.
  std::optional<double> growth_since_baseline_pct;
  bool running = false;
  // Every tracked object, by name (see TrackObject).
  std::map<std::string, TrackedObject> tracked_objects;
};

// A point-in-time picture of the process's memory (the Go GetMemoryProfile).
struct MemoryProfile {
  Sample sample;
  std::map<std::string, TrackedObject> objects;
};

// What changed between two MemoryProfiles.
struct ProfileDiff {
  Sample before;
  Sample after;
  std::chrono::nanoseconds elapsed{};
  // after - before, for the fields known in both (empty otherwise).
  std::optional<int64_t> heap_inuse_bytes;
  std::optional<int64_t> heap_free_bytes;
  std::optional<int64_t> heap_system_bytes;
  std::optional<int64_t> rss_bytes;
  std::optional<int64_t> threads;
  std::optional<int64_t> open_fds;
  std::optional<int64_t> allocations;
  std::optional<int64_t> frees;
  struct ObjectDelta {
    int64_t count = 0;
    int64_t bytes = 0;
  };
  // after - before for every tracked object in either (absent = 0).
  std::map<std::string, ObjectDelta> objects;
  // Several lines, one per known field: "heap in use: +12.0 MiB (+35.2 %)".
  std::string ToString() const;
};

// The stats as one JSON object: {"sample_count":..,"alert_count":..,
// "alerts_by_type":{"memory_growth":{"fired":..,"open":..},..},
// "running":..,"growth_since_baseline_pct":..|null,"current_sample":{..}|null,
// "baseline_sample":{..}|null,"tracked_objects":{"name":{..},..}}. Unknown
// sample fields are null. docs/api.md lists every key.
std::string ToJson(const MemoryStats& stats);
// One sample as a JSON object (unknown fields null).
std::string ToJson(const Sample& sample);

class MemoryMonitor {
 public:
  using AlertCallback = std::function<void(const MemoryAlert&)>;

  explicit MemoryMonitor(MonitorConfig config = DefaultMonitorConfig());
  // Samples `source` instead of the process config.pid names (a test's
  // simulated process, a recording, another quantity). nullptr: the
  // default, as the constructor above.
  MemoryMonitor(MonitorConfig config, std::unique_ptr<SampleSource> source);
  ~MemoryMonitor();  // Stop()s
  MemoryMonitor(const MemoryMonitor&) = delete;
  MemoryMonitor& operator=(const MemoryMonitor&) = delete;

  // Validates the config (InvalidArgument naming the field), opens the
  // sources (NotFound when config.pid names no process) and starts the
  // sampling thread, which takes a first sample at
  // once. FailedPrecondition when already running.
  Status Start();
  // Stops the sampling thread without waiting out the interval. Idempotent.
  // The monitor can be started again afterwards; history is kept.
  void Stop();
  bool running() const;
  // True once the watched process (config.pid) has exited; samples taken
  // after that are returned empty and not kept.
  bool target_exited() const;

  // Takes a sample now (whether or not the monitor runs), appends it to the
  // history, runs the detectors and delivers any alert. Returns the sample.
  Sample TakeSample();

  MemoryStats GetStats() const;
  // Retained samples, oldest first; at most max_samples.
  std::vector<Sample> GetSamples() const;
  // Retained alert records, firing and resolved, oldest first; at most
  // max_alerts. What is firing now: the firing records whose episode has
  // no resolved record (same type) after them.
  std::vector<MemoryAlert> GetAlerts() const;
  void ClearAlerts();
  // Takes a sample now and makes it the baseline.
  void ResetBaseline();
  // The C++ meaning of Go's ForceGC: returns free memory to the OS through
  // whichever allocator is in use (malloc_trim, jemalloc purge, tcmalloc
  // ReleaseFreeMemory), then takes a sample and returns it.
  Sample ReleaseFreeMemory();

  // A sample and the tracked objects now (the Go GetMemoryProfile). The
  // sample is taken as TakeSample() takes one: it joins the history (and
  // samples.csv, /debug/memmon/samples) and the detectors judge it, so an
  // alert may fire from this call -- a profile is a point of the series,
  // not a look at it from outside. To read without adding a point, use
  // GetSamples().back() and GetTrackedObjects().
  MemoryProfile GetMemoryProfile();
  static ProfileDiff CompareProfiles(const MemoryProfile& before,
                                     const MemoryProfile& after);

  // Where the watched process's resident memory is now (memmon/explain.h,
  // docs/explain.md): ExplainMemory(config().pid) -- heap in use from the
  // heap sampler and the allocator when watching this process. Takes no
  // sample and joins nothing to the history. Allocates; milliseconds for a
  // process with thousands of mappings.
  Status Explain(MemoryBreakdown* out) const;

  // How long until the binding memory limit is reached (docs/limits.md):
  // ProjectTimeToLimit (memmon/detectors.h) over the retained samples --
  // at the fitted slope and, earliest, at its upper confidence bound;
  // +infinity when usage does not rise steadily; nullopt when no limit is
  // known. Takes no sample; up to ~100 us (the trend test).
  std::optional<TimeToLimit> TimeToMemoryLimit() const;

  // --- object tracking (memmon/object_counter.h) ---
  // The counter for `name`, created on first use; tracking a name again
  // returns the same counter with its threshold set to `alert_threshold`
  // (0: no object_threshold alert). The handle stays valid for the life of
  // the process. Counters are process-wide: every monitor sees them all.
  ObjectCounter& TrackObject(std::string_view name,
                             uint64_t alert_threshold = 0);
  // By name, as in the Go API: a lock-free lookup, then the counter's
  // Increment/Decrement. A name never tracked is tracked now (no threshold),
  // so nothing is lost; a decrement of it shows as a negative count, which
  // the next sample reports as a tracking error.
  void IncrementObject(std::string_view name, uint64_t bytes = 0);
  void DecrementObject(std::string_view name, uint64_t bytes = 0);
  std::map<std::string, TrackedObject> GetTrackedObjects() const;

  // Calls `callback` for every alert record raised after this call: a
  // firing record when an episode opens, a resolved one (state kResolved,
  // message saying why) when it ends. A callback that pages someone should
  // look at `state`.
  void OnAlert(AlertCallback callback);
  // Replaces the rule for one alert type; an empty Detector disables it.
  void SetDetector(AlertType type, Detector detector);

  const MonitorConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace memmon

#endif  // MEMMON_MONITOR_H_
