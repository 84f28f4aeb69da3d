// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Which allocator serves malloc in this process, and its statistics.
//
// Detection happens at run time through dlsym, so memmon has no link-time
// dependency on any allocator: jemalloc is recognised by `mallctl`, gperftools
// tcmalloc by `MallocExtension_GetNumericProperty`, glibc by `mallinfo2`.
// A candidate counts only if it lives in the same object as the `malloc` the
// process actually calls (a jemalloc dlopen'ed by a plugin does not) -- or,
// when that malloc is memmon's heap sampler, as the malloc the sampler
// forwards to (memmon_preload_real_malloc), so the statistics, free bytes
// and ReleaseFreeMemory are the same with the sampler and without.
//
// What the heap fields mean for each:
//   glibc:    in use = uordblks + hblkhd, free = fordblks,
//             system = arena + hblkhd (mallinfo2 sums every arena).
//   jemalloc: in use = stats.allocated,
//             system = stats.mapped + stats.metadata,
//             free = system - allocated (after advancing the epoch, without
//             which jemalloc's statistics are stale).
//   tcmalloc: in use = generic.current_allocated_bytes,
//             system = generic.heap_size - tcmalloc.pageheap_unmapped_bytes
//                      + tcmalloc.metadata_bytes,
//             free = system - in use.
// Free thus includes the allocator's metadata (glibc's chunk headers are
// in its arena bytes already). The heap sampler publishes the same figures
// on memmon run's status page (src/preload/runtime.cc).
//
// Thread-safety: Read() and ReleaseFreeMemory() may be called from any
// thread. Neither allocates through memmon's code (the allocator's own
// statistics calls may take its internal locks).
#ifndef MEMMON_SRC_SOURCE_ALLOCATOR_STATS_H_
#define MEMMON_SRC_SOURCE_ALLOCATOR_STATS_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "memmon/alert.h"
#include "memmon/memmon_preload.h"
#include "memmon/sample.h"

namespace memmon::internal {

class AllocatorStats {
 public:
  // Looks up the allocator serving this process.
  static AllocatorStats Detect();

  AllocatorKind kind() const { return kind_; }
  // Fills the heap fields of `sample` and its `allocator`; leaves them
  // unknown for AllocatorKind::kUnknown. When the heap sampler is loaded
  // (libmemmon_preload.so) and its malloc is the process's, its exact
  // counters fill total_allocated_bytes, allocations and frees, and its
  // bytes in use replace the allocator's.
  // Read = ReadAllocator + ReadSamplerCounters.
  void Read(Sample* sample) const;
  // The allocator's own statistics: cheap on a tidy heap, but glibc's
  // walks every free chunk (the monitor budgets it; src/source/cost_budget.h).
  void ReadAllocator(Sample* sample) const;
  // The heap sampler's exact counters, when it is loaded and serves malloc:
  // always cheap. Nothing when it is loaded but bypassed (an allocator ahead
  // of it in the lookup order -- `-ljemalloc -lmemmon_heap`, or
  // LD_PRELOAD=libjemalloc.so on a program linked with memmon_heap -- so
  // its counters see no call): the allocator's own figures stand.
  void ReadSamplerCounters(Sample* sample) const;
  // The heap sampler is loaded and its malloc is the one the process calls
  // (the object defining `malloc` is the sampler's).
  bool sampler_serves_malloc() const { return sampler_serves_malloc_; }
  // Returns free memory to the OS. False when the allocator offers no way.
  bool ReleaseFreeMemory() const;
  // Asks the heap sampler, when loaded, for a numbered heap snapshot in its
  // MEMMON_OUTPUT directory (memmon_preload_snapshot); otherwise nothing.
  // Takes milliseconds (symbolization): call it with no lock held.
  void SnapshotHeap(const char* reason) const;
  // The heap sampler's `n` sites holding the most sampled live bytes,
  // largest first (memmon_preload_top_sites); empty without the sampler or
  // when it fails. Allocates; takes milliseconds (symbolization).
  std::vector<AllocationSite> TopAllocationSites(std::size_t n) const;

 private:
  using MallctlFn = int (*)(const char*, void*, size_t*, void*, size_t);
  using TcPropertyFn = int (*)(const char*, size_t*);
  using TcReleaseFn = void (*)();
  struct GlibcInfo {  // layout of glibc's struct mallinfo2
    size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks,
        fordblks, keepcost;
  };
  using Mallinfo2Fn = GlibcInfo (*)();
  using MallocTrimFn = int (*)(size_t);

  static AllocatorStats DetectAllocator();

  AllocatorKind kind_ = AllocatorKind::kUnknown;
  bool sampler_serves_malloc_ = false;
  // The heap sampler's entry points, when it is loaded.
  memmon_preload_counters_fn preload_counters_ = nullptr;
  memmon_preload_snapshot_fn preload_snapshot_ = nullptr;
  memmon_preload_top_sites_fn preload_top_sites_ = nullptr;
  MallctlFn mallctl_ = nullptr;
  TcPropertyFn tc_property_ = nullptr;
  TcReleaseFn tc_release_ = nullptr;
  Mallinfo2Fn mallinfo2_ = nullptr;
  MallocTrimFn malloc_trim_ = nullptr;
};

// memmon_preload_top_sites's text (include/memmon/memmon_preload.h) as
// sites, at most `max_sites`; lines that do not parse are skipped.
std::vector<AllocationSite> ParseTopSites(std::string_view text,
                                          std::size_t max_sites);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_SOURCE_ALLOCATOR_STATS_H_
