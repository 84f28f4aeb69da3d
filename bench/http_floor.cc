// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The floor under an HTTP request's cost on this machine, for
// bench/http_request_cost.sh: two servers of the same 1550-byte page at
// GET /debug/pprof/ (the size of memmon's index page), kept-alive
// connections, TCP_NODELAY.
//
//   http_floor minimal PORT   a thread per connection doing nothing but
//                             recv and two sends a request: one wake-up
//                             per request, no parsing (the floor)
//   http_floor httplib PORT   cpp-httplib's own Server, as shipped (its
//                             thread pool; what memmon's server is built
//                             on)
//   http_floor idle           sleeps: a program for MEMMON_HTTP to serve
//                             from (memmon's server)
//
// Runs until killed.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

const std::string kPage(1550, 'x');

int Minimal(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      listen(s, 128) != 0) {
    std::perror("http_floor: bind/listen");
    return 1;
  }
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
      "Content-Length: " +
      std::to_string(kPage.size()) + "\r\n\r\n";
  for (;;) {
    int c = accept(s, nullptr, nullptr);
    if (c < 0) continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::thread([c, &head] {
      char buf[4096];
      // One request per read (the client sends one and waits).
      while (recv(c, buf, sizeof(buf), 0) > 0) {
        send(c, head.data(), head.size(), MSG_NOSIGNAL);
        send(c, kPage.data(), kPage.size(), MSG_NOSIGNAL);
      }
      close(c);
    }).detach();
  }
}

int Stock(int port) {
  httplib::Server server;
  server.set_tcp_nodelay(true);
  server.Get("/debug/pprof/",
             [](const httplib::Request&, httplib::Response& res) {
               res.set_content(kPage, "text/html");
             });
  return server.listen("127.0.0.1", port) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "idle") {
    for (;;) pause();
  }
  if ((mode != "minimal" && mode != "httplib") || argc != 3) {
    std::fprintf(stderr, "usage: http_floor minimal|httplib PORT | idle\n");
    return 2;
  }
  int port = std::atoi(argv[2]);
  return mode == "minimal" ? Minimal(port) : Stock(port);
}
