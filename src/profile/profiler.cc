// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/profiler.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <span>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "base/format.h"
#include "detect/growth_internal.h"
#include "memmon/config.h"
#include "memmon/growth.h"
#include "memmon/memmon_preload.h"
#include "profile/atomic_file.h"
#include "profile/heap_profile.h"
#include "profile/modules.h"
#include "profile/pprof.h"
#include "profile/symbolizer.h"
#include "source/allocator_stats.h"
#include "source/procfs.h"

namespace memmon {
namespace {

// ---- other threads' stacks -------------------------------------------------
// One request at a time (the caller holds g_thread_mu). The handler runs on
// the target thread; the state machine keeps a late handler from writing
// into a request the requester gave up on:
//   idle -> pending (requester) -> writing -> done (handler)
//   pending -> abandoned (requester, on timeout)
constexpr int kMaxThreadFrames = 64;
enum RequestState { kIdle, kPending, kWriting, kDone, kAbandoned };
struct ThreadRequest {
  std::atomic<int> state{kIdle};
  std::atomic<pid_t> tid{0};
  uintptr_t frames[kMaxThreadFrames];
  int depth = 0;
  sem_t done;
};
ThreadRequest g_request;
std::mutex g_thread_mu;
int g_thread_signal = 0;  // installed once, never removed (see profiler.h)

pid_t GetTid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

void OnThreadSignal(int, siginfo_t*, void* context) {
  int saved = errno;
  int expected = kPending;
  if (g_request.tid.load() != GetTid() ||
      !g_request.state.compare_exchange_strong(expected, kWriting)) {
    errno = saved;
    return;
  }
  void* buf[kMaxThreadFrames + 16];
  int n = unw_backtrace(buf, kMaxThreadFrames + 16);
  // Drop the handler's own frames: start at the interrupted instruction.
  auto* uc = static_cast<ucontext_t*>(context);
  uintptr_t pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  int start = 0;
  for (int i = 0; i < n; ++i) {
    if (reinterpret_cast<uintptr_t>(buf[i]) == pc) {
      start = i;
      break;
    }
  }
  int depth = 0;
  for (int i = start; i < n && depth < kMaxThreadFrames; ++i) {
    g_request.frames[depth++] = reinterpret_cast<uintptr_t>(buf[i]);
  }
  g_request.depth = depth;
  g_request.state.store(kDone);
  sem_post(&g_request.done);
  errno = saved;
}

Status InstallThreadSignal() {
  if (g_thread_signal != 0) return Status::Ok();
  int sig = SIGRTMIN + 7;
  if (const char* env = getenv("MEMMON_THREAD_SIGNAL")) {
    int v = atoi(env);
    if (v > 0 && v < NSIG) sig = v;
  }
  sem_init(&g_request.done, 0, 0);
  struct sigaction sa {};
  sa.sa_sigaction = OnThreadSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, nullptr) != 0) {
    return Status::IoError("cannot install the thread-stack signal handler");
  }
  g_thread_signal = sig;
  return Status::Ok();
}

// The stack of thread `tid`, innermost first; empty when it did not answer.
std::vector<uintptr_t> ThreadStack(pid_t tid) {
  g_request.depth = 0;
  g_request.tid.store(tid);
  g_request.state.store(kPending);
  if (syscall(SYS_tgkill, getpid(), tid, g_thread_signal) != 0) {
    g_request.state.store(kIdle);
    return {};
  }
  timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 100 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000;
  }
  for (;;) {
    if (sem_timedwait(&g_request.done, &deadline) == 0) break;
    if (errno == EINTR) continue;
    int expected = kPending;
    if (g_request.state.compare_exchange_strong(expected, kAbandoned))
      return {};
    sem_wait(&g_request.done);  // the handler is writing: it will post
    break;
  }
  std::vector<uintptr_t> out(g_request.frames,
                             g_request.frames + g_request.depth);
  g_request.state.store(kIdle);
  return out;
}

