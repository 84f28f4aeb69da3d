// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/http_server.h"

#include <dlfcn.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "http/bounded_server.h"
#include "http/live_page.h"
#include "http/metrics.h"
#include "http/source.h"
#include "memmon/memmon_preload.h"
#include "memmon/profiler.h"
#include "profile/delta.h"
#include "profile/pprof.h"
#include "source/allocator_stats.h"

namespace memmon {
namespace {

namespace fs = std::filesystem;

// ?seconds=N waits at most this long, holding a worker (at most
// BoundedServer::kProfileWaits at once); a longer window is two fetches.
constexpr int kMaxDeltaSeconds = 120;

// "Bearer <token>" compared in time that depends on the lengths only, not
// on where the first difference is.
bool SameSecret(const std::string& got, const std::string& want) {
  unsigned char diff = got.size() == want.size() ? 0 : 1;
  for (std::size_t i = 0; i < want.size(); ++i) {
    diff |= static_cast<unsigned char>(
        want[i] ^ (i < got.size() ? got[i] : static_cast<char>(~want[i])));
  }
  return diff == 0;
}

// "HOST:PORT" or "[V6]:PORT".
bool SplitAddress(const std::string& address, std::string* host, int* port) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  std::string p = address.substr(colon + 1);
  if (h.empty() || p.empty() || p.size() > 5 ||
      p.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  int n = std::stoi(p);
  if (n > 65535) return false;
  *host = h;
  *port = n;
  return true;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The pprof index, as Go's /debug/pprof/ lists its profiles.
constexpr const char* kIndex = R"(<!DOCTYPE html>
<html><head><title>/debug/pprof/</title></head><body>
<p>memmon: profiles of this process (go tool pprof http://HOST:PORT/debug/pprof/heap)</p>
<table>
<tr><td><a href="allocs">allocs</a></td><td>A sampling of all past memory allocations (the heap profile, alloc_space by default).</td></tr>
<tr><td><a href="block">block</a></td><td>Stack traces of waits on condition variables, semaphores and joins. ?seconds=N gives the change over N seconds.</td></tr>
<tr><td><a href="goroutine">goroutine</a></td><td>Stack traces of all threads (the threads profile, under Go's name).</td></tr>
<tr><td><a href="heap">heap</a></td><td>A sampling of memory allocations of live objects. ?gc=1 releases free memory first; ?seconds=N gives the change over N seconds.</td></tr>
<tr><td><a href="mmap">mmap</a></td><td>The program's own live anonymous mappings (of MEMMON_MMAP_MIN bytes or more, 1 MiB unless set) by the call site that mapped them, with their addresses.</td></tr>
<tr><td><a href="mutex">mutex</a></td><td>Stack traces of waits for contended mutexes and rwlocks. ?seconds=N gives the change over N seconds.</td></tr>
<tr><td><a href="peak">peak</a></td><td>The sampled heap as it stood at its highest point so far.</td></tr>
<tr><td><a href="threads">threads</a></td><td>Stack traces of all threads, with their names.</td></tr>
</table>
<p><a href="/debug/memmon/stats">/debug/memmon/stats</a>, <a href="/debug/memmon/samples">samples</a>, <a href="/debug/memmon/alerts">alerts</a>, <a href="/metrics">/metrics</a></p>
</body></html>
)";

// A MemoryMonitor's data; profiles only when it monitors this process.
class MonitorHttpSource : public internal::HttpSource {
 public:
  explicit MonitorHttpSource(MemoryMonitor& m)
      : monitor_(m),
        self_(m.config().pid == 0 || m.config().pid == getpid()),
        allocator_(internal::AllocatorStats::Detect()) {}

  MemoryStats Stats() const override { return monitor_.GetStats(); }
  std::vector<Sample> Samples() const override { return monitor_.GetSamples(); }
  std::vector<MemoryAlert> Alerts() const override {
    return monitor_.GetAlerts();
  }
  const MonitorConfig& Config() const override { return monitor_.config(); }
  std::optional<memmon_preload_counters> SamplerCounters() const override {
    if (!self_) return std::nullopt;
    auto read = reinterpret_cast<memmon_preload_counters_fn>(
        dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_COUNTERS_SYMBOL));
    memmon_preload_counters c{};
    if (read == nullptr || read(&c, sizeof(c)) != 0) return std::nullopt;
    return c;
  }
  Status SamplerProfile(const std::string& kind, const std::string& scratch,
                        std::string* gz) override {
    if (!self_) return NotThisProcess();
    fs::path path(scratch);
    Profiler profiler(path.parent_path().string());
    const std::string name = path.filename().string();
    Status s = kind == "peak"    ? profiler.WritePeakHeapProfile(name)
               : kind == "mutex" ? profiler.WriteMutexProfile(name)
               : kind == "block" ? profiler.WriteBlockProfile(name)
               : kind == "mmap"  ? profiler.WriteMmapProfile(name)
                                 : profiler.WriteHeapProfile(name);
    if (!s.ok()) return s;
    *gz = ReadFile(path);
    std::error_code ignored;
    fs::remove(path, ignored);
    return Status::Ok();
  }
  Status ThreadProfile(const std::string& scratch_dir,
                       std::string* gz) override {
    if (!self_) return NotThisProcess();
    Profiler profiler(scratch_dir);
    std::string name = "threads." + std::to_string(++files_) + ".pb.gz";
    if (Status s = profiler.WriteThreadProfile(name); !s.ok()) return s;
    fs::path path = fs::path(scratch_dir) / name;
    *gz = ReadFile(path);
    std::error_code ignored;
    fs::remove(path, ignored);
    return Status::Ok();
  }
  std::vector<AllocationSite> TopSites(std::size_t n) override {
    if (!self_) return {};
    return allocator_.TopAllocationSites(n);
  }
  void ReleaseFreeMemory() override { monitor_.ReleaseFreeMemory(); }

 private:
  Status NotThisProcess() const {
    return Status::Unavailable(
        "memmon watches PID " + std::to_string(monitor_.config().pid) +
        " from /proc: its profiles need the heap sampler inside it (memmon "
        "run, or MEMMON_HTTP in that process)");
  }
  MemoryMonitor& monitor_;
  const bool self_;
  const internal::AllocatorStats allocator_;
  std::atomic<uint64_t> files_{0};
};

}  // namespace

namespace internal {
std::unique_ptr<HttpSource> MonitorSource(MemoryMonitor& monitor) {
  return std::make_unique<MonitorHttpSource>(monitor);
}
}  // namespace internal

Status BearerTokenFromEnvironment(std::string* token) {
  token->clear();
  if (const char* file = std::getenv("MEMMON_HTTP_TOKEN_FILE");
      file != nullptr && *file != '\0') {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return Status::IoError(std::string("cannot read the bearer token from ") +
                             file + " (MEMMON_HTTP_TOKEN_FILE)");
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    if (line.empty()) {
      return Status::InvalidArgument(std::string("the bearer token file ") +
                                     file + " is empty");
    }
    *token = line;
    return Status::Ok();
  }
  if (const char* t = std::getenv("MEMMON_HTTP_TOKEN")) *token = t;
  return Status::Ok();
}

// `items` as a JSON array, one element a line (as the files of `memmon
// run` hold them, one a line).
template <class T>
std::string JsonArray(const std::vector<T>& items) {
  std::string body = "[";
  for (const T& item : items) {
    if (body.size() > 1) body += ",\n";
    body += ToJson(item);
  }
  return body + "]\n";
}

// The sampler's profiles served at /debug/pprof/NAME.
constexpr std::array<std::string_view, 6> kProfiles = {
    "heap", "allocs", "peak", "mutex", "block", "mmap"};

struct HttpServer::Impl {
  Impl(std::unique_ptr<internal::HttpSource> s, HttpServerOptions o)
      : source(std::move(s)), options(std::move(o)) {}

