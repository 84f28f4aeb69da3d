// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// BoundedServer: cpp-httplib's Server with every resource a client can make
// it hold bounded, so that a slow, hostile or plain buggy client cannot
// stall the endpoint, the sampling or the program it lives in.
//
// cpp-httplib accepts; what it accepts goes, instead of to its thread pool,
// through three stages:
//
//   gate      one thread polling the connections whose request head has not
//             fully arrived (at most kGateConnections, each for at most
//             kHeadTimeout, the head at most kMaxHeadBytes). It peeks: a
//             complete head whose answer is ready in memory (SetQuick) it
//             serves itself, never waiting on the client (what the client
//             does not take at once a worker sends), and keeps the
//             connection; any other goes on to a lane. When it is full, the
//             oldest connection makes room for the newest (408), so idle
//             or slow clients cannot keep a scrape out. A request the server
//             would refuse anyway is answered here, before any body is read: a
//             method other than GET or HEAD (405, Allow: GET, HEAD), a body
//             (413), a head too long (431) or too slow (408), no request
//             line (400). The gate then reads and discards what the client
//             still sends for a moment (bounded), so the client reads the
//             answer instead of a reset.
//   lanes     bounded queues with their own workers: /metrics has one (a
//             scrape never waits behind profiles or a ?seconds= delta), the
//             rest kWorkers. A worker serves one request through
//             cpp-httplib's own request processing (routing, handlers,
//             compression), reading no further than its head, and hands a
//             kept-alive connection back to the gate (HTTP/1.1 keep-alive,
//             as Prometheus and Go's clients use it: no connect, accept or
//             close a request), else closes it. So every request passes
//             the gate; a kept-alive connection waits there, idle, at most
//             kKeepAliveIdle, and is the first to make room (closed
//             without an answer, as an idle connection may be).
//   shedding  a connection that finds its lane full, or the gate thread a
//             whole gate's worth behind, gets a 503 (Retry-After: 1) at
//             once and is closed.
//
// So the server holds at most ConnectionLimit() sockets and kThreads
// threads, and a request lives at most kHeadTimeout + its handler (a
// ?seconds= wait is capped by the caller) + kWriteBudget. Counters() reads
// what it holds and did, for memmon_http_* in /metrics.
//
// The program's SIGPIPE disposition stays as it was (cpp-httplib's
// constructor would set SIG_IGN for the whole process).
//
// Thread-safety: StartWorkers before listen_after_bind; StopWorkers after
// stop() and after the listening thread has returned; Counters from any
// thread. Allocation: ordinary code (never inside malloc).
#ifndef MEMMON_SRC_HTTP_BOUNDED_SERVER_H_
#define MEMMON_SRC_HTTP_BOUNDED_SERVER_H_

#include <httplib.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "http/metrics.h"

namespace memmon::http {

// The program's SIGPIPE disposition, read before cpp-httplib's Server
// constructor sets it to SIG_IGN process-wide (BoundedServer puts it
// back: its writes use MSG_NOSIGNAL).
struct SavedSigpipe {
  SavedSigpipe() { sigaction(SIGPIPE, nullptr, &action); }
  struct sigaction action {};
};

class BoundedServer : private SavedSigpipe, public httplib::Server {
 public:
  // The limits (docs/http.md, "Safety").
  static constexpr std::size_t kGateConnections = 32;
  static constexpr std::size_t kMaxHeadBytes = 16 * 1024;
  static constexpr std::chrono::milliseconds kHeadTimeout{3000};
  // How long a kept-alive connection may wait for its next request.
  static constexpr std::chrono::milliseconds kKeepAliveIdle{5000};
  static constexpr std::size_t kWorkers = 4;  // besides /metrics' one
  static constexpr std::size_t kLaneQueue = 8;
  // Reading what a refused client still sends, after the answer.
  static constexpr std::chrono::milliseconds kDrainTimeout{1000};
  static constexpr std::size_t kDrainBytes = 1 << 20;
  // Each send may block this long; the whole response this long.
  static constexpr int kWriteTimeoutSeconds = 5;
  static constexpr std::chrono::milliseconds kWriteBudget{10000};
  // The gate and the workers run this much nicer than the thread that
  // started them: the program keeps its CPUs when it needs them.
  static constexpr int kNiceIncrement = 10;
  // listener, gate, the workers.
  static constexpr std::size_t kThreads = 2 + kWorkers + 1;
  static constexpr std::size_t ConnectionLimit() {
    // The gate's, those accepted but not yet taken in by it, the lanes'.
    return 2 * kGateConnections + (kWorkers + kLaneQueue) + (1 + kLaneQueue);
  }

  BoundedServer();
  ~BoundedServer() override;
  BoundedServer(const BoundedServer&) = delete;
  BoundedServer& operator=(const BoundedServer&) = delete;

  // Decides, before routing, whether a request may be served: false with
  // `res` filled in (401) when not. Set before StartWorkers.
  using Authorizer =
      std::function<bool(const httplib::Request&, httplib::Response&)>;
  void SetAuthorizer(Authorizer authorize) {
    authorize_ = std::move(authorize);
  }

