// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// SampleSource: where a MemoryMonitor's samples come from. By default the
// monitor reads the process it watches (/proc/<pid>; for this process also
// the allocator's statistics and the heap sampler's exact counters). A
// program can give it another source: a simulated process in a test (a
// leak of 10 MiB a sample without allocating it), a replayed recording, or
// a quantity memmon does not read itself.
//
// Thread-safety: the monitor calls a source from one thread at a time
// (under its sampling lock), so a source needs no locking of its own for
// these calls. Read() runs on every tick: keep it cheap and, if it runs in
// a service, free of allocation.
//
// Typical use (a test):
//   class Leak : public memmon::SampleSource {
//     bool Read(memmon::Sample* s) override {
//       s->heap_inuse_bytes = (100 + 10 * n_++) << 20;
//       return true;
//     }
//     uint64_t n_ = 0;
//   };
//   memmon::MemoryMonitor monitor(config, std::make_unique<Leak>());
#ifndef MEMMON_SAMPLE_SOURCE_H_
#define MEMMON_SAMPLE_SOURCE_H_

#include <cstddef>
#include <vector>

#include "memmon/alert.h"
#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon {

class SampleSource {
 public:
  virtual ~SampleSource() = default;

  // Called before the first Read (from MemoryMonitor::Start, or the first
  // TakeSample). An error is returned by Start(); TakeSample retries on
  // the next sample and meanwhile reads with the source unopened.
  virtual Status Open() { return Status::Ok(); }

  // Fills `sample`, whose `time` and `monotonic` the monitor has set to
  // now (a source may replace them, e.g. with a simulated clock; monotonic
  // must not go backwards). Fields it cannot read stay unknown. Returns
  // false when what it reads is gone for good (the watched process
  // exited): the sample is dropped and MemoryMonitor::target_exited()
  // becomes true.
  virtual bool Read(Sample* sample) = 0;

  // MemoryMonitor::ReleaseFreeMemory (Go's ForceGC): give free memory back
  // to the OS. Nothing by default.
  virtual void ReleaseFreeMemory() {}

  // The monitor's baseline and growth alerts ask for evidence: a heap
  // profile, when the source can write one (`reason`: "baseline",
  // "memory_growth"). Called with no monitor lock held. Nothing by default.
  virtual void SnapshotHeap(const char* reason) { (void)reason; }

  // With MonitorConfig::enable_stack_traces, a memory_growth alert carries
  // the `n` allocation sites holding the most live heap now, largest first
  // (MemoryAlert::top_sites). Called once per such alert, under the
  // sampling lock (readers of the monitor are not blocked). None by
  // default.
  virtual std::vector<AllocationSite> TopAllocationSites(std::size_t n) {
    (void)n;
    return {};
  }
};

}  // namespace memmon

#endif  // MEMMON_SAMPLE_SOURCE_H_
