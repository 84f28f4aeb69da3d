// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A program that does little but allocate, for the allocator clock
// (src/preload/alloc_clock.h) and the allocator_pressure alert:
//
//   alloc_pressure_target SECONDS [WORK]
//
// It keeps a ring of 64 live blocks and replaces the oldest with a new one
// of 16..1040 bytes (a fixed generator), WORK units of arithmetic (a
// dependent multiply-add, no memory) between replacements. It measures,
// itself, what one unit of work costs on this thread's CPU clock in a loop
// of its own, and what one round of the mixed loop costs (no clock read per
// call), and so expects the allocator's share of the mixed loop to be
// (round - WORK x unit) / round: what is not the work is the replacement
// (a free and a malloc, the sampler's hooks included) and the loop's few
// instructions. Under the sampler it reads the sampler's allocator clock
// (memmon_preload_read_allocator_time, by dlsym) over the mixed loop, and
// prints both:
//
//   alloc_pressure: work=W rounds=N round_ns=R expected=E measured=M
//
// (measured "none" without the sampler). The mixed loop runs SECONDS.
//
// "expected" is what a call costs where it overlaps the work around it (a
// core runs the allocator's instructions beside the multiply chain); the
// sampler's clock times a call from entry to return (docs/profiler.md,
// "Allocator time", compares them and perf's attribution).
#include <dlfcn.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "memmon/memmon_preload.h"

namespace {

constexpr int kRing = 64;

int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Ring {
  void* blocks[kRing] = {};
  uint32_t next = 0;
  uint64_t rng = 0x2545F4914F6CDD1Dull;

  // Frees the oldest block and allocates its successor.
  void Replace() {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    const size_t size = 16 + ((rng >> 33) & 1023);
    free(blocks[next]);
    void* p = malloc(size);
    if (p == nullptr) abort();
    static_cast<volatile char*>(p)[0] = 1;  // used, so not optimised out
    blocks[next] = p;
    next = (next + 1) % kRing;
  }
  ~Ring() {
    for (void* p : blocks) free(p);
  }
};

uint64_t g_sink = 1;

// One unit of work: a dependent multiply-add (no memory, no call).
inline void Work(uint64_t units) {
  uint64_t x = g_sink;
  for (uint64_t i = 0; i < units; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    asm volatile("" : "+r"(x));
  }
  g_sink = x;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: alloc_pressure_target SECONDS [WORK]\n");
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  const uint64_t work = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;

  Ring ring;
  for (int i = 0; i < kRing; ++i) ring.Replace();

  // The cost of one unit of work alone.
  constexpr uint64_t kCalibration = 40000000;
  const int64_t t0 = ThreadCpuNanos();
  Work(kCalibration);
  const double unit_ns = static_cast<double>(ThreadCpuNanos() - t0) /
                         static_cast<double>(kCalibration);

  auto read_clock = reinterpret_cast<memmon_preload_allocator_time_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_ALLOCATOR_TIME_SYMBOL));
  memmon_preload_allocator_time before{}, after{};
  if (read_clock != nullptr) read_clock(&before, sizeof(before));
  const int64_t end = MonotonicNanos() + static_cast<int64_t>(seconds * 1e9);
  const int64_t cpu0 = ThreadCpuNanos();
  uint64_t pairs = 0;
  while (MonotonicNanos() < end) {
    for (int i = 0; i < 1000; ++i) {
      ring.Replace();
      Work(work);
    }
    pairs += 1000;
  }
  const double cpu_ns = static_cast<double>(ThreadCpuNanos() - cpu0);
  const double round_ns = cpu_ns / static_cast<double>(pairs);
  if (read_clock != nullptr) read_clock(&after, sizeof(after));
  double expected = (round_ns - static_cast<double>(work) * unit_ns) / round_ns;
  if (expected < 0) expected = 0;

  std::printf(
      "alloc_pressure: work=%llu rounds=%llu round_ns=%.1f expected=%.3f",
      static_cast<unsigned long long>(work),
      static_cast<unsigned long long>(pairs), round_ns, expected);
  if (read_clock != nullptr && after.cpu_nanos > before.cpu_nanos) {
    std::printf(
        " measured=%.3f\n",
        static_cast<double>(after.allocator_nanos - before.allocator_nanos) /
            static_cast<double>(after.cpu_nanos - before.cpu_nanos));
  } else {
    std::printf(" measured=none\n");
  }
  return 0;
}
