// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/sampling_path.h"

#include <link.h>
#include <time.h>

#include "preload/sample_math.h"

namespace memmon::preload {

constinit SamplerConfig g_config;
constinit LiveTable g_live;
constinit StackTable g_stacks;
constinit PeakHeap g_peak;
constinit std::atomic<uint64_t> g_thread_seq{0};
constinit std::atomic<uintptr_t> g_self_lo{0};
constinit std::atomic<uintptr_t> g_self_hi{0};
constinit std::atomic<bool> g_unwinder_ready{false};
constinit std::atomic<bool> g_sampling_started{false};

namespace {

MEMMON_IN_MALLOC uint64_t NextRandom(ThreadState& t) {  // xorshift64*
  uint64_t x = t.rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t.rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

MEMMON_IN_MALLOC int FindSelf(dl_phdr_info* info, size_t, void* data) {
  const uintptr_t me = reinterpret_cast<uintptr_t>(data);
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    uintptr_t end = start + ph.p_memsz;
    if (start < lo) lo = start;
    if (end > hi) hi = end;
  }
  if (me < lo || me >= hi) return 0;
  g_self_lo.store(lo, std::memory_order_relaxed);
  g_self_hi.store(hi, std::memory_order_relaxed);
  return 1;
}

}  // namespace

int64_t NextGap(ThreadState& t) {
  const uint64_t rate = g_config.rate;
  // Every allocation sampled: -1 keeps the countdown negative whatever the
  // request, malloc(0)'s included.
  if (rate <= 1) return -1;
  // u in (0, 1]: 53 random bits.
  double u = (static_cast<double>(NextRandom(t) >> 11) + 1.0) * 0x1.0p-53;
  double gap = -LogUnit(u) * static_cast<double>(rate);
  if (gap > static_cast<double>(kMaxGap)) gap = static_cast<double>(kMaxGap);
  // The allocation that takes the countdown below zero is sampled: the one
  // during which the byte count passes `gap`.
  return static_cast<int64_t>(gap);
}

void SeedThread(ThreadState& t) {
  uint64_t seq = g_thread_seq.fetch_add(1, std::memory_order_relaxed);
  uint64_t s;
  if (g_config.seed != 0) {
    s = g_config.seed * 0x9E3779B97F4A7C15ull + seq * 0xBF58476D1CE4E5B9ull;
  } else {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s = static_cast<uint64_t>(ts.tv_nsec) ^
        (static_cast<uint64_t>(ts.tv_sec) << 32) ^
        reinterpret_cast<uintptr_t>(&t) ^ (seq << 48);
  }
  t.rng = s == 0 ? 0x853C49E6748FEA9Bull : s;
  for (int i = 0; i < 4; ++i) NextRandom(t);
  t.rng_ready = true;
}

MEMMON_NOINLINE void PrepareUnwinderOnce() {
  dl_iterate_phdr(FindSelf, reinterpret_cast<void*>(&PrepareUnwinderOnce));
  // libunwind is the fallback (frames FastBacktrace cannot take). Per-thread
  // caches: no global lock taken while unwinding.
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  InitFastUnwind();
  g_unwinder_ready.store(true, std::memory_order_release);
}

// ---- what the rest of the sampler sees ------------------------------------
LiveTable& Live() { return g_live; }
PeakHeap& Peak() { return g_peak; }
StackTable& Stacks() { return g_stacks; }
const SamplerConfig& Config() { return g_config; }

double SampleWeightBytes(size_t size, uint64_t rate) {
  if (rate <= 1 || size == 0) return static_cast<double>(size);
  double s = static_cast<double>(size);
  return s / OneMinusExpNeg(s / static_cast<double>(rate));
}

ScopedNoSampling::ScopedNoSampling() : previous_(ThisThread().no_sampling) {
  ThisThread().no_sampling = true;
}
ScopedNoSampling::~ScopedNoSampling() { ThisThread().no_sampling = previous_; }

}  // namespace memmon::preload