  const std::unique_ptr<internal::HttpSource> source;
  const HttpServerOptions options;
  http::BoundedServer server;
  std::thread thread;
  // One profile (or top-sites list) is built at a time: building one
  // symbolizes and encodes, milliseconds to a third of a second of CPU
  // (the thread profile), so concurrent requests for them cost the program
  // at most one (niced) thread's worth of CPU.
  std::mutex build_mu;
  // The last build of each profile (by kind) and top-sites list, for
  // options.profile_reuse; guarded by built_mu, held only to look up or
  // store (never while building: a request for a kept build, which the
  // gate serves itself, never waits for another's build).
  struct Built {
    std::string body;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex built_mu;
  std::map<std::string, Built> built;
  // The last allocs profile (the heap profile read for what was allocated)
  // and the heap profile it was made from; guarded by allocs_mu.
  std::mutex allocs_mu;
  std::string allocs_of, allocs_body;

  // `key`'s last build, when younger than `max_age`: into *out and its age
  // into *age_s (each when not null).
  bool Kept(const std::string& key, std::chrono::steady_clock::duration max_age,
            std::string* out, int* age_s) {
    if (options.profile_reuse.count() <= 0) return false;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(built_mu);
    auto it = built.find(key);
    if (it == built.end() || now - it->second.at >= max_age) return false;
    if (out != nullptr) *out = it->second.body;
    if (age_s != nullptr) {
      *age_s = static_cast<int>(
          std::chrono::duration_cast<std::chrono::seconds>(now - it->second.at)
              .count());
    }
    return true;
  }

