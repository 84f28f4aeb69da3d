// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The heap sampler's life outside malloc: reads the environment, writes
// profiles at exit, on a period, on a signal and on request, and exports
// the C entry points of memmon_preload.h that do so.
//
// Runs on ordinary threads (the caller's, the writer thread, or exit), never
// inside malloc. Written against libc alone, like the hooks: the heavy part
// (symbolization, protobuf, gzip) is in libmemmon_writer.so, dlopen'ed from
// beside this library the first time a profile is written. Allocations made
// while writing are counted but never sampled (ScopedNoSampling).
//
// Files (docs/profiler.md): the first process of a run (the one that found
// MEMMON_ROOT_PID unset, and whatever it execs, which keeps its pid) writes
// DIR/heap.pb.gz and DIR/heap.NNNN.pb.gz; any other process (a fork child,
// a child that exec'd a new program) writes DIR/heap.pid<pid>.pb.gz and
// DIR/heap.pid<pid>.NNNN.pb.gz, so two processes never write the same file
// and no child's file reads as a numbered snapshot.

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "memmon/memmon_preload.h"
#include "preload/alloc_clock.h"
#include "preload/contention_math.h"
#include "preload/exit_dump.h"
#include "preload/in_malloc.h"
#include "preload/lock_profile.h"
#include "preload/mmap_table.h"
#include "preload/sampler.h"

namespace memmon::preload {
namespace {

struct Runtime {
  char output_dir[PATH_MAX];  // empty: no automatic files
  bool root;
  pid_t pid;
  double interval_s;
  // MEMMON_SNAPSHOT_KEEP: periodic sets kept (0: all); the numbers of the
  // kept ones, oldest first, in a ring (writer thread only).
  unsigned keep;
  int* periodic;
  unsigned periodic_head, periodic_count;
  int signal;
  int64_t start_nanos;
  std::atomic<int> snapshot_seq;
  pthread_mutex_t write_mu;  // one profile written at a time
  // Held by the writer thread while it writes a set (signal or periodic)
  // and by WriteAtExit from its start: the exit waits for a set in
  // progress, so no set is left half-written or unrotated.
  pthread_mutex_t set_mu;
  sem_t wake;
  std::atomic<bool> writer_running;
  std::atomic<bool> stopping;
  std::atomic<int> pending_signal_snapshots;
  memmon_status_page* status;  // MEMMON_STATUS_FILE, mapped; or null
  double status_interval_s;
  uint64_t status_requests_seen;
  uint64_t profile_requests_seen;
  // The statistics of the allocator that serves malloc: glibc's mallinfo2,
  // jemalloc's mallctl or tcmalloc's MallocExtension_GetNumericProperty
  // (one of them, or none); heap_allocator is MEMMON_STATUS_ALLOCATOR_*.
  struct mallinfo2 (*mallinfo2)();
  int (*mallctl)(const char*, void*, size_t*, void*, size_t);
  int (*tc_property)(const char*, size_t*);
  uint64_t heap_allocator;
  int64_t mallinfo_cost_nanos;
  int64_t mallinfo_last_nanos;
  void* writer_handle;
  memmon_writer_write_heap_fn write_heap;
  memmon_writer_top_sites_fn top_sites;
  // MEMMON_HTTP (the root process only): the address to serve on, and the
  // agent serving it once the writer thread started it (in `http_pid`).
  char http_address[256];
  memmon_agent_stop_fn agent_stop;
  pid_t http_pid;
};
Runtime g_rt{};

void Warn(const char* what, const char* detail) {
  char line[PATH_MAX + 256];
  int n = snprintf(line, sizeof(line), "memmon: %s%s%s\n", what,
                   detail ? ": " : "", detail ? detail : "");
  if (n > 0) {
    ssize_t w =
        write(2, line,
              static_cast<size_t>(n) < sizeof(line) ? static_cast<size_t>(n)
                                                    : sizeof(line) - 1);
    (void)w;
  }
}

int ParseSignal(const char* s) {
  if (s == nullptr || *s == '\0') return 0;
  const char* name = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
  static const struct {
    const char* name;
    int number;
  } kSignals[] = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"HUP", SIGHUP},
                  {"PROF", SIGPROF}, {"URG", SIGURG},   {"WINCH", SIGWINCH}};
  for (const auto& k : kSignals) {
    if (strcmp(name, k.name) == 0) return k.number;
  }
  char* end = nullptr;
  if (strncmp(name, "RTMIN+", 6) == 0) {
    long off = strtol(name + 6, &end, 10);
    if (*end == '\0' && off >= 0 && SIGRTMIN + off <= SIGRTMAX) {
      return SIGRTMIN + static_cast<int>(off);
    }
    return -1;
  }
  long v = strtol(s, &end, 10);
  if (end != s && *end == '\0' && v > 0 && v < NSIG) return static_cast<int>(v);
  return -1;
}

// mkdir -p, 0700 for what it creates. False with errno set.
bool MakeDirectories(const char* dir) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "%s", dir) >=
      static_cast<int>(sizeof(path))) {
    errno = ENAMETOOLONG;
    return false;
  }
  for (char* p = path + 1; *p != '\0'; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return false;
    *p = '/';
  }
  if (mkdir(path, 0700) != 0 && errno != EEXIST) return false;
  struct stat st;
  if (stat(path, &st) != 0) return false;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return false;
  }
  return access(path, W_OK | X_OK) == 0;
}

// Where a library memmon loads is: the path in the environment variable
// `env` when set, else `name` beside this library. False with a reason
// when this library's own path is unknown.
bool BesideThisLibrary(const char* env, const char* name, char* path,
                       size_t path_len, char* error, size_t error_len) {
  const char* set = getenv(env);
  if (set != nullptr && *set != '\0') {
    snprintf(path, path_len, "%s", set);
    return true;
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&BesideThisLibrary), &info) == 0 ||
      info.dli_fname == nullptr) {
    snprintf(error, error_len, "cannot find where libmemmon_preload.so lives");
    return false;
  }
  snprintf(path, path_len, "%s", info.dli_fname);
  char* slash = strrchr(path, '/');
  size_t dir_len = slash ? static_cast<size_t>(slash - path + 1) : 0;
  snprintf(path + dir_len, path_len - dir_len, "%s", name);
  return true;
}

// Finds libmemmon_writer.so beside this library (or at $MEMMON_WRITER).
bool LoadWriter(char* error, size_t error_len) {
  if (g_rt.write_heap != nullptr) return true;
  char path[PATH_MAX];
  if (!BesideThisLibrary("MEMMON_WRITER", MEMMON_WRITER_LIBRARY, path,
                         sizeof(path), error, error_len)) {
    return false;
  }
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    snprintf(error, error_len, "cannot load the profile writer: %s", dlerror());
    return false;
  }
  auto fn = reinterpret_cast<memmon_writer_write_heap_fn>(
      dlsym(h, MEMMON_WRITER_WRITE_HEAP_SYMBOL));
  if (fn == nullptr) {
    snprintf(error, error_len, "%s has no %s", path,
             MEMMON_WRITER_WRITE_HEAP_SYMBOL);
    return false;
  }
  g_rt.writer_handle = h;
  // Optional: a writer without it still writes profiles.
  g_rt.top_sites = reinterpret_cast<memmon_writer_top_sites_fn>(
      dlsym(h, MEMMON_WRITER_TOP_SITES_SYMBOL));
  g_rt.write_heap = fn;
  return true;
}

