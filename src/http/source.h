// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What an HttpServer serves: the samples, alerts and statistics of one
// process, and its profiles. MonitorSource serves a MemoryMonitor (the
// library; `memmon watch`); `memmon run` serves its child through its own
// (src/cli/run.cc).
//
// Thread-safety: every method may be called from any request thread at
// once; an implementation guards what it shares with its producer.
#ifndef MEMMON_SRC_HTTP_SOURCE_H_
#define MEMMON_SRC_HTTP_SOURCE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/memmon_preload.h"
#include "memmon/monitor.h"
#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon::internal {

class HttpSource {
 public:
  virtual ~HttpSource() = default;
  virtual MemoryStats Stats() const = 0;
  virtual std::vector<Sample> Samples() const = 0;
  virtual std::vector<MemoryAlert> Alerts() const = 0;
  virtual const MonitorConfig& Config() const = 0;
  // The heap sampler's counters in the process, when it has the sampler.
  virtual std::optional<memmon_preload_counters> SamplerCounters() const = 0;
  // One of the heap sampler's profiles of the process, gzipped pprof:
  // `kind` is "heap", "peak", "mutex" or "block"
  // (memmon_preload_write_named_profile's names). Written through `scratch`
  // (a path in a private directory) when that is how it is obtained.
  // Unavailable when the process has no heap sampler or that profile is
  // off in it.
  virtual Status SamplerProfile(const std::string& kind,
                                const std::string& scratch,
                                std::string* gz) = 0;
  // A stack per thread of the process (gzipped pprof), through the
  // directory `scratch_dir`. Unavailable where stacks cannot be read.
  virtual Status ThreadProfile(const std::string& scratch_dir,
                               std::string* gz) = 0;
  // The largest live allocation sites (for the live page), largest first.
  virtual std::vector<AllocationSite> TopSites(std::size_t n) = 0;
  // ?gc=1: the allocator returns free memory to the OS, where it can.
  virtual void ReleaseFreeMemory() = 0;
};

// A MemoryMonitor of this process (config().pid == 0 or getpid()): its
// profiles are this process's. Of another process (memmon watch): the
// samples and alerts, no profiles (/proc has none).
std::unique_ptr<HttpSource> MonitorSource(MemoryMonitor& monitor);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_HTTP_SOURCE_H_
