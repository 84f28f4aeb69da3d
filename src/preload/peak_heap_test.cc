// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The live table's allocation times and live-bytes estimate, and the peak
// heap kept from them (peak_heap.h): a transient spike freed again is what
// the peak holds, a new peak is saved only past the growth margin, and the
// copy stays consistent when threads insert, erase and read at once.
//
// Addresses are far from those live_table_test.cc uses (the filter is
// process-wide); the tables here keep no filter anyway.

#include "preload/peak_heap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <thread>
#include <vector>

#include "preload/live_table.h"

namespace memmon::preload {
namespace {

const void* Ptr(uintptr_t a) { return reinterpret_cast<const void*>(a); }
constexpr uintptr_t kBase = 0x6a0000000000;

TEST(LiveTableAge, EntriesKeepTheirTick) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64, /*keep_filter=*/false));
  std::size_t a = t.Insert(Ptr(kBase), 32, 1, /*tick=*/100);
  ASSERT_NE(a, 0u);
  ASSERT_NE(t.Insert(Ptr(kBase + 16), 48, 2, 4000000000u), 0u);
  std::map<uintptr_t, uint32_t> ticks;
  t.ForEachTimed([&](uintptr_t k, std::size_t, uint32_t, uint32_t tick) {
    ticks[k] = tick;
  });
  EXPECT_EQ(ticks[kBase], 100u);
  EXPECT_EQ(ticks[kBase + 16], 4000000000u);
  // A slot reused gets the new entry's time.
  ASSERT_TRUE(t.EraseSlot(a, Ptr(kBase)));
  ASSERT_NE(t.Insert(Ptr(kBase), 32, 1, 7), 0u);
  ticks.clear();
  t.ForEachTimed([&](uintptr_t k, std::size_t, uint32_t, uint32_t tick) {
    ticks[k] = tick;
  });
  EXPECT_EQ(ticks[kBase], 7u);
}

TEST(LiveTableAge, AgesAreModular) {
  EXPECT_DOUBLE_EQ(LiveTable::TickAgeSeconds(10, 10), 0.0);
  EXPECT_NEAR(LiveTable::TickAgeSeconds(70, 10), 60 * 0.016777216, 1e-9);
  // Across the wrap of the 32-bit tick.
  EXPECT_NEAR(LiveTable::TickAgeSeconds(5, 0xFFFFFFFBu), 10 * 0.016777216,
              1e-9);
  // Two reads of the clock a little apart differ by less than a second.
  const uint32_t t0 = LiveTable::NowTick();
  const uint32_t t1 = LiveTable::NowTick();
  EXPECT_LT(LiveTable::TickAgeSeconds(t1, t0), 1.0);
}

TEST(LiveTableLiveBytes, FollowsInsertsAndErases) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64, false));
  t.EnableLiveBytes(/*rate=*/0);  // every allocation sampled: weight = size
  int64_t after = 0;
  std::size_t a = t.Insert(Ptr(kBase + 0x1000), 100, 1, 0, &after);
  EXPECT_EQ(after, 100);
  ASSERT_NE(t.Insert(Ptr(kBase + 0x2000), 1000, 1, 0, &after), 0u);
  EXPECT_EQ(after, 1100);
  EXPECT_TRUE(t.EraseSlot(a, Ptr(kBase + 0x1000)));
  EXPECT_EQ(t.live_bytes(), 1000);
  EXPECT_TRUE(t.Erase(Ptr(kBase + 0x2000)));
  EXPECT_EQ(t.live_bytes(), 0);
  EXPECT_FALSE(t.Erase(Ptr(kBase + 0x2000)));  // twice: no double count
  EXPECT_EQ(t.live_bytes(), 0);
}

