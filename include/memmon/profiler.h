// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Profiler writes profiles of this process into a directory, in pprof's
// format (gzip-compressed profile.proto, readable by `go tool pprof`):
// the profiles of memmon's sampler -- the heap, the heap at its peak, where
// threads wait for locks (mutex) and where they block (block) -- and a
// thread profile (every thread's name and stack: the C++ meaning of Go's
// goroutine profile). It also samples memory over a period and finds leaks
// in such a series.
//
// The sampler's profiles need the sampler in the process: run the program
// with LD_PRELOAD=libmemmon_preload.so, or link libmemmon_heap.so. Without
// it they return kUnavailable and say so; so does a profile the process
// has turned off (docs/profiler.md: MEMMON_PEAK, MEMMON_MUTEX_RATE,
// MEMMON_BLOCK_RATE).
//
// Files are written atomically (a temporary name, then rename) with mode
// 0600.
//
// Thread-safety: every method may be called from any thread; writes are
// serialised.
//
// Typical use:
//   memmon::Profiler profiler("/var/tmp/myservice-profiles");
//   if (!profiler.status().ok()) { ...profiler.status().message()... }
//   memmon::Status s = profiler.WriteAllProfiles("before-");
#ifndef MEMMON_PROFILER_H_
#define MEMMON_PROFILER_H_

#include <atomic>
#include <chrono>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon {

// A leak found in a series of samples (the Go LeakDetection).
struct LeakDetection {
  // "memory_leak" (heap in use, RSS when the heap is unknown),
  // "thread_leak" or "fd_leak".
  std::string type;
  std::string description;                      // one line, with the figures
  std::chrono::system_clock::time_point start;  // first sample judged
  std::chrono::system_clock::time_point end;    // last sample judged
  // The fitted floor now (the trend's level, so a last outlier or a
  // sawtooth's peak does not count) over the first sample, in percent.
  double growth_pct = 0;
};

class Profiler {
 public:
  // Creates `output_dir` (and its parents, mode 0700) when missing. When it
  // cannot, status() says why and every Write* returns that error.
  explicit Profiler(std::string output_dir);
  ~Profiler();  // stops periodic profiles
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  const Status& status() const { return status_; }
  const std::string& output_dir() const { return output_dir_; }

  // output_dir/name: the heap sampler's profile (alloc_objects,
  // alloc_space, inuse_objects, inuse_space). kUnavailable without the
  // sampler.
  Status WriteHeapProfile(const std::string& name);

  // output_dir/name: the sampled heap as it stood at its highest point so
  // far (the same sample types as the heap profile).
  Status WritePeakHeapProfile(const std::string& name);

  // output_dir/name: where threads waited for a pthread mutex or rwlock
  // held by another (sample types contentions/count and delay/nanoseconds,
  // as Go writes its mutex profile).
  Status WriteMutexProfile(const std::string& name);

  // output_dir/name: where threads blocked on condition variables,
  // semaphores and joins (the same sample types; Go's block profile).
  Status WriteBlockProfile(const std::string& name);

  // output_dir/name: the program's own live anonymous mappings of
  // MEMMON_MMAP_MIN bytes or more by the call site that mapped them
  // (sample types mappings/count and mapped_space/bytes, labels address
  // and age; docs/profiler.md, "Anonymous mappings").
  Status WriteMmapProfile(const std::string& name);

  // output_dir/name: one sample per thread (sample type threads/count),
  // labelled thread_name (from /proc/self/task/*/comm) and tid, with the
  // thread's stack. Other threads' stacks are captured by signalling them
  // (MEMMON_THREAD_SIGNAL, default SIGRTMIN+7) and unwinding in their
  // handler; a thread that blocks the signal or does not answer within
  // 100 ms appears with its name and no stack.
  Status WriteThreadProfile(const std::string& name);

  // Every profile, named prefix + KIND + ".pb.gz" for KIND heap, peak,
  // mutex, block, mmap and threads -- with a "-" between when the prefix ends
  // in a letter or digit, so WriteAllProfiles("objectfs-20261204T120000")
  // writes objectfs-20261204T120000-heap.pb.gz and so on, and
  // WriteAllProfiles("before.") writes before.heap.pb.gz. All are
  // attempted; a sampler profile that is off in this process is skipped.
  // Returns the first error (kUnavailable when the heap sampler is not
  // loaded, after the thread profile is written).
  Status WriteAllProfiles(const std::string& prefix);

  // The original's hourly WriteAllProfiles, with a retention limit: every
  // `interval` (the first after one interval) a background thread writes
  // WriteAllProfiles(prefix + "-" + UTC time to the millisecond, as
  // 20261204T120000.000Z), and deletes the oldest such sets beyond the
  // newest `keep` (0: keep all).
  // Only files this Profiler wrote are deleted. A failed write is counted
  // (periodic_failures()) and retried at the next interval. Calling it
  // again restarts with the new settings. InvalidArgument for a
  // non-positive interval or an empty prefix; the directory's error when
  // status() is not ok.
  Status StartPeriodicProfiles(std::chrono::nanoseconds interval,
                               std::size_t keep,
                               const std::string& prefix = "profiles");
  // Stops the thread (waits for a write in progress). Idempotent.
  void StopPeriodicProfiles();
  // Sets written and failed by the periodic thread so far.
  uint64_t periodic_sets() const { return periodic_sets_.load(); }
  uint64_t periodic_failures() const { return periodic_failures_.load(); }

  // Samples the process every `interval` for `duration` (the first at
  // once), or until `stop` is requested. Returns the samples taken.
  std::vector<Sample> ProfileMemoryUsage(std::chrono::nanoseconds duration,
                                         std::chrono::nanoseconds interval,
                                         std::stop_token stop = {});

  // Leaks in `samples` (oldest first), with the growth classifier the
  // monitor's trend rules use: a quantity (heap in use, RSS when no sample
  // knows the heap; threads; open descriptors) leaks when ClassifyGrowth
  // (memmon/growth.h), with the monitor's default trend options, calls its
  // series kUnbounded -- its floor rises steadily now -- and the fitted
  // floor has grown by at least `threshold_pct` percent over the first
  // sample. A warm-up that levels off, a cache that fills, a single step and
  // a sawtooth over a flat floor are not leaks. Samples missing a quantity
  // are skipped for it; at most the last kMaxGrowthSamples are judged; a
  // series shorter than the trend window (10 samples by default) is never
  // called a leak. Unlike the monitor it applies no absolute floor
  // (MonitorConfig::growth_floor_bytes, thread_growth_floor,
  // fd_growth_floor), keeps no long history of block minima, and has no
  // refill rule or early warning (docs/profiler.md says what that changes).
  static std::vector<LeakDetection> DetectLeaks(
      const std::vector<Sample>& samples, double threshold_pct);

 private:
  std::string Path(const std::string& name) const;
  Status WriteSamplerProfile(const char* kind, const std::string& name);

  std::string output_dir_;
  Status status_;
  std::mutex mu_;

  // Periodic profiles.
  std::jthread periodic_;
  std::atomic<uint64_t> periodic_sets_{0};
  std::atomic<uint64_t> periodic_failures_{0};
};

}  // namespace memmon

#endif  // MEMMON_PROFILER_H_
