// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/bounded_server.h"
#include "http/metrics.h"
#include "http/source.h"
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

// A client socket connected to `address` ("127.0.0.1:PORT"), or -1, with a
// receive buffer of `rcvbuf` bytes when not 0 (set before connecting: it
// sets the window). Reads time out after 60 s: a guard against a hang, not
// a performance claim.
int Connect(const std::string& address, int rcvbuf = 0) {
  int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  if (rcvbuf > 0) {
    setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(
      static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  timeval guard{60, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
  if (connect(sock, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(sock);
    return -1;
  }
  return sock;
}

bool SendAll(int sock, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(sock, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Everything the server sends until it closes.
std::string ReadAll(int sock) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(sock, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Sends `request` as is on a new connection, returns the whole answer.
std::string Raw(const std::string& address, const std::string& request) {
  int sock = Connect(address);
  if (sock < 0) return "connect failed";
  SendAll(sock, request);
  std::string answer = ReadAll(sock);
  close(sock);
  return answer;
}

// The value of `series` (its whole name with labels) in a /metrics page,
// or -1.
double Series(const std::string& page, const std::string& series) {
  std::size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(page.substr(at + series.size() + 2));
}

std::size_t OpenDescriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// VmHWM of this process in bytes, after clear_refs reset it to the RSS when
// `reset`.
uint64_t PeakRss(bool reset) {
  if (reset) std::ofstream("/proc/self/clear_refs") << "5";
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;
    }
  }
  return 0;
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

// However often clients ask, a profile or top-sites list is built at most
// once per profile_reuse: a second request within it gets the same bytes
// with an Age header; with profile_reuse 0 every request builds. (The top
// sites here -- this process has no sampler for the profiles -- and the
// thread profile but under TSan: see ServesTheGoPprofIndex.)
TEST(HttpServer, AProfileIsBuiltAtMostOncePerReuseInterval) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServerOptions options;
  options.profile_reuse = std::chrono::hours(1);
  HttpServer server(*monitor, options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  auto sites = client.Get("/debug/memmon/top_sites?n=3");
  ASSERT_TRUE(sites);
  ASSERT_EQ(sites->status, 200);
  EXPECT_FALSE(sites->has_header("Age"));
  auto again = client.Get("/debug/memmon/top_sites?n=3");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->has_header("Age"));
  EXPECT_EQ(again->body, sites->body);
  auto other = client.Get("/debug/memmon/top_sites?n=4");  // another list
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_header("Age"));
#ifndef MEMMON_TSAN
  auto first = client.Get("/debug/pprof/threads");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  EXPECT_FALSE(first->has_header("Age"));
  auto second = client.Get("/debug/pprof/goroutine");  // the same profile
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200);
  EXPECT_TRUE(second->has_header("Age"));
  EXPECT_EQ(second->body, first->body);
#endif
  server.Stop();

  options.profile_reuse = std::chrono::milliseconds(0);
  HttpServer fresh(*monitor, options);
  ASSERT_TRUE(fresh.Start().ok());
  httplib::Client fresh_client("http://" + fresh.address());
  for (int i = 0; i < 2; ++i) {
    auto r = fresh_client.Get("/debug/memmon/top_sites?n=3");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_FALSE(r->has_header("Age")) << i;
  }
}

TEST(HttpServer, ABearerTokenIsRequiredWhenSet) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServerOptions options;
  options.bearer_token = "s3cret";
  HttpServer server(*monitor, options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  // Every path that carries the process's data needs the token...
  for (const char* path :
       {"/debug/memmon/stats", "/debug/memmon/samples", "/debug/memmon/alerts",
        "/debug/memmon/top_sites", "/debug/pprof/", "/debug/pprof/heap",
        "/debug/pprof/goroutine", "/nope"}) {
    auto denied = client.Get(path);
    ASSERT_TRUE(denied) << path;
    EXPECT_EQ(denied->status, 401) << path;
    EXPECT_EQ(denied->get_header_value("WWW-Authenticate"), "Bearer");
    for (const char* wrong : {"Bearer nope", "Bearer s3cre", "Bearer s3cret2",
                              "s3cret", "Bearer S3CRET"}) {
      auto r = client.Get(path, {{"Authorization", wrong}});
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 401) << path << " with " << wrong;
    }
  }
  auto ok =
      client.Get("/debug/memmon/stats", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  // ...but /metrics, which Prometheus scrapes (numbers, no addresses or
  // paths)...
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("\nmemmon_samples_total 3\n"),
            std::string::npos);
  // ...and the live page's shell, the same static document for every
  // process: the data it fetches needs the token, which it reads from its
  // URL fragment.
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<title>memmon live</title>"), std::string::npos);
  EXPECT_EQ(page->body.find("memmon_"), std::string::npos);
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

// Only GET and HEAD: every other method gets 405 with Allow, without its
// body being read, whatever the path and whether or not it has a body.
TEST(HttpServer, EveryMethodButGetAndHeadIs405) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE", "OPTIONS",
                             "TRACE", "CONNECT", "PROPFIND", "BREW"}) {
    for (const char* path : {"/metrics", "/", "/debug/pprof/heap", "/nope"}) {
      for (const char* body : {"", "Content-Length: 5\r\n\r\nhello"}) {
        std::string request = std::string(method) + " " + path +
                              " HTTP/1.1\r\nHost: x\r\n" +
                              (*body ? body : "\r\n");
        std::string answer = Raw(server.address(), request);
        EXPECT_EQ(answer.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u)
            << method << " " << path << ": " << answer;
        EXPECT_NE(answer.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos)
            << method << " " << path;
      }
    }
  }
  // The library's client too: a POST without a body is answered, not left
  // waiting.
  httplib::Client client("http://" + server.address());
  client.set_read_timeout(60, 0);  // a guard against a hang
  auto post = client.Post("/metrics");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  auto del = client.Delete("/metrics");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  auto head = client.Head("/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  // Not a request at all: 400.
  EXPECT_EQ(Raw(server.address(), "\x16\x03\x01 garbage\r\n\r\n")
                .rfind("HTTP/1.1 400 ", 0),
            0u);
  EXPECT_EQ(Raw(server.address(), "get /metrics HTTP/1.1\r\n\r\n")
                .rfind("HTTP/1.1 400 ", 0),
            0u);
}

// A 10 MB body is refused before it is read: a POST (405) and a GET with a
// body (413). The process's peak RSS does not grow by the body (bound: a
// quarter of it; before, a body was read whole into memory).
TEST(HttpServer, ALargeBodyIsRefusedUnread) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  constexpr std::size_t kBody = 10 << 20;
  const std::string chunk(64 << 10, 'x');  // sent again and again
  const uint64_t before = PeakRss(/*reset=*/true);
  ASSERT_GT(before, 0u);
  for (const char* method : {"POST", "GET"}) {
    int sock = Connect(server.address());
    ASSERT_GE(sock, 0);
    std::string head = std::string(method) +
                       " /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::to_string(kBody) + "\r\n\r\n";
    ASSERT_TRUE(SendAll(sock, head));
    // The body, until the server stops taking it (it reads a bounded
    // amount after answering, then closes).
    std::size_t sent = 0;
    while (sent < kBody && SendAll(sock, chunk)) sent += chunk.size();
    std::string answer = ReadAll(sock);
    close(sock);
    EXPECT_EQ(answer.rfind(std::string("HTTP/1.1 ") +
                               (std::string(method) == "GET" ? "413" : "405"),
                           0),
              0u)
        << method << ": " << answer.substr(0, 200);
  }
  const uint64_t after = PeakRss(/*reset=*/false);
  EXPECT_LT(after, before + kBody / 4)
      << "peak RSS " << before << " -> " << after;
  // The server's own account: nothing held, the refusals counted.
  httplib::Client client("http://" + server.address());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(Series(metrics->body, "memmon_http_response_bytes_held"), 0);
  EXPECT_EQ(Series(metrics->body, "memmon_http_responses_total{code=\"405\"}"),
            1);
  EXPECT_EQ(Series(metrics->body, "memmon_http_responses_total{code=\"413\"}"),
            1);
}