// ---- the age of live memory (MEMMON_LIVE_AGE) -----------------------------
// One live sample's age, for its site (an index into the sites array).
struct LiveAge {
  uint32_t site;
  double age_s;
  double objects;  // the objects the sample stands for
};

// Sets each site's median (weighted by objects) and oldest live age from
// `aged`, which it sorts.
void AddLiveAges(memmon_raw_site* sites, LiveAge* aged, size_t count) {
  if (count == 0) return;
  qsort(aged, count, sizeof(LiveAge), [](const void* a, const void* b) {
    const auto* x = static_cast<const LiveAge*>(a);
    const auto* y = static_cast<const LiveAge*>(b);
    if (x->site != y->site) return x->site < y->site ? -1 : 1;
    return x->age_s < y->age_s ? -1 : x->age_s > y->age_s ? 1 : 0;
  });
  for (size_t i = 0; i < count;) {
    size_t end = i;
    double total = 0;
    while (end < count && aged[end].site == aged[i].site) {
      total += aged[end].objects;
      ++end;
    }
    memmon_raw_site& s = sites[aged[i].site];
    double seen = 0;
    s.live_age_median_s = aged[end - 1].age_s;
    for (size_t j = i; j < end; ++j) {
      seen += aged[j].objects;
      if (seen >= total / 2) {
        s.live_age_median_s = aged[j].age_s;
        break;
      }
    }
    s.live_age_oldest_s = aged[end - 1].age_s;
    s.age_samples = end - i;
    i = end;
  }
}

// Runs body(error, error_len) with the profile writer loaded, under
// write_mu (one profile written at a time) and ScopedNoSampling (our own
// allocations, locks and writes are not the program's): the preamble every
// profile write shares. `error` may be null (a scratch buffer is used).
// Returns what body returns; -1, with the loader's reason in `error`, when
// the writer cannot be loaded.
template <typename Body>
long UnderWriter(char* error, size_t error_len, Body body) {
  ScopedNoSampling no_sampling;
  char scratch[256];
  if (error == nullptr || error_len == 0) {
    error = scratch;
    error_len = sizeof(scratch);
  }
  error[0] = '\0';
  pthread_mutex_lock(&g_rt.write_mu);
  long rc = LoadWriter(error, error_len) ? body(error, error_len) : -1;
  pthread_mutex_unlock(&g_rt.write_mu);
  return rc;
}

// Requires write_mu. Gathers every stack's totals and the live samples into
// `sites` (malloc'd; the caller frees). StackRecord::reserved holds each
// stack's 1-based site index while this runs.
size_t CollectSites(memmon_raw_site** out) {
  StackTable& stacks = Stacks();
  size_t cap = static_cast<size_t>(stacks.count()) + 1 + 4096;
  auto* sites =
      static_cast<memmon_raw_site*>(calloc(cap, sizeof(memmon_raw_site)));
  *out = sites;
  if (sites == nullptr) return 0;
  size_t n = 0;
  stacks.ForEach([&](StackRecord* r) { r->reserved = 0; });
  auto site_of = [&](StackRecord* r) -> memmon_raw_site* {
    if (r->reserved == 0) {
      if (n >= cap) return nullptr;
      sites[n].frames = r->frames;
      sites[n].depth = r->depth;
      r->reserved = static_cast<uint32_t>(++n);
    }
    return &sites[r->reserved - 1];
  };
  stacks.ForEach([&](StackRecord* r) {
    uint64_t objects = r->alloc_objects_scaled.load(std::memory_order_relaxed);
    uint64_t bytes = r->alloc_bytes.load(std::memory_order_relaxed);
    if (objects == 0 && bytes == 0) return;
    if (memmon_raw_site* s = site_of(r)) {
      s->alloc_objects = static_cast<double>(objects) / kObjectScale;
      s->alloc_bytes = static_cast<double>(bytes);
    }
  });
  const uint64_t rate = Config().rate;
  // The live samples' ages (when they carry a time), for each site's median
  // and oldest: gathered, then sorted by site and age.
  const bool ages = Config().live_age;
  const uint32_t now = LiveTable::NowTick();
  LiveAge* aged = nullptr;
  size_t aged_count = 0, aged_cap = 0;
  Live().ForEachTimed([&](uintptr_t, size_t size, uint32_t ref, uint32_t tick) {
    StackRecord* r = stacks.FromRef(ref);
    memmon_raw_site* s = site_of(r);
    if (s == nullptr) return;
    const double w = SampleWeightBytes(size, rate);
    const double objects = SampleWeightObjects(size, rate);
    s->inuse_bytes += w;
    s->inuse_objects += objects;
    if (!ages) return;
    if (aged_count == aged_cap) {
      size_t next = aged_cap == 0 ? 1024 : 2 * aged_cap;
      auto* grown =
          static_cast<LiveAge*>(realloc(aged, next * sizeof(LiveAge)));
      if (grown == nullptr) return;  // ages of the rest left out
      aged = grown;
      aged_cap = next;
    }
    aged[aged_count++] = {static_cast<uint32_t>(s - sites),
                          LiveTable::TickAgeSeconds(now, tick), objects};
  });
  AddLiveAges(sites, aged, aged_count);
  free(aged);
  return n;
}

// Gathers the raw heap (the sites, the counters as comments; `reason`
// among them) under write_mu and hands it to `use`, which returns what
// this returns; -1 with a reason in `error` when the writer cannot be
// loaded or memory runs out.
template <typename Use>
long WithRawHeap(const char* reason, char* error, size_t error_len, Use use) {
  return static_cast<long>(
      UnderWriter(error, error_len, [&](char* error, size_t error_len) -> long {
        long rc = -1;
        memmon_raw_site* sites = nullptr;
        size_t count = CollectSites(&sites);
        memmon_preload_counters c{};
        ReadCounters(&c);
        char line1[256], line2[512];
        snprintf(line1, sizeof(line1), "memmon heap profile; reason: %s",
                 reason ? reason : "request");
        snprintf(line2, sizeof(line2),
                 "counters: allocations=%llu frees=%llu allocated_bytes=%llu "
                 "inuse_bytes=%llu samples=%llu live_samples=%llu "
                 "dropped_samples=%llu unwind_failures=%llu",
                 static_cast<unsigned long long>(c.allocations),
                 static_cast<unsigned long long>(c.frees),
                 static_cast<unsigned long long>(c.allocated_bytes),
                 static_cast<unsigned long long>(c.inuse_bytes),
                 static_cast<unsigned long long>(c.samples),
                 static_cast<unsigned long long>(c.live_samples),
                 static_cast<unsigned long long>(c.dropped_samples),
                 static_cast<unsigned long long>(c.unwind_failures));
        const char* comments[] = {line1, line2};
        memmon_raw_heap heap{};
        heap.sample_rate = Config().rate;
        heap.time_nanos = ClockNanos(CLOCK_REALTIME);
        heap.duration_nanos = ClockNanos(CLOCK_MONOTONIC) - g_rt.start_nanos;
        heap.site_count = count;
        heap.sites = sites;
        heap.comment_count = 2;
        heap.comments = comments;
        if (sites == nullptr) {
          snprintf(error, error_len, "out of memory");
        } else {
          rc = use(heap, error, error_len);
        }
        free(sites);
        return rc;
      }));
}