  // With more than kRoundConnections connections at the gate it serves
  // their requests in rounds, waking for them at most once every
  // kRoundInterval: a request then waits up to that long, and a round of
  // many requests costs the program one wake-up instead of one each (the
  // wake-ups are most of a small request's cost). A lone client, or a few,
  // are answered at once; a new connection is taken in at once.
  static constexpr std::size_t kRoundConnections = 4;
  static constexpr std::chrono::milliseconds kRoundInterval{100};

  // Says whether the request for `target` (path and query, as sent) has an
  // answer ready in microseconds that never waits (a page built from
  // memory, a profile already built): the gate then serves it itself,
  // without waking a worker (the wake-ups are most of a small request's
  // cost). It may not block: called on the gate thread. Set before
  // StartWorkers; without it every request goes to a lane.
  using Quick = std::function<bool(std::string_view target)>;
  void SetQuick(Quick quick) { quick_ = std::move(quick); }

  // Whether the calling thread is the gate's: a handler it runs (for a
  // request Quick said was ready) must not build or wait; what Quick saw
  // ready it serves even if it has just gone stale.
  static bool OnGate();

  // After binding: a listen backlog of kBacklog (cpp-httplib's is 5, so a
  // burst of connections would wait out SYN retries before the listener
  // could shed or admit them).
  static constexpr int kBacklog = 128;
  void StartWorkers();
  void StopWorkers();

  // What the server holds and did (the threads and limits filled in too).
  ServerCounters Counters() const;

  // A ?seconds= request's wait: at most kProfileWaits at once (each holds
  // a worker); false when that many wait already (the caller answers 503).
  static constexpr uint64_t kProfileWaits = 2;
  bool BeginWait();
  void EndWait();

 private:
  // A connection whose request head (head_bytes long, no body) has
  // arrived.
  struct Request {
    int sock;
    std::size_t head_bytes;
    // Set when the gate served the request but the client did not take
    // the whole response at once: what is left, for a worker to send
    // (within kWriteBudget) before the connection goes back to the gate
    // (keep) or is closed.
    std::string rest = {};
    bool keep = false;
  };
  // A connection handed to the gate: new (from the listener) or kept
  // alive after a response (idle until its next request begins).
  struct Incoming {
    int sock;
    bool kept_alive;
  };
  struct Lane {
    internal::Mutex mu;
    std::condition_variable_any cv;
    std::deque<Request> queue GUARDED_BY(mu);
    bool stopping GUARDED_BY(mu) = false;
    std::vector<std::thread> workers;
  };

  // cpp-httplib's listening thread hands each accepted socket here.
  bool process_and_close_socket(int sock) override;

  void GateLoop();
  void Work(Lane* lane);
  void Serve(const Request& request);
  // cpp-httplib's processing of one request on `stream`; whether the
  // connection may stay open (kept alive unless the client asked to close:
  // Connection: close, or HTTP/1.0 without Keep-Alive). The caller then
  // flushes the stream.
  bool Process(httplib::Stream& stream);
  // Serves a request on the gate thread; true when the connection is kept
  // alive and should wait at the gate for its next request.
  bool ServeOnGate(int sock, std::size_t head_bytes);
  // Sends what the gate could not (Request::rest).
  void Finish(const Request& request);
  // Queues a socket whose head is complete on its lane, or sheds it.
  void Dispatch(const Request& request, bool metrics);
  // Queues `request` on `lane`; false when it is full or stopping.
  bool Enqueue(Lane& lane, Request request);
  // Gives the gate a connection (new, or kept alive); false when it is
  // full or stopping (the caller closes the connection).
  bool ToGate(int sock, bool kept_alive);
  // Answers on a connection the gate holds; the caller then drains it.
  void Answer(int sock, int status, const char* reason, const char* extra);
  void Shed(int sock);
  void Count(int status, std::size_t bytes);

  Authorizer authorize_;
  Quick quick_;
  Lane metrics_lane_;
  Lane general_lane_;
  std::thread gate_;
  int wake_fd_ = -1;  // eventfd: new connections, or stop
  internal::Mutex gate_mu_;
  std::vector<Incoming> incoming_ GUARDED_BY(gate_mu_);
  bool gate_stopping_ GUARDED_BY(gate_mu_) = false;

  std::atomic<uint64_t> at_gate_{0};
  std::atomic<uint64_t> queued_{0};
  std::atomic<uint64_t> serving_{0};
  std::atomic<uint64_t> waits_{0};
  std::atomic<uint64_t> shed_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> bytes_held_{0};
  std::atomic<uint64_t> kept_alive_{0};  // requests on a reused connection
  std::atomic<uint64_t> on_gate_{0};     // requests the gate served itself
  std::atomic<uint64_t> wakeups_{0};     // polls that found requests
  std::array<std::atomic<uint64_t>, 600> by_status_{};
};

}  // namespace memmon::http

#endif  // MEMMON_SRC_HTTP_BOUNDED_SERVER_H_
