// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// ProcessSource: the SampleSource a MemoryMonitor uses unless given
// another. It reads /proc/<pid> (ProcReader) and, when watching this
// process, the allocator's statistics (budgeted: glibc's walk of its free
// chunks may take at most 1 % of a core) and the heap sampler's exact
// counters (every sample; cheap).
//
// Thread-safety: as SampleSource (one caller at a time). Read() does not
// allocate.
#ifndef MEMMON_SRC_SOURCE_PROCESS_SOURCE_H_
#define MEMMON_SRC_SOURCE_PROCESS_SOURCE_H_

#include <chrono>

#include "memmon/config.h"
#include "memmon/sample_source.h"
#include "source/allocator_stats.h"
#include "source/cost_budget.h"
#include "source/memory_limit.h"
#include "source/procfs.h"
#include "source/rss_breakdown.h"

namespace memmon::internal {

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
  // The memory limits (3-7 us a read; discovery at Open, 0.1 ms): under
  // 1 % too.
  CostBudget limit_budget_{std::chrono::microseconds(200), 0.01};
  const pid_t pid_;
  // The RSS breakdown's totals: full smaps, a walk of every mapping (0.2 ms
  // for a small process, 33 ms with 10 000 mappings): under 1 % of a core.
  SmapsTotals smaps_;
  CostBudget smaps_budget_{std::chrono::microseconds(50), 0.01};
  LimitReader limits_;
  bool limits_open_ = false;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_SOURCE_PROCESS_SOURCE_H_
