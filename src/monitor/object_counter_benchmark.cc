// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Object counting: memmon's handle and by-name paths against a
// reimplementation of the Go original's design in the same binary (one
// mutex, a hash map looked up by name, a clock read per update), single-
// threaded and with two threads hammering one counter.
//
//   build/bin/object_counter_benchmark
//
// Results and the machine are recorded in docs/benchmarks.md.

#include <benchmark/benchmark.h>

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "memmon/monitor.h"

namespace {

// The Go original's TrackObject/IncrementObject/DecrementObject.
class GoDesignTracker {
 public:
  void Track(const std::string& name, int64_t threshold) {
    std::lock_guard l(mu_);
    objects_[name].threshold = threshold;
  }
  void Increment(const std::string& name, int64_t size) {
    std::lock_guard l(mu_);
    auto it = objects_.find(name);
    if (it == objects_.end()) return;
    Object& o = it->second;
    o.count++;
    o.bytes += size;
    o.last_increment = std::chrono::system_clock::now();
    if (o.count > o.peak_count) o.peak_count = o.count;
    if (o.bytes > o.peak_bytes) o.peak_bytes = o.bytes;
    if (o.threshold > 0 && o.count > o.threshold) ++alerts_;
  }
  void Decrement(const std::string& name, int64_t size) {
    std::lock_guard l(mu_);
    auto it = objects_.find(name);
    if (it == objects_.end()) return;
    Object& o = it->second;
    o.count--;
    o.bytes -= size;
    o.last_decrement = std::chrono::system_clock::now();
  }

 private:
  struct Object {
    int64_t count = 0, bytes = 0, peak_count = 0, peak_bytes = 0, threshold = 0;
    std::chrono::system_clock::time_point last_increment, last_decrement;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Object> objects_;
  int64_t alerts_ = 0;
};

GoDesignTracker& GoTracker() {
  static GoDesignTracker* t = [] {
    auto* t = new GoDesignTracker();
    t->Track("cache-entries", 0);
    return t;
  }();
  return *t;
}

memmon::MemoryMonitor& Monitor() {
  static memmon::MemoryMonitor* m = [] {
    memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
    c.alert_log = "none";
    auto* m = new memmon::MemoryMonitor(c);
    m->TrackObject("cache-entries");
    return m;
  }();
  return *m;
}

// One operation = one Increment or one Decrement (alternating, so counts
// stay bounded).
void BM_Memmon_Handle(benchmark::State& state) {
  memmon::ObjectCounter& c = Monitor().TrackObject("cache-entries");
  for (auto _ : state) {
    c.Increment(64);
    c.Decrement(64);
  }
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_Memmon_Handle)->Threads(1)->Threads(2)->UseRealTime();

void BM_Memmon_ByName(benchmark::State& state) {
  memmon::MemoryMonitor& m = Monitor();
  for (auto _ : state) {
    m.IncrementObject("cache-entries", 64);
    m.DecrementObject("cache-entries", 64);
  }
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_Memmon_ByName)->Threads(1)->Threads(2)->UseRealTime();

void BM_GoDesign(benchmark::State& state) {
  GoDesignTracker& t = GoTracker();
  const std::string name = "cache-entries";
  for (auto _ : state) {
    t.Increment(name, 64);
    t.Decrement(name, 64);
  }
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_GoDesign)->Threads(1)->Threads(2)->UseRealTime();

// The RAII helper, as a hot type would use it.
struct Entry : memmon::Tracked<Entry> {
  static constexpr std::string_view kTrackedName = "bench-entries";
  int value = 0;
};

void BM_Memmon_TrackedType(benchmark::State& state) {
  for (auto _ : state) {
    Entry e;
    benchmark::DoNotOptimize(&e);
  }
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_Memmon_TrackedType);

}  // namespace

BENCHMARK_MAIN();