// Connections that send half a head and stop (more than the gate holds)
// do not keep a scrape from being answered: the oldest make room. The
// client's timeout is a guard against a hang, not a performance claim.
TEST(HttpServer, HalfOpenConnectionsDoNotStopMetrics) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  std::vector<int> slow;
  for (std::size_t i = 0; i < http::BoundedServer::kGateConnections + 8; ++i) {
    int sock = Connect(server.address());
    ASSERT_GE(sock, 0);
    ASSERT_TRUE(SendAll(sock, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Half: "));
    slow.push_back(sock);
  }
  httplib::Client client("http://" + server.address());
  client.set_read_timeout(60, 0);
  for (int i = 0; i < 3; ++i) {
    auto r = client.Get("/metrics");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200) << i;
    EXPECT_NE(r->body.find("\nmemmon_samples_total 3\n"), std::string::npos);
  }
  for (int sock : slow) close(sock);
}

// Many idle connections: the server holds at most its bound of them (the
// rest are answered 503 or 408 and closed), and still serves.
TEST(HttpServer, ManyIdleConnectionsKeepDescriptorsBounded) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  const std::size_t before = OpenDescriptors();
  constexpr std::size_t kIdle = 300;
  std::vector<int> idle;
  for (std::size_t i = 0; i < kIdle; ++i) {
    int sock = Connect(server.address());
    ASSERT_GE(sock, 0) << i;
    idle.push_back(sock);
  }
  // A scrape in the burst may be shed (503) while the gate thread catches
  // up; once it has (evicting idle connections), scrapes are served.
  httplib::Client client("http://" + server.address());
  client.set_read_timeout(60, 0);
  std::string page;
  ASSERT_TRUE(testing_util::WaitFor([&] {
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) return false;
    page = r->body;
    return true;
  }));
  // This process holds the clients' kIdle sockets, the scraping client's
  // (until it sees the close) and the server's: without the bound, kIdle.
  const std::size_t server_held = OpenDescriptors() - before - kIdle - 1;
  EXPECT_LE(server_held, http::BoundedServer::ConnectionLimit());
  EXPECT_LE(Series(page, "memmon_http_connections{state=\"reading\"}"),
            2 * http::BoundedServer::kGateConnections);
  EXPECT_GE(Series(page, "memmon_http_shed_connections_total"),
            kIdle - 2 * http::BoundedServer::kGateConnections);
  for (int sock : idle) close(sock);
}

