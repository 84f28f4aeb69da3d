// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "http/metrics.h"
#include "profile/pprof.h"
#include "test_util.h"

namespace memmon {
namespace {

using Json = nlohmann::json;

MonitorConfig Config() {
  MonitorConfig c = DefaultMonitorConfig();
  c.alert_log = "none";
  c.enable_stack_traces = false;
  return c;
}

// A monitor over a simulated process leaking 1 MiB a sample from 100 MiB,
// sampled by hand `n` times (no thread).
std::unique_ptr<MemoryMonitor> LeakingMonitor(
    int n, testing_util::SimulatedProcess** process = nullptr) {
  auto source = std::make_unique<testing_util::SimulatedProcess>(
      testing_util::SteadyLeak(100u << 20, 1u << 20));
  if (process != nullptr) *process = source.get();
  auto m = std::make_unique<MemoryMonitor>(Config(), std::move(source));
  for (int i = 0; i < n; ++i) m->TakeSample();
  return m;
}

// The line of `page` that starts with `prefix` followed by a space, or "".
std::string Line(const std::string& page, const std::string& prefix) {
  std::size_t at = page.find("\n" + prefix + " ");
  if (at == std::string::npos) return "";
  std::size_t end = page.find('\n', at + 1);
  return page.substr(at + 1, end - at - 1);
}

// The RSS breakdown is read under a cost budget, so the newest sample may
// lack it: the page keeps the series at the last sample that read them
// instead of letting them vanish between scrapes.
TEST(Metrics, RssBreakdownIsTheLastSampleThatReadIt) {
  Sample read;
  read.rss_bytes = 1000;
  read.rss_heap_bytes = 400;
  read.rss_stacks_bytes = 100;
  read.rss_code_bytes = 200;
  read.rss_file_bytes = 50;
  read.rss_anon_other_bytes = 240;
  read.rss_unexplained_bytes = 10;
  Sample skipped;
  skipped.rss_bytes = 1100;
  MemoryStats stats;
  stats.current_sample = skipped;
  std::vector<Sample> samples = {read, skipped};
  MonitorConfig config = Config();
  http::MetricsInput in;
  in.stats = &stats;
  in.samples = &samples;
  in.config = &config;
  std::string page = http::PrometheusText(in);
  EXPECT_EQ(Line(page, "memmon_rss_breakdown_bytes{part=\"heap\"}"),
            "memmon_rss_breakdown_bytes{part=\"heap\"} 400");
  EXPECT_EQ(Line(page, "memmon_rss_breakdown_bytes{part=\"stacks\"}"),
            "memmon_rss_breakdown_bytes{part=\"stacks\"} 100");
  EXPECT_EQ(Line(page, "memmon_rss_breakdown_bytes{part=\"heap_inuse\"}"), "");
  EXPECT_EQ(Line(page, "memmon_rss_bytes"), "memmon_rss_bytes 1100");

  samples = {skipped, skipped};  // never read: no series at all
  page = http::PrometheusText(in);
  EXPECT_EQ(page.find("memmon_rss_breakdown_bytes"), std::string::npos);
}

// The memory limit's families: the binding limit and its usage, the OOM
// kills of the process's cgroup, and the time to the limit at the fitted
// slope and at its upper bound (docs/limits.md). Two minutes of a leak of
// 1 MiB/s toward a 400 MiB limit (seeded noise): about 181 s to go at the
// end; flat usage: +Inf, no kill in sight.
TEST(Metrics, MemoryLimitGaugesOomKillsAndTimeToLimit) {
  std::vector<Sample> samples;
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 0.3);
  std::chrono::steady_clock::time_point t{};
  for (int i = 0; i < 120; ++i) {
    Sample s;
    s.monotonic = t + std::chrono::seconds(i);
    s.rss_bytes = 100u << 20;
    s.memory_limit_bytes = 400u << 20;
    s.memory_limit_usage_bytes =
        static_cast<uint64_t>((100 + i + noise(rng)) * (1 << 20));
    s.memory_limit_kind = MemoryLimitKind::kCgroupV2Max;
    s.memory_limit_oom_kills = 2;
    samples.push_back(s);
  }
  MemoryStats stats;
  stats.current_sample = samples.back();
  MonitorConfig config = Config();
  http::MetricsInput in;
  in.stats = &stats;
  in.samples = &samples;
  in.config = &config;
  std::string page = http::PrometheusText(in);
  EXPECT_EQ(Line(page, "memmon_memory_limit_bytes"),
            "memmon_memory_limit_bytes 419430400");
  EXPECT_NE(Line(page, "memmon_memory_limit_usage_bytes"), "");
  EXPECT_EQ(Line(page, "memmon_memory_limit_oom_kills_total"),
            "memmon_memory_limit_oom_kills_total 2");
  EXPECT_NE(page.find("# TYPE memmon_memory_limit_oom_kills_total counter"),
            std::string::npos);
  auto value = [&](const std::string& name) {
    std::string line = Line(page, name);
    EXPECT_NE(line, "") << name;
    return line.empty() ? -1.0 : std::stod(line.substr(name.size() + 1));
  };
  double fitted =
      value("memmon_memory_limit_seconds_to_limit{bound=\"fitted\"}");
  double earliest =
      value("memmon_memory_limit_seconds_to_limit{bound=\"earliest\"}");
  EXPECT_NEAR(fitted, 181, 10);
  EXPECT_GT(earliest, 0);
  EXPECT_LT(earliest, fitted);
  // Agrees with the API.
  DetectionInput d{samples, nullptr, &config};
  std::optional<TimeToLimit> api = ProjectTimeToLimit(d);
  ASSERT_TRUE(api);
  EXPECT_NEAR(api->fitted_s, fitted, 1e-3 * fitted);

