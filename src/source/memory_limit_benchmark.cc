// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What reading the memory limits costs (docs/limits.md): LimitReader::Read
// each sample (the files found at Open, no allocation) against finding the
// limits anew each time (ReadMemoryLimits, what Open does), on this
// process's real limits and on a fixture cgroup v1 tree (a limited cgroup
// under an unlimited root, rlimits, the machine); and the OOM kill count.
//
//   build/bin/limit_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "source/memory_limit.h"

namespace memmon::internal {
namespace {

namespace fs = std::filesystem;

// A cgroup v1 process's view: /proc/self/{cgroup,mountinfo,limits,status},
// /proc/meminfo, its memory cgroup (limited) and the root (unlimited).
class V1Tree {
 public:
  V1Tree() {
    char tmpl[] = "/tmp/memmon-limit-bench-XXXXXX";
    root_ = mkdtemp(tmpl);
    Write("/proc/self/cgroup", "4:memory:/svc\n0::/\n");
    Write("/proc/self/mountinfo",
          "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    Write("/proc/self/limits",
          "Limit                     Soft Limit           Hard Limit   Units\n"
          "Max data size             unlimited            unlimited    bytes\n"
          "Max address space         unlimited            unlimited    "
          "bytes\n");
    std::ifstream status("/proc/self/status");
    Write("/proc/self/status",
          std::string(std::istreambuf_iterator<char>(status), {}));
    std::ifstream meminfo("/proc/meminfo");
    Write("/proc/meminfo",
          std::string(std::istreambuf_iterator<char>(meminfo), {}));
    Write("/sys/fs/cgroup/memory/svc/memory.limit_in_bytes", "268435456\n");
    Write("/sys/fs/cgroup/memory/svc/memory.usage_in_bytes", "50331648\n");
    Write("/sys/fs/cgroup/memory/svc/memory.oom_control",
          "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    Write("/sys/fs/cgroup/memory/memory.limit_in_bytes",
          "9223372036854771712\n");
    Write("/sys/fs/cgroup/memory/memory.usage_in_bytes", "900000000\n");
  }
  ~V1Tree() { fs::remove_all(root_); }
  const std::string& root() const { return root_; }

 private:
  void Write(const std::string& path, const std::string& text) {
    fs::path p = fs::path(root_) / path.substr(1);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  std::string root_;
};

// Each sample: reread the files found at Open.
void BM_LimitReaderRead_ThisProcess(benchmark::State& state) {
  LimitReader r;
  if (!r.Open(0).ok()) state.SkipWithError("Open failed");
  uint64_t limit = 0, usage = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(r.Read(64 << 20, &limit, &usage));
  }
}
BENCHMARK(BM_LimitReaderRead_ThisProcess);

// The alternative: find the limits anew each sample (Open's work).
void BM_ReadMemoryLimits_ThisProcess(benchmark::State& state) {
  MemoryLimits l;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ReadMemoryLimits(0, 64 << 20, &l).ok());
  }
}
BENCHMARK(BM_ReadMemoryLimits_ThisProcess);

void BM_LimitReaderRead_V1Fixture(benchmark::State& state) {
  V1Tree t;
  LimitReader r;
  if (!r.Open(0, t.root()).ok()) state.SkipWithError("Open failed");
  uint64_t limit = 0, usage = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(r.Read(64 << 20, &limit, &usage));
  }
}
BENCHMARK(BM_LimitReaderRead_V1Fixture);

void BM_LimitReaderOpen_V1Fixture(benchmark::State& state) {
  V1Tree t;
  for (auto _ : state) {
    LimitReader r;
    benchmark::DoNotOptimize(r.Open(0, t.root()).ok());
  }
}
BENCHMARK(BM_LimitReaderOpen_V1Fixture);

// The per-sample OOM kill count: one small file.
void BM_OomKills_V1Fixture(benchmark::State& state) {
  V1Tree t;
  LimitReader r;
  if (!r.Open(0, t.root()).ok()) state.SkipWithError("Open failed");
  for (auto _ : state) benchmark::DoNotOptimize(r.OomKills());
}
BENCHMARK(BM_OomKills_V1Fixture);

}  // namespace
}  // namespace memmon::internal

BENCHMARK_MAIN();
