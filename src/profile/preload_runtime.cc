// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The heap sampler's life outside malloc: reads the environment, writes
// profiles at exit, on a period and on a signal, and exports the C entry
// points that write profiles on request (memmon_preload.h).
//
// Linked only into libmemmon_preload.so / libmemmon_heap.so, never into the
// core library. Runs on ordinary threads (the caller's, a writer thread,
// or exit), so it may allocate; its own allocations are counted but never
// sampled (ScopedNoSampling).
//
// Files (docs/profiler.md): the first process of a run (the one that found
// MEMMON_ROOT_PID unset, and whatever it execs, which keeps its pid) writes
// DIR/heap.pb.gz and DIR/heap.NNNN.pb.gz; any other process (a fork child,
// a child that exec'd a new program) writes DIR/heap.<pid>.pb.gz and
// DIR/heap.<pid>.NNNN.pb.gz, so two processes never write the same file.

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

#include "atomic_file.h"
#include "heap_profile.h"
#include "modules.h"
#include "pprof.h"
#include "preload/memmon_preload.h"
#include "preload/sampler.h"
#include "symbolizer.h"

#define MEMMON_EXPORT extern "C" __attribute__((visibility("default")))

namespace memmon::profile {
namespace {

struct Runtime {
  std::string output_dir;  // empty: no automatic files
  bool root = true;
  pid_t pid = 0;
  double interval_s = 0;
  int signal = 0;
  std::atomic<int> snapshot_seq{0};
  std::mutex write_mu;  // one profile written at a time
  sem_t wake;
  std::atomic<bool> writer_running{false};
  std::atomic<bool> stopping{false};
  std::atomic<int> pending_signal_snapshots{0};
  int64_t start_nanos = 0;
};

// Constructed on first use and never destroyed: hooks and exit paths may
// need it after static destructors have run.
Runtime& R() {
  static Runtime* r = new Runtime();
  return *r;
}

int64_t NowNanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void Warn(const std::string& message) {
  std::string line = "memmon: " + message + "\n";
  ssize_t n = write(2, line.data(), line.size());
  (void)n;
}

int ParseSignal(const char* s) {
  if (s == nullptr || *s == '\0') return 0;
  std::string name = s;
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  static const std::unordered_map<std::string, int> kSignals = {
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"HUP", SIGHUP},
      {"PROF", SIGPROF}, {"URG", SIGURG},   {"WINCH", SIGWINCH}};
  auto it = kSignals.find(name);
  if (it != kSignals.end()) return it->second;
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end != s && *end == '\0' && v > 0 && v < NSIG) return static_cast<int>(v);
  if (name.rfind("RTMIN+", 0) == 0) {
    long off = std::strtol(name.c_str() + 6, &end, 10);
    if (*end == '\0' && SIGRTMIN + off <= SIGRTMAX) return SIGRTMIN + static_cast<int>(off);
  }
  return -1;
}

HeapSnapshot CollectSnapshot(const char* reason) {
  preload::ScopedNoSampling no_sampling;
  HeapSnapshot snap;
  snap.sample_rate = preload::Config().rate;
  snap.time_nanos = NowNanos(CLOCK_REALTIME);
  snap.duration_nanos = NowNanos(CLOCK_MONOTONIC) - R().start_nanos;
  std::unordered_map<const preload::StackRecord*, std::size_t> index;
  auto site_of = [&](const preload::StackRecord* r) -> HeapSite& {
    auto [it, inserted] = index.emplace(r, snap.sites.size());
    if (inserted) {
      HeapSite site;
      site.frames.assign(r->frames, r->frames + r->depth);
      snap.sites.push_back(std::move(site));
    }
    return snap.sites[it->second];
  };
  preload::Stacks().ForEach([&](preload::StackRecord* r) {
    uint64_t objects = r->alloc_objects_scaled.load(std::memory_order_relaxed);
    uint64_t bytes = r->alloc_bytes.load(std::memory_order_relaxed);
    if (objects == 0 && bytes == 0) return;
    HeapSite& site = site_of(r);
    site.alloc_objects = static_cast<double>(objects) / preload::kObjectScale;
    site.alloc_bytes = static_cast<double>(bytes);
  });
  const uint64_t rate = snap.sample_rate;
  preload::Live().ForEach([&](uintptr_t, std::size_t size, preload::StackRecord* r) {
    if (r == nullptr || size == 0) return;
    HeapSite& site = site_of(r);
    double w = preload::SampleWeightBytes(size, rate);
    site.inuse_bytes += w;
    site.inuse_objects += w / static_cast<double>(size);
  });
  memmon_preload_counters c{};
  preload::ReadCounters(&c);
  snap.comments.push_back(std::string("memmon heap profile; reason: ") +
                          (reason ? reason : "request"));
  snap.comments.push_back(
      "counters: allocations=" + std::to_string(c.allocations) +
      " frees=" + std::to_string(c.frees) +
      " allocated_bytes=" + std::to_string(c.allocated_bytes) +
      " inuse_bytes=" + std::to_string(c.inuse_bytes) +
      " samples=" + std::to_string(c.samples) +
      " live_samples=" + std::to_string(c.live_samples) +
      " dropped_samples=" + std::to_string(c.dropped_samples) +
      " unwind_failures=" + std::to_string(c.unwind_failures));
  return snap;
}

Status WriteHeapProfileTo(const std::string& path, const char* reason) {
  preload::ScopedNoSampling no_sampling;
  std::lock_guard lock(R().write_mu);
  HeapSnapshot snap = CollectSnapshot(reason);
  std::vector<Module> modules = LoadedModules();
  Symbolizer symbolizer;
  Profile profile = BuildHeapProfile(snap, modules, &symbolizer);
  return WriteProfileFile(profile, path);
}