int WriteProfile(const char* path, const char* reason, char* error,
                 size_t error_len) {
  return static_cast<int>(WithRawHeap(
      reason, error, error_len,
      [path](const memmon_raw_heap& heap, char* err, size_t err_len) {
        return static_cast<long>(g_rt.write_heap(&heap, path, err, err_len));
      }));
}

long TopSites(char* out, size_t size, unsigned max_sites) {
  if (out == nullptr || size == 0) return -1;
  return WithRawHeap("top sites", out, size,
                     [out, size, max_sites](const memmon_raw_heap& heap,
                                            char* err, size_t err_len) -> long {
                       if (g_rt.top_sites == nullptr) {
                         snprintf(err, err_len,
                                  "the profile writer cannot list sites");
                         return -1;
                       }
                       return g_rt.top_sites(&heap, out, size, max_sites);
                     });
}

// ---- the peak heap profile (MEMMON_PEAK; peak_heap.h) ---------------------
// The sampled heap at its highest point so far, as a heap profile (only
// inuse_objects and inuse_space filled), with a comment giving when the
// peak was and its size. The profile's time is the peak's.
int WritePeakProfile(const char* path, const char* reason, char* error,
                     size_t error_len) {
  return static_cast<int>(
      UnderWriter(error, error_len, [&](char* error, size_t error_len) -> long {
        long rc = -1;
        StackTable& stacks = Stacks();
        size_t cap = static_cast<size_t>(stacks.count()) + 1 + 4096;
        auto* sites =
            static_cast<memmon_raw_site*>(calloc(cap, sizeof(memmon_raw_site)));
        size_t n = 0;
        PeakHeap::Info info;
        if (sites != nullptr) {
          stacks.ForEach([&](StackRecord* r) { r->reserved = 0; });
          const uint64_t rate = Config().rate;
          info = Peak().Read([&](size_t size, uint32_t ref) {
            StackRecord* r = stacks.FromRef(ref);
            if (r->reserved == 0) {
              if (n >= cap) return;
              sites[n].frames = r->frames;
              sites[n].depth = r->depth;
              r->reserved = static_cast<uint32_t>(++n);
            }
            memmon_raw_site& s = sites[r->reserved - 1];
            double w = SampleWeightBytes(size, rate);
            s.inuse_bytes += w;
            s.inuse_objects += SampleWeightObjects(size, rate);
          });
        }
        const int64_t mono = ClockNanos(CLOCK_MONOTONIC);
        const int64_t at = info.bytes > 0 ? info.time_nanos : mono;
        char line1[256], line2[512];
        snprintf(line1, sizeof(line1), "memmon peak heap profile; reason: %s",
                 reason ? reason : "request");
        if (info.bytes > 0) {
          snprintf(line2, sizeof(line2),
                   "peak: %lld bytes sampled live (estimate) at %.3f s after "
                   "start, %.3f s before this profile; %zu samples (%zu left "
                   "out); saved %llu times, %llu skipped while busy",
                   static_cast<long long>(info.bytes),
                   static_cast<double>(at - g_rt.start_nanos) / 1e9,
                   static_cast<double>(mono - at) / 1e9, info.samples,
                   info.truncated, static_cast<unsigned long long>(info.saves),
                   static_cast<unsigned long long>(info.skipped));
        } else {
          snprintf(line2, sizeof(line2),
                   "peak: none saved yet (the sampled heap has stayed below 16 "
                   "sampling intervals, %llu bytes)",
                   static_cast<unsigned long long>(16 * Config().rate));
        }
        const char* comments[] = {line1, line2};
        memmon_raw_heap heap{};
        heap.sample_rate = Config().rate;
        heap.time_nanos = ClockNanos(CLOCK_REALTIME) - (mono - at);
        heap.duration_nanos = at - g_rt.start_nanos;
        heap.site_count = n;
        heap.sites = sites;
        heap.comment_count = 2;
        heap.comments = comments;
        if (sites == nullptr) {
          snprintf(error, error_len, "out of memory");
        } else {
          rc = g_rt.write_heap(&heap, path, error, error_len);
        }
        free(sites);
        return rc;
      }));
}

bool PeakOn() { return Config().peak; }

// DIR/KIND[.pidPID][.NNNN].pb.gz (see the file comment).
void FileName(char* out, size_t len, const char* kind, int seq) {
  char pid[32] = "", num[16] = "";
  if (!g_rt.root)
    snprintf(pid, sizeof(pid), ".pid%d", static_cast<int>(g_rt.pid));
  if (seq > 0) snprintf(num, sizeof(num), ".%04d", seq);
  if (snprintf(out, len, "%s/%s%s%s.pb.gz", g_rt.output_dir, kind, pid, num) >=
      static_cast<int>(len)) {
    out[0] = '\0';  // too long: the write fails with a clear error
  }
}

// ---- the mutex and block profiles (lock_hooks.cc) --------------------------
memmon_writer_write_contention_fn g_write_contention = nullptr;

bool MutexOn() { return MutexProfile().rate != 0; }
bool BlockOn() { return BlockProfile().rate != 0; }