  // `key`'s last build when `reuse` and younger than options.profile_reuse
  // (its age in *age_s), else `build(out)` under build_mu -- kept for the
  // next request when it succeeds.
  template <class Build>
  Status BuildOrReuse(const std::string& key, bool reuse, std::string* out,
                      int* age_s, Build&& build) {
    *age_s = -1;
    // On the gate, Quick saw a kept build: serve it even if it has gone
    // stale since (microseconds ago), never build there.
    const std::chrono::steady_clock::duration max_age =
        http::BoundedServer::OnGate()
            ? std::chrono::steady_clock::duration::max()
            : std::chrono::steady_clock::duration(options.profile_reuse);
    if (reuse && Kept(key, max_age, out, age_s)) return Status::Ok();
    std::lock_guard building(build_mu);
    // Built by the request this one waited for?
    if (reuse && Kept(key, max_age, out, age_s)) return Status::Ok();
    Status st = build(out);
    if (st.ok() && options.profile_reuse.count() > 0) {
      std::lock_guard lock(built_mu);
      built[key] = {*out, std::chrono::steady_clock::now()};
    }
    return st;
  }

  // A page that changes only when the source takes a sample (the samples
  // and alerts lists, which grow with the run): made once per sample, not
  // per request. Guarded by pages_mu, held only to look up or store.
  struct PerSamplePage {
    uint64_t samples = ~uint64_t{0};  // the source's sample_count it is of
    std::string body;
  };
  std::mutex pages_mu;
  PerSamplePage samples_page, alerts_page;

  // `page`'s body for the source's current sample, made by `make` when it
  // is of an older one. The count is read before making: a sample taken
  // meanwhile makes the next request make it again, never a page older
  // than its count.
  template <class Make>
  std::string PerSample(PerSamplePage& page, Make&& make) {
    const uint64_t samples = source->Stats().sample_count;
    {
      std::lock_guard lock(pages_mu);
      if (page.samples == samples) return page.body;
    }
    std::string body = make();
    std::lock_guard lock(pages_mu);
    page = {samples, body};
    return body;
  }

  // Whether a request for `target` (path and query) has its answer ready
  // in memory: pages made from what the source holds, and builds kept (the
  // handler, on the gate, then serves the build seen here even if it
  // expires in between: BuildOrReuse). The gate serves those itself
  // (BoundedServer::SetQuick); it may not block, and does not: the locks
  // taken here are held only to look up.
  bool Quick(std::string_view target) {
    const std::size_t q = target.find('?');
    const std::string_view path = target.substr(0, q);
    const std::string_view query =
        q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    for (std::string_view page :
         {"/metrics", "/debug/memmon/stats", "/debug/memmon/samples",
          "/debug/memmon/alerts", "/debug/pprof/", "/debug/pprof", "/"}) {
      if (path == page) return true;
    }
    // ?seconds= waits, ?gc=1 and ?n= build: a worker's.
    if (!query.empty()) return false;
    std::string key;
    constexpr std::string_view kPprof = "/debug/pprof/";
    if (path == "/debug/memmon/top_sites") {
      key = "top_sites:10";
    } else if (path == "/debug/pprof/threads" ||
               path == "/debug/pprof/goroutine") {
      key = "threads";
    } else if (path.substr(0, kPprof.size()) == kPprof &&
               std::find(kProfiles.begin(), kProfiles.end(),
                         path.substr(kPprof.size())) != kProfiles.end()) {
      key = path.substr(kPprof.size());
      if (key == "allocs") key = "heap";
    } else {
      return false;
    }
    if (path != "/debug/pprof/allocs")
      return Kept(key, options.profile_reuse, nullptr, nullptr);
    // allocs: also converted from that heap profile already.
    std::string heap;
    if (!Kept(key, options.profile_reuse, &heap, nullptr)) return false;
    std::lock_guard lock(allocs_mu);
    return allocs_of == heap;
  }
  std::mutex mu;  // guards what follows
  std::condition_variable stopped_cv;
  bool started = false;
  bool stopping = false;
  std::string bound;
  fs::path scratch;  // private directory for profiles on their way out
  std::atomic<uint64_t> files{0};

