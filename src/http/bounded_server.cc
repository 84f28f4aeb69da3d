// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "http/bounded_server.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "base/mutex.h"

namespace memmon::http {
namespace {

using Clock = std::chrono::steady_clock;

// cpp-httplib's listener calls the task queue with each accepted socket;
// the socket goes on through process_and_close_socket at once (to the
// gate, which never blocks).
class InlineQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// Set on the gate's thread (BoundedServer::OnGate).
thread_local bool this_thread_is_gate = false;

int Millis(Clock::duration d) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(
             d + std::chrono::microseconds(999))
             .count()));
}

// The calling thread's nice value raised by kNiceIncrement: when the
// program wants its CPUs, the server's threads get a small share of them
// (CFS weights: nice 10 is about a tenth of nice 0).
void LowerThisThreadsPriority() {
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);  // 0: the calling thread
  if (nice == -1 && errno != 0) return;
  setpriority(PRIO_PROCESS, 0,
              std::min(19, nice + BoundedServer::kNiceIncrement));
}

void CloseSocket(int sock) {
  shutdown(sock, SHUT_RDWR);
  close(sock);
}

// A connection's socket, read through a buffer (cpp-httplib reads the head
// a byte at a time); writes stop once the response has taken kWriteBudget.
class SocketStream : public httplib::Stream {
 public:
  // Reads at most `limit` bytes: the request's head (it has no body), so
  // that the next request on a kept-alive connection stays in the socket
  // for the gate.
  //
  // `never_wait` (the gate's): sends never block; what the client does not
  // take at once is kept (rest()) for a worker to send.
  SocketStream(int sock, std::size_t limit, std::atomic<uint64_t>* written,
               bool never_wait = false)
      : sock_(sock),
        limit_(limit),
        written_(written),
        never_wait_(never_wait) {}

  // What a never_wait stream could not send.
  std::string& rest() { return rest_; }