// Gathers one contention table under write_mu and hands it to the writer.
int WriteContention(const char* kind, LockProfileState state, const char* path,
                    const char* reason, char* error, size_t error_len) {
  return static_cast<int>(
      UnderWriter(error, error_len, [&](char* error, size_t error_len) -> long {
        long rc = -1;
        if (g_write_contention == nullptr) {
          g_write_contention =
              reinterpret_cast<memmon_writer_write_contention_fn>(dlsym(
                  g_rt.writer_handle, MEMMON_WRITER_WRITE_CONTENTION_SYMBOL));
        }
        const ContentionTable& table = *state.table;
        size_t cap = table.capacity();
        auto* sites = static_cast<memmon_raw_contention_site*>(
            calloc(cap + 1, sizeof(memmon_raw_contention_site)));
        if (g_write_contention == nullptr) {
          snprintf(error, error_len,
                   "the profile writer cannot write contention profiles");
        } else if (sites == nullptr) {
          snprintf(error, error_len, "out of memory");
        } else {
          size_t n = 0;
          table.ForEach([&](const ContentionRecord& r) {
            if (n >= cap) return;
            sites[n].frames = r.frames;
            sites[n].depth = r.depth;
            sites[n].contentions = static_cast<double>(r.count_scaled.load(
                                       std::memory_order_relaxed)) /
                                   kContentionScale;
            sites[n].delay_nanos = static_cast<double>(
                r.delay_nanos.load(std::memory_order_relaxed));
            ++n;
          });
          const bool mutex = strcmp(kind, "mutex") == 0;
          char line1[256], line2[256], line3[256];
          snprintf(line1, sizeof(line1), "memmon %s profile; reason: %s", kind,
                   reason ? reason : "request");
          if (mutex) {
            snprintf(line2, sizeof(line2),
                     "sampling: 1 in %llu contentions (MEMMON_MUTEX_RATE), "
                     "scaled by %llu; delay attributed to the waiter",
                     static_cast<unsigned long long>(state.rate),
                     static_cast<unsigned long long>(state.rate));
          } else {
            snprintf(line2, sizeof(line2),
                     "sampling: Go's block rule at %llu ns (MEMMON_BLOCK_RATE)",
                     static_cast<unsigned long long>(state.rate));
          }
          snprintf(
              line3, sizeof(line3),
              "counters: sampled_events=%llu stacks=%llu dropped_events=%llu "
              "table_capacity=%llu",
              static_cast<unsigned long long>(table.events()),
              static_cast<unsigned long long>(table.stacks()),
              static_cast<unsigned long long>(table.dropped()),
              static_cast<unsigned long long>(table.capacity()));
          const char* comments[] = {line1, line2, line3};
          memmon_raw_contention raw{};
          raw.kind = kind;
          raw.rate = state.rate;
          raw.time_nanos = ClockNanos(CLOCK_REALTIME);
          raw.duration_nanos = ClockNanos(CLOCK_MONOTONIC) - g_rt.start_nanos;
          raw.site_count = n;
          raw.sites = sites;
          raw.comment_count = 3;
          raw.comments = comments;
          rc = g_write_contention(&raw, path, error, error_len);
        }
        free(sites);
        return rc;
      }));
}

int WriteMutexProfile(const char* path, const char* reason, char* error,
                      size_t error_len) {
  return WriteContention("mutex", MutexProfile(), path, reason, error,
                         error_len);
}

int WriteBlockProfile(const char* path, const char* reason, char* error,
                      size_t error_len) {
  return WriteContention("block", BlockProfile(), path, reason, error,
                         error_len);
}

// ---- the anonymous mappings (mmap_hooks.cc) --------------------------------
memmon_writer_write_mmap_fn g_write_mmap = nullptr;
memmon_writer_mmap_sites_fn g_mmap_sites = nullptr;

bool MmapOn() { return MmapMinBytes() != 0 && Config().enabled; }

// Gathers the recorded mappings under write_mu and hands them to `use`
// (the writer's entry points loaded); -1 with a reason in `error` when
// the writer lacks them or memory runs out.
template <typename Use>
long WithRawMmap(const char* reason, char* error, size_t error_len, Use use) {
  return UnderWriter(
      error, error_len, [&](char* error, size_t error_len) -> long {
        if (g_write_mmap == nullptr) {
          g_write_mmap = reinterpret_cast<memmon_writer_write_mmap_fn>(
              dlsym(g_rt.writer_handle, MEMMON_WRITER_WRITE_MMAP_SYMBOL));
          g_mmap_sites = reinterpret_cast<memmon_writer_mmap_sites_fn>(
              dlsym(g_rt.writer_handle, MEMMON_WRITER_MMAP_SITES_SYMBOL));
        }
        if (g_write_mmap == nullptr || g_mmap_sites == nullptr) {
          snprintf(error, error_len,
                   "the profile writer cannot write mmap profiles");
          return -1;
        }
        const MmapTable& table = Mmaps();
        StackTable& stacks = Stacks();
        auto* maps = static_cast<memmon_raw_mapping*>(
            calloc(MmapTable::kCapacity, sizeof(memmon_raw_mapping)));
        if (maps == nullptr) {
          snprintf(error, error_len, "out of memory");
          return -1;
        }
        size_t n = 0;
        const int64_t now = ClockNanos(CLOCK_MONOTONIC);
        table.ForEach(
            [&](uintptr_t start, uintptr_t length, uint32_t ref, int64_t at) {
              if (n >= MmapTable::kCapacity) return;
              const StackRecord* r = stacks.FromRef(ref);
              maps[n].frames = r->frames;
              maps[n].depth = r->depth;
              maps[n].start = start;
              maps[n].length = length;
              maps[n].age_s = static_cast<double>(now - at) / 1e9;
              ++n;
            });
        char line1[256], line2[512];
        snprintf(line1, sizeof(line1), "memmon mmap profile; reason: %s",
                 reason ? reason : "request");
        snprintf(line2, sizeof(line2),
                 "mappings: private anonymous of at least %llu bytes "
                 "(MEMMON_MMAP_MIN); recorded=%llu live=%llu dropped=%llu "
                 "approximations=%llu",
                 static_cast<unsigned long long>(MmapMinBytes()),
                 static_cast<unsigned long long>(table.recorded()),
                 static_cast<unsigned long long>(table.live()),
                 static_cast<unsigned long long>(table.dropped()),
                 static_cast<unsigned long long>(table.approximations()));
        const char* comments[] = {line1, line2};
        memmon_raw_mmap raw{};
        raw.time_nanos = ClockNanos(CLOCK_REALTIME);
        raw.duration_nanos = now - g_rt.start_nanos;
        raw.mapping_count = n;
        raw.mappings = maps;
        raw.comment_count = 2;
        raw.comments = comments;
        long rc = use(raw, error, error_len);
        free(maps);
        return rc;
      });
}

int WriteMmapProfile(const char* path, const char* reason, char* error,
                     size_t error_len) {
  return static_cast<int>(WithRawMmap(
      reason, error, error_len,
      [path](const memmon_raw_mmap& raw, char* err, size_t err_len) -> long {
        return g_write_mmap(&raw, path, err, err_len);
      }));
}

long MmapSites(char* out, size_t size, unsigned max_mappings) {
  if (out == nullptr || size == 0) return -1;
  if (!MmapOn()) {
    snprintf(out, size,
             "anonymous mappings are not recorded (MEMMON_MMAP_MIN=0, or "
             "sampling is off)");
    return -1;
  }
  return WithRawMmap("mmap sites", out, size,
                     [out, size, max_mappings](const memmon_raw_mmap& raw,
                                               char*, size_t) -> long {
                       return g_mmap_sites(&raw, out, size, max_mappings);
                     });
}

// The profiles the sampler writes, by the name that files, the C entry
// point (memmon_preload_write_named_profile) and Profiler use. `on` says
// whether the process collects it (a profile that is off is not written
// at exit, and a request for it fails saying how to turn it on).
struct ProfileKind {
  const char* name;
  bool (*on)();
  const char* off_reason;  // for a request while it is off
  int (*write)(const char* path, const char* reason, char* error,
               size_t error_len);
};