// One response from `sock` (its head and a Content-Length body), or ""
// when the server closed the connection first.
std::string ReadResponse(int sock) {
  std::string out;
  char c;
  while (out.find("\r\n\r\n") == std::string::npos) {
    if (recv(sock, &c, 1, 0) != 1) return "";
    out += c;
  }
  std::string length = Line(out, "Content-Length:");
  std::size_t body =
      length.empty() ? 0 : std::stoul(length.substr(length.find(':') + 1));
  std::string rest(body, '\0');
  std::size_t got = 0;
  while (got < body) {
    ssize_t n = recv(sock, rest.data() + got, body - got, 0);
    if (n <= 0) return "";
    got += static_cast<std::size_t>(n);
  }
  return out + rest;
}

// HTTP/1.1 keep-alive: requests one after another, and pipelined, on one
// connection are each answered (a worker reads no further than its
// request's head, so the next stays for the gate); Connection: close
// closes; kept-alive connections left idle make room for new ones,
// closed without an answer.
TEST(HttpServer, KeptAliveConnectionsServeRequestAfterRequest) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  int sock = Connect(server.address());
  ASSERT_GE(sock, 0);
  for (const char* path : {"/metrics", "/debug/memmon/stats", "/debug/pprof/",
                           "/nope", "/debug/memmon/alerts"}) {
    ASSERT_TRUE(SendAll(sock, std::string("GET ") + path +
                                  " HTTP/1.1\r\nHost: memmon\r\n\r\n"));
    std::string answer = ReadResponse(sock);
    EXPECT_EQ(answer.rfind(std::strcmp(path, "/nope") == 0 ? "HTTP/1.1 404"
                                                           : "HTTP/1.1 200",
                           0),
              0u)
        << path << ": " << answer.substr(0, 200);
    EXPECT_NE(answer.find("Keep-Alive: timeout=5"), std::string::npos) << path;
  }
  // Two requests in one write: both answered, in order.
  ASSERT_TRUE(SendAll(sock,
                      "GET /debug/memmon/alerts HTTP/1.1\r\nHost: m\r\n\r\n"
                      "GET /metrics HTTP/1.1\r\nHost: m\r\n\r\n"));
  std::string alerts = ReadResponse(sock);
  std::string metrics = ReadResponse(sock);
  EXPECT_NE(alerts.find("application/json"), std::string::npos) << alerts;
  EXPECT_NE(metrics.find("# TYPE memmon_rss_bytes gauge"), std::string::npos);
  // Requests that came on a connection used before: the four after the
  // first above and both of the pair (the gate counts one when its head
  // begins to arrive, before this page is built).
  EXPECT_EQ(Series(metrics.substr(metrics.find("\r\n\r\n") + 3),
                   "memmon_http_keepalive_requests_total"),
            6);
  // Connection: close is honoured.
  ASSERT_TRUE(SendAll(
      sock, "GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n"));
  std::string last = ReadAll(sock);
  EXPECT_EQ(last.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_NE(last.find("Connection: close"), std::string::npos);
  close(sock);

  // Twice the gate's room in kept-alive idle connections, then a new
  // client: it is served, and the idle ones that made room were closed
  // without a word (no 408 to a client that asked nothing).
  std::vector<int> kept;
  for (std::size_t i = 0; i < 2 * http::BoundedServer::kGateConnections; ++i) {
    int k = Connect(server.address());
    ASSERT_GE(k, 0);
    ASSERT_TRUE(SendAll(k, "GET /debug/pprof/ HTTP/1.1\r\nHost: m\r\n\r\n"));
    ASSERT_EQ(ReadResponse(k).rfind("HTTP/1.1 200", 0), 0u) << i;
    kept.push_back(k);
  }
  httplib::Client client("http://" + server.address());
  auto r = client.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // At most the gate's room stays open; each one closed was closed with
  // nothing sent.
  std::vector<bool> closed(kept.size(), false);
  bool sent_something = false;
  ASSERT_TRUE(testing_util::WaitFor([&] {
    std::size_t n_closed = 0;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      char c;
      ssize_t n = recv(kept[i], &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) sent_something = true;
      if (n == 0) closed[i] = true;
      n_closed += closed[i] ? 1 : 0;
    }
    return n_closed >= http::BoundedServer::kGateConnections;
  }));
  EXPECT_FALSE(sent_something) << "an idle kept-alive connection got bytes";
  for (int k : kept) close(k);
}