  for (Sample& s : samples) s.memory_limit_usage_bytes = 200u << 20;
  stats.current_sample = samples.back();
  page = http::PrometheusText(in);
  EXPECT_EQ(
      Line(page, "memmon_memory_limit_seconds_to_limit{bound=\"fitted\"}"),
      "memmon_memory_limit_seconds_to_limit{bound=\"fitted\"} +Inf");

  for (Sample& s : samples) {
    s.memory_limit_bytes.reset();
    s.memory_limit_usage_bytes.reset();
    s.memory_limit_oom_kills.reset();
  }
  stats.current_sample = samples.back();
  page = http::PrometheusText(in);
  EXPECT_EQ(page.find("memmon_memory_limit"), std::string::npos);
}

TEST(HttpServer, ServesMetricsStatsSamplesAndAlerts) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(120);
  HttpServer server(*monitor);
  EXPECT_EQ(server.address(), "");
  ASSERT_TRUE(server.Start().ok());
  std::string address = server.address();
  ASSERT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
  httplib::Client client("http://" + address);

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  const std::string& page = metrics->body;
  MemoryStats stats = monitor->GetStats();
  ASSERT_TRUE(stats.current_sample && stats.current_sample->heap_inuse_bytes);
  EXPECT_NE(page.find("# TYPE memmon_heap_inuse_bytes gauge\n"),
            std::string::npos);
  EXPECT_EQ(Line(page, "memmon_heap_inuse_bytes"),
            "memmon_heap_inuse_bytes " +
                std::to_string(*stats.current_sample->heap_inuse_bytes));
  EXPECT_EQ(Line(page, "memmon_samples_total"), "memmon_samples_total 120");
  EXPECT_EQ(Line(page, "memmon_alerts_total{type=\"memory_growth\"}"),
            "memmon_alerts_total{type=\"memory_growth\"} 1");
  EXPECT_EQ(Line(page, "memmon_alert_firing{type=\"memory_growth\"}"),
            "memmon_alert_firing{type=\"memory_growth\"} 1");
  EXPECT_EQ(Line(page, "memmon_alert_firing{type=\"thread_leak\"}"),
            "memmon_alert_firing{type=\"thread_leak\"} 0");
  // The trend: rising steadily at 1 MiB a second (one sample a simulated
  // second), past its limit.
  EXPECT_EQ(
      Line(page, "memmon_growth_unbounded{quantity=\"heap_inuse_bytes\"}"),
      "memmon_growth_unbounded{quantity=\"heap_inuse_bytes\"} 1");
  EXPECT_EQ(
      Line(page,
           "memmon_growth_slope_per_second{quantity=\"heap_inuse_bytes\"}"),
      "memmon_growth_slope_per_second{quantity=\"heap_inuse_bytes\"} 1048576");
  EXPECT_EQ(
      Line(page,
           "memmon_growth_time_to_limit_seconds{quantity="
           "\"heap_inuse_bytes\"}"),
      "memmon_growth_time_to_limit_seconds{quantity=\"heap_inuse_bytes\"} "
      "0");
  // Flat threads: not rising, never reaching the limit.
  EXPECT_EQ(
      Line(page, "memmon_growth_time_to_limit_seconds{quantity=\"threads\"}"),
      "memmon_growth_time_to_limit_seconds{quantity=\"threads\"} +Inf");