std::string FileName(const std::string& stem_suffix) {
  Runtime& r = R();
  std::string name = r.output_dir + "/heap";
  if (!r.root) name += "." + std::to_string(r.pid);
  return name + stem_suffix + ".pb.gz";
}

int WriteNumberedSnapshot(const char* reason) {
  Runtime& r = R();
  if (r.output_dir.empty()) return -1;
  int n = r.snapshot_seq.fetch_add(1) + 1;
  char seq[16];
  std::snprintf(seq, sizeof(seq), ".%04d", n);
  Status s = WriteHeapProfileTo(FileName(seq), reason);
  if (!s.ok()) {
    Warn("snapshot failed: " + s.message());
    return -1;
  }
  return n;
}

void OnSignal(int) {
  int saved = errno;
  R().pending_signal_snapshots.fetch_add(1, std::memory_order_relaxed);
  sem_post(&R().wake);  // async-signal-safe
  errno = saved;
}

void* WriterThread(void*) {
  Runtime& r = R();
  preload::ScopedNoSampling no_sampling;
  int64_t next = NowNanos(CLOCK_MONOTONIC) +
                 static_cast<int64_t>(r.interval_s * 1e9);
  while (!r.stopping.load()) {
    int rc;
    if (r.interval_s > 0) {
      int64_t deadline = NowNanos(CLOCK_REALTIME) +
                         (next - NowNanos(CLOCK_MONOTONIC));
      timespec ts{static_cast<time_t>(deadline / 1000000000),
                  static_cast<long>(deadline % 1000000000)};
      rc = sem_timedwait(&r.wake, &ts);
    } else {
      rc = sem_wait(&r.wake);
    }
    if (r.stopping.load()) break;
    if (rc != 0 && errno == EINTR) continue;
    if (r.pending_signal_snapshots.exchange(0) > 0) {
      WriteNumberedSnapshot("signal");
    }
    if (r.interval_s > 0 && NowNanos(CLOCK_MONOTONIC) >= next) {
      WriteNumberedSnapshot("periodic");
      next = NowNanos(CLOCK_MONOTONIC) + static_cast<int64_t>(r.interval_s * 1e9);
    }
  }
  return nullptr;
}

void AtForkChild() {
  preload::ResetAfterFork();
  Runtime& r = R();
  // The child is a new process: its own files, no writer thread (threads do
  // not survive fork and none is started inside it), a fresh lock.
  r.pid = getpid();
  r.root = false;
  r.snapshot_seq.store(0);
  r.writer_running.store(false);
  new (&r.write_mu) std::mutex();
}

__attribute__((constructor)) void StartRuntime() {
  preload::EnsureInitialized();
  preload::ScopedNoSampling no_sampling;
  Runtime& r = R();
  r.start_nanos = NowNanos(CLOCK_MONOTONIC);
  r.pid = getpid();
  const char* root = getenv("MEMMON_ROOT_PID");
  if (root == nullptr || *root == '\0') {
    setenv("MEMMON_ROOT_PID", std::to_string(r.pid).c_str(), 1);
    r.root = true;
  } else {
    r.root = std::strtol(root, nullptr, 10) == r.pid;
  }
  pthread_atfork(nullptr, nullptr, AtForkChild);
  const char* out = getenv("MEMMON_OUTPUT");
  if (out == nullptr || *out == '\0') return;
  if (Status s = MakeDirectories(out); !s.ok()) {
    Warn("MEMMON_OUTPUT: " + s.message() + "; no profiles will be written");
    return;
  }
  r.output_dir = out;
  if (const char* iv = getenv("MEMMON_SNAPSHOT_INTERVAL")) {
    r.interval_s = std::strtod(iv, nullptr);
    if (r.interval_s < 0) r.interval_s = 0;
  }
  r.signal = ParseSignal(getenv("MEMMON_SIGNAL"));
  if (r.signal < 0) {
    Warn(std::string("MEMMON_SIGNAL: unknown signal ") + getenv("MEMMON_SIGNAL"));
    r.signal = 0;
  }
  if (r.interval_s <= 0 && r.signal == 0) return;
  sem_init(&r.wake, 0, 0);
  if (r.signal != 0) {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(r.signal, &sa, nullptr);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // The writer must not keep signals from the program's own threads.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  if (pthread_create(&t, &attr, WriterThread, nullptr) == 0) {
    r.writer_running.store(true);
    pthread_setname_np(t, "memmon-writer");
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
}

__attribute__((destructor)) void StopRuntime() {
  Runtime& r = R();
  r.stopping.store(true);
  if (r.writer_running.load()) sem_post(&r.wake);
  if (r.output_dir.empty()) return;
  Status s = WriteHeapProfileTo(FileName(""), "exit");
  if (!s.ok()) Warn("heap profile at exit: " + s.message());
}

}  // namespace
}  // namespace memmon::profile

MEMMON_EXPORT int memmon_preload_write_profile(const char* path, char* error,
                                               size_t error_len) {
  memmon::Status s = memmon::profile::WriteHeapProfileTo(path, "request");
  if (s.ok()) return 0;
  if (error != nullptr && error_len > 0) {
    std::snprintf(error, error_len, "%s", s.message().c_str());
  }
  return -1;
}

MEMMON_EXPORT int memmon_preload_snapshot(const char* reason) {
  return memmon::profile::WriteNumberedSnapshot(reason);
}
