// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// HttpServer: a MemoryMonitor's data over HTTP, for the tools a fleet
// already runs (docs/http.md has every endpoint, its format and an example
// Prometheus configuration):
//
//   /metrics              Prometheus text exposition (memmon_* metrics)
//   /debug/pprof/         Go's index; heap, allocs (the sampler's heap
//                         profile; ?seconds=N the change over N seconds,
//                         ?gc=1 releases free memory first), threads and
//                         goroutine (a stack per thread)
//   /debug/memmon/stats   ToJson(MemoryStats)
//   /debug/memmon/samples the retained samples, a JSON array
//   /debug/memmon/alerts  the retained alert records, a JSON array
//
// One serving thread (cpp-httplib's listener, a small pool for requests),
// started by Start() and stopped by Stop() or the destructor. Requests only
// read the monitor (GetStats, GetSamples, GetAlerts; ReleaseFreeMemory for
// ?gc=1), so the monitor's tick never waits for a client.
//
//   memmon::MemoryMonitor monitor;
//   monitor.Start();
//   memmon::HttpServer http(monitor);          // 127.0.0.1, a free port
//   if (memmon::Status s = http.Start(); !s.ok()) log(s.ToString());
//   log("memmon on http://" + http.address());
//
// Thread-safety: Start, Stop and address may be called from any thread;
// the monitor must outlive the server.
#ifndef MEMMON_HTTP_SERVER_H_
#define MEMMON_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "memmon/monitor.h"
#include "memmon/status.h"

namespace memmon {

struct HttpServerOptions {
  // "HOST:PORT" to listen on. Port 0 picks a free port (address() says
  // which). Listening beyond the loopback interface is the caller's choice
  // to make explicitly ("0.0.0.0:9464").
  std::string listen = "127.0.0.1:0";
  // When not empty, every request must carry "Authorization: Bearer
  // <token>" (else 401). Read it with BearerTokenFromEnvironment(), never
  // from a command line that `ps` shows.
  std::string bearer_token;
};

// The bearer token from the environment: the first line of the file named
// by MEMMON_HTTP_TOKEN_FILE if set, else MEMMON_HTTP_TOKEN, else empty.
// An unreadable or empty file is an error (a server meant to be protected
// must not start open).
Status BearerTokenFromEnvironment(std::string* token);

namespace internal {
class HttpSource;  // src/http/source.h
}

class HttpServer {
 public:
  explicit HttpServer(MemoryMonitor& monitor, HttpServerOptions options = {});
  // For memmon's own front ends (`memmon run` serves its child's data).
  HttpServer(std::unique_ptr<internal::HttpSource> source,
             HttpServerOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. InvalidArgument for a malformed address;
  // IoError when it cannot bind (in use, not permitted). Once started,
  // a second Start is an error.
  Status Start();
  // Stops accepting, finishes the requests in flight and joins the
  // serving thread. Idempotent.
  void Stop();
  // "HOST:PORT" as bound (the port chosen for port 0); empty before Start.
  std::string address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace memmon

#endif  // MEMMON_HTTP_SERVER_H_
