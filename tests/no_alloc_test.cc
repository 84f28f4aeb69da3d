// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A steady-state sample must not allocate. This binary replaces the global
// operator new to count allocations made on the test thread while it takes
// samples; memmon's own code allocates only through operator new (std
// containers, strings), so a count of zero proves the path allocation-free.
// (It runs outside the sanitizer builds, whose runtimes own operator new.)

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "memmon/monitor.h"

// Replacement operators pair new with malloc and delete with free on
// purpose; GCC cannot see that they are the replacements.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
thread_local bool counting = false;
std::atomic<long> counted{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting) counted.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace memmon {
namespace {

TEST(SteadyPath, TakeSampleDoesNotAllocate) {
  MonitorConfig c = DefaultMonitorConfig();
  c.max_samples = 10;
  c.alert_log = "none";
  MemoryMonitor m(c);
  // Tracked objects are observed on every sample too.
  ObjectCounter& objects = m.TrackObject("no-alloc-objects", 1000000);
  objects.Increment(10);
  // Warm up: open sources, fill and wrap the history once.
  for (int i = 0; i < 25; ++i) m.TakeSample();
  ASSERT_EQ(m.TakeSample().allocator, AllocatorKind::kGlibc);

  counting = true;
  for (int i = 0; i < 200; ++i) {
    m.TakeSample();
    objects.Increment(10);
    objects.Decrement(10);
  }
  counting = false;
  EXPECT_EQ(counted.load(), 0);

  // The counter itself works: a vector allocates.
  counting = true;
  std::vector<int> v(10);
  counting = false;
  EXPECT_EQ(counted.load(), 1);
}

}  // namespace
}  // namespace memmon