  bool is_readable() const override {
    if (pos_ < len_) return true;
    if (limit_ == 0) return false;
    pollfd p{sock_, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
  }
  bool is_writable() const override {
    if (never_wait_) return true;  // what does not go out is kept
    pollfd p{sock_, POLLOUT, 0};
    return poll(&p, 1, BoundedServer::kWriteTimeoutSeconds * 1000) > 0 &&
           (p.revents & (POLLERR | POLLHUP)) == 0;
  }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_) {
      // The head is in the socket already (the gate saw it); SO_RCVTIMEO
      // bounds a read past it.
      if (limit_ == 0) return 0;
      ssize_t n;
      do {
        n = recv(sock_, buf_, std::min(sizeof(buf_), limit_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<std::size_t>(n);
      limit_ -= len_;
    }
    std::size_t n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  // Writes go out together: what is written is held (up to a buffer's
  // worth) and sent with the next write or by Flush, so a response's head
  // and body leave in one send (one segment, one wake-up of the client,
  // where two sends would make two).
  ssize_t write(const char* ptr, size_t size) override {
    const Clock::time_point now = Clock::now();
    if (deadline_ == Clock::time_point{}) {
      deadline_ = now + BoundedServer::kWriteBudget;
    } else if (now > deadline_) {
      failed_ = true;
      return -1;
    }
    if (failed_) return -1;
    if (!rest_.empty()) {  // the client stopped taking: keep the rest
      rest_.append(ptr, size);
      return static_cast<ssize_t>(size);
    }
    if (held_ + size <= sizeof(out_)) {
      std::memcpy(out_ + held_, ptr, size);
      held_ += size;
      return static_cast<ssize_t>(size);
    }
    return Send(ptr, size) ? static_cast<ssize_t>(size) : -1;
  }
  // Sends what is held; false when the response did not go out whole
  // (what a never_wait stream keeps in rest() counts as going out).
  bool Flush() {
    if (held_ > 0) Send(nullptr, 0);
    return !failed_;
  }

  // The client's and the server's addresses: none. No handler reads them,
  // and asking the kernel would cost two system calls a request.
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  int socket() const override { return sock_; }

 private:
  // Sends what is held, then `size` bytes at `ptr`, whole (SO_SNDTIMEO,
  // kWriteTimeoutSeconds, bounds each send).
  bool Send(const char* ptr, size_t size) {
    iovec iov[2] = {{out_, held_}, {const_cast<char*>(ptr), size}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    while (iov[0].iov_len + iov[1].iov_len > 0) {
      if (Clock::now() > deadline_) break;
      ssize_t n =
          sendmsg(sock_, &msg, MSG_NOSIGNAL | (never_wait_ ? MSG_DONTWAIT : 0));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && never_wait_ && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        for (const iovec& v : iov) {
          rest_.append(static_cast<const char*>(v.iov_base), v.iov_len);
        }
        held_ = 0;
        return true;
      }
      if (n <= 0) break;
      written_->fetch_add(static_cast<uint64_t>(n));
      auto sent = static_cast<std::size_t>(n);
      for (iovec& v : iov) {
        std::size_t k = std::min(sent, v.iov_len);
        v.iov_base = static_cast<char*>(v.iov_base) + k;
        v.iov_len -= k;
        sent -= k;
      }
      // The one left, or none, at the front.
      msg.msg_iov = iov[0].iov_len > 0 ? iov : iov + 1;
      msg.msg_iovlen = iov[0].iov_len > 0 ? 2 : 1;
    }
    held_ = 0;
    if (iov[0].iov_len + iov[1].iov_len > 0) failed_ = true;
    return !failed_;
  }

  const int sock_;
  std::size_t limit_;
  std::atomic<uint64_t>* const written_;
  const bool never_wait_;
  bool failed_ = false;
  std::string rest_;
  char buf_[4096];
  char out_[4096];
  std::size_t held_ = 0;
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  Clock::time_point deadline_{};
};

// The response body a worker's request built, until it is sent (the
// post-routing handler and Serve run on the same worker thread).
thread_local uint64_t t_held_bytes = 0;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) {
    v.remove_suffix(1);
  }
  return v;
}

// What the gate makes of a complete request head.
struct Verdict {
  int status = 0;  // 0: serve it
  bool metrics = false;
  std::string_view target;  // path and query, as sent
};

Verdict Judge(std::string_view head) {
  Verdict v;
  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::size_t sp = line.find(' ');
  std::string_view method = line.substr(0, sp);
  if (sp == std::string_view::npos || method.empty() || method.size() > 20 ||
      !std::all_of(method.begin(), method.end(),
                   [](char c) { return c >= 'A' && c <= 'Z'; })) {
    v.status = 400;
    return v;
  }
  if (method != "GET" && method != "HEAD") {
    v.status = 405;
    return v;
  }
  // A body with a GET or a HEAD is refused, not read.
  std::string_view rest = head.substr(eol + 2);
  while (!rest.empty()) {
    std::size_t end = rest.find("\r\n");
    std::string_view field = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view()
                                         : rest.substr(end + 2);
    std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = Trim(field.substr(0, colon));
    std::string_view value = Trim(field.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Transfer-Encoding") ||
        (EqualsIgnoreCase(name, "Content-Length") && value != "0")) {
      v.status = 413;
      return v;
    }
  }
  std::string_view target = line.substr(sp + 1);
  target = target.substr(0, target.find(' '));
  std::string_view path = target.substr(0, target.find('?'));
  v.metrics = path == "/metrics";
  v.target = target;
  return v;
}

const char* Reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

BoundedServer::BoundedServer() {
  // cpp-httplib's constructor ignored SIGPIPE for the whole program.
  sigaction(SIGPIPE, &(SavedSigpipe::action), nullptr);
  new_task_queue = [] { return new InlineQueue(); };
  // Kept-alive connections go back to the gate between requests (the
  // Keep-Alive header cpp-httplib writes says timeout=5).
  set_keep_alive_timeout(
      std::chrono::duration_cast<std::chrono::seconds>(kKeepAliveIdle).count());
  // The header's max= is advisory here (cpp-httplib's default says 5):
  // a connection is kept while it is used within kKeepAliveIdle.
  set_keep_alive_max_count(1000);
  set_read_timeout(2, 0);
  set_write_timeout(kWriteTimeoutSeconds, 0);
  // The gate refuses bodies; cpp-httplib would refuse one too.
  set_payload_max_length(0);
  // What the gate refuses cpp-httplib would refuse too (were a request to
  // reach it): methods other than GET and HEAD, bodies.
  set_pre_routing_handler([this](const httplib::Request& req,
                                 httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("only GET and HEAD are served\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Transfer-Encoding") ||
        (req.has_header("Content-Length") &&
         req.get_header_value("Content-Length") != "0")) {
      res.status = 413;
      res.set_content("a request to this server has no body\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (authorize_ && !authorize_(req, res)) {
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  set_post_routing_handler(
      [this](const httplib::Request&, httplib::Response& res) {
        t_held_bytes = res.body.size();
        bytes_held_.fetch_add(t_held_bytes);
      });
  set_logger([this](const httplib::Request&, const httplib::Response& res) {
    Count(res.status, 0);
  });
}

BoundedServer::~BoundedServer() { StopWorkers(); }

void BoundedServer::StartWorkers() {
  ::listen(svr_sock_, kBacklog);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  gate_ = std::thread([this] { GateLoop(); });
  metrics_lane_.workers.emplace_back([this] { Work(&metrics_lane_); });
  for (std::size_t i = 0; i < kWorkers; ++i) {
    general_lane_.workers.emplace_back([this] { Work(&general_lane_); });
  }
}

void BoundedServer::StopWorkers() {
  if (!gate_.joinable()) return;
  {
    internal::MutexLock lock(&gate_mu_);
    gate_stopping_ = true;
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  gate_.join();
  for (Lane* lane : {&metrics_lane_, &general_lane_}) {
    {
      internal::MutexLock lock(&lane->mu);
      lane->stopping = true;
    }
    lane->cv.notify_all();
    for (std::thread& t : lane->workers) t.join();
    lane->workers.clear();
    internal::MutexLock lock(&lane->mu);
    for (const Request& r : lane->queue) CloseSocket(r.sock);
    queued_.fetch_sub(lane->queue.size());
    lane->queue.clear();
  }
  close(wake_fd_);
  wake_fd_ = -1;
}

bool BoundedServer::process_and_close_socket(int sock) {
  if (!ToGate(sock, /*kept_alive=*/false)) Shed(sock);
  return true;
}

bool BoundedServer::ToGate(int sock, bool kept_alive) {
  {
    internal::MutexLock lock(&gate_mu_);
    // Twice what the gate holds: the gate thread is behind by a gate's
    // worth (it evicts down to kGateConnections when it takes them in).
    if (gate_stopping_ || at_gate_.load() >= 2 * kGateConnections) {
      return false;
    }
    at_gate_.fetch_add(1);
    incoming_.push_back({sock, kept_alive});
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  return true;
}

void BoundedServer::Count(int status, std::size_t bytes) {
  if (status >= 0 && static_cast<std::size_t>(status) < by_status_.size()) {
    by_status_[static_cast<std::size_t>(status)].fetch_add(1);
  }
  if (bytes > 0) bytes_written_.fetch_add(bytes);
}

void BoundedServer::Answer(int sock, int status, const char* reason,
                           const char* extra) {
  char response[512];
  int n =
      std::snprintf(response, sizeof(response),
                    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
                    status, Reason(status), std::strlen(reason), extra, reason);
  ssize_t sent = send(sock, response, static_cast<std::size_t>(n),
                      MSG_DONTWAIT | MSG_NOSIGNAL);
  Count(status, sent > 0 ? static_cast<std::size_t>(sent) : 0);
  shutdown(sock, SHUT_WR);
}

void BoundedServer::Shed(int sock) {
  // What the client sent already, read so that closing does not reset
  // the connection under the answer.
  char scratch[4096];
  for (int i = 0; i < 4; ++i) {
    if (recv(sock, scratch, sizeof(scratch), MSG_DONTWAIT) <= 0) break;
  }
  shed_.fetch_add(1);
  Answer(sock, 503, "memmon's HTTP server is busy; try again\n",
         "Retry-After: 1\r\n");
  close(sock);
}

bool BoundedServer::Enqueue(Lane& lane, Request request) {
  internal::MutexLock lock(&lane.mu);
  if (lane.stopping || lane.queue.size() >= kLaneQueue) return false;
  lane.queue.push_back(std::move(request));
  queued_.fetch_add(1);
  lane.cv.notify_one();
  return true;
}

void BoundedServer::Dispatch(const Request& request, bool metrics) {
  if (!Enqueue(metrics ? metrics_lane_ : general_lane_, request)) {
    Shed(request.sock);
  }
}

void BoundedServer::GateLoop() {
  pthread_setname_np(pthread_self(), "memmon-gate");
  LowerThisThreadsPriority();
  struct Held {
    int sock;
    Clock::time_point deadline;
    bool draining = false;
    std::size_t drained = 0;
    // Kept alive after a response, no byte of the next request yet: on
    // its deadline (kKeepAliveIdle), or to make room, it is closed
    // without an answer.
    bool idle = false;
  };
  std::vector<Held> held;
  std::vector<pollfd> fds;
  std::vector<char> buffer(kMaxHeadBytes);
  char* const head = buffer.data();
  auto release = [this](const Held& h) {
    close(h.sock);
    at_gate_.fetch_sub(1);
  };
  this_thread_is_gate = true;
  Clock::time_point round{};  // when the gate last woke to serve
  for (;;) {
    // Many connections: their requests are served in rounds, at most one
    // every kRoundInterval (what arrives meanwhile waits for the next),
    // not a wake-up each. A new connection or a stop (the eventfd) ends
    // the wait: connections are taken in, and the oldest make room, as
    // soon as they come.
    if (held.size() > kRoundConnections) {
      const int wait = Millis(round + kRoundInterval - Clock::now());
      pollfd w{wake_fd_, POLLIN, 0};
      if (wait > 0) poll(&w, 1, wait);
    }
    {
      internal::MutexLock lock(&gate_mu_);
      if (gate_stopping_) break;
      const Clock::time_point now = Clock::now();
      for (const Incoming& in : incoming_) {
        held.push_back({in.sock,
                        now + (in.kept_alive ? kKeepAliveIdle : kHeadTimeout),
                        false, 0, in.kept_alive});
      }
      incoming_.clear();
    }
    fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
    Clock::time_point next = Clock::now() + std::chrono::seconds(60);
    for (const Held& h : held) {
      fds.push_back({h.sock, POLLIN, 0});
      next = std::min(next, h.deadline);
    }
    int ready = poll(fds.data(), fds.size(), Millis(next - Clock::now()));
    if (ready < 0 && errno != EINTR) break;
    round = Clock::now();
    if (ready > ((fds[0].revents & POLLIN) ? 1 : 0)) wakeups_.fetch_add(1);
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      (void)!::read(wake_fd_, &v, sizeof(v));
    }
    const Clock::time_point now = Clock::now();
    std::vector<Held> still;
    still.reserve(held.size());
    for (std::size_t i = 0; i < held.size(); ++i) {
      Held h = held[i];
      const bool readable = fds[i + 1].revents != 0;
      if (h.draining) {
        ssize_t n = 1;
        while (readable && n > 0 && h.drained < kDrainBytes) {
          n = recv(h.sock, head, kMaxHeadBytes, MSG_DONTWAIT);
          if (n > 0) h.drained += static_cast<std::size_t>(n);
        }
        const bool open = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if ((readable && !open) || h.drained >= kDrainBytes ||
            now >= h.deadline) {
          release(h);
        } else {
          still.push_back(h);
        }
        continue;
      }
      if (!readable) {
        if (now >= h.deadline && h.idle) {
          release(h);  // kept alive, not used again in time
        } else if (now >= h.deadline) {
          Answer(h.sock, 408, "the request head did not arrive in time\n", "");
          still.push_back({h.sock, now + kDrainTimeout, true});
        } else {
          still.push_back(h);
        }
        continue;
      }
      ssize_t n = recv(h.sock, head, kMaxHeadBytes, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                     errno != EINTR)) {
        release(h);  // gone before asking
        continue;
      }
      if (n < 0) {
        still.push_back(h);
        continue;
      }
      if (h.idle) {
        // The next request begins: its head has kHeadTimeout from now.
        h.idle = false;
        h.deadline = now + kHeadTimeout;
        kept_alive_.fetch_add(1);
      }
      std::string_view text(head, static_cast<std::size_t>(n));
      std::size_t end = text.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (static_cast<std::size_t>(n) >= kMaxHeadBytes) {
          Answer(h.sock, 431, "the request head is too long\n", "");
          still.push_back({h.sock, now + kDrainTimeout, true});
        } else if (now >= h.deadline) {
          Answer(h.sock, 408, "the request head did not arrive in time\n", "");
          still.push_back({h.sock, now + kDrainTimeout, true});
        } else {
          still.push_back(h);
        }
        continue;
      }
      Verdict v = Judge(text.substr(0, end + 2));
      if (v.status == 0 && quick_ && quick_(v.target)) {
        at_gate_.fetch_sub(1);
        if (ServeOnGate(h.sock, end + 4)) {
          // Kept alive: waits here for its next request, idle.
          still.push_back({h.sock, Clock::now() + kKeepAliveIdle, false, 0,
                           /*idle=*/true});
        }
        continue;
      }
      if (v.status == 0) {
        at_gate_.fetch_sub(1);
        Dispatch({h.sock, end + 4}, v.metrics);
        continue;
      }
      Answer(h.sock, v.status,
             v.status == 405   ? "only GET and HEAD are served\n"
             : v.status == 413 ? "a request to this server has no body\n"
                               : "not an HTTP request\n",
             v.status == 405 ? "Allow: GET, HEAD\r\n" : "");
      still.push_back({h.sock, now + kDrainTimeout, true});
    }
    // Full: the oldest make room for the newest (slow or idle clients
    // cannot keep a scrape out; they must outpace the gate): first the
    // kept-alive idle ones (closed), then those already answered, then
    // those still sending their head (408, closed). After the pass above,
    // so that a head that has arrived goes on to its lane instead.
    auto rank = [](const Held& h) { return h.idle ? 0 : h.draining ? 1 : 2; };
    while (still.size() > kGateConnections) {
      auto oldest = still.end();
      for (auto it = still.begin(); it != still.end(); ++it) {
        if (oldest == still.end() || rank(*it) < rank(*oldest) ||
            (rank(*it) == rank(*oldest) && it->deadline < oldest->deadline)) {
          oldest = it;
        }
      }
      if (!oldest->draining && !oldest->idle) {
        shed_.fetch_add(1);
        Answer(oldest->sock, 408,
               "the request head did not arrive before newer connections "
               "needed its place\n",
               "");
      }
      release(*oldest);
      still.erase(oldest);
    }
    held.swap(still);
  }
  for (const Held& h : held) release(h);
  internal::MutexLock lock(&gate_mu_);
  for (const Incoming& in : incoming_) {
    close(in.sock);
    at_gate_.fetch_sub(1);
  }
  incoming_.clear();
}

void BoundedServer::Work(Lane* lane) {
  pthread_setname_np(pthread_self(), lane == &metrics_lane_ ? "memmon-metrics"
                                                            : "memmon-worker");
  LowerThisThreadsPriority();
  for (;;) {
    Request request;
    {
      internal::MutexLock lock(&lane->mu);
      while (!lane->stopping && lane->queue.empty()) lane->cv.wait(lane->mu);
      if (lane->stopping) return;
      request = lane->queue.front();
      lane->queue.pop_front();
    }
    queued_.fetch_sub(1);
    serving_.fetch_add(1);
    if (request.head_bytes == 0) {
      Finish(request);
    } else {
      Serve(request);
    }
    serving_.fetch_sub(1);
  }
}

bool BoundedServer::Process(httplib::Stream& stream) {
  bool closed = false;
  bool ok =
      process_request(stream, /*close_connection=*/false, closed, nullptr);
  bytes_held_.fetch_sub(t_held_bytes);
  t_held_bytes = 0;
  return ok && !closed;
}

void BoundedServer::Serve(const Request& request) {
  SocketStream stream(request.sock, request.head_bytes, &bytes_written_);
  const bool open = Process(stream);
  if (stream.Flush() && open && ToGate(request.sock, /*kept_alive=*/true)) {
    return;
  }
  CloseSocket(request.sock);
}

bool BoundedServer::ServeOnGate(int sock, std::size_t head_bytes) {
  on_gate_.fetch_add(1);
  serving_.fetch_add(1);
  SocketStream stream(sock, head_bytes, &bytes_written_, /*never_wait=*/true);
  const bool open = Process(stream);
  const bool whole = stream.Flush();
  const bool keep = whole && open;
  serving_.fetch_sub(1);
  if (whole && !stream.rest().empty()) {
    // The client did not take it all at once: a worker sends the rest
    // (it may wait; the gate may not). With no worker free, the client
    // gets what it took (the connection closes mid-body).
    if (!Enqueue(general_lane_, {sock, 0, std::move(stream.rest()), keep})) {
      shed_.fetch_add(1);
      CloseSocket(sock);
    }
    return false;
  }
  if (keep) {
    at_gate_.fetch_add(1);
    return true;
  }
  CloseSocket(sock);
  return false;
}

void BoundedServer::Finish(const Request& request) {
  SocketStream stream(request.sock, 0, &bytes_written_);
  stream.write(request.rest.data(), request.rest.size());
  if (stream.Flush() && request.keep &&
      ToGate(request.sock, /*kept_alive=*/true)) {
    return;
  }
  CloseSocket(request.sock);
}

bool BoundedServer::OnGate() { return this_thread_is_gate; }

bool BoundedServer::BeginWait() {
  uint64_t n = waits_.load();
  do {
    if (n >= kProfileWaits) return false;
  } while (!waits_.compare_exchange_weak(n, n + 1));
  return true;
}

void BoundedServer::EndWait() { waits_.fetch_sub(1); }

ServerCounters BoundedServer::Counters() const {
  ServerCounters c;
  c.threads = kThreads;
  c.workers = kWorkers + 1;
  c.connections_max = ConnectionLimit();
  c.at_gate = at_gate_.load();
  c.queued = queued_.load();
  c.serving = serving_.load();
  c.waits = waits_.load();
  c.waits_max = kProfileWaits;
  c.shed_total = shed_.load();
  c.keepalive_requests_total = kept_alive_.load();
  c.gate_served_total = on_gate_.load();
  c.gate_wakeups_total = wakeups_.load();
  c.bytes_written_total = bytes_written_.load();
  c.response_bytes_held = bytes_held_.load();
  for (std::size_t s = 0; s < by_status_.size(); ++s) {
    if (uint64_t n = by_status_[s].load(); n > 0) {
      c.responses_by_status.emplace_back(static_cast<int>(s), n);
    }
  }
  return c;
}

}  // namespace memmon::http
