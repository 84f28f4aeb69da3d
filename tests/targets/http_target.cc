// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A service with memmon's HTTP endpoint, for tests/http_test.sh: a
// MemoryMonitor sampling every 100 ms (keeping 3000 samples), an HttpServer on
// argv[1] (default 127.0.0.1:0), the address printed as "memmon http://ADDR";
// then it keeps 64 KiB a tick in LeakyRegistry::Remember until its stdin
// closes. StartupOnly keeps 4 MiB once, before serving: in every full heap
// profile, in no ?seconds= delta.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "memmon/http_server.h"
#include "memmon/monitor.h"

namespace {

struct LeakyRegistry {
  std::vector<std::unique_ptr<char[]>> kept;
  __attribute__((noinline)) void Remember() {
    auto block = std::make_unique<char[]>(64 * 1024);
    std::memset(block.get(), 1, 64 * 1024);
    kept.push_back(std::move(block));
  }
};

// Kept for the process's life, allocated once.
__attribute__((noinline)) char* StartupOnly() {
  char* block = new char[4 << 20];
  std::memset(block, 2, 4 << 20);
  return block;
}

}  // namespace

int main(int argc, char** argv) {
  char* startup = StartupOnly();
  memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
  config.sample_interval = std::chrono::milliseconds(100);
  // The whole test's samples (up to 5 minutes): the live page's chart then
  // still spans the alert that fired in the first seconds, and draws it.
  config.max_samples = 3000;
  config.alert_log = "none";
  memmon::MemoryMonitor monitor(config);
  if (memmon::Status s = monitor.Start(); !s.ok()) {
    std::fprintf(stderr, "http_target: %s\n", s.ToString().c_str());
    return 1;
  }
  memmon::HttpServerOptions options;
  if (argc > 1) options.listen = argv[1];
  if (memmon::Status s =
          memmon::BearerTokenFromEnvironment(&options.bearer_token);
      !s.ok()) {
    std::fprintf(stderr, "http_target: %s\n", s.ToString().c_str());
    return 1;
  }
  memmon::HttpServer http(monitor, options);
  if (memmon::Status s = http.Start(); !s.ok()) {
    std::fprintf(stderr, "http_target: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("memmon http://%s\n", http.address().c_str());
  std::fflush(stdout);
  LeakyRegistry registry;
  // One tick each 20 ms until stdin is closed (poll's timeout paces it).
  for (;;) {
    pollfd in{STDIN_FILENO, POLLIN, 0};
    int ready = poll(&in, 1, 20);
    if (ready > 0) {
      char buf[64];
      if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0) break;
    }
    registry.Remember();
  }
  http.Stop();
  monitor.Stop();
  delete[] startup;
  return 0;
}