bool Always() { return true; }

const ProfileKind kProfileKinds[] = {
    {"heap", Always, "", WriteProfile},
    {"peak", PeakOn,
     "the peak heap profile is off in this process (MEMMON_PEAK=0, or "
     "sampling is off)",
     WritePeakProfile},
    {"mutex", MutexOn, "the mutex profile is off (MEMMON_MUTEX_RATE=0)",
     WriteMutexProfile},
    {"block", BlockOn, "the block profile is off (MEMMON_BLOCK_RATE=0)",
     WriteBlockProfile},
    {"mmap", MmapOn,
     "anonymous mappings are not recorded (MEMMON_MMAP_MIN=0, or sampling "
     "is off)",
     WriteMmapProfile},
};

const ProfileKind* FindKind(const char* name) {
  for (const ProfileKind& k : kProfileKinds) {
    if (name != nullptr && strcmp(k.name, name) == 0) return &k;
  }
  return nullptr;
}

int WriteNamedProfile(const char* kind, const char* path, const char* reason,
                      char* error, size_t error_len) {
  char scratch[256];
  if (error == nullptr || error_len == 0) {
    error = scratch;
    error_len = sizeof(scratch);
  }
  const ProfileKind* k = FindKind(kind);
  if (k == nullptr) {
    int at = snprintf(error, error_len,
                      "unknown profile \"%s\" (known:", kind ? kind : "");
    for (const ProfileKind& p : kProfileKinds) {
      if (at >= 0 && static_cast<size_t>(at) < error_len)
        at += snprintf(error + at, error_len - at, " %s", p.name);
    }
    if (at >= 0 && static_cast<size_t>(at) < error_len)
      snprintf(error + at, error_len - at, ")");
    return MEMMON_PRELOAD_PROFILE_OFF;
  }
  if (!k->on()) {
    snprintf(error, error_len, "%s", k->off_reason);
    return MEMMON_PRELOAD_PROFILE_OFF;
  }
  return k->write(path, reason, error, error_len);
}

int WriteNumberedSnapshot(const char* reason) {
  if (g_rt.output_dir[0] == '\0') return -1;
  int n = g_rt.snapshot_seq.fetch_add(1) + 1;
  char path[PATH_MAX];
  FileName(path, sizeof(path), "heap", n);
  char error[256];
  if (WriteProfile(path, reason, error, sizeof(error)) != 0) {
    Warn("snapshot failed", error);
    return -1;
  }
  return n;
}

// A periodic set: the heap snapshot and, with its number, every other
// profile that is on (KIND.NNNN.pb.gz) -- the original's hourly
// WriteAllProfiles. Beyond MEMMON_SNAPSHOT_KEEP sets, the oldest periodic
// set is deleted (snapshots for other reasons -- the baseline, alerts,
// signals, requests -- are evidence and stay).
void WritePeriodicSnapshot() {
  int n = WriteNumberedSnapshot("periodic");
  if (n <= 0) return;
  char path[PATH_MAX], error[256];
  for (const ProfileKind& k : kProfileKinds) {
    if (strcmp(k.name, "heap") == 0 || !k.on()) continue;
    FileName(path, sizeof(path), k.name, n);
    if (k.write(path, "periodic", error, sizeof(error)) != 0) {
      Warn("periodic profile failed", error);
    }
  }
  if (g_rt.keep == 0 || g_rt.periodic == nullptr) return;
  if (g_rt.periodic_count == g_rt.keep) {
    int oldest = g_rt.periodic[g_rt.periodic_head];
    for (const ProfileKind& k : kProfileKinds) {
      FileName(path, sizeof(path), k.name, oldest);
      unlink(path);
    }
    g_rt.periodic_head = (g_rt.periodic_head + 1) % g_rt.keep;
    --g_rt.periodic_count;
  }
  g_rt.periodic[(g_rt.periodic_head + g_rt.periodic_count) % g_rt.keep] = n;
  ++g_rt.periodic_count;
}

void OnSignal(int) {
  int saved = errno;
  g_rt.pending_signal_snapshots.fetch_add(1, std::memory_order_relaxed);
  sem_post(&g_rt.wake);  // async-signal-safe
  errno = saved;
}

// Maps MEMMON_STATUS_FILE, which `memmon run` created (never created here:
// a stale path in the environment must not leave files behind).
void AttachStatusPage(const char* path) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    Warn("MEMMON_STATUS_FILE", strerror(errno));
    return;
  }
  struct stat st;
  void* p = MAP_FAILED;
  if (fstat(fd, &st) == 0 &&
      static_cast<size_t>(st.st_size) >= sizeof(memmon_status_page)) {
    p = mmap(nullptr, sizeof(memmon_status_page), PROT_READ | PROT_WRITE,
             MAP_SHARED, fd, 0);
  }
  close(fd);
  if (p == MAP_FAILED) {
    Warn("MEMMON_STATUS_FILE", "cannot map it; no status published");
    return;
  }
  g_rt.status = static_cast<memmon_status_page*>(p);
  // An allocator's statistics describe the heap only when its malloc is the
  // one under the sampler: jemalloc's or tcmalloc's when preloaded after
  // it (or linked into the program), else glibc's. As
  // src/source/allocator_stats.cc detects them in-process.
  void* next_malloc = dlsym(RTLD_NEXT, "malloc");
  Dl_info a;
  const bool known = next_malloc != nullptr && dladdr(next_malloc, &a) != 0;
  auto same_object = [&](const char* symbol) -> void* {
    void* f = dlsym(RTLD_DEFAULT, symbol);
    Dl_info b;
    if (!known || f == nullptr || dladdr(f, &b) == 0 ||
        a.dli_fbase != b.dli_fbase) {
      return nullptr;
    }
    return f;
  };
  if (void* f = same_object("mallctl")) {
    g_rt.mallctl =
        reinterpret_cast<int (*)(const char*, void*, size_t*, void*, size_t)>(
            f);
    g_rt.heap_allocator = MEMMON_STATUS_ALLOCATOR_JEMALLOC;
  } else if (void* f = same_object("MallocExtension_GetNumericProperty")) {
    g_rt.tc_property = reinterpret_cast<int (*)(const char*, size_t*)>(f);
    g_rt.heap_allocator = MEMMON_STATUS_ALLOCATOR_TCMALLOC;
  } else if (void* f = same_object("mallinfo2")) {
    g_rt.mallinfo2 = reinterpret_cast<struct mallinfo2 (*)()>(f);
    g_rt.heap_allocator = MEMMON_STATUS_ALLOCATOR_GLIBC;
  }
  __atomic_store_n(&g_rt.status->pid, static_cast<uint64_t>(g_rt.pid),
                   __ATOMIC_RELAXED);
  __atomic_store_n(&g_rt.status->magic, MEMMON_STATUS_MAGIC, __ATOMIC_RELEASE);
}