std::string ReadComm(const std::string& tid) {
  std::ifstream in("/proc/self/task/" + tid + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

// ---- profile building
// --------------------------------------------------------
struct ThreadInfo {
  pid_t tid;
  std::string name;
  std::vector<uintptr_t> stack;  // [0] is an instruction, the rest returns
};

profile::Profile BuildThreadProfile(const std::vector<ThreadInfo>& threads) {
  using profile::FindModule;
  using profile::Function;
  using profile::LoadedModules;
  using profile::Location;
  using profile::Mapping;
  using profile::Module;
  using profile::Profile;
  using profile::SymbolFrame;
  using profile::Symbolizer;
  Profile p;
  p.sample_types = {{"threads", "count"}};
  p.period_type = {"threads", "count"};
  p.period = 1;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  p.time_nanos = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  p.comments = {"memmon thread profile"};
  std::vector<Module> modules = LoadedModules();
  profile::AddMappings(modules, &p);
  // One symbolizer kept across thread profiles (rebuilt when the loaded
  // objects change): building one read the DWARF anew, ~300 ms of CPU a
  // profile -- the dearest thing an HTTP scrape of /debug/pprof/threads
  // did. Never destroyed (a profile may be written from an exit handler).
  static auto* cache_mu = new std::mutex;
  static auto* cache = new profile::SymbolizerCache;
  std::lock_guard cache_lock(*cache_mu);
  Symbolizer& symbolizer = *cache->For(modules);
  profile::FunctionTable functions(&p);
  std::map<uintptr_t, uint64_t> locations;
  auto location = [&](uintptr_t pc) {
    auto it = locations.find(pc);
    if (it != locations.end()) return it->second;
    Location loc;
    loc.id = p.locations.size() + 1;
    loc.address = pc;
    if (const Module* m = FindModule(modules, pc)) {
      loc.mapping_id = static_cast<uint64_t>(m - modules.data()) + 1;
    }
    for (const SymbolFrame& f : symbolizer.Symbolize(pc)) {
      loc.lines.push_back({functions.Id(f), f.line});
    }
    p.locations.push_back(std::move(loc));
    locations.emplace(pc, p.locations.back().id);
    return p.locations.back().id;
  };
  for (const ThreadInfo& t : threads) {
    profile::Sample s;
    s.values = {1};
    for (std::size_t i = 0; i < t.stack.size(); ++i) {
      // Return addresses point after the call: the call is one byte back.
      s.location_ids.push_back(location(i == 0 ? t.stack[i] : t.stack[i] - 1));
    }
    s.labels.push_back({"thread_name", t.name, 0, ""});
    s.labels.push_back({"tid", "", t.tid, ""});
    p.samples.push_back(std::move(s));
  }
  return p;
}

// One quantity's series for DetectLeaks: the samples that know it, oldest
// first, at most the last kMaxGrowthSamples (what ClassifyGrowth uses).
struct QuantitySeries {
  std::vector<double> times_s, values;
  const Sample* first = nullptr;
  const Sample* last = nullptr;
};

QuantitySeries SeriesOf(const std::vector<Sample>& samples,
                        std::optional<uint64_t> Sample::*field) {
  // Monotonic time when every sample has it (ProfileMemoryUsage's do), so a
  // clock step cannot bend the trend; else the wall clock.
  bool monotonic = std::all_of(samples.begin(), samples.end(), [](auto& s) {
    return s.monotonic.time_since_epoch().count() != 0;
  });
  QuantitySeries q;
  std::size_t from = samples.size() > kMaxGrowthSamples
                         ? samples.size() - kMaxGrowthSamples
                         : 0;
  for (std::size_t i = from; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    if (!(s.*field)) continue;
    auto t =
        monotonic ? s.monotonic.time_since_epoch() : s.time.time_since_epoch();
    q.times_s.push_back(std::chrono::duration<double>(t).count());
    q.values.push_back(static_cast<double>(*(s.*field)));
    if (q.first == nullptr) q.first = &s;
    q.last = &s;
  }
  return q;
}

}  // namespace

Profiler::Profiler(std::string output_dir)
    : output_dir_(std::move(output_dir)) {
  status_ = profile::MakeDirectories(output_dir_);
}

Profiler::~Profiler() { StopPeriodicProfiles(); }

Status Profiler::StartPeriodicProfiles(std::chrono::nanoseconds interval,
                                       std::size_t keep,
                                       const std::string& prefix) {
  if (!status_.ok()) return status_;
  if (interval.count() <= 0) {
    return Status::InvalidArgument(
        "periodic profiles: the interval must be positive");
  }
  if (prefix.empty() || prefix.find('/') != std::string::npos) {
    return Status::InvalidArgument(
        "periodic profiles: the prefix must be a non-empty file name prefix");
  }
  StopPeriodicProfiles();
  periodic_ =
      std::jthread([this, interval, keep, prefix](std::stop_token stop) {
        std::mutex m;
        std::condition_variable_any cv;
        std::deque<std::string> written;  // stems, oldest first
        for (;;) {
          {
            std::unique_lock lock(m);
            if (cv.wait_for(lock, stop, interval, [] { return false; })) break;
            if (stop.stop_requested()) break;
          }
          auto now = std::chrono::system_clock::now();
          auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        now.time_since_epoch())
                        .count() %
                    1000;
          std::string stem =
              fmt::format("{}-{:%Y%m%dT%H%M%S}.{:03d}Z", prefix,
                          std::chrono::floor<std::chrono::seconds>(now), ms);
          Status s = WriteAllProfiles(stem);
          // Without the sampler, the thread profile alone is the set.
          if (s.ok() || s.code() == StatusCode::kUnavailable) {
            ++periodic_sets_;
            written.push_back(stem + "-");
          } else {
            ++periodic_failures_;
          }
          while (keep > 0 && written.size() > keep) {
            for (const char* kind :
                 {"heap", "peak", "mutex", "block", "mmap", "threads"}) {
              std::error_code ignored;
              std::filesystem::remove(Path(written.front() + kind + ".pb.gz"),
                                      ignored);
            }
            written.pop_front();
          }
        }
      });
  return Status::Ok();
}

