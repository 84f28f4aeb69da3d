// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon watch PID [--interval DUR] [--duration DUR] [--json]: monitors
// another process from /proc only (no injection) with the monitor's own
// detectors, printing alerts as they fire, until --duration passes, the
// process exits, or SIGINT/SIGTERM.

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/format.h"
#include "cli/command.h"
#include "cli/http.h"
#include "cli/oom_options.h"
#include "cli/units.h"
#include "memmon/http_server.h"
#include "memmon/monitor.h"
#include "source/memory_limit.h"

namespace memmon::cli {
namespace {

struct WatchOptions {
  int pid = 0;
  std::string interval = "1s";
  std::string duration;  // empty: until the process exits
  double threshold_pct = DefaultMonitorConfig().alert_threshold_pct;
  std::size_t warmup_samples = DefaultMonitorConfig().warmup_samples;
  std::string resolve_after = "5m";
  bool json = false;
  std::string http;         // serve the endpoint here ("HOST:PORT"); empty: no
  std::string oom_horizon;  // empty: the default
  std::string oom_profile_fraction;  // empty: the default
};

std::string Bytes(const std::optional<uint64_t>& v) {
  return v ? internal::HumanBytes(static_cast<double>(*v)) : "?";
}

std::string Count(const std::optional<uint64_t>& v) {
  return v ? std::to_string(*v) : "?";
}

// One line: what a person watching wants at a glance.
std::string StatusLine(double elapsed_s, const Sample& s, uint64_t alerts) {
  return fmt::format(
      "{:7.1f} s  rss {}  pss {}  threads {}  fds {}  faults {}/{}  alerts {}",
      elapsed_s, Bytes(s.rss_bytes), Bytes(s.pss_bytes), Count(s.threads),
      Count(s.open_fds), Count(s.minor_faults), Count(s.major_faults), alerts);
}

int RunWatch(const WatchOptions& o) {
  MonitorConfig config = DefaultMonitorConfig();
  config.pid = o.pid;
  config.enable_pss = true;
  config.alert_log = "none";  // printed below, in the chosen format
  config.alert_threshold_pct = o.threshold_pct;
  config.warmup_samples = o.warmup_samples;
  if (Status s = ParseDuration(o.resolve_after, &config.resolve_after);
      !s.ok()) {
    std::fprintf(stderr, "memmon: watch: --resolve-after: %s\n",
                 s.message().c_str());
    return kExitUsage;
  }
  std::chrono::nanoseconds limit{0};
  if (int rc = ParseOomOptions("watch", o.oom_horizon, o.oom_profile_fraction,
                               &config);
      rc != kExitOk) {
    return rc;
  }
  if (Status s = ParseDuration(o.interval, &config.sample_interval); !s.ok()) {
    std::fprintf(stderr, "memmon: watch: --interval: %s\n",
                 s.message().c_str());
    return kExitUsage;
  }
  if (!o.duration.empty()) {
    if (Status s = ParseDuration(o.duration, &limit);
        !s.ok() || limit.count() <= 0) {
      std::fprintf(stderr, "memmon: watch: --duration: %s\n",
                   s.ok() ? "must be positive" : s.message().c_str());
      return kExitUsage;
    }
  }
  if (o.pid <= 0) {
    std::fprintf(stderr,
                 "memmon: watch: PID must be a positive process id, got %d\n",
                 o.pid);
    return kExitUsage;
  }

  // SIGINT and SIGTERM end the watch cleanly; block them before the
  // sampling thread starts so only sigtimedwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  MemoryMonitor monitor(config);
  std::mutex out_mu;
  const bool live = !o.json && isatty(STDERR_FILENO);
  monitor.OnAlert([&](const MemoryAlert& a) {
    std::lock_guard l(out_mu);
    if (live) std::fputs("\r\033[K", stderr);  // clear the status line
    std::string line =
        o.json ? ToJson(a)
        : a.state == AlertState::kFiring
            ? fmt::format("{:7.1f} s  ALERT {}: {}", a.time_s, ToString(a.type),
                          a.message)
            : fmt::format("{:7.1f} s  RESOLVED {} after {}: {}", a.time_s,
                          ToString(a.type),
                          internal::HumanDuration(a.time_s - a.episode_start_s),
                          a.message);
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
  });
  if (Status s = monitor.Start(); !s.ok()) {
    if (s.code() == StatusCode::kNotFound) {
      std::fprintf(stderr, "memmon: watch: no process with PID %d\n", o.pid);
    } else {
      std::fprintf(stderr, "memmon: watch: %s\n", s.message().c_str());
    }
    return kExitUsage;
  }
  // The start line: the limit that binds, and how the kernel counts it.
  internal::MemoryLimits limits;
  if (!o.json && internal::ReadMemoryLimits(o.pid, 0, &limits).ok()) {
    PrintMemoryLimits("memmon: watch: ", limits);
  }
  std::unique_ptr<HttpServer> http;
  if (!o.http.empty()) {
    if (int rc =
            StartHttp("watch", o.http, internal::MonitorSource(monitor), &http);
        rc != kExitOk) {
      monitor.Stop();
      return rc;
    }
  }

  auto start = std::chrono::steady_clock::now();
  const char* ended = "the watch was interrupted";
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (limit.count() > 0 && now - start >= limit) {
      ended = "--duration passed";
      break;
    }
    if (monitor.target_exited()) {
      ended = "the process exited";
      break;
    }
    // Wake at least every 100 ms to notice an exit or the deadline.
    auto wait = std::chrono::milliseconds(100);
    timespec ts{
        0, std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count()};
    int sig = sigtimedwait(&stop_signals, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      ended = sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)";
      break;
    }
    if (live) {
      MemoryStats st = monitor.GetStats();
      if (st.current_sample) {
        std::lock_guard l(out_mu);
        double elapsed = std::chrono::duration<double>(now - start).count();
        std::fputs(("\r\033[K" +
                    StatusLine(elapsed, *st.current_sample, st.alert_count))
                       .c_str(),
                   stderr);
      }
    }
  }
  if (http) http->Stop();
  monitor.Stop();