  auto st = client.Get("/debug/memmon/stats");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, 200);
  Json j = Json::parse(st->body);
  EXPECT_EQ(j["sample_count"], 120);
  EXPECT_EQ(j["alerts_by_type"]["memory_growth"]["fired"], 1);
  EXPECT_EQ(j["alerts_by_type"]["memory_growth"]["open"], 1);

  auto samples = client.Get("/debug/memmon/samples");
  ASSERT_TRUE(samples);
  Json s = Json::parse(samples->body);
  ASSERT_TRUE(s.is_array());
  EXPECT_EQ(s.size(), stats.retained_samples);
  EXPECT_EQ(s.back()["heap_inuse_bytes"],
            *stats.current_sample->heap_inuse_bytes);

  auto alerts = client.Get("/debug/memmon/alerts");
  ASSERT_TRUE(alerts);
  Json a = Json::parse(alerts->body);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["type"], "memory_growth");
  EXPECT_EQ(a[0]["state"], "firing");

  auto missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("no such page: /nope"), std::string::npos);
  server.Stop();
  server.Stop();  // idempotent
}

TEST(HttpServer, ServesThreadsUnderGoroutineAndSaysWhenTheSamplerIsMissing) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());

  auto index = client.Get("/debug/pprof/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  for (const char* name : {"allocs", "block", "goroutine", "heap", "mmap",
                           "mutex", "peak", "threads"}) {
    EXPECT_NE(index->body.find(std::string("href=\"") + name + "\""),
              std::string::npos)
        << name;
  }
#ifndef MEMMON_TSAN
  // Under TSan a thread that ran the stack-collecting signal handler (which
  // unwinds with libunwind) crashes when it exits: libunwind's
  // thread-specific destructor takes a lock after TSan has let go of the
  // thread. The server's workers exit at Stop. profiler_test covers the
  // thread profile under TSan with threads that outlive the test.
  for (const char* path : {"/debug/pprof/goroutine", "/debug/pprof/threads"}) {
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path;
    ASSERT_EQ(r->status, 200) << path << ": " << r->body;
    profile::Profile p;
    ASSERT_TRUE(profile::ParseProfile(r->body, &p).ok()) << path;
    // This test's main thread is among them, by name.
    bool main_thread = false;
    for (const profile::Sample& s : p.samples) {
      for (const profile::Label& l : s.labels) {
        if (l.key == "thread_name" && l.str == "http_test") main_thread = true;
      }
    }
    EXPECT_TRUE(main_thread) << path;
  }
#endif
  // No heap sampler in this process: a clear 503, not an empty profile.
  for (const char* path :
       {"/debug/pprof/heap", "/debug/pprof/allocs", "/debug/pprof/peak",
        "/debug/pprof/mutex", "/debug/pprof/block"}) {
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 503) << path;
    EXPECT_NE(r->body.find("the heap sampler is not loaded"), std::string::npos)
        << r->body;
  }
  auto bad = client.Get("/debug/pprof/heap?seconds=abc");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto peak = client.Get("/debug/pprof/peak?seconds=5");  // not a rate
  ASSERT_TRUE(peak);
  EXPECT_EQ(peak->status, 400);
}

