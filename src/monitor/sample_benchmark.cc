// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What one sample costs: memmon's TakeSample() against a straightforward
// port (open /proc/self/status each time, list /proc/self/fd, mallinfo2,
// getrusage), and the parts each is made of, in the same run.
//
//   build/bin/sample_benchmark
//
// Results and the machine are recorded in docs/benchmarks.md.

#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "memmon/monitor.h"
#include "source/allocator_stats.h"
#include "source/procfs.h"

namespace {

// Opens `n` extra descriptors for the benchmark's lifetime.
class ExtraFds {
 public:
  explicit ExtraFds(int n) {
    for (int i = 0; i < n; ++i) fds_.push_back(open("/dev/null", O_RDONLY));
  }
  ~ExtraFds() {
    for (int fd : fds_) close(fd);
  }

 private:
  std::vector<int> fds_;
};

memmon::MonitorConfig BenchConfig() {
  memmon::MonitorConfig c = memmon::DefaultMonitorConfig();
  c.alert_log = "none";
  return c;
}

// memmon: the whole steady-state tick (collect, append, detect) with a
// full history (100 samples) of this process, whose heap is flat.
void BM_Memmon_TakeSample(benchmark::State& state) {
  ExtraFds fds(static_cast<int>(state.range(0)));
  memmon::MemoryMonitor m(BenchConfig());
  for (int i = 0; i < 200; ++i) m.TakeSample();  // history full
  for (auto _ : state) benchmark::DoNotOptimize(m.TakeSample());
}
BENCHMARK(BM_Memmon_TakeSample)->Arg(0)->Arg(1000);

// The same tick while the heap grows by 4 KiB per sample (a leak in
// progress: every window rises, so the full classification runs). The
// allocation is inside the timed loop (~0.1 us).
void BM_Memmon_TakeSample_Leaking(benchmark::State& state) {
  memmon::MemoryMonitor m(BenchConfig());
  std::vector<std::unique_ptr<char[]>> leaked;
  leaked.reserve(1 << 20);
  auto leak = [&] { leaked.emplace_back(new char[4096]); };
  for (int i = 0; i < 200; ++i) {
    leak();
    m.TakeSample();
  }
  for (auto _ : state) {
    leak();
    benchmark::DoNotOptimize(m.TakeSample());
  }
}
BENCHMARK(BM_Memmon_TakeSample_Leaking);

// The alternative: what a direct port of the Go sampler does in C++.
void BM_NaivePort_Sample(benchmark::State& state) {
  ExtraFds fds(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    memmon::Sample s;
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    std::string_view text(buf, n > 0 ? static_cast<size_t>(n) : 0);
    s.rss_bytes = memmon::internal::ParseKeyedValue(text, "VmRSS");
    s.threads = memmon::internal::ParseKeyedValue(text, "Threads");
    DIR* d = opendir("/proc/self/fd");
    uint64_t count = 0;
    while (readdir(d) != nullptr) ++count;
    closedir(d);
    s.open_fds = count;
    struct mallinfo2 mi = mallinfo2();
    s.heap_inuse_bytes = mi.uordblks + mi.hblkhd;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s.minor_faults = static_cast<uint64_t>(ru.ru_minflt);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_NaivePort_Sample)->Arg(0)->Arg(1000);

// --- the parts ---

void BM_Part_ProcReader(benchmark::State& state) {
  ExtraFds fds(static_cast<int>(state.range(0)));
  memmon::internal::ProcReader r;
  if (!r.Open().ok()) state.SkipWithError("cannot open /proc/self");
  for (auto _ : state) {
    memmon::Sample s;
    r.Read(&s, false);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Part_ProcReader)->Arg(0)->Arg(1000);

void BM_Part_ProcReaderWithPss(benchmark::State& state) {
  memmon::internal::ProcReader r;
  if (!r.Open().ok()) state.SkipWithError("cannot open /proc/self");
  for (auto _ : state) {
    memmon::Sample s;
    r.Read(&s, true);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Part_ProcReaderWithPss);

void BM_Part_StatmOpenEachTime(benchmark::State& state) {
  for (auto _ : state) {
    char buf[256];
    int fd = open("/proc/self/statm", O_RDONLY);
    benchmark::DoNotOptimize(read(fd, buf, sizeof(buf)));
    close(fd);
  }
}
BENCHMARK(BM_Part_StatmOpenEachTime);

void BM_Part_StatKeptOpen(benchmark::State& state) {
  int fd = open("/proc/self/stat", O_RDONLY);
  for (auto _ : state) {
    char buf[1024];
    benchmark::DoNotOptimize(pread(fd, buf, sizeof(buf), 0));
  }
  close(fd);
}
BENCHMARK(BM_Part_StatKeptOpen);

void BM_Part_CountFdsByListing(benchmark::State& state) {
  ExtraFds fds(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    DIR* d = opendir("/proc/self/fd");
    int count = 0;
    while (readdir(d) != nullptr) ++count;
    closedir(d);
    benchmark::DoNotOptimize(count);
  }
}
BENCHMARK(BM_Part_CountFdsByListing)->Arg(0)->Arg(1000);

void BM_Part_CountFdsByFstat(benchmark::State& state) {
  ExtraFds fds(static_cast<int>(state.range(0)));
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
  for (auto _ : state) {
    struct stat st;
    fstat(dir, &st);
    benchmark::DoNotOptimize(st.st_size);
  }
  close(dir);
}
BENCHMARK(BM_Part_CountFdsByFstat)->Arg(0)->Arg(1000);

void BM_Part_AllocatorStats(benchmark::State& state) {
  auto stats = memmon::internal::AllocatorStats::Detect();
  for (auto _ : state) {
    memmon::Sample s;
    stats.Read(&s);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Part_AllocatorStats);

}  // namespace

BENCHMARK_MAIN();