  MemoryStats st = monitor.GetStats();
  if (live) std::fputs("\r\033[K", stderr);
  if (!o.json) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    std::string summary =
        fmt::format("watched PID {} for {}: {} samples, {} alert{}; {}", o.pid,
                    internal::HumanDuration(elapsed), st.sample_count,
                    st.alert_count, st.alert_count == 1 ? "" : "s", ended);
    if (st.baseline_sample && st.current_sample) {
      summary +=
          fmt::format("; rss {} -> {}", Bytes(st.baseline_sample->rss_bytes),
                      Bytes(st.current_sample->rss_bytes));
    }
    if (std::optional<TimeToLimit> t = monitor.TimeToMemoryLimit()) {
      summary += fmt::format(
          "; memory limit ({}) {} of {}, {}", ToString(t->kind),
          internal::HumanBytes(t->usage_bytes),
          internal::HumanBytes(t->limit_bytes),
          std::isinf(t->fitted_s)
              ? std::string("not rising steadily")
              : fmt::format("reached at its trend in {} (as soon as {})",
                            internal::HumanDuration(t->fitted_s),
                            internal::HumanDuration(t->earliest_s)));
    }
    std::fputs((summary + "\n").c_str(), stdout);
  }
  return FinishOutput("watch");
}

}  // namespace

Subcommand AddWatch(CLI::App& parent) {
  auto o = std::make_shared<WatchOptions>();
  CLI::App* app = parent.add_subcommand(
      "watch",
      "Monitor another process from /proc only (no injection): RSS, PSS, "
      "threads, descriptors and faults, with memmon's detectors; alerts print "
      "as they fire. Ends at --duration, when the process exits, or on "
      "Ctrl-C.");
  app->add_option("pid", o->pid, "the process to watch")->required();
  app->add_option("--interval", o->interval,
                  "time between samples (100ms, 2s, 5m)")
      ->capture_default_str();
  app->add_option("--duration", o->duration,
                  "stop after this long (default: until the process exits)");
  app->add_option("--threshold", o->threshold_pct,
                  "memory_growth threshold over the baseline, percent")
      ->capture_default_str();
  app->add_option("--warmup-samples", o->warmup_samples,
                  "start-up samples before the baseline, not judged "
                  "(MonitorConfig::warmup_samples)")
      ->capture_default_str();
  app->add_option(
         "--resolve-after", o->resolve_after,
         "an episode that fired resolves once its condition has been absent on "
         "3 consecutive samples and for this long (0s: the 3 samples "
         "alone; MonitorConfig::resolve_after)")
      ->capture_default_str();
  app->add_option("--http", o->http,
                  "serve /metrics, /debug/pprof and /debug/memmon at HOST:PORT "
                  "(port 0: a free one, printed); token from "
                  "MEMMON_HTTP_TOKEN_FILE or MEMMON_HTTP_TOKEN (docs/http.md)");
  AddOomOptions(app, &o->oom_horizon, &o->oom_profile_fraction);
  app->add_flag(
      "--json", o->json,
      "one JSON object per alert record per line (type, state: firing or "
      "resolved, time, time_s, message, value, threshold; episode_start_s "
      "when resolved); no status line or summary");
  return {app, [o] { return RunWatch(*o); }};
}

}  // namespace memmon::cli
