// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ProcessSource: the SampleSource a MemoryMonitor uses unless given
// another. It reads /proc/<pid> (ProcReader) and, when watching this
// process, the allocator's statistics (budgeted: glibc's walk of its free
// chunks may take at most 1 % of a core) and the heap sampler's exact
// counters (every sample; cheap), with the allocator's share of the CPU
// time between two samples from the sampler's allocator clock.
//
// Thread-safety: as SampleSource (one caller at a time). Read() does not
// allocate.
#ifndef MEMMON_SRC_SOURCE_PROCESS_SOURCE_H_
#define MEMMON_SRC_SOURCE_PROCESS_SOURCE_H_

#include <chrono>
#include <optional>

#include "memmon/config.h"
#include "memmon/memmon_preload.h"
#include "memmon/sample_source.h"
#include "source/allocator_stats.h"
#include "source/cost_budget.h"
#include "source/memory_limit.h"
#include "source/procfs.h"
#include "source/rss_breakdown.h"

namespace memmon::internal {

// The least CPU time between two readings for which the allocator's share
// is given: below it (an idle process) a handful of timed calls, each
// standing for hundreds, would make the share noise (docs/profiler.md).
inline constexpr uint64_t kMinAllocatorShareCpuNanos = 1000000;  // 1 ms

// The allocator's share of the process's CPU time between two readings of
// the sampler's allocator clock (memmon_preload_read_allocator_time):
// delta allocator_nanos / delta cpu_nanos, clamped to 0..1. Unknown
// (nullopt) when the clock is absent (both 0), went backwards, or less than
// kMinAllocatorShareCpuNanos of CPU passed.
std::optional<double> AllocatorCpuFraction(
    const memmon_preload_allocator_time& before,
    const memmon_preload_allocator_time& now);

class ProcessSource final : public SampleSource {
 public:
  // Reads config.pid (0: this process), with PSS when config.enable_pss
  // and the allocator when config.enable_allocator_stats.
  explicit ProcessSource(const MonitorConfig& config);

  // NotFound when the process does not exist, IoError when /proc refuses.
  Status Open() override;
  bool Read(Sample* sample) override;
  void ReleaseFreeMemory() override;
  void SnapshotHeap(const char* reason) override;
  std::vector<AllocationSite> TopAllocationSites(std::size_t n) override;

 private:
  const bool this_process_;
  const bool with_pss_;
  const bool with_allocator_;
  ProcReader proc_;
  AllocatorStats allocator_;
  // mallinfo2() walks free chunks: keep it under 1 % of a core.
  CostBudget allocator_budget_{std::chrono::microseconds(200), 0.01};
  // The memory limits (3 us of CPU a read, 1 us for the OOM kill count;
  // discovery at Open, 23-67 us: docs/benchmarks.md): under 1 % too.
  CostBudget limit_budget_{std::chrono::microseconds(200), 0.01};
  const pid_t pid_;
  // The RSS breakdown's totals: full smaps, a walk of every mapping (0.2 ms
  // for a small process, 33 ms with 10 000 mappings): under 1 % of a core.
  SmapsTotals smaps_;
  CostBudget smaps_budget_{std::chrono::microseconds(50), 0.01};
  LimitReader limits_;
  bool limits_open_ = false;
  // The sampler's allocator clock in this process (dlsym; null without
  // the sampler), and its last reading.
  memmon_preload_allocator_time_fn allocator_time_ = nullptr;
  std::optional<memmon_preload_allocator_time> last_allocator_time_;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_SOURCE_PROCESS_SOURCE_H_
