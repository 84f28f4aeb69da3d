// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// HttpServer: a MemoryMonitor's data over HTTP, for the tools a fleet
// already runs (docs/http.md has every endpoint, its format and an example
// Prometheus configuration):
//
//   /                     a live page: memory over time with alert marks,
//                         threads and descriptors, top allocation sites,
//                         tracked objects (fetches /debug/memmon/*)
//   /metrics              Prometheus text exposition (memmon_* metrics,
//                         the server's own memmon_http_*)
//   /debug/pprof/         Go's index of the profiles below
//   /debug/pprof/heap     the sampler's heap profile (?seconds=N the change
//                         over N seconds, 1-120; ?gc=1 releases free
//                         memory first); allocs: the same, alloc_space
//   /debug/pprof/peak     the sampled heap at its highest point
//   /debug/pprof/mutex, block   lock and wait profiles (?seconds=N)
//   /debug/pprof/mmap     live anonymous mappings by call site
//   /debug/pprof/threads  a stack per thread; also at goroutine
//   /debug/memmon/stats   ToJson(MemoryStats)
//   /debug/memmon/samples the retained samples, ToJson(Sample) each
//   /debug/memmon/alerts  the retained alert records, ToJson(MemoryAlert)
//   /debug/memmon/top_sites?n=N  the largest live allocation sites
//
// GET and HEAD only (others 405, before any body is read); a request
// with a body is refused (413), unread. Connections, threads and request
// time are bounded (docs/http.md, "Safety"): 7 threads (a listener, a gate
// that holds connections until their request head has arrived, a worker
// for /metrics and four for the rest), at most 85 sockets; a client that
// finds it full gets 503 at once. Requests only read the monitor
// (GetStats, GetSamples, GetAlerts; ReleaseFreeMemory for ?gc=1), so the
// monitor's tick never waits for a client.
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

#include <chrono>
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
  // <token>" (else 401) except /metrics (Prometheus scrapes it: numbers,
  // no addresses or paths) and / (the live page's static shell, which
  // sends the token from its URL fragment with the data requests). Read it
  // with BearerTokenFromEnvironment(), never from a command line that `ps`
  // shows.
  std::string bearer_token;
  // A profile (heap, allocs, peak, mutex, block, mmap, threads/goroutine)
  // or top-sites list built less than this long ago is served again, with
  // an Age header, instead of being built anew: building one symbolizes
  // and encodes (0.5-15 ms of CPU), so however often clients ask, the
  // program pays at most one build of each per interval. ?seconds=N and
  // ?gc=1 always build. Zero: every request builds. (MEMMON_HTTP:
  // MEMMON_HTTP_PROFILE_REUSE, in seconds.)
  std::chrono::milliseconds profile_reuse = std::chrono::seconds(5);
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
