// The HTTP endpoint (memmon::http, docs/http.md) built against the
// installed memmon: a monitor served on a free loopback port, and its
// /metrics page read back over a plain socket.
#include <arpa/inet.h>
#include <memmon/http_server.h>
#include <memmon/memmon.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <string>

namespace {

// GET `path` from "127.0.0.1:PORT"; the whole response, or "" on failure.
std::string Get(const std::string& address, const std::string& path) {
  const std::string::size_type colon = address.rfind(':');
  if (colon == std::string::npos) return "";
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port =
      htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    return "";
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
    const std::string request = "GET " + path +
                                " HTTP/1.1\r\nHost: " + address +
                                "\r\nConnection: close\r\n\r\n";
    if (write(fd, request.data(), request.size()) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0)
        response.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return response;
}

}  // namespace

int main() {
  // Not started: one sample taken here is what /metrics shows.
  memmon::MemoryMonitor monitor(memmon::DefaultMonitorConfig());
  monitor.TakeSample();
  memmon::HttpServer http(monitor);  // 127.0.0.1, a free port
  if (memmon::Status s = http.Start(); !s.ok()) {
    std::cerr << "memmon http: " << s.message() << "\n";
    return 1;
  }
  const std::string response = Get(http.address(), "/metrics");
  http.Stop();
  const bool ok = response.rfind("HTTP/1.1 200", 0) == 0 &&
                  response.find("\nmemmon_rss_bytes ") != std::string::npos;
  std::cout << "http: /metrics "
            << (ok ? "200 with memmon_rss_bytes" : "failed") << "\n";
  return ok ? 0 : 1;
}