TEST(HttpServer, GcOneReleasesFreeMemoryFirst) {
  testing_util::SimulatedProcess* process = nullptr;
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3, &process);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  ASSERT_TRUE(client.Get("/debug/pprof/heap"));
  EXPECT_EQ(process->releases(), 0u);
  // As Go runs a GC: the allocator gives free memory back, then the
  // profile (here a 503: no sampler in this process).
  auto r = client.Get("/debug/pprof/heap?gc=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(process->releases(), 1u);
  EXPECT_EQ(r->status, 503);
}

TEST(HttpServer, ABearerTokenIsRequiredWhenSet) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServerOptions options;
  options.bearer_token = "s3cret";
  HttpServer server(*monitor, options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  auto denied = client.Get("/metrics");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  auto wrong = client.Get("/metrics", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto ok = client.Get("/metrics", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  // The live page holds no data: served without the token, which it reads
  // from its URL fragment for the data it fetches.
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>memmon live</title>"), std::string::npos);
  auto data = client.Get("/debug/memmon/stats");
  ASSERT_TRUE(data);
  EXPECT_EQ(data->status, 401);
}

TEST(HttpServer, TheLivePageIsSelfContainedAndTopSitesAreJson) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  // uPlot and the page's script inline; nothing loaded from elsewhere.
  EXPECT_NE(page->body.find("/* uplot/uPlot.iife.min.js */"),
            std::string::npos);
  EXPECT_NE(page->body.find("/* memmon/live.js */"), std::string::npos);
  EXPECT_EQ(page->body.find("<script src"), std::string::npos);
  EXPECT_EQ(page->body.find("<link"), std::string::npos);
  // The simulated process has no sampler: no sites, still an array.
  auto sites = client.Get("/debug/memmon/top_sites?n=5");
  ASSERT_TRUE(sites);
  EXPECT_EQ(sites->status, 200);
  EXPECT_EQ(Json::parse(sites->body), Json::array());
  for (const char* bad : {"0", "101", "x"}) {
    auto r = client.Get(std::string("/debug/memmon/top_sites?n=") + bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
  }
}

TEST(HttpServer, BadAddressesAndPortsInUseAreErrors) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(1);
  for (const char* bad : {"localhost", "127.0.0.1:", "127.0.0.1:99999", ":8080",
                          "127.0.0.1:80x"}) {
    HttpServerOptions o;
    o.listen = bad;
    HttpServer server(*monitor, o);
    Status s = server.Start();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("is not HOST:PORT"), std::string::npos);
  }
  HttpServer first(*monitor);
  ASSERT_TRUE(first.Start().ok());
  EXPECT_EQ(first.Start().code(), StatusCode::kFailedPrecondition);
  HttpServerOptions same;
  same.listen = first.address();
  HttpServer second(*monitor, same);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("cannot listen on " + first.address()),
            std::string::npos)
      << s.ToString();
}

TEST(HttpServer, TheTokenComesFromAFileOrTheEnvironment) {
  std::string token;
  unsetenv("MEMMON_HTTP_TOKEN_FILE");
  setenv("MEMMON_HTTP_TOKEN", "from-env", 1);
  ASSERT_TRUE(BearerTokenFromEnvironment(&token).ok());
  EXPECT_EQ(token, "from-env");
  std::string path = ::testing::TempDir() + "/memmon-token";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("from-file\n", f);
    std::fclose(f);
  }
  setenv("MEMMON_HTTP_TOKEN_FILE", path.c_str(), 1);
  ASSERT_TRUE(BearerTokenFromEnvironment(&token).ok());
  EXPECT_EQ(token, "from-file");
  setenv("MEMMON_HTTP_TOKEN_FILE", "/nonexistent/token", 1);
  Status s = BearerTokenFromEnvironment(&token);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/token"), std::string::npos);
  unsetenv("MEMMON_HTTP_TOKEN_FILE");
  unsetenv("MEMMON_HTTP_TOKEN");
}

}  // namespace
}  // namespace memmon