  fs::path ScratchFile(const char* what) {
    return scratch /
           (std::string(what) + "." + std::to_string(++files) + ".pb.gz");
  }

  // The source's profile of `kind`, gzipped pprof; false with the HTTP
  // status and `error` when it has none.
  // `reuse`: a build younger than options.profile_reuse will do (*age_s
  // says how old; -1 when built now).
  bool SamplerProfile(const std::string& kind, bool reuse, std::string* out,
                      int* age_s, int* status, std::string* error) {
    Status st = BuildOrReuse(kind, reuse, out, age_s, [&](std::string* body) {
      return source->SamplerProfile(kind, ScratchFile(kind.c_str()).string(),
                                    body);
    });
    if (st.ok()) return true;
    *status = st.code() == StatusCode::kUnavailable ? 503 : 500;
    *error = st.message();
    return false;
  }

  // Waits `seconds` or until Stop; false when stopped.
  bool Wait(int seconds) {
    std::unique_lock lock(mu);
    return !stopped_cv.wait_for(lock, std::chrono::seconds(seconds),
                                [&] { return stopping; });
  }

  // heap, allocs (the heap read for what was allocated), mutex and block
  // take ?seconds=N (the change over N seconds, as Go serves them); peak
  // and mmap do not (a peak is not a rate; mappings are a state).
  void Profile(const httplib::Request& req, httplib::Response& res,
               const std::string& name) {
    const bool allocs = name == "allocs";
    const std::string kind = allocs ? "heap" : name;
    const bool gc = req.get_param_value("gc") == "1";
    if (gc) source->ReleaseFreeMemory();
    int seconds = 0;
    if (req.has_param("seconds") && (kind == "peak" || kind == "mmap")) {
      res.status = 400;
      res.set_content("the " + kind + " profile takes no seconds parameter\n",
                      "text/plain");
      return;
    }
    if (req.has_param("seconds")) {
      const std::string& v = req.get_param_value("seconds");
      if (v.empty() || v.size() > 6 ||
          v.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(v) < 1 || std::stoi(v) > kMaxDeltaSeconds) {
        res.status = 400;
        res.set_content("seconds must be a whole number from 1 to " +
                            std::to_string(kMaxDeltaSeconds) + "\n",
                        "text/plain");
        return;
      }
      seconds = std::stoi(v);
    }
    if (seconds > 0 && !server.BeginWait()) {
      res.status = 503;
      res.set_header("Retry-After", std::to_string(seconds));
      res.set_content(std::to_string(http::BoundedServer::kProfileWaits) +
                          " ?seconds= requests wait already; try again\n",
                      "text/plain");
      return;
    }
    struct EndWait {
      http::BoundedServer* server;
      ~EndWait() {
        if (server != nullptr) server->EndWait();
      }
    } end_wait{seconds > 0 ? &server : nullptr};
    std::string body, error;
    int status = 0, age_s = -1;
    if (!SamplerProfile(kind, /*reuse=*/seconds == 0 && !gc, &body, &age_s,
                        &status, &error)) {
      res.status = status;
      res.set_content(error + "\n", "text/plain");
      return;
    }
    // allocs of a kept heap profile: converted once per heap profile.
    bool converted = false;
    if (allocs && seconds == 0) {
      std::lock_guard lock(allocs_mu);
      if (!allocs_of.empty() && allocs_of == body) {
        body = allocs_body;
        converted = true;
      }
    }
    if (seconds > 0 || (allocs && !converted)) {
      const std::string heap = allocs && seconds == 0 ? body : std::string();
      profile::Profile later;
      Status s = profile::ParseProfile(body, &later);
      if (s.ok() && seconds > 0) {
        profile::Profile earlier = std::move(later);
        if (!Wait(seconds)) {
          res.status = 503;
          res.set_content("the server is stopping\n", "text/plain");
          return;
        }
        std::string second;
        if (!SamplerProfile(kind, /*reuse=*/false, &second, &age_s, &status,
                            &error)) {
          res.status = status;
          res.set_content(error + "\n", "text/plain");
          return;
        }
        profile::Profile now;
        s = profile::ParseProfile(second, &now);
        if (s.ok()) s = profile::Subtract(now, earlier, &later);
      }
      // allocs is the same profile, read for what was allocated.
      if (s.ok() && allocs) later.default_sample_type = "alloc_space";
      if (s.ok()) s = profile::Gzip(profile::EncodeProfile(later), &body);
      if (!s.ok()) {
        res.status = 500;
        res.set_content(s.ToString() + "\n", "text/plain");
        return;
      }
      if (!heap.empty()) {
        std::lock_guard lock(allocs_mu);
        allocs_of = heap;
        allocs_body = body;
      }
    }
    if (age_s >= 0) res.set_header("Age", std::to_string(age_s));
    res.set_header("Content-Disposition",
                   "attachment; filename=\"" + name + "\"");
    res.set_content(body, "application/octet-stream");
  }

