// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon's own footprint over a long run (ctest `soak`; docs/benchmarks.md
// has a longer one): a MemoryMonitor sampling every 10 ms with its HTTP
// endpoint scraped (GET /metrics once a second, as Prometheus would; every
// scrape must answer 200), while two threads churn objects through counters
// (Tracked<T>, 64 named counters, objects that come and go) and the heap
// (blocks of random size freed soon: a bounded working set). Once a
// second it records its RSS, thread count and -- under the heap sampler --
// the heap in use. After the first quarter (warm-up), each must be flat:
// memmon's own ClassifyGrowth does not call it unbounded (a steady rise of
// more than slack / 8), and its level over the last quarter is within
// `slack` of its level over the second.
//
//   soak_target [SECONDS=60]
// Prints one line "soak: ok ..." (exit 0) or "soak: FAIL ..." (exit 1).

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "memmon/growth.h"
#include "memmon/http_server.h"
#include "memmon/memmon_preload.h"
#include "memmon/monitor.h"
#include "memmon/object_counter.h"

namespace {

struct ChurnedObject : memmon::Tracked<ChurnedObject> {
  static constexpr std::string_view kTrackedName = "soak-objects";
  char payload[48] = {};
};

uint64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long long size = 0, resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

int Threads() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
  }
  return n;
}

// GET `path` from the endpoint at "127.0.0.1:PORT" (HTTP/1.0: the server
// closes after the answer). True when the answer's status is 200 and it has
// a body.
bool Scrape(const std::string& address, const char* path) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port =
      htons(static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1)));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
    std::string request =
        std::string("GET ") + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        answer.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  const std::size_t body = answer.find("\r\n\r\n");
  return answer.starts_with("HTTP/1.1 200") ||
                 answer.starts_with("HTTP/1.0 200")
             ? body != std::string::npos && body + 4 < answer.size()
             : false;
}

// Objects and heap blocks that come and go; the live set stays bounded.
void Churn(int seed, const std::atomic<bool>& stop) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::vector<memmon::ObjectCounter*> counters;
  for (int i = 0; i < 64; ++i) {
    counters.push_back(
        &memmon::TrackObject("soak-" + std::to_string(i), 1u << 30));
  }
  std::vector<std::unique_ptr<ChurnedObject>> objects(512);
  std::vector<void*> blocks(512, nullptr);
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 1000; ++i) {
      std::size_t k = rng() % objects.size();
      objects[k] = objects[k] ? nullptr : std::make_unique<ChurnedObject>();
      memmon::ObjectCounter& c = *counters[rng() % counters.size()];
      c.Increment(64);
      c.Decrement(64);
      std::size_t b = rng() % blocks.size();
      std::free(blocks[b]);
      blocks[b] = std::malloc(16 + rng() % 8192);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (void* b : blocks) std::free(b);
}

struct Series {
  const char* name;
  double slack;  // allowed rise of the late level over the early one
  std::vector<double> t, v;
};