// The server's own threads, connections and responses in /metrics.
TEST(HttpServer, MetricsShowTheServersOwnState) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(Raw(server.address(), "DELETE / HTTP/1.1\r\n\r\n")
                .rfind("HTTP/1.1 405", 0),
            0u);
  httplib::Client client("http://" + server.address());
  ASSERT_TRUE(client.Get("/nope"));
  // The 404's worker counts it, lets go of its body and is done serving
  // after the client has the answer, and /metrics is served by another
  // worker: scrape until the page shows all three (seen once under TSan:
  // serving 2, no 404 yet, 57 bytes held). Each scrape is counted before
  // the next, as one worker serves /metrics.
  std::string page;
  int scrapes = 0;
  ASSERT_TRUE(testing_util::WaitFor([&] {
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) return false;
    ++scrapes;
    page = r->body;
    return Series(page, "memmon_http_responses_total{code=\"404\"}") == 1 &&
           Series(page, "memmon_http_connections{state=\"serving\"}") == 1 &&
           Series(page, "memmon_http_response_bytes_held") == 0;
  }));
  using B = http::BoundedServer;
  EXPECT_EQ(Series(page, "memmon_http_threads"), B::kThreads);
  EXPECT_EQ(Series(page, "memmon_http_workers"), B::kWorkers + 1);
  EXPECT_EQ(Series(page, "memmon_http_connections_max"), B::ConnectionLimit());
  // This scrape is the one connection, being served.
  EXPECT_EQ(Series(page, "memmon_http_connections{state=\"reading\"}"), 0);
  EXPECT_EQ(Series(page, "memmon_http_connections{state=\"queued\"}"), 0);
  EXPECT_EQ(Series(page, "memmon_http_connections{state=\"serving\"}"), 1);
  EXPECT_EQ(Series(page, "memmon_http_profile_waits"), 0);
  EXPECT_EQ(Series(page, "memmon_http_profile_waits_max"), B::kProfileWaits);
  EXPECT_EQ(Series(page, "memmon_http_shed_connections_total"), 0);
  EXPECT_EQ(Series(page, "memmon_http_responses_total{code=\"405\"}"), 1);
  EXPECT_EQ(Series(page, "memmon_http_responses_total{code=\"404\"}"), 1);
  EXPECT_GT(Series(page, "memmon_http_written_bytes_total"), 0);
  EXPECT_EQ(Series(page, "memmon_http_response_bytes_held"), 0);
  for (const char* family :
       {"memmon_http_threads gauge", "memmon_http_connections gauge",
        "memmon_http_responses_total counter",
        "memmon_http_shed_connections_total counter",
        "memmon_http_written_bytes_total counter"}) {
    EXPECT_NE(page.find(std::string("\n# TYPE ") + family + "\n"),
              std::string::npos)
        << family;
  }
  // The next scrape counts the ones before it: 200s, more bytes.
  auto again = client.Get("/metrics");
  ASSERT_TRUE(again);
  EXPECT_EQ(Series(again->body, "memmon_http_responses_total{code=\"200\"}"),
            scrapes);
  EXPECT_GT(Series(again->body, "memmon_http_written_bytes_total"),
            Series(page, "memmon_http_written_bytes_total"));
}