TEST(LiveTableLiveBytes, WeighsBySampleWeight) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64, false));
  const uint64_t rate = 512 * 1024;
  t.EnableLiveBytes(rate);
  // A 1 KiB sample stands for size / (1 - exp(-size / rate)) bytes.
  const double w = 1024.0 / -std::expm1(-1024.0 / rate);
  EXPECT_NEAR(static_cast<double>(t.WeightOf(1024)), w, 1.0);
  // Far above the rate a sample stands for itself.
  EXPECT_NEAR(static_cast<double>(t.WeightOf(64 << 20)), 64 << 20, 1.0);
  int64_t after = 0;
  ASSERT_NE(t.Insert(Ptr(kBase + 0x3000), 1024, 1, 0, &after), 0u);
  EXPECT_EQ(after, t.WeightOf(1024));
  ASSERT_TRUE(t.Erase(Ptr(kBase + 0x3000)));
  EXPECT_EQ(t.live_bytes(), 0);  // the same rounding both ways: no drift
}

// Sums a peak's bytes by stack reference.
std::map<uint32_t, uint64_t> PeakBytes(PeakHeap& peak, PeakHeap::Info* info) {
  std::map<uint32_t, uint64_t> by_ref;
  *info =
      peak.Read([&](std::size_t size, uint32_t ref) { by_ref[ref] += size; });
  return by_ref;
}

TEST(PeakHeap, KeepsATransientSpikeFreedLater) {
  LiveTable t;
  ASSERT_TRUE(t.Init(1024, false));
  t.EnableLiveBytes(0);
  PeakHeap peak;
  ASSERT_TRUE(peak.Init(t.total_slots(), 0.1));  // a 10 % margin
  auto insert = [&](uintptr_t a, std::size_t size, uint32_t ref) {
    int64_t live = 0;
    ASSERT_NE(t.Insert(Ptr(a), size, ref, 0, &live), 0u);
    peak.MaybeSave(t, live);
  };
  // Steady state: 10 blocks of 1 MiB (stack 1).
  for (int i = 0; i < 10; ++i) insert(kBase + 0x100000 + i * 16, 1 << 20, 1);
  // The spike: 300 blocks of 1 MiB (stack 2), all freed again.
  for (int i = 0; i < 300; ++i) insert(kBase + 0x200000 + i * 16, 1 << 20, 2);
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(t.Erase(Ptr(kBase + 0x200000 + i * 16)));
  // Afterwards, more steady blocks, far below the peak.
  for (int i = 10; i < 20; ++i) insert(kBase + 0x100000 + i * 16, 1 << 20, 1);

  PeakHeap::Info info;
  std::map<uint32_t, uint64_t> by_ref = PeakBytes(peak, &info);
  // Saved at most 10 % below the true peak (310 MiB).
  EXPECT_GE(info.bytes, static_cast<int64_t>(310.0 / 1.1 * (1 << 20)));
  EXPECT_LE(info.bytes, int64_t{310} << 20);
  EXPECT_GE(by_ref[2], uint64_t{250} << 20);  // the spike is on top
  EXPECT_EQ(by_ref[1], uint64_t{10} << 20);
  EXPECT_EQ(info.truncated, 0u);
  EXPECT_GT(info.time_nanos, 0);
  // Saves grow geometrically: from 1 MiB to 310 MiB by >= 10 % steps is at
  // most log(310) / log(1.1) + 1 = 61 copies, not one per insert.
  EXPECT_LE(info.saves, 61u);
  EXPECT_EQ(t.live_bytes(), int64_t{20} << 20);
}

TEST(PeakHeap, NothingSavedBelowTheMargin) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64, false));
  t.EnableLiveBytes(0);
  PeakHeap peak;
  ASSERT_TRUE(peak.Init(t.total_slots(), /*growth=*/0.5));
  int64_t live = 0;
  ASSERT_NE(t.Insert(Ptr(kBase + 0x400000), 1000, 1, 0, &live), 0u);
  peak.MaybeSave(t, live);  // first: saved
  ASSERT_NE(t.Insert(Ptr(kBase + 0x400010), 400, 1, 0, &live), 0u);
  peak.MaybeSave(t, live);  // 1400 <= 1000 * 1.5: not saved
  PeakHeap::Info info;
  PeakBytes(peak, &info);
  EXPECT_EQ(info.bytes, 1000);
  EXPECT_EQ(info.saves, 1u);
  ASSERT_NE(t.Insert(Ptr(kBase + 0x400020), 200, 1, 0, &live), 0u);
  peak.MaybeSave(t, live);  // 1600 > 1500: saved
  std::map<uint32_t, uint64_t> by_ref = PeakBytes(peak, &info);
  EXPECT_EQ(info.bytes, 1600);
  EXPECT_EQ(info.saves, 2u);
  EXPECT_EQ(by_ref[1], 1600u);
}

