// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The live-sample table and the counting filter in front of it. free()
// skips the table whenever the filter byte of its pointer is zero, so the
// property everything rests on is: no false negatives -- a pointer in the
// table always has a non-zero filter byte, whatever was inserted or erased
// around it, by any thread. Also: the filter counts exactly (a counter goes
// back to zero when the last entry sharing it leaves, unless it saturated,
// which is sticky), the null pointer's counter is set from the start, and
// the table agrees with a reference set.
//
// The filter is process-wide (static), so each test uses its own address
// range and only checks counters it knows the history of.

#include "preload/live_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace memmon::preload {
namespace {

constexpr uintptr_t kFilterSpan = uintptr_t{16} << kFilterBits;  // 1 MiB

const void* Ptr(uintptr_t a) { return reinterpret_cast<const void*>(a); }

uint8_t Counter(uintptr_t a) {
  return g_live_filter[LiveTable::FilterIndex(Ptr(a))].load();
}

std::set<uintptr_t> Contents(const LiveTable& t) {
  std::set<uintptr_t> s;
  t.ForEach([&](uintptr_t a, std::size_t, uint32_t) { s.insert(a); });
  return s;
}

TEST(LiveTableFilter, NullPointerIsAlwaysMaybe) {
  EXPECT_TRUE(LiveTable::MaybeContains(nullptr));
  EXPECT_EQ(Counter(0), 255);
  LiveTable t;
  ASSERT_TRUE(t.Init(64));
  // A block sharing the null pointer's counter is found, and erasing it
  // leaves the counter set.
  const uintptr_t shares_null = 0x7f0000000000;
  ASSERT_EQ(LiveTable::FilterIndex(Ptr(shares_null)), 0u);
  ASSERT_TRUE(t.Insert(Ptr(shares_null), 32, 1));
  EXPECT_TRUE(t.Erase(Ptr(shares_null)));
  EXPECT_TRUE(LiveTable::MaybeContains(nullptr));
}

TEST(LiveTableFilter, CountsEntriesThatShareACounter) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64));
  // Three blocks 1 MiB apart share one counter.
  const uintptr_t a = 0x7f1000000010;
  const uintptr_t b = a + kFilterSpan, c = a + 2 * kFilterSpan;
  ASSERT_EQ(Counter(a), 0);
  ASSERT_TRUE(t.Insert(Ptr(a), 16, 1));
  ASSERT_TRUE(t.Insert(Ptr(b), 16, 1));
  ASSERT_TRUE(t.Insert(Ptr(c), 16, 1));
  EXPECT_EQ(Counter(a), 3);
  EXPECT_TRUE(t.Erase(Ptr(b)));
  EXPECT_TRUE(LiveTable::MaybeContains(Ptr(a)));
  EXPECT_TRUE(LiveTable::MaybeContains(Ptr(c)));
  EXPECT_FALSE(t.Erase(Ptr(b)));  // gone: the counter is not touched again
  EXPECT_EQ(Counter(a), 2);
  EXPECT_TRUE(t.Erase(Ptr(a)));
  EXPECT_TRUE(LiveTable::MaybeContains(Ptr(c)));
  EXPECT_EQ(Counter(a), 1);
  EXPECT_TRUE(t.Erase(Ptr(c)));
  EXPECT_EQ(Counter(a), 0);
  EXPECT_FALSE(LiveTable::MaybeContains(Ptr(b)));
}

TEST(LiveTableFilter, SaturatedCounterStaysSet) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64));
  const uintptr_t base = 0x7f2000000020;
  ASSERT_EQ(Counter(base), 0);
  std::vector<uintptr_t> same;
  for (int i = 0; i < 300; ++i) same.push_back(base + i * kFilterSpan);
  for (uintptr_t a : same) ASSERT_TRUE(t.Insert(Ptr(a), 16, 1));
  EXPECT_EQ(Counter(base), 255);
  for (uintptr_t a : same) {
    EXPECT_TRUE(LiveTable::MaybeContains(Ptr(a)));
    EXPECT_TRUE(t.Erase(Ptr(a))) << std::hex << a;
  }
  // Counting stopped at 255: it cannot know when the last one left, so it
  // keeps saying "maybe" (a false positive, never a false negative).
  EXPECT_EQ(Counter(base), 255);
  EXPECT_EQ(t.CountLive(), 0u);
}