// Pages made from memory, and profiles (here the top-sites list) already
// built and kept, are answered by the gate itself, with no worker woken;
// what must be built, or takes a query, goes to a worker.
TEST(HttpServer, ReadyPagesAreServedByTheGateItself) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServerOptions options;
  options.profile_reuse = std::chrono::hours(1);
  HttpServer server(*monitor, options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  // Each /metrics scrape is served by the gate and counts itself.
  auto gate_served = [&] {
    auto r = client.Get("/metrics");
    return r && r->status == 200
               ? Series(r->body, "memmon_http_gate_served_total")
               : -1.0;
  };
  const double before = gate_served();
  ASSERT_GE(before, 1);
  auto built = client.Get("/debug/memmon/top_sites");  // built: a worker's
  ASSERT_TRUE(built);
  ASSERT_EQ(built->status, 200);
  EXPECT_FALSE(built->has_header("Age"));
  EXPECT_EQ(gate_served(), before + 1);
  auto kept = client.Get("/debug/memmon/top_sites");  // kept: the gate's
  ASSERT_TRUE(kept);
  EXPECT_TRUE(kept->has_header("Age"));
  EXPECT_EQ(kept->body, built->body);
  auto other = client.Get("/debug/memmon/top_sites?n=3");  // a query: worker
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  for (const char* page : {"/debug/pprof/", "/debug/memmon/stats", "/"}) {
    auto r = client.Get(page);
    ASSERT_TRUE(r) << page;
    EXPECT_EQ(r->status, 200) << page;
  }
  EXPECT_EQ(gate_served(), before + 1 + 1 + 3 + 1);
}