void Store(uint64_t* field, uint64_t v) {
  __atomic_store_n(field, v, __ATOMIC_RELAXED);
}

// The allocator's free-held and from-the-OS bytes, metadata included, as
// src/source/allocator_stats.cc reads them in-process (the same figures, so
// memmon run splits the heap as the monitor does). Runs on the writer
// thread, which may call into the allocator.
bool ReadAllocatorStats(uint64_t* free_bytes, uint64_t* system_bytes) {
  if (g_rt.mallinfo2 != nullptr) {
    struct mallinfo2 mi = g_rt.mallinfo2();
    *free_bytes = mi.fordblks;
    *system_bytes = mi.arena + mi.hblkhd;
    return true;
  }
  if (g_rt.mallctl != nullptr) {
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    // Statistics are a snapshot taken at the last epoch: advance it.
    if (g_rt.mallctl("epoch", &epoch, &len, &epoch, sizeof(epoch)) != 0) {
      return false;
    }
    size_t allocated = 0, mapped = 0, metadata = 0;
    len = sizeof(size_t);
    if (g_rt.mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) {
      return false;
    }
    len = sizeof(size_t);
    if (g_rt.mallctl("stats.mapped", &mapped, &len, nullptr, 0) != 0) {
      return false;
    }
    len = sizeof(size_t);
    if (g_rt.mallctl("stats.metadata", &metadata, &len, nullptr, 0) != 0) {
      metadata = 0;
    }
    *system_bytes = mapped + metadata;
    *free_bytes = *system_bytes > allocated ? *system_bytes - allocated : 0;
    return true;
  }
  if (g_rt.tc_property != nullptr) {
    size_t allocated = 0, heap = 0, unmapped = 0, metadata = 0;
    if (!g_rt.tc_property("generic.current_allocated_bytes", &allocated) ||
        !g_rt.tc_property("generic.heap_size", &heap)) {
      return false;
    }
    if (!g_rt.tc_property("tcmalloc.pageheap_unmapped_bytes", &unmapped)) {
      unmapped = 0;
    }
    if (!g_rt.tc_property("tcmalloc.metadata_bytes", &metadata)) metadata = 0;
    *system_bytes = (heap > unmapped ? heap - unmapped : 0) + metadata;
    *free_bytes = *system_bytes > allocated ? *system_bytes - allocated : 0;
    return true;
  }
  return false;
}

// Publishes the counters under the page's seqlock. Only the writer thread,
// or exit once it has stopped, calls this: one writer at a time.
void PublishStatus(bool at_exit) {
  memmon_status_page* page = g_rt.status;
  if (page == nullptr) return;
  memmon_preload_counters c{};
  memmon_preload_read_counters(&c, sizeof(c));
  uint64_t seq = __atomic_load_n(&page->seq, __ATOMIC_RELAXED);
  __atomic_store_n(&page->seq, seq + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  Store(&page->updates, __atomic_load_n(&page->updates, __ATOMIC_RELAXED) + 1);
  Store(reinterpret_cast<uint64_t*>(&page->time_nanos),
        static_cast<uint64_t>(ClockNanos(CLOCK_MONOTONIC)));
  if (at_exit) Store(&page->exited, 1);
  Store(&page->last_snapshot, static_cast<uint64_t>(g_rt.snapshot_seq.load()));
  Store(&page->counters.allocations, c.allocations);
  Store(&page->counters.frees, c.frees);
  Store(&page->counters.allocated_bytes, c.allocated_bytes);
  Store(&page->counters.inuse_bytes, c.inuse_bytes);
  Store(&page->counters.sample_rate, c.sample_rate);
  Store(&page->counters.samples, c.samples);
  Store(&page->counters.live_samples, c.live_samples);
  Store(&page->counters.dropped_samples, c.dropped_samples);
  Store(&page->counters.unwind_failures, c.unwind_failures);
  Store(&page->counters.stacks, c.stacks);
  memmon_preload_allocator_time at{};
  memmon_preload_read_allocator_time(&at, sizeof(at));
  Store(&page->allocator_time.allocator_nanos, at.allocator_nanos);
  Store(&page->allocator_time.cpu_nanos, at.cpu_nanos);
  // The allocator's statistics (glibc's mallinfo2() walks the free lists:
  // 10 ms with 100 000 free chunks) are read only when the time since the
  // last read is 100x what that read cost.
  int64_t now = ClockNanos(CLOCK_MONOTONIC);
  if (g_rt.heap_allocator != 0 &&
      now - g_rt.mallinfo_last_nanos >= 100 * g_rt.mallinfo_cost_nanos) {
    uint64_t free_bytes = 0, system_bytes = 0;
    bool read = ReadAllocatorStats(&free_bytes, &system_bytes);
    g_rt.mallinfo_last_nanos = ClockNanos(CLOCK_MONOTONIC);
    g_rt.mallinfo_cost_nanos = g_rt.mallinfo_last_nanos - now;
    if (read) {
      Store(&page->heap_free_bytes, free_bytes);
      Store(&page->heap_system_bytes, system_bytes);
      Store(&page->heap_allocator, g_rt.heap_allocator);
      Store(reinterpret_cast<uint64_t*>(&page->heap_stats_time_nanos),
            static_cast<uint64_t>(now));
    }
  }
  __atomic_store_n(&page->seq, seq + 2, __ATOMIC_RELEASE);
}

// Serves the snapshot requests the reader posted since the last call.
void ServeStatusRequests() {
  memmon_status_page* page = g_rt.status;
  if (page == nullptr) return;
  uint64_t requests =
      __atomic_load_n(&page->snapshot_requests, __ATOMIC_ACQUIRE);
  if (requests != g_rt.status_requests_seen) {
    g_rt.status_requests_seen = requests;
    char reason[sizeof(page->snapshot_reason) + 1];
    for (size_t i = 0; i < sizeof(page->snapshot_reason); ++i) {
      reason[i] = __atomic_load_n(&page->snapshot_reason[i], __ATOMIC_RELAXED);
    }
    reason[sizeof(page->snapshot_reason)] = '\0';
    WriteNumberedSnapshot(reason[0] != '\0' ? reason : "request");
    __atomic_store_n(&page->snapshots_served, requests, __ATOMIC_RELEASE);
  }
  uint64_t profiles =
      __atomic_load_n(&page->profile_requests, __ATOMIC_ACQUIRE);
  if (profiles != g_rt.profile_requests_seen) {
    g_rt.profile_requests_seen = profiles;
    char kind[sizeof(page->profile_kind) + 1];
    for (size_t i = 0; i < sizeof(page->profile_kind); ++i) {
      kind[i] = __atomic_load_n(&page->profile_kind[i], __ATOMIC_RELAXED);
    }
    kind[sizeof(page->profile_kind)] = '\0';
    char path[PATH_MAX], error[256];
    FileName(path, sizeof(path), kind, 0);
    int rc = WriteNamedProfile(kind, path, "request", error, sizeof(error));
    __atomic_store_n(&page->profile_result, static_cast<int64_t>(rc),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&page->profiles_served, profiles, __ATOMIC_RELEASE);
  }
}

// Set once the agent serves (after agent_stop and http_pid): __cxa_atexit
// below reads it on any thread.
std::atomic<bool> g_agent_serving{false};
std::atomic<bool> g_agent_stopped{false};

// Stops the endpoint at exit, once (the handler is registered many times:
// __cxa_atexit below).
void StopHttpAgent() {
  if (g_rt.agent_stop != nullptr && getpid() == g_rt.http_pid &&
      !g_agent_stopped.exchange(true)) {
    g_rt.agent_stop();
  }
}
void StopHttpAgentHandler(void*) { StopHttpAgent(); }

// MEMMON_HTTP: loads libmemmon_agent.so from beside this library (or
// $MEMMON_AGENT) and starts it. Runs on the writer thread; a failure is a
// warning and the program runs on without the endpoint.
void StartHttpAgent() {
  char path[PATH_MAX], why[128];
  if (!BesideThisLibrary("MEMMON_AGENT", MEMMON_AGENT_LIBRARY, path,
                         sizeof(path), why, sizeof(why))) {
    Warn("MEMMON_HTTP", why);
    return;
  }
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    Warn("MEMMON_HTTP: cannot load the agent", dlerror());
    return;
  }
  auto start = reinterpret_cast<memmon_agent_start_fn>(
      dlsym(h, MEMMON_AGENT_START_SYMBOL));
  auto stop = reinterpret_cast<memmon_agent_stop_fn>(
      dlsym(h, MEMMON_AGENT_STOP_SYMBOL));
  if (start == nullptr || stop == nullptr) {
    Warn("MEMMON_HTTP: the agent lacks its entry points", path);
    return;
  }
  char bound[128] = "", error[512] = "";
  if (start(g_rt.http_address, bound, sizeof(bound), error, sizeof(error)) !=
      0) {
    Warn("MEMMON_HTTP", error);
    return;
  }
  g_rt.agent_stop = stop;
  g_rt.http_pid = getpid();
  atexit(StopHttpAgent);  // before WriteAtExit: registered later
  g_agent_serving.store(true, std::memory_order_release);
  char line[256];
  snprintf(line, sizeof(line), "serving http://%s/ (pid %d)", bound,
           static_cast<int>(g_rt.http_pid));
  Warn(line, nullptr);
}