// Empty when flat after warm-up; else why not.
std::string Judge(const Series& s) {
  std::size_t n = s.v.size();
  if (n < 8) return std::string(s.name) + ": too few points";
  std::size_t from = n / 4;
  std::vector<double> t(s.t.begin() + from, s.t.end());
  std::vector<double> v(s.v.begin() + from, s.v.end());
  memmon::GrowthTrend g = memmon::ClassifyGrowth(t, v);
  auto mean = [&](std::size_t a, std::size_t b) {
    double sum = 0;
    for (std::size_t i = a; i < b; ++i) sum += s.v[i];
    return sum / static_cast<double>(b - a);
  };
  double early = mean(n / 4, n / 2), late = mean(3 * n / 4, n);
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s %s, %.0f -> %.0f", s.name,
                std::string(memmon::ToString(g.kind)).c_str(), early, late);
  // A steady rise of at least an eighth of the slack (256 KiB of RSS: a
  // leak of 60 bytes a sample over the judged 45 s), or any rise past it.
  // Page tables and allocator arenas may creep by a few KiB, steadily.
  if ((g.kind == memmon::GrowthKind::kUnbounded &&
       late - early > s.slack / 8) ||
      late - early > s.slack) {
    return buf;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 60;
  memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
  config.sample_interval = std::chrono::milliseconds(10);
  config.alert_log = "none";
  memmon::MemoryMonitor monitor(config);
  if (memmon::Status s = monitor.Start(); !s.ok()) {
    std::printf("soak: FAIL %s\n", s.ToString().c_str());
    return 1;
  }
  memmon::HttpServer http(monitor);
  if (memmon::Status s = http.Start(); !s.ok()) {
    std::printf("soak: FAIL %s\n", s.ToString().c_str());
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread churn1(Churn, 1, std::cref(stop));
  std::thread churn2(Churn, 2, std::cref(stop));
  auto counters = reinterpret_cast<memmon_preload_counters_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_COUNTERS_SYMBOL));
  Series rss{"rss_bytes", 2 << 20, {}, {}};
  Series threads{"threads", 0.5, {}, {}};
  Series heap{"heap_inuse_bytes", 1 << 20, {}, {}};
  const auto start = std::chrono::steady_clock::now();
  std::size_t reads = 0, scrapes = 0, failed_scrapes = 0;
  const std::string address = http.address();
  for (int second = 1; second <= seconds; ++second) {
    // What Prometheus does meanwhile: scrape the endpoint.
    ++(Scrape(address, "/metrics") ? scrapes : failed_scrapes);
    // What a user's code does meanwhile: read the monitor.
    while (std::chrono::steady_clock::now() <
           start + std::chrono::seconds(second)) {
      reads += monitor.GetSamples().size() + monitor.GetAlerts().size();
      monitor.GetStats();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    double t = second;
    rss.t.push_back(t);
    rss.v.push_back(static_cast<double>(RssBytes()));
    threads.t.push_back(t);
    threads.v.push_back(Threads());
    memmon_preload_counters c{};
    if (counters != nullptr && counters(&c, sizeof(c)) == 0) {
      heap.t.push_back(t);
      heap.v.push_back(static_cast<double>(c.inuse_bytes));
    }
  }
  stop.store(true);
  churn1.join();
  churn2.join();
  uint64_t samples = monitor.GetStats().sample_count;
  http.Stop();
  monitor.Stop();
  std::string why;
  if (failed_scrapes != 0 || scrapes == 0) {
    why = std::to_string(failed_scrapes) + " of " +
          std::to_string(scrapes + failed_scrapes) + " scrapes failed";
  }
  for (const Series* s : {&rss, &threads, &heap}) {
    if (s->v.empty()) continue;  // no sampler: no heap series
    std::string w = Judge(*s);
    if (!w.empty()) why += (why.empty() ? "" : "; ") + w;
  }
  char heap_text[64] = "unknown (no sampler)";
  if (!heap.v.empty()) {
    std::snprintf(heap_text, sizeof(heap_text), "%.2f -> %.2f MiB",
                  heap.v[heap.v.size() / 4] / 1048576.0,
                  heap.v.back() / 1048576.0);
  }
  // Levels from the end of warm-up to the end.
  std::printf(
      "soak: %s %d s, %llu samples at 10 ms, %zu scrapes, rss %.1f -> %.1f "
      "MiB, threads %.0f -> %.0f, heap %s%s%s\n",
      why.empty() && reads > 0 ? "ok" : "FAIL", seconds,
      static_cast<unsigned long long>(samples), scrapes,
      rss.v[rss.v.size() / 4] / 1048576.0, rss.v.back() / 1048576.0,
      threads.v[threads.v.size() / 4], threads.v.back(), heap_text,
      why.empty() ? "" : ": ", why.c_str());
  return why.empty() && reads > 0 ? 0 : 1;
}