TEST(LiveTableFilter, LeftAloneWithoutKeepFilter) {
  // Under glibc free() never asks the filter; the sampler's table then
  // leaves it alone, and the table itself works as before.
  LiveTable t;
  ASSERT_TRUE(t.Init(64, /*keep_filter=*/false));
  const uintptr_t a = 0x7f2800000040;  // counter 4: no other test sets it
  ASSERT_EQ(Counter(a), 0);
  ASSERT_TRUE(t.Insert(Ptr(a), 48, 7));
  EXPECT_EQ(Counter(a), 0);
  EXPECT_EQ(Contents(t), std::set<uintptr_t>{a});
  EXPECT_TRUE(t.Erase(Ptr(a)));
  EXPECT_FALSE(t.Erase(Ptr(a)));
  EXPECT_EQ(Counter(a), 0);
  EXPECT_EQ(t.CountLive(), 0u);
}

// A block whose slot the caller kept (a wrapped block's header) is erased
// by that slot: it leaves the table and its filter counter, the slot is
// free for the next insert, and a reference outside the table is refused
// without touching any entry.
TEST(LiveTableSlot, EraseSlotRemovesExactlyThatEntry) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64));
  const uintptr_t a = 0x7f2c00000050, b = 0x7f2c00100050;  // counter 5
  ASSERT_EQ(Counter(a), 0);
  const std::size_t sa = t.Insert(Ptr(a), 32, 3);
  const std::size_t sb = t.Insert(Ptr(b), 64, 4);
  ASSERT_NE(sa, 0u);
  ASSERT_NE(sb, 0u);
  EXPECT_NE(sa, sb);
  EXPECT_EQ(Counter(a), 2);
  EXPECT_FALSE(t.EraseSlot(0, Ptr(a)));
  EXPECT_FALSE(t.EraseSlot(t.capacity() * 1000, Ptr(a)));
  EXPECT_EQ(t.CountLive(), 2u);
  EXPECT_TRUE(t.EraseSlot(sa, Ptr(a)));
  EXPECT_EQ(Contents(t), std::set<uintptr_t>{b});
  EXPECT_EQ(Counter(a), 1);
  EXPECT_FALSE(t.Erase(Ptr(a)));  // gone for a lookup by address too
  EXPECT_TRUE(t.Erase(Ptr(b)));
  EXPECT_EQ(Counter(a), 0);
  // The slot is reused: `a` again lands at its home slot.
  EXPECT_EQ(t.Insert(Ptr(a), 16, 1), sa);
  EXPECT_TRUE(t.EraseSlot(sa, Ptr(a)));
  EXPECT_EQ(t.CountLive(), 0u);
}

// Slot references span the levels: entries that overflow into the second
// level are erased by their slot as well.
TEST(LiveTableSlot, SlotsOfEveryLevel) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64, /*keep_filter=*/false));
  // Keys 4 KiB apart: 200 of them cannot all fit in the first level.
  std::vector<std::pair<uintptr_t, std::size_t>> in;
  for (uintptr_t i = 0; i < 200; ++i) {
    const uintptr_t a = 0x7f4000000000 + (i << 12);
    const std::size_t slot = t.Insert(Ptr(a), 16, 1);
    ASSERT_NE(slot, 0u);
    in.emplace_back(a, slot);
  }
  ASSERT_GT(t.capacity(), 64u);
  ASSERT_GT(in.back().second, 64u);  // some keys live past the first level
  for (std::size_t i = 0; i < in.size(); i += 2)
    ASSERT_TRUE(t.EraseSlot(in[i].second, Ptr(in[i].first)));
  std::set<uintptr_t> rest;
  for (std::size_t i = 1; i < in.size(); i += 2) rest.insert(in[i].first);
  EXPECT_EQ(Contents(t), rest);
}

TEST(LiveTableFilter, MarkForever) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64));
  const uintptr_t a = 0x7f3000000030;
  ASSERT_EQ(Counter(a), 0);
  LiveTable::MarkForever(Ptr(a));
  ASSERT_TRUE(t.Insert(Ptr(a), 16, 1));
  EXPECT_TRUE(t.Erase(Ptr(a)));
  EXPECT_TRUE(LiveTable::MaybeContains(Ptr(a)));
}

