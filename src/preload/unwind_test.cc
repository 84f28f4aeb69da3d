// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// FastBacktrace against libunwind's unw_backtrace on the same stacks: plain
// recursion, frames with a variable-length array (CFA on %rbp), callbacks
// from libc (qsort) and libstdc++ (std::call_once), other threads, and a
// depth cap. Both are called from one function, so every frame but the
// first (their own call sites) must be equal.

#include "preload/unwind.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

namespace memmon::preload {
namespace {

constexpr int kMax = 128;

struct Traces {
  std::vector<uintptr_t> fast, reference;
  int fast_n = 0;
};

__attribute__((noinline)) void Capture(Traces* t, int max = kMax) {
  t->fast.assign(kMax, 0);
  t->reference.assign(kMax, 0);
  StackBounds stack;
  if (!CurrentThreadStack(&stack)) {
    t->fast_n = -2;
    return;
  }
  t->fast_n = FastBacktrace(t->fast.data(), max, stack);
  const int n =
      unw_backtrace(reinterpret_cast<void**>(t->reference.data()), kMax);
  t->reference.resize(static_cast<size_t>(n));
  asm volatile("" ::: "memory");  // no tail call: Capture stays a frame
}

// Equal from frame 1 on (frame 0 is each call's own return address).
void ExpectSameStack(const Traces& t) {
  ASSERT_GE(t.fast_n, 0) << "fell back to libunwind";
  ASSERT_EQ(static_cast<size_t>(t.fast_n), t.reference.size());
  ASSERT_GT(t.fast_n, 3);
  for (int i = 1; i < t.fast_n; ++i) {
    EXPECT_EQ(t.fast[static_cast<size_t>(i)],
              t.reference[static_cast<size_t>(i)])
        << "frame " << i;
  }
}

__attribute__((noinline)) int Recurse(int depth, Traces* t) {
  if (depth == 0) {
    Capture(t);
    return 0;
  }
  int r = Recurse(depth - 1, t);
  asm volatile("" : "+r"(r));  // not a tail call
  return r + 1;
}

// A variable-length array: GCC and Clang address this frame from %rbp.
__attribute__((noinline)) int WithVla(int n, Traces* t) {
  volatile char buf[n];
  buf[0] = 1;
  Recurse(3, t);
  return buf[0];
}

thread_local Traces* t_qsort_traces = nullptr;
int CompareInts(const void* a, const void* b) {
  if (t_qsort_traces != nullptr) {
    Capture(t_qsort_traces);
    t_qsort_traces = nullptr;
  }
  return *static_cast<const int*>(a) - *static_cast<const int*>(b);
}

TEST(FastUnwind, MatchesLibunwindThroughRecursion) {
  ASSERT_TRUE(InitFastUnwind());
  for (int depth : {0, 1, 5, 40}) {
    Traces t;
    Recurse(depth, &t);
    ExpectSameStack(t);
  }
}

TEST(FastUnwind, MatchesLibunwindThroughRbpFrames) {
  ASSERT_TRUE(InitFastUnwind());
  Traces t;
  WithVla(100, &t);
  ExpectSameStack(t);
}

TEST(FastUnwind, MatchesLibunwindThroughLibcCallback) {
  ASSERT_TRUE(InitFastUnwind());
  Traces t;
  int values[] = {5, 3, 9, 1, 7, 2, 8};
  t_qsort_traces = &t;
  qsort(values, 7, sizeof(int), CompareInts);
  ExpectSameStack(t);
}

TEST(FastUnwind, MatchesLibunwindThroughLibstdcxx) {
  ASSERT_TRUE(InitFastUnwind());
  Traces t;
  std::once_flag once;
  std::call_once(once, [&] { Recurse(2, &t); });
  ExpectSameStack(t);
}

#if defined(__SANITIZE_THREAD__)
constexpr bool kLibunwindOnThreads = false;
#else
constexpr bool kLibunwindOnThreads = true;
#endif

TEST(FastUnwind, MatchesLibunwindOnOtherThreads) {
  ASSERT_TRUE(InitFastUnwind());
  InvalidateFastUnwind();  // the threads fill the rule cache concurrently
  std::vector<Traces> traces(4);
  std::vector<std::thread> threads;
  for (Traces& t : traces) {
    threads.emplace_back([&t] {
      if (kLibunwindOnThreads) {
        Recurse(7, &t);
      } else {
        // libunwind on a thread crashes ThreadSanitizer's runtime at thread
        // exit (its cache destructor): the fast walk alone, compared below
        // across threads.
        t.fast.assign(kMax, 0);
        StackBounds stack;
        t.fast_n = CurrentThreadStack(&stack)
                       ? FastBacktrace(t.fast.data(), kMax, stack)
                       : -2;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const Traces& t : traces) {
    if (kLibunwindOnThreads) {
      ExpectSameStack(t);
    } else {
      ASSERT_GT(t.fast_n, 2);
      EXPECT_EQ(t.fast_n, traces[0].fast_n);
      for (int i = 1; i < t.fast_n; ++i)
        EXPECT_EQ(t.fast[static_cast<size_t>(i)],
                  traces[0].fast[static_cast<size_t>(i)]);
    }
  }
}

TEST(FastUnwind, StopsAtTheCap) {
  ASSERT_TRUE(InitFastUnwind());
  Traces t;
  struct Capped {
    __attribute__((noinline)) static int Run(int depth, Traces* t) {
      if (depth == 0) {
        Capture(t, 4);
        return 0;
      }
      int r = Run(depth - 1, t);
      asm volatile("" : "+r"(r));
      return r;
    }
  };
  Capped::Run(10, &t);
  EXPECT_EQ(t.fast_n, 4);
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(t.fast[static_cast<size_t>(i)],
              t.reference[static_cast<size_t>(i)]);
  }
}

// Outside the stack it is told (as on a coroutine's own stack), and when
// the stack it is told ends below the outermost frame, it never reads out
// of bounds: it gives up, and libunwind takes the stack.
TEST(FastUnwind, StaysInsideTheStackBounds) {
  ASSERT_TRUE(InitFastUnwind());
  StackBounds stack;
  ASSERT_TRUE(CurrentThreadStack(&stack));
  uintptr_t frames[kMax];
  StackBounds elsewhere{stack.hi + 4096, stack.hi + 8192};
  EXPECT_EQ(FastBacktrace(frames, kMax, elsewhere), -1);
  const uintptr_t here =
      reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  StackBounds shallow{stack.lo, here + 64};  // ends a few frames up
  const uint64_t fallbacks = GetFastUnwindStats().fallbacks;
  EXPECT_EQ(FastBacktrace(frames, kMax, shallow), -1);
  EXPECT_EQ(GetFastUnwindStats().fallbacks, fallbacks + 1);  // counted
  EXPECT_GT(FastBacktrace(frames, kMax, stack), 3);
}

// The first samples of several threads may all prepare the unwinder at
// once: every call succeeds and every thread then walks with the one rule
// cache (in the TSan build, the publication is checked for races). Run in
// a fresh process, where the cache does not exist yet.
TEST(FastUnwind, ConcurrentFirstInit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        constexpr int kThreads = 8;
        std::latch start(kThreads);  // all threads call at the same time
        std::atomic<int> good{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
          threads.emplace_back([&] {
            start.arrive_and_wait();
            if (!InitFastUnwind()) return;
            // FastBacktrace alone: libunwind's per-thread state, torn down
            // at thread exit, trips TSan in a process this young.
            StackBounds stack;
            uintptr_t frames[kMax];
            if (CurrentThreadStack(&stack) &&
                FastBacktrace(frames, kMax, stack) > 3) {
              good.fetch_add(1);
            }
          });
        }
        for (std::thread& th : threads) th.join();
        std::exit(good.load() == kThreads ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(FastUnwind, RulesAreCachedUntilInvalidated) {
  ASSERT_TRUE(InitFastUnwind());
  uint64_t parsed[4];
  for (int round = 0; round < 4; ++round) {  // one call site for all rounds
    if (round == 2) InvalidateFastUnwind();  // as after dlclose
    Traces t;
    Recurse(6, &t);
    ExpectSameStack(t);
    parsed[round] = GetFastUnwindStats().rules_parsed;
  }
  EXPECT_EQ(parsed[1], parsed[0]);  // the second walk parsed nothing
  EXPECT_GT(parsed[2], parsed[1]);  // after invalidation: parsed again
  EXPECT_EQ(parsed[3], parsed[2]);
}

}  // namespace
}  // namespace memmon::preload
