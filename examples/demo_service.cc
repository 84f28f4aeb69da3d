// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The demo: a small "service" monitored by memmon in-process, as a team
// would start it (two lines), with realistic noise around one real leak:
//   - a response cache that fills to its cap and then evicts (bounded),
//   - scratch buffers allocated and freed on every request (sawtooth),
//   - SessionRegistry::Remember(), which keeps 192 KiB per request forever
//     (Session objects count themselves: an object_threshold at 500),
//   - a descriptor leak in AuditLog::Open() that starts half-way through.
// memmon must alert on the leak and the descriptors, and on nothing else.
//
//   build/bin/demo_service [seconds] [--no-monitor]     (default 8 s)
//
// --no-monitor: no in-process monitor, only the service and a progress line
// a second; for watching it from outside (`make demo` runs it under
// `memmon run`, which finds the leaking function).

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "memmon/memmon.h"

namespace {

// A cache entry counts itself (object tracking with Tracked<T>).
struct CacheEntry : memmon::Tracked<CacheEntry> {
  static constexpr std::string_view kTrackedName = "cache-entries";
  std::vector<char> value;
};

// Bounded: at most 256 entries of 64 KiB (16 MiB), oldest evicted.
class ResponseCache {
 public:
  void Put(std::vector<char> value) {
    entries_.emplace_back().value = std::move(value);
    if (entries_.size() > 256) entries_.pop_front();
  }

 private:
  std::deque<CacheEntry> entries_;
};

// A session counts itself with its real size (an ObjectGuard member), so the
// leak also shows as a "sessions" count that crosses its threshold.
struct Session {
  explicit Session(int request_id) : blob(std::make_unique<char[]>(192 << 10)) {
    std::memset(blob.get(), request_id & 0xff, 192 << 10);
  }
  std::unique_ptr<char[]> blob;
  memmon::ObjectGuard counted{memmon::GetObjectCounter("sessions"), 192 << 10};
};

// The leak: every session is remembered and never forgotten.
class SessionRegistry {
 public:
  void Remember(int request_id) { sessions_.emplace_back(request_id); }

 private:
  std::deque<Session> sessions_;
};

// The second leak: one descriptor per call, never closed.
class AuditLog {
 public:
  void Open() { leaked_.push_back(open("/dev/null", O_WRONLY | O_CLOEXEC)); }

 private:
  std::vector<int> leaked_;
};

double MiB(const std::optional<uint64_t>& b) {
  return b ? static_cast<double>(*b) / (1 << 20) : -1;
}

struct Service {
  ResponseCache cache;
  SessionRegistry sessions;
  AuditLog audit;
};

// Serves requests for `seconds`; `progress(elapsed, requests)` once a second.
template <typename Progress>
void Serve(Service& service, double seconds, Progress progress) {
  auto& [cache, sessions, audit] = service;
  std::mt19937 rng(1);
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  int request = 0;
  double next_report = 1;
  while (elapsed() < seconds) {
    ++request;
    std::vector<char> scratch(1 << 20, 'x');  // freed at the end of the loop
    cache.Put(std::vector<char>(64 << 10, static_cast<char>(rng())));
    sessions.Remember(request);
    if (elapsed() > seconds / 2) audit.Open();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the "work"
    if (elapsed() >= next_report) {
      progress(elapsed(), request);
      next_report += 1.0;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 8.0;
  bool in_process = !(argc > 2 && std::strcmp(argv[2], "--no-monitor") == 0);
  if (!(seconds > 0) || argc > 3 || (argc > 2 && in_process)) {
    std::fprintf(stderr, "usage: demo_service [seconds > 0] [--no-monitor]\n");
    return 2;
  }
  if (!in_process) {
    std::printf(
        "demo_service: a bounded response cache, freed scratch buffers, a "
        "leak and (from half-way) a descriptor leak; %.0f s\n",
        seconds);
    Service service;
    Serve(service, seconds, [](double t, int requests) {
      std::printf("demo_service: t=%4.1f s  %d requests served\n", t, requests);
      std::fflush(stdout);
    });
    return 0;
  }

  memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
  config.sample_interval = std::chrono::milliseconds(100);
  config.alert_log = "none";  // printed below instead
  memmon::MemoryMonitor monitor(config);
  monitor.TrackObject("sessions", /*alert_threshold=*/500);
  monitor.OnAlert([](const memmon::MemoryAlert& a) {
    std::printf("  ALERT at %5.1f s  %-18s %s\n", a.time_s,
                std::string(memmon::ToString(a.type)).c_str(),
                a.message.c_str());
    std::fflush(stdout);
  });
  if (memmon::Status s = monitor.Start(); !s.ok()) {
    std::fprintf(stderr, "demo: %s\n", s.ToString().c_str());
    return 1;
  }

  std::printf(
      "memmon demo: a service with a bounded cache, scratch buffers, a leak "
      "in SessionRegistry::Remember() and, from half-way, a descriptor leak "
      "in AuditLog::Open(); sampled every 100 ms for %.0f s\n\n",
      seconds);
  Service service;
  Serve(service, seconds, [&](double t, int) {
    memmon::MemoryStats st = monitor.GetStats();
    if (!st.current_sample) return;
    const memmon::Sample& s = *st.current_sample;
    std::printf(
        "  t=%4.1f s  rss %6.1f MiB  heap in use %6.1f MiB  threads %llu  fds "
        "%llu\n",
        t, MiB(s.rss_bytes), MiB(s.heap_inuse_bytes),
        static_cast<unsigned long long>(s.threads.value_or(0)),
        static_cast<unsigned long long>(s.open_fds.value_or(0)));
  });
  monitor.Stop();

  memmon::MemoryStats st = monitor.GetStats();
  std::printf(
      "\n%llu samples, %llu alerts; heap growth since baseline %.0f %%\n",
      static_cast<unsigned long long>(st.sample_count),
      static_cast<unsigned long long>(st.alert_count),
      st.growth_since_baseline_pct.value_or(0));
  for (const auto& [name, o] : st.tracked_objects) {
    std::printf("tracked object %s: %lld live (%.1f MiB), peak %lld\n",
                name.c_str(), static_cast<long long>(o.count),
                static_cast<double>(o.bytes) / (1 << 20),
                static_cast<long long>(o.peak_count));
  }
  std::printf(
      "Which allocation site leaks: run it under `memmon run` (make demo).\n");
  return 0;
}