// With many kept-alive connections the gate serves their requests in
// rounds (BoundedServer::kRoundInterval): eight requests sent 20 ms apart
// (160 ms in all) wake it a few times, not once each; every one is
// answered. Not a timing claim: the pacing only spreads the requests so
// that a gate waking per request would wake eight times.
TEST(HttpServer, ManyConnectionsAreServedInRounds) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  const std::string address = server.address();
  static_assert(http::BoundedServer::kRoundConnections < 8);
  const std::string get = "GET /debug/memmon/stats HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<int> socks;
  for (int i = 0; i < 8; ++i) {
    int sock = Connect(address);
    ASSERT_GE(sock, 0);
    socks.push_back(sock);
    ASSERT_TRUE(SendAll(sock, get));  // kept alive at the gate after this
    ASSERT_NE(ReadResponse(sock).find(" 200 "), std::string::npos);
  }
  int scraper = Connect(address);
  ASSERT_GE(scraper, 0);
  auto wakeups = [&] {
    if (!SendAll(scraper, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
      return -1.0;
    return Series(ReadResponse(scraper), "memmon_http_gate_wakeups_total");
  };
  const double before = wakeups();
  ASSERT_GE(before, 1);
  for (int sock : socks) {
    ASSERT_TRUE(SendAll(sock, get));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int sock : socks) {
    std::string answer = ReadResponse(sock);
    EXPECT_NE(answer.find(" 200 "), std::string::npos) << answer;
    EXPECT_NE(answer.find("\"sample_count\""), std::string::npos);
    close(sock);
  }
  // Eight requests and the scrape that counts them: at most 6 wake-ups
  // (rounds every 100 ms over 160 ms of sending, with room for a slow
  // machine), against 9 for a wake-up per request.
  const double woke = wakeups() - before;
  EXPECT_GE(woke, 2);
  EXPECT_LE(woke, 6);
  close(scraper);
}

// The samples and alerts lists are made once per sample and kept between
// requests: each sample taken shows in the next answer.
TEST(HttpServer, TheSamplesPageFollowsEachSample) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  auto body = [&](const char* path) {
    auto r = client.Get(path);
    return r && r->status == 200 ? r->body : std::string();
  };
  std::string samples = body("/debug/memmon/samples");
  ASSERT_EQ(Json::parse(samples).size(), 3u);
  EXPECT_EQ(body("/debug/memmon/samples"), samples);  // the kept page
  const std::size_t alerts = Json::parse(body("/debug/memmon/alerts")).size();
  for (int i = 4; i <= 150; ++i) {
    monitor->TakeSample();
    std::string now = body("/debug/memmon/samples");
    ASSERT_NE(now, samples) << "after sample " << i;
    ASSERT_EQ(Json::parse(now).size(), monitor->GetSamples().size())
        << "after sample " << i;
    samples = now;
  }
  // The steady leak alerts on the way: the alerts list grew with it.
  const std::size_t now = Json::parse(body("/debug/memmon/alerts")).size();
  EXPECT_GT(now, alerts);
  EXPECT_EQ(now, monitor->GetAlerts().size());
}