TEST(PeakHeap, NothingSavedBelowTheFloor) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64, false));
  t.EnableLiveBytes(0);
  PeakHeap peak;
  ASSERT_TRUE(peak.Init(t.total_slots(), 0.1, /*min_bytes=*/5000));
  int64_t live = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_NE(t.Insert(Ptr(kBase + 0x500000 + i * 16), 1000, 1, 0, &live), 0u);
    peak.MaybeSave(t, live);
  }
  PeakHeap::Info info;
  PeakBytes(peak, &info);
  EXPECT_EQ(info.saves, 0u);  // 5000 is not above the floor
  ASSERT_NE(t.Insert(Ptr(kBase + 0x500100), 1, 1, 0, &live), 0u);
  peak.MaybeSave(t, live);
  PeakBytes(peak, &info);
  EXPECT_EQ(info.saves, 1u);
  EXPECT_EQ(info.bytes, 5001);
}

// Threads insert, erase and save peaks while a reader reads them: every
// peak read is one some thread reached (no torn copy adds up to more than
// every thread's blocks at once), and the final peak covers each thread's
// own high point. Run under TSan too.
TEST(PeakHeap, ConcurrentSavesAndReads) {
  LiveTable t;
  ASSERT_TRUE(t.Init(4096, false));
  t.EnableLiveBytes(0);
  PeakHeap peak;
  ASSERT_TRUE(peak.Init(t.total_slots(), 0.01));
  constexpr int kThreads = 4, kBlocks = 200, kRounds = 20;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      uint64_t sum = 0;
      PeakHeap::Info info =
          peak.Read([&](std::size_t size, uint32_t) { sum += size; });
      EXPECT_LE(sum, uint64_t{kThreads} * kBlocks * 64);
      EXPECT_LE(info.bytes, int64_t{kThreads} * kBlocks * 64);
      std::this_thread::yield();  // leaves the lock to the savers at times
    }
  });
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      const uintptr_t base = kBase + 0x1000000 + th * 0x100000;
      for (int r = 0; r < kRounds; ++r) {
        for (int i = 0; i < kBlocks; ++i) {
          int64_t live = 0;
          if (t.Insert(Ptr(base + i * 16), 64, th, 0, &live) != 0) {
            peak.MaybeSave(t, live);
          }
        }
        for (int i = 0; i < kBlocks; ++i) t.Erase(Ptr(base + i * 16));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  done.store(true);
  reader.join();
  EXPECT_EQ(t.live_bytes(), 0);
  // The reader may have held the lock whenever a thread peaked (saves are
  // skipped then), so one more round, alone: every thread's blocks at once,
  // the most the run ever held. It is saved unless a save within the margin
  // of it was made before.
  const uintptr_t base = kBase + 0x2000000;
  for (int i = 0; i < kThreads * kBlocks; ++i) {
    int64_t live = 0;
    ASSERT_NE(t.Insert(Ptr(base + i * 16), 64, 9, 0, &live), 0u);
    peak.MaybeSave(t, live);
  }
  uint64_t sum = 0;
  PeakHeap::Info info =
      peak.Read([&](std::size_t size, uint32_t) { sum += size; });
  const int64_t most = int64_t{kThreads} * kBlocks * 64;
  EXPECT_GE(static_cast<double>(info.bytes), most / 1.01);
  EXPECT_LE(info.bytes, most);
  // The copy of a peak reached while other threads erased may hold less.
  EXPECT_GT(sum, 0u);
  EXPECT_LE(sum, static_cast<uint64_t>(most));
}

}  // namespace
}  // namespace memmon::preload
