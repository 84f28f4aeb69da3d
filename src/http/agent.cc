// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libmemmon_agent.so: memmon's endpoint inside a program that has only the
// preloaded sampler (MEMMON_HTTP=ADDR). The sampler's writer thread loads
// it and calls memmon_agent_start; at exit, memmon_agent_stop. Ordinary
// code (it allocates, takes locks, starts threads): nothing here runs
// inside malloc. The monitor's settings come from the environment
// (docs/http.md): MEMMON_HTTP_INTERVAL (seconds between samples, default
// 10), MEMMON_HTTP_TOKEN_FILE / MEMMON_HTTP_TOKEN.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include "base/export.h"
#include "memmon/http_server.h"
#include "memmon/memmon_preload.h"
#include "memmon/monitor.h"

namespace {

std::mutex g_mu;
std::unique_ptr<memmon::MemoryMonitor> g_monitor;
std::unique_ptr<memmon::HttpServer> g_server;

int Fail(char* error, std::size_t len, const std::string& why) {
  std::snprintf(error, len, "%s", why.c_str());
  g_server.reset();
  if (g_monitor) g_monitor->Stop();
  g_monitor.reset();
  return -1;
}

}  // namespace

MEMMON_EXPORT int memmon_agent_start(const char* address, char* bound,
                                     size_t bound_len, char* error,
                                     size_t error_len) {
  std::lock_guard lock(g_mu);
  if (g_server) return Fail(error, error_len, "already serving");
  memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
  config.sample_interval = std::chrono::seconds(10);
  if (const char* iv = std::getenv("MEMMON_HTTP_INTERVAL")) {
    double s = std::strtod(iv, nullptr);
    if (!(s > 0)) {
      return Fail(error, error_len,
                  std::string("MEMMON_HTTP_INTERVAL must be a positive number "
                              "of seconds, got '") +
                      iv + "'");
    }
    config.sample_interval =
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(s));
  }
  config.alert_log = "none";  // the program's stderr is its own
  g_monitor = std::make_unique<memmon::MemoryMonitor>(config);
  if (memmon::Status s = g_monitor->Start(); !s.ok()) {
    return Fail(error, error_len, "monitor: " + s.message());
  }
  memmon::HttpServerOptions options;
  options.listen = address;
  if (const char* r = std::getenv("MEMMON_HTTP_PROFILE_REUSE")) {
    char* end = nullptr;
    double s = std::strtod(r, &end);
    if (end == r || *end != '\0' || !(s >= 0) || s > 86400) {
      return Fail(error, error_len,
                  std::string("MEMMON_HTTP_PROFILE_REUSE must be a number of "
                              "seconds from 0 to 86400, got '") +
                      r + "'");
    }
    options.profile_reuse =
        std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
  }
  if (memmon::Status s =
          memmon::BearerTokenFromEnvironment(&options.bearer_token);
      !s.ok()) {
    return Fail(error, error_len, s.message());
  }
  g_server = std::make_unique<memmon::HttpServer>(*g_monitor, options);
  if (memmon::Status s = g_server->Start(); !s.ok()) {
    return Fail(error, error_len, s.message());
  }
  std::snprintf(bound, bound_len, "%s", g_server->address().c_str());
  return 0;
}

MEMMON_EXPORT void memmon_agent_stop() {
  std::lock_guard lock(g_mu);
  if (g_server) g_server->Stop();
  if (g_monitor) g_monitor->Stop();
}