  void Threads(httplib::Response& res) {
    std::string body;
    Status st;
    int age_s = -1;
    st = BuildOrReuse("threads", /*reuse=*/true, &body, &age_s,
                      [&](std::string* out) {
                        return source->ThreadProfile(scratch.string(), out);
                      });
    if (!st.ok()) {
      res.status = st.code() == StatusCode::kUnavailable ? 503 : 500;
      res.set_content(st.message() + "\n", "text/plain");
      return;
    }
    if (age_s >= 0) res.set_header("Age", std::to_string(age_s));
    res.set_header("Content-Disposition", "attachment; filename=\"threads\"");
    res.set_content(body, "application/octet-stream");
  }

  void Routes() {
    // A response's head is held and goes out with its body in one send;
    // a body written in parts (none of memmon's) would leave in several,
    // which without TCP_NODELAY Nagle would hold for the client's delayed
    // ACK (~40 ms a scrape).
    server.set_tcp_nodelay(true);
    server.SetQuick([this](std::string_view target) { return Quick(target); });
    // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which
    // lets a second server bind the same port and share its connections
    // instead of failing.
    server.set_socket_options([](int sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    if (!options.bearer_token.empty()) {
      std::string expected = "Bearer " + options.bearer_token;
      server.SetAuthorizer(
          [expected](const httplib::Request& req, httplib::Response& res) {
            // /metrics is open, as Prometheus scrapes it (the issue's choice:
            // it carries numbers, no addresses or paths). The live page's
            // shell at / is the same static document for every process and
            // carries no data: the data it fetches needs the token, which it
            // takes from its URL fragment (docs/http.md, "Token").
            if (req.path == "/metrics" || req.path == "/" ||
                SameSecret(req.get_header_value("Authorization"), expected)) {
              return true;
            }
            res.status = 401;
            res.set_header("WWW-Authenticate", "Bearer");
            res.set_content("a bearer token is required\n", "text/plain");
            return false;
          });
    }
    server.Get("/metrics",
               [this](const httplib::Request&, httplib::Response& res) {
                 MemoryStats stats = source->Stats();
                 std::vector<Sample> samples = source->Samples();
                 http::MetricsInput in;
                 in.stats = &stats;
                 in.samples = &samples;
                 in.config = &source->Config();
                 in.sampler = source->SamplerCounters();
                 res.set_content(http::PrometheusText(in) +
                                     http::ServerMetricsText(server.Counters()),
                                 "text/plain; version=0.0.4; charset=utf-8");
               });
    server.Get("/debug/memmon/stats", [this](const httplib::Request&,
                                             httplib::Response& res) {
      res.set_content(ToJson(source->Stats()) + "\n", "application/json");
    });
    server.Get("/debug/memmon/samples",
               [this](const httplib::Request&, httplib::Response& res) {
                 res.set_content(
                     PerSample(samples_page,
                               [this] { return JsonArray(source->Samples()); }),
                     "application/json");
               });
    server.Get("/debug/memmon/alerts", [this](const httplib::Request&,
                                              httplib::Response& res) {
      res.set_content(PerSample(alerts_page,
                                [this] { return JsonArray(source->Alerts()); }),
                      "application/json");
    });
    server.Get("/debug/memmon/top_sites", [this](const httplib::Request& req,
                                                 httplib::Response& res) {
      std::size_t n = 10;
      const std::string& v = req.get_param_value("n");
      if (!v.empty()) {
        if (v.size() > 3 ||
            v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(v) < 1 || std::stoi(v) > 100) {
          res.status = 400;
          res.set_content("n must be a whole number from 1 to 100\n",
                          "text/plain");
          return;
        }
        n = static_cast<std::size_t>(std::stoi(v));
      }
      std::string body;
      int age_s = -1;
      {
        BuildOrReuse("top_sites:" + std::to_string(n),
                     /*reuse=*/true, &body, &age_s,
                     [&](std::string* out) {
                       nlohmann::json sites = nlohmann::json::array();
                       for (const AllocationSite& site : source->TopSites(n)) {
                         sites.push_back({{"function", site.function},
                                          {"file", site.file},
                                          {"line", site.line},
                                          {"inuse_bytes", site.inuse_bytes}});
                       }
                       *out = sites.dump() + "\n";
                       return Status::Ok();
                     })
            .IgnoreError();
      }
      if (age_s >= 0) res.set_header("Age", std::to_string(age_s));
      res.set_content(body, "application/json");
    });
    server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
          source->Config().sample_interval);
      int refresh =
          static_cast<int>(std::clamp<int64_t>(interval.count(), 1000, 10000));
      res.set_content(http::LivePage(refresh), "text/html; charset=utf-8");
    });
    auto index = [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kIndex, "text/html; charset=utf-8");
    };
    server.Get("/debug/pprof/", index);
    server.Get("/debug/pprof", index);
    for (std::string_view profile : kProfiles) {
      std::string name(profile);
      server.Get(
          "/debug/pprof/" + name,
          [this, name](const httplib::Request& req, httplib::Response& res) {
            Profile(req, res, name);
          });
    }
    for (const char* path :
         {"/debug/pprof/threads", "/debug/pprof/goroutine"}) {
      server.Get(path, [this](const httplib::Request&, httplib::Response& res) {
        Threads(res);
      });
    }
    server.set_error_handler(
        [](const httplib::Request& req, httplib::Response& res) {
          if (res.status == 404 && res.body.empty()) {
            res.set_content("no such page: " + req.path +
                                " (see /debug/pprof/ and docs/http.md)\n",
                            "text/plain");
          }
        });
  }
};

HttpServer::HttpServer(MemoryMonitor& monitor, HttpServerOptions options)
    : HttpServer(internal::MonitorSource(monitor), std::move(options)) {}

HttpServer::HttpServer(std::unique_ptr<internal::HttpSource> source,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(source), std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  Impl& m = *impl_;
  std::string host;
  int port = 0;
  if (!SplitAddress(m.options.listen, &host, &port)) {
    return Status::InvalidArgument("listen address '" + m.options.listen +
                                   "' is not HOST:PORT");
  }
  {
    std::lock_guard lock(m.mu);
    if (m.started) return Status::FailedPrecondition("already started");
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
      "/memmon-http.XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    return Status::IoError("cannot create a directory under " +
                           templ.substr(0, templ.rfind('/')) +
                           " for profiles: " + std::strerror(errno));
  }
  m.scratch = templ;
  m.Routes();
  int bound = port == 0 ? m.server.bind_to_any_port(host)
                        : (m.server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    std::error_code ignored;
    fs::remove_all(m.scratch, ignored);
    return Status::IoError("cannot listen on " + m.options.listen +
                           " (in use, or not an address of this machine)");
  }
  std::lock_guard lock(m.mu);
  m.started = true;
  m.bound = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
            ":" + std::to_string(bound);
  m.server.StartWorkers();
  m.thread = std::thread([&m] {
    pthread_setname_np(pthread_self(), "memmon-http");
    m.server.listen_after_bind();
  });
  // cpp-httplib's stop() does nothing until the listener says it runs:
  // wait for that, so that a Stop right after Start cannot be lost.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!m.server.is_running() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (!m.started || m.stopping) return;
    m.stopping = true;
  }
  m.stopped_cv.notify_all();
  m.server.stop();
  if (m.thread.joinable()) m.thread.join();
  m.server.StopWorkers();
  std::error_code ignored;
  fs::remove_all(m.scratch, ignored);
}

std::string HttpServer::address() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bound;
}

}  // namespace memmon