// A client that asks for pages and stops reading cannot hold the gate,
// which serves everyone: what the client does not take at once goes to a
// worker to send, and when it reads again it gets every answer whole.
TEST(HttpServer, AClientThatStopsReadingDoesNotHoldTheGate) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  const std::string address = server.address();
  // A small window: the live page (~65 KB) does not fit.
  int slow = Connect(address, /*rcvbuf=*/4096);
  ASSERT_GE(slow, 0);
  // More pages than the kernel buffers for the connection (its send
  // buffer grows to tcp_wmem's largest).
  auto page = httplib::Client("http://" + address).Get("/");
  ASSERT_TRUE(page);
  std::ifstream wmem("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t least = 0, initial = 0, largest = 0;
  ASSERT_TRUE(wmem >> least >> initial >> largest);
  const std::size_t kPages = largest / page->body.size() + 16;
  std::string asks;
  for (std::size_t i = 0; i < kPages; ++i) {
    asks += "GET / HTTP/1.1\r\nHost: m\r\n\r\n";
  }
  ASSERT_TRUE(SendAll(slow, asks));
  // Until a worker is sending the slow client's rest, and after: every
  // scrape is answered (the gate is free).
  httplib::Client client("http://" + address);
  ASSERT_TRUE(testing_util::WaitFor([&] {
    auto r = client.Get("/metrics");
    if (!r || r->status != 200) return false;
    return Series(r->body, "memmon_http_connections{state=\"serving\"}") >= 2;
  }));
  for (int i = 0; i < 3; ++i) {
    auto r = client.Get("/metrics");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  // The slow client reads: every page, whole, in order.
  for (std::size_t i = 0; i < kPages; ++i) {
    std::string answer = ReadResponse(slow);
    ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << i;
    EXPECT_NE(answer.find("</html>"), std::string::npos) << i;
  }
  close(slow);
}

// The nice value of each thread of this process.
std::vector<int> ThreadNiceValues() {
  std::vector<int> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream stat(e.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)),
                     std::istreambuf_iterator<char>());
    std::size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    // After "pid (comm) ": state is field 3; nice is field 19.
    for (int i = 3; i <= 19 && (fields >> field); ++i) {
      if (i == 19) out.push_back(std::stoi(field));
    }
  }
  return out;
}

// The gate and the workers run kNiceIncrement nicer than the thread that
// started the server, so the program keeps its CPUs when it needs them.
TEST(HttpServer, TheServersThreadsAreNicer) {
  const int base = getpriority(PRIO_PROCESS, 0);  // this thread's
  auto nicer = [&] {
    std::size_t n = 0;
    for (int v : ThreadNiceValues()) {
      if (v == std::min(19, base + http::BoundedServer::kNiceIncrement)) ++n;
    }
    return n;
  };
  const std::size_t before = nicer();
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(1);
  HttpServer server(*monitor);
  ASSERT_TRUE(server.Start().ok());
  // The gate and the five workers lower their own priority as they start.
  EXPECT_TRUE(testing_util::WaitFor([&] { return nicer() == before + 6; }))
      << nicer() - before;
  server.Stop();
  EXPECT_EQ(nicer(), before);
}