void Profiler::StopPeriodicProfiles() {
  if (periodic_.joinable()) {
    periodic_.request_stop();
    periodic_.join();
  }
}

std::string Profiler::Path(const std::string& name) const {
  return output_dir_ + "/" + name;
}

Status Profiler::WriteSamplerProfile(const char* kind,
                                     const std::string& name) {
  if (!status_.ok()) return status_;
  auto write = reinterpret_cast<memmon_preload_write_named_profile_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_WRITE_NAMED_PROFILE_SYMBOL));
  if (write == nullptr) {
    return Status::Unavailable(
        "the heap sampler is not loaded: run with "
        "LD_PRELOAD=libmemmon_preload.so or link libmemmon_heap.so");
  }
  std::lock_guard lock(mu_);
  char error[512] = "";
  int rc = write(kind, Path(name).c_str(), error, sizeof(error));
  if (rc == MEMMON_PRELOAD_PROFILE_OFF) {
    return Status::Unavailable(std::string(kind) + " profile: " + error);
  }
  if (rc != 0) {
    return Status::IoError(std::string(kind) + " profile: " + error);
  }
  return Status::Ok();
}

Status Profiler::WriteHeapProfile(const std::string& name) {
  return WriteSamplerProfile("heap", name);
}

Status Profiler::WritePeakHeapProfile(const std::string& name) {
  return WriteSamplerProfile("peak", name);
}

Status Profiler::WriteMutexProfile(const std::string& name) {
  return WriteSamplerProfile("mutex", name);
}

Status Profiler::WriteBlockProfile(const std::string& name) {
  return WriteSamplerProfile("block", name);
}

Status Profiler::WriteMmapProfile(const std::string& name) {
  return WriteSamplerProfile("mmap", name);
}

Status Profiler::WriteThreadProfile(const std::string& name) {
  if (!status_.ok()) return status_;
  std::lock_guard lock(mu_);
  std::vector<ThreadInfo> threads;
  {
    std::lock_guard thread_lock(g_thread_mu);
    if (Status s = InstallThreadSignal(); !s.ok()) return s;
    DIR* dir = opendir("/proc/self/task");
    if (dir == nullptr) return Status::IoError("cannot list /proc/self/task");
    std::vector<std::string> tids;
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') tids.emplace_back(e->d_name);
    }
    closedir(dir);
    for (const std::string& tid : tids) {
      ThreadInfo t;
      t.tid = static_cast<pid_t>(std::stol(tid));
      t.name = ReadComm(tid);
      if (t.name.empty()) continue;  // exited meanwhile
      t.stack = ThreadStack(t.tid);
      threads.push_back(std::move(t));
    }
  }
  return profile::WriteProfileFile(BuildThreadProfile(threads), Path(name));
}