void* WriterThread(void*) {
  ScopedNoSampling no_sampling;
  if (g_rt.http_address[0] != '\0') StartHttpAgent();
  const int64_t period = static_cast<int64_t>(g_rt.interval_s * 1e9);
  const int64_t status_period =
      static_cast<int64_t>(g_rt.status_interval_s * 1e9);
  int64_t next = ClockNanos(CLOCK_MONOTONIC) + period;
  int64_t next_status = ClockNanos(CLOCK_MONOTONIC);
  while (!g_rt.stopping.load()) {
    if (status_period > 0 && ClockNanos(CLOCK_MONOTONIC) >= next_status) {
      ServeStatusRequests();
      PublishStatus(false);
      next_status = ClockNanos(CLOCK_MONOTONIC) + status_period;
    }
    int64_t wake_at = -1;  // monotonic; -1: no deadline
    if (period > 0) wake_at = next;
    if (status_period > 0 && (wake_at < 0 || next_status < wake_at)) {
      wake_at = next_status;
    }
    int rc;
    if (wake_at >= 0) {
      int64_t deadline =
          ClockNanos(CLOCK_REALTIME) + (wake_at - ClockNanos(CLOCK_MONOTONIC));
      timespec ts{static_cast<time_t>(deadline / 1000000000),
                  static_cast<long>(deadline % 1000000000)};
      rc = sem_timedwait(&g_rt.wake, &ts);
    } else {
      rc = sem_wait(&g_rt.wake);
    }
    if (g_rt.stopping.load()) break;
    if (rc != 0 && errno == EINTR) continue;
    pthread_mutex_lock(&g_rt.set_mu);
    if (g_rt.stopping.load()) {  // the exit is writing its own profiles
      pthread_mutex_unlock(&g_rt.set_mu);
      break;
    }
    if (g_rt.pending_signal_snapshots.exchange(0) > 0) {
      WriteNumberedSnapshot("signal");
    }
    if (period > 0 && ClockNanos(CLOCK_MONOTONIC) >= next) {
      WritePeriodicSnapshot();
      next = ClockNanos(CLOCK_MONOTONIC) + period;
    }
    pthread_mutex_unlock(&g_rt.set_mu);
  }
  g_rt.writer_running.store(false);
  return nullptr;
}

// DIR/heap[.pidPID].raw: the name of this process's heap profile, whose
// place a raw dump takes until it is converted (exit_dump.h).
void SetRawDumpTargetForThisProcess() {
  if (g_rt.output_dir[0] == '\0') return;
  char name[64];
  if (g_rt.root) {
    snprintf(name, sizeof(name), "heap");
  } else {
    snprintf(name, sizeof(name), "heap.pid%d", static_cast<int>(g_rt.pid));
  }
  SetRawDumpTarget(g_rt.output_dir, name, g_rt.start_nanos);
}

void AtForkChild() {
  ResetAfterFork();
  // A new process: its own files, no writer thread (threads do not survive
  // fork and none is started inside it), a fresh lock.
  g_rt.pid = getpid();
  g_rt.root = false;
  g_rt.snapshot_seq.store(0);
  g_rt.periodic_head = g_rt.periodic_count = 0;  // the child's own files
  g_rt.writer_running.store(false);
  g_rt.status = nullptr;  // the page belongs to the first process
  pthread_mutex_init(&g_rt.write_mu, nullptr);
  pthread_mutex_init(&g_rt.set_mu, nullptr);
  SetRawDumpTargetForThisProcess();
}

void WriteAtExit() {
  g_rt.stopping.store(true);
  if (g_rt.writer_running.load()) sem_post(&g_rt.wake);
  // Waits for a set the writer is writing (kept: the process is ending, and
  // the writer, seeing `stopping`, writes no other).
  pthread_mutex_lock(&g_rt.set_mu);
  if (g_rt.output_dir[0] == '\0') return;
  char path[PATH_MAX], error[256], what[64];
  for (const ProfileKind& k : kProfileKinds) {
    if (!k.on()) continue;
    FileName(path, sizeof(path), k.name, 0);
    if (k.write(path, "exit", error, sizeof(error)) != 0) {
      snprintf(what, sizeof(what), "%s profile at exit", k.name);
      Warn(what, error);
    }
  }
  // The exit profiles are written: a fatal signal from a later exit handler
  // or destructor leaves them as they are.
  RawDumpNotNeeded();
  // The final counters, once the writer thread is gone (it stops at its
  // next wake-up, within one status interval; a publish racing with it
  // only makes one update the reader retries).
  PublishStatus(true);
}