// cpp-httplib's Server ignores SIGPIPE process-wide when constructed; the
// program's own disposition stays (the server writes with MSG_NOSIGNAL), so
// a program that relies on SIGPIPE to stop writing to a closed pipe still
// does under MEMMON_HTTP.
TEST(HttpServer, LeavesTheProgramsSigpipeAlone) {
  struct sigaction original {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &original), 0);
  signal(SIGPIPE, SIG_DFL);
  {
    std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(1);
    HttpServer server(*monitor);
    ASSERT_TRUE(server.Start().ok());
    struct sigaction now {};
    ASSERT_EQ(sigaction(SIGPIPE, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
    // A client that goes away mid-response does not kill the process.
    int sock = Connect(server.address());
    ASSERT_GE(sock, 0);
    ASSERT_TRUE(SendAll(sock, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    close(sock);
    httplib::Client client("http://" + server.address());
    auto r = client.Get("/metrics");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  sigaction(SIGPIPE, &original, nullptr);
}

TEST(Metrics, TrackedObjectsHaveACountAndABytesSeriesEach) {
  MemoryStats stats;
  stats.current_sample = Sample{};
  stats.tracked_objects["Session"].name = "Session";
  stats.tracked_objects["Session"].count = 12;
  stats.tracked_objects["Session"].bytes = 3072;
  stats.tracked_objects["a \"quoted\" name"].count = 1;
  stats.tracked_objects["a \"quoted\" name"].bytes = 8;
  http::MetricsInput in;
  in.stats = &stats;
  std::string page = http::PrometheusText(in);
  EXPECT_EQ(Line(page, "memmon_tracked_objects{name=\"Session\"}"),
            "memmon_tracked_objects{name=\"Session\"} 12");
  EXPECT_EQ(Line(page, "memmon_tracked_object_bytes{name=\"Session\"}"),
            "memmon_tracked_object_bytes{name=\"Session\"} 3072");
  EXPECT_EQ(
      Line(page, "memmon_tracked_objects{name=\"a \\\"quoted\\\" name\"}"),
      "memmon_tracked_objects{name=\"a \\\"quoted\\\" name\"} 1");
  EXPECT_NE(page.find("# TYPE memmon_tracked_object_bytes gauge\n"),
            std::string::npos);
}

// A source whose heap profile is always the same empty one: ?seconds= waits
// without a sampler in the process.
class StillSource : public internal::HttpSource {
 public:
  explicit StillSource(MemoryMonitor& m) : monitor_(m) {}
  MemoryStats Stats() const override { return monitor_.GetStats(); }
  std::vector<Sample> Samples() const override { return {}; }
  std::vector<MemoryAlert> Alerts() const override { return {}; }
  const MonitorConfig& Config() const override { return monitor_.config(); }
  std::optional<memmon_preload_counters> SamplerCounters() const override {
    return std::nullopt;
  }
  Status SamplerProfile(const std::string&, const std::string&,
                        std::string* gz) override {
    profile::Profile p;
    p.sample_types = {{"inuse_space", "bytes"}};
    return profile::Gzip(profile::EncodeProfile(p), gz);
  }
  Status ThreadProfile(const std::string&, std::string*) override {
    return Status::Unavailable("no threads here");
  }
  std::vector<AllocationSite> TopSites(std::size_t) override { return {}; }
  void ReleaseFreeMemory() override {}

 private:
  MemoryMonitor& monitor_;
};

// ?seconds= is capped (1 to 120), and at most kProfileWaits wait at once:
// the next gets 503 instead of a worker.
TEST(HttpServer, SecondsIsCappedAndFewWaitAtOnce) {
  std::unique_ptr<MemoryMonitor> monitor = LeakingMonitor(3);
  HttpServerOptions options;
  HttpServer server(std::make_unique<StillSource>(*monitor), options);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("http://" + server.address());
  client.set_read_timeout(60, 0);
  for (const char* bad : {"0", "121", "600", "abc", "-1", ""}) {
    auto r = client.Get(std::string("/debug/pprof/heap?seconds=") + bad);
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400) << bad;
  }
  // Two long waits hold their workers; a third is refused at once.
  std::vector<std::thread> waiting;
  std::atomic<int> stopped_answers{0};
  for (uint64_t i = 0; i < http::BoundedServer::kProfileWaits; ++i) {
    waiting.emplace_back([&] {
      httplib::Client c("http://" + server.address());
      c.set_read_timeout(60, 0);
      auto r = c.Get("/debug/pprof/heap?seconds=120");
      if (r && r->status == 503) stopped_answers.fetch_add(1);
    });
  }
  ASSERT_TRUE(testing_util::WaitFor([&] {
    auto m = client.Get("/metrics");
    return m && Series(m->body, "memmon_http_profile_waits") ==
                    http::BoundedServer::kProfileWaits;
  }));
  auto third = client.Get("/debug/pprof/allocs?seconds=1");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 503);
  EXPECT_NE(third->body.find("wait already"), std::string::npos) << third->body;
  // Scrapes and other pages are still served meanwhile.
  auto stats = client.Get("/debug/memmon/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  // Stop ends the waits (503: stopping) instead of waiting them out.
  server.Stop();
  for (std::thread& t : waiting) t.join();
  EXPECT_EQ(stopped_answers.load(),
            static_cast<int>(http::BoundedServer::kProfileWaits));
}

}  // namespace
}  // namespace memmon
