// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What a Prometheus scrape costs the monitored process: the /metrics page
// built from a default monitor's 100 samples, with memmon's trend outlook
// (ClassifyGrowth over heap, RSS, threads and descriptors) and without it
// (the gauges and counters alone), and a whole scrape over loopback
// (request, page, response) against the same server's /debug/memmon/stats.
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <vector>

#include "http/metrics.h"
#include "memmon/http_server.h"
#include "memmon/monitor.h"

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// 100 samples a second apart: flat with noise, or leaking 1 MiB a sample.
std::vector<memmon::Sample> Samples(bool leaking) {
  std::vector<memmon::Sample> out;
  for (uint64_t i = 0; i < 100; ++i) {
    memmon::Sample s;
    s.monotonic =
        std::chrono::steady_clock::time_point() + std::chrono::seconds(i);
    uint64_t noise = (i * 7919) % 13 * kMiB / 8;
    s.heap_inuse_bytes = 300 * kMiB + noise + (leaking ? i * kMiB : 0);
    s.rss_bytes = *s.heap_inuse_bytes + 40 * kMiB;
    s.threads = 12;
    s.open_fds = 40;
    out.push_back(s);
  }
  return out;
}

void BM_MetricsPage(benchmark::State& state) {
  bool trend = state.range(0) != 0;
  std::vector<memmon::Sample> samples = Samples(state.range(1) != 0);
  memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
  memmon::MemoryStats stats;
  stats.current_sample = samples.back();
  stats.baseline_sample = samples.front();
  stats.sample_count = samples.size();
  memmon::http::MetricsInput in;
  in.stats = &stats;
  in.samples = trend ? &samples : nullptr;
  in.config = &config;
  for (auto _ : state) {
    benchmark::DoNotOptimize(memmon::http::PrometheusText(in));
  }
}
// Args: {trend outlook, leaking}.
BENCHMARK(BM_MetricsPage)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1})
    ->ArgNames({"trend", "leaking"});

// A whole scrape of this process's monitor over loopback: /metrics, and
// /debug/memmon/stats (JSON, no trend) for comparison.
void BM_Scrape(benchmark::State& state) {
  memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
  config.alert_log = "none";
  memmon::MemoryMonitor monitor(config);
  for (int i = 0; i < 100; ++i) monitor.TakeSample();
  memmon::HttpServer server(monitor);
  if (!server.Start().ok()) {
    state.SkipWithError("cannot start the server");
    return;
  }
  httplib::Client client("http://" + server.address());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  const char* path = state.range(0) != 0 ? "/metrics" : "/debug/memmon/stats";
  for (auto _ : state) {
    auto r = client.Get(path);
    if (!r || r->status != 200) state.SkipWithError("scrape failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Scrape)->Arg(1)->Arg(0)->ArgName("metrics")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