void StartWriterThread() {
  sem_init(&g_rt.wake, 0, 0);
  if (g_rt.signal != 0) {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(g_rt.signal, &sa, nullptr);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // The writer blocks every signal so the program's signals go to its own
  // threads (the snapshot signal's handler only posts a semaphore).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  if (pthread_create(&t, &attr, WriterThread, nullptr) == 0) {
    g_rt.writer_running.store(true);
    pthread_setname_np(t, "memmon-writer");
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
}

__attribute__((constructor)) void StartRuntime() {
  ScopedNoSampling no_sampling;  // what libunwind's set-up allocates, too
  PrepareMmapHooks();            // before sampling (and recording) starts
  PrepareSampling();             // initialises, then readies the unwinder
  pthread_mutex_init(&g_rt.write_mu, nullptr);
  pthread_mutex_init(&g_rt.set_mu, nullptr);
  g_rt.start_nanos = ClockNanos(CLOCK_MONOTONIC);
  g_rt.pid = getpid();
  const char* root = getenv("MEMMON_ROOT_PID");
  if (root == nullptr || *root == '\0') {
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", static_cast<int>(g_rt.pid));
    // libc's setenv: a program may define its own (bash does, into its
    // variable table, after which its getenv no longer reads environ).
    using SetenvFn = int (*)(const char*, const char*, int);
    auto libc_setenv = reinterpret_cast<SetenvFn>(dlsym(RTLD_NEXT, "setenv"));
    (libc_setenv != nullptr ? libc_setenv : setenv)("MEMMON_ROOT_PID", buf, 1);
    g_rt.root = true;
  } else {
    g_rt.root = strtol(root, nullptr, 10) == g_rt.pid;
  }
  pthread_atfork(nullptr, nullptr, AtForkChild);
  const char* http = getenv("MEMMON_HTTP");
  if (g_rt.root && http != nullptr && *http != '\0') {
    snprintf(g_rt.http_address, sizeof(g_rt.http_address), "%s", http);
  }
  const char* out = getenv("MEMMON_OUTPUT");
  if (out == nullptr || *out == '\0') {
    if (g_rt.http_address[0] != '\0') StartWriterThread();
    return;
  }
  if (!MakeDirectories(out)) {
    char detail[PATH_MAX + 128];
    snprintf(detail, sizeof(detail),
             "cannot use %s (%s); no profiles will be written", out,
             strerror(errno));
    Warn("MEMMON_OUTPUT", detail);
    return;
  }
  snprintf(g_rt.output_dir, sizeof(g_rt.output_dir), "%s", out);
  atexit(WriteAtExit);
  if (const char* iv = getenv("MEMMON_SNAPSHOT_INTERVAL")) {
    g_rt.interval_s = strtod(iv, nullptr);
    if (!(g_rt.interval_s > 0)) g_rt.interval_s = 0;
  }
  if (const char* keep = getenv("MEMMON_SNAPSHOT_KEEP")) {
    long k = strtol(keep, nullptr, 10);
    g_rt.keep = k > 0 ? static_cast<unsigned>(k < 1000000 ? k : 1000000) : 0;
    if (g_rt.keep > 0) {
      g_rt.periodic = static_cast<int*>(calloc(g_rt.keep, sizeof(int)));
      if (g_rt.periodic == nullptr) g_rt.keep = 0;
    }
  }
  const char* sig = getenv("MEMMON_SIGNAL");
  g_rt.signal = ParseSignal(sig);
  if (g_rt.signal < 0) {
    Warn("MEMMON_SIGNAL: unknown signal", sig);
    g_rt.signal = 0;
  }
  if (g_rt.root) {
    const char* status = getenv("MEMMON_STATUS_FILE");
    if (status != nullptr && *status != '\0') {
      AttachStatusPage(status);
      g_rt.status_interval_s = 1;
      if (const char* si = getenv("MEMMON_STATUS_INTERVAL")) {
        g_rt.status_interval_s = strtod(si, nullptr);
        if (!(g_rt.status_interval_s > 0)) g_rt.status_interval_s = 1;
      }
      if (g_rt.status == nullptr) g_rt.status_interval_s = 0;
    }
  }
  // abort, fatal signals, _exit and _Exit: a raw dump (exit_dump.h).
  SetRawDumpTargetForThisProcess();
  InstallFatalSignalDumps(g_rt.signal);
  if (g_rt.interval_s > 0 || g_rt.signal != 0 || g_rt.status_interval_s > 0 ||
      g_rt.http_address[0] != '\0') {
    StartWriterThread();
  }
}

}  // namespace

// exit() runs what atexit and __cxa_atexit registered, the latest first. A
// destructor registered after the endpoint started (a function-local
// static first used by a request: cpp-httplib's table of request methods)
// would run before StopHttpAgent, while the server's threads still serve
// and read what it freed. So while the endpoint serves, each registration
// is followed by StopHttpAgent's again: the first of them that exit runs
// stops the endpoint, the rest find it stopped. (Outside malloc: called by
// static initialisers and atexit.)
void FollowWithStop(void (*fn)(void*),
                    int (*real)(void (*)(void*), void*, void*)) {
  if (fn != StopHttpAgentHandler &&
      g_agent_serving.load(std::memory_order_acquire)) {
    real(StopHttpAgentHandler, nullptr, nullptr);
  }
}

}  // namespace memmon::preload

MEMMON_EXPORT int __cxa_atexit(void (*fn)(void*), void* arg,
                               void* dso) noexcept {
  using AtexitFn = int (*)(void (*)(void*), void*, void*);
  static std::atomic<AtexitFn> real{nullptr};
  AtexitFn f = real.load(std::memory_order_acquire);
  if (f == nullptr) {
    f = reinterpret_cast<AtexitFn>(dlsym(RTLD_NEXT, "__cxa_atexit"));
    if (f == nullptr) return -1;
    real.store(f, std::memory_order_release);
  }
  const int rc = f(fn, arg, dso);
  if (rc == 0) memmon::preload::FollowWithStop(fn, f);
  return rc;
}

MEMMON_EXPORT int memmon_preload_write_profile(const char* path, char* error,
                                               size_t error_len) {
  return memmon::preload::WriteProfile(path, "request", error, error_len);
}

MEMMON_EXPORT int memmon_preload_write_named_profile(const char* kind,
                                                     const char* path,
                                                     char* error,
                                                     size_t error_len) {
  return memmon::preload::WriteNamedProfile(kind, path, "request", error,
                                            error_len);
}

MEMMON_EXPORT long memmon_preload_top_sites(char* out, size_t size,
                                            unsigned max_sites) {
  return memmon::preload::TopSites(out, size, max_sites);
}

MEMMON_EXPORT long memmon_preload_mmap_sites(char* out, size_t size,
                                             unsigned max_mappings) {
  return memmon::preload::MmapSites(out, size, max_mappings);
}

MEMMON_EXPORT int memmon_preload_snapshot(const char* reason) {
  return memmon::preload::WriteNumberedSnapshot(reason);
}
