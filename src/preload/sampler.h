// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The heap sampler's shared state, as seen from outside the hooks (the
// profile writer in src/profile/ and the exported C functions).
//
// Sampling: each thread counts down the bytes it allocates; when the count
// crosses zero the allocation is sampled and a new gap is drawn from an
// exponential distribution of mean `rate` bytes. An allocation of `size`
// bytes is thus sampled with probability 1 - exp(-size/rate), and each
// sample stands for weight = size / (1 - exp(-size/rate)) bytes, i.e.
// weight/size objects. rate <= 1 samples every allocation with weight = size.
//
// Thread-safety: every function may be called from any thread.
#ifndef MEMMON_SRC_PRELOAD_SAMPLER_H_
#define MEMMON_SRC_PRELOAD_SAMPLER_H_

#include <cstddef>
#include <cstdint>

#include "memmon/memmon_preload.h"
#include "preload/in_malloc.h"
#include "preload/live_table.h"
#include "preload/peak_heap.h"
#include "preload/stack_table.h"

namespace memmon::preload {

inline constexpr uint64_t kDefaultSampleRate = 512 * 1024;

struct SamplerConfig {
  uint64_t rate = kDefaultSampleRate;
  uint64_t seed = 0;  // 0: seeded from the clock and the thread
  bool enabled = true;
  bool live_age = true;  // MEMMON_LIVE_AGE: samples carry their time
  bool peak = true;      // MEMMON_PEAK: the peak heap profile is kept
};

// The process-wide tables (initialised on first use).
LiveTable& Live();
PeakHeap& Peak();
StackTable& Stacks();
const SamplerConfig& Config();

// Bytes and objects that one sample of `size` bytes stands for. A request
// of 0 bytes (malloc(0)) is sampled only when every allocation is
// (rate <= 1: the sampling countdown is in requested bytes, docs/profiler.md)
// and stands for one object of 0 bytes.
MEMMON_IN_MALLOC double SampleWeightBytes(std::size_t size, uint64_t rate);
MEMMON_IN_MALLOC inline double SampleWeightObjects(std::size_t size,
                                                   uint64_t rate) {
  return size == 0 ? 1.0
                   : SampleWeightBytes(size, rate) / static_cast<double>(size);
}

// Fills the counters (flushing the calling thread's batch).
void ReadCounters(memmon_preload_counters* out);

// While a thread holds a ScopedNoSampling, its allocations are counted but
// never sampled (the profile writer's own allocations are not the program's).
class ScopedNoSampling {
 public:
  ScopedNoSampling();
  ~ScopedNoSampling();
  ScopedNoSampling(const ScopedNoSampling&) = delete;
  ScopedNoSampling& operator=(const ScopedNoSampling&) = delete;

 private:
  bool previous_;
};

// Ensures the real allocator is resolved and the tables exist.
MEMMON_IN_MALLOC void EnsureInitialized();

// EnsureInitialized, then, when sampling is on, readies the unwinder: its
// rule cache and libunwind's state, each a mapping of its own. Called from
// the library's constructor (under ScopedNoSampling), so that these
// mappings are made before the program's threads and arenas exist, not
// by whichever allocation is sampled first (see docs/profiler.md). Then
// starts sampling (g_sampling_started): nothing allocated before is sampled.
void PrepareSampling();

// Called in the child after fork, on the thread that forked (the runtime's
// atfork handler): clears that thread's reentrancy guard (in_hook) and
// releases the peak heap's copy lock (PeakHeap::ResetAfterFork), which a
// thread of the parent may have held.
void ResetAfterFork();

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_SAMPLER_H_