// Random inserts and erases against a reference set: after every step,
// every member is in the filter and the table; erasing a non-member fails;
// at the end every counter that started at zero is zero again.
TEST(LiveTableFilter, NoFalseNegativesAgainstAReferenceSet) {
  LiveTable t;
  ASSERT_TRUE(t.Init(64));  // small first level: the deeper levels get used
  std::mt19937_64 rng(7);
  // Addresses within 16 MiB: each counter is shared by ~16 addresses.
  const uintptr_t base = 0x7f4000000000;
  auto random_address = [&] { return base + (rng() % (1u << 20)) * 16; };
  std::set<uintptr_t> truth;
  std::vector<uintptr_t> touched;
  for (int step = 0; step < 60000; ++step) {
    const bool insert =
        truth.size() < 50 || (rng() % 100 < 55 && truth.size() < 3000);
    if (insert) {
      uintptr_t a = random_address();
      if (truth.count(a) != 0) continue;
      if (Counter(a) == 0) touched.push_back(a);
      ASSERT_TRUE(t.Insert(Ptr(a), 16 + step % 100, step % 1000));
      truth.insert(a);
      ASSERT_TRUE(LiveTable::MaybeContains(Ptr(a)));
    } else {
      auto it = truth.begin();
      std::advance(it, static_cast<long>(rng() % truth.size()));
      uintptr_t a = *it;
      truth.erase(it);
      ASSERT_TRUE(t.Erase(Ptr(a))) << std::hex << a;
      ASSERT_FALSE(t.Erase(Ptr(a)));
    }
    if (step % 997 == 0) {
      for (uintptr_t a : truth) {
        ASSERT_TRUE(LiveTable::MaybeContains(Ptr(a))) << std::hex << a;
      }
      ASSERT_EQ(Contents(t), truth);
      ASSERT_EQ(t.CountLive(), truth.size());
    }
  }
  for (uintptr_t a : truth) ASSERT_TRUE(LiveTable::MaybeContains(Ptr(a)));
  ASSERT_EQ(Contents(t), truth);
  for (uintptr_t a : truth) ASSERT_TRUE(t.Erase(Ptr(a)));
  EXPECT_EQ(t.CountLive(), 0u);
  EXPECT_TRUE(Contents(t).empty());
  for (uintptr_t a : touched) EXPECT_EQ(Counter(a), 0) << std::hex << a;
}

// Threads insert and erase their own blocks, whose counters they share with
// the other threads' blocks: after its own insert a thread must always see
// its block as "maybe", whatever the others do to the same counters.
TEST(LiveTableFilter, NoFalseNegativesUnderConcurrency) {
  LiveTable t;
  ASSERT_TRUE(t.Init(4096));
  constexpr int kThreads = 4;
  constexpr int kRounds = 300000;
  constexpr int kShared = 2;  // counters: few, so updates collide
  const uintptr_t base = 0x7f5000000000;
  std::vector<uint8_t> before;
  for (int i = 0; i < kShared; ++i) {
    before.push_back(Counter(base + 16 * (0x100 + i)));
  }
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) {
    threads.emplace_back([&, id] {
      std::mt19937_64 rng(id + 1);
      std::vector<uintptr_t> mine;
      for (int round = 0; round < kRounds; ++round) {
        // Counter indices from 0x100, shared by all threads; each thread's
        // addresses are its own (the high part differs).
        uintptr_t a = base + (uintptr_t{1} << 32) * id +
                      kFilterSpan * (rng() % 1000) +
                      16 * (0x100 + rng() % kShared);
        bool dup = false;
        for (uintptr_t m : mine) dup |= m == a;
        if (!dup && t.Insert(Ptr(a), 16, 1)) mine.push_back(a);
        for (uintptr_t m : mine) {
          if (!LiveTable::MaybeContains(Ptr(m))) ++failures[id];
        }
        if (mine.size() > 8 || (rng() & 1)) {
          if (!mine.empty()) {
            std::size_t k = rng() % mine.size();
            if (!t.Erase(Ptr(mine[k]))) ++failures[id];
            mine.erase(mine.begin() + static_cast<long>(k));
          }
        }
      }
      for (uintptr_t m : mine) {
        if (!t.Erase(Ptr(m))) ++failures[id];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int id = 0; id < kThreads; ++id) EXPECT_EQ(failures[id], 0) << id;
  EXPECT_EQ(t.CountLive(), 0u);
  // Every shared counter is back where it started (none can have
  // saturated: at most 4 x 9 entries were live at once).
  for (int i = 0; i < kShared; ++i) {
    EXPECT_EQ(Counter(base + 16 * (0x100 + i)), before[i]) << i;
  }
}

}  // namespace
}  // namespace memmon::preload