Status Profiler::WriteAllProfiles(const std::string& prefix) {
  std::string stem = prefix;
  if (!stem.empty() && std::isalnum(static_cast<unsigned char>(stem.back())))
    stem += '-';
  Status first = WriteHeapProfile(stem + "heap.pb.gz");
  const bool sampler = first.code() != StatusCode::kUnavailable;
  if (sampler) {
    for (const char* kind : {"peak", "mutex", "block", "mmap"}) {
      Status s = WriteSamplerProfile(kind, stem + kind + ".pb.gz");
      // Off in this process (its variable says so): not an error here.
      if (!s.ok() && s.code() != StatusCode::kUnavailable && first.ok())
        first = s;
    }
  }
  Status threads = WriteThreadProfile(stem + "threads.pb.gz");
  return first.ok() ? threads : first;
}

std::vector<Sample> Profiler::ProfileMemoryUsage(
    std::chrono::nanoseconds duration, std::chrono::nanoseconds interval,
    std::stop_token stop) {
  std::vector<Sample> samples;
  internal::ProcReader proc;
  bool proc_ok = proc.Open().ok();
  internal::AllocatorStats allocator = internal::AllocatorStats::Detect();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + duration;
  std::mutex m;
  std::condition_variable_any cv;
  for (auto next = start;; next += interval) {
    Sample s;
    s.time = std::chrono::system_clock::now();
    s.monotonic = std::chrono::steady_clock::now();
    if (proc_ok) proc.Read(&s, false);
    allocator.Read(&s);
    samples.push_back(s);
    if (interval <= std::chrono::nanoseconds::zero() || next + interval > end)
      break;
    std::unique_lock lock(m);
    if (cv.wait_until(lock, stop, next + interval, [] { return false; }) ||
        stop.stop_requested()) {
      break;
    }
  }
  return samples;
}

std::vector<LeakDetection> Profiler::DetectLeaks(
    const std::vector<Sample>& samples, double threshold_pct) {
  // The monitor's judgement: a quantity leaks when its floor rises steadily
  // now (ClassifyGrowth says kUnbounded, with the monitor's default trend
  // options), and the fitted floor has grown by threshold_pct over the
  // first sample. Warm-ups that level off, caches that fill, single steps
  // and a sawtooth's teeth are kBounded or kFlat: not leaks.
  const GrowthOptions options = internal::TrendOptions(DefaultMonitorConfig());
  std::vector<LeakDetection> out;
  auto check = [&](const char* type, const char* what, bool bytes,
                   std::optional<uint64_t> Sample::*field) {
    QuantitySeries q = SeriesOf(samples, field);
    if (q.first == nullptr) return;
    double first = q.values.front();
    GrowthTrend trend = ClassifyGrowth(q.times_s, q.values, options);
    if (trend.kind != GrowthKind::kUnbounded || first <= 0) return;
    double growth_pct = (trend.level - first) / first * 100.0;
    if (growth_pct < threshold_pct) return;
    auto amount = [bytes](double v) {
      return bytes ? internal::HumanBytes(v) : fmt::format("{:.0f}", v);
    };
    LeakDetection d;
    d.type = type;
    d.start = q.first->time;
    d.end = q.last->time;
    d.growth_pct = growth_pct;
    d.description = fmt::format(
        "{} rises steadily: from {} to {} (+{:.1f} %) over {} samples, at "
        "least {}/s ({:.1f} % confidence)",
        what, amount(first), amount(trend.level), growth_pct, q.values.size(),
        amount(trend.slope_lower_per_s), trend.confidence * 100);
    out.push_back(std::move(d));
  };
  // Heap in use when the samples know it, else RSS (as memory_growth).
  bool heap_known = std::any_of(samples.begin(), samples.end(), [](auto& s) {
    return s.heap_inuse_bytes.has_value();
  });
  if (heap_known) {
    check("memory_leak", "heap in use", true, &Sample::heap_inuse_bytes);
  } else {
    check("memory_leak", "RSS", true, &Sample::rss_bytes);
  }
  check("thread_leak", "threads", false, &Sample::threads);
  check("fd_leak", "open descriptors", false, &Sample::open_fds);
  return out;
}

}  // namespace memmon
