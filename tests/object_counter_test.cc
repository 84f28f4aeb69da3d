// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Object counters: exact totals under any interleaving of threads, the
// by-name API, RAII helpers, and object_threshold alerts. Counters are
// process-wide, so every test uses names of its own.

#include "memmon/object_counter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <latch>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "memmon/monitor.h"
#include "test_util.h"

namespace memmon {
namespace {

using namespace std::chrono_literals;

using testing_util::CountAlerts;
using testing_util::TempFile;

MonitorConfig QuietConfig() {
  MonitorConfig c = testing_util::TestConfig();
  c.alert_cooldown = DefaultMonitorConfig().alert_cooldown;
  return c;
}

TEST(ObjectCounter, HandleCountsAndTrackingTwiceIsTheSameCounter) {
  MemoryMonitor m(QuietConfig());
  ObjectCounter& c = m.TrackObject("oc-handle", 100);
  for (int i = 0; i < 10; ++i) c.Increment(64);
  c.Decrement(64);
  EXPECT_EQ(c.count(), 9);
  EXPECT_EQ(c.bytes(), 9 * 64);
  ObjectCounter& again = m.TrackObject("oc-handle", 5);
  EXPECT_EQ(&again, &c);
  EXPECT_EQ(c.alert_threshold(), 5u);
  EXPECT_EQ(&GetObjectCounter("oc-handle"), &c);
  EXPECT_EQ(c.alert_threshold(), 5u);  // GetObjectCounter keeps it
  EXPECT_EQ(c.name(), "oc-handle");
}

TEST(ObjectCounter, AddCountsBatchesOfEitherSign) {
  ObjectCounter& c = GetObjectCounter("oc-add");
  c.Add(5, 500);
  c.Add(-2, -150);
  c.Add(0, 20);   // an object grew
  c.Add(1, -10);  // one more, but fewer bytes overall
  EXPECT_EQ(c.count(), 4);
  EXPECT_EQ(c.bytes(), 360);
  std::thread([&c] { c.Add(-4, -360); }).join();
  EXPECT_EQ(c.count(), 0);
  EXPECT_EQ(c.bytes(), 0);
  MemoryMonitor m(QuietConfig());
  TrackedObject o = m.GetTrackedObjects().at("oc-add");
  EXPECT_EQ(o.increments, 6u);
  EXPECT_EQ(o.decrements, 6u);
  EXPECT_FALSE(o.tracking_error);
}

TEST(ObjectCounter, ByNameCountsAndUnknownNamesAreTrackedNotLost) {
  MemoryMonitor m(QuietConfig());
  m.TrackObject("oc-byname");
  m.IncrementObject("oc-byname", 10);
  m.IncrementObject("oc-byname", 20);
  m.DecrementObject("oc-byname", 10);
  m.IncrementObject("oc-never-tracked", 7);  // tracked now, threshold 0
  auto objs = m.GetTrackedObjects();
  ASSERT_TRUE(objs.count("oc-byname"));
  EXPECT_EQ(objs["oc-byname"].count, 1);
  EXPECT_EQ(objs["oc-byname"].bytes, 20);
  EXPECT_EQ(objs["oc-byname"].increments, 2u);
  EXPECT_EQ(objs["oc-byname"].decrements, 1u);
  ASSERT_TRUE(objs.count("oc-never-tracked"));
  EXPECT_EQ(objs["oc-never-tracked"].count, 1);
  EXPECT_EQ(objs["oc-never-tracked"].bytes, 7);
  EXPECT_EQ(objs["oc-never-tracked"].alert_threshold, 0u);
}

TEST(ObjectCounter, NegativeCountIsATrackingErrorInStatsAndLog) {
  TempFile log;
  ASSERT_FALSE(log.path().empty());
  MonitorConfig c = QuietConfig();
  c.alert_log = log.path();
  {
    MemoryMonitor m(c);
    m.DecrementObject("oc-negative", 100);  // never incremented
    m.TakeSample();
    m.TakeSample();  // reported once, not per sample
    auto objs = m.GetTrackedObjects();
    EXPECT_EQ(objs["oc-negative"].count, -1);
    EXPECT_TRUE(objs["oc-negative"].tracking_error);
    m.IncrementObject("oc-negative", 100);
    EXPECT_TRUE(m.GetTrackedObjects()["oc-negative"].tracking_error);  // sticky
  }
  // Counters are process-wide: other tests' objects may alert here too.
  std::ifstream in(log.path());
  std::string line;
  int errors = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (!j.contains("error")) continue;
    ++errors;
    EXPECT_EQ(j["error"], "tracking_error");
    EXPECT_EQ(j["object"], "oc-negative");
    EXPECT_EQ(j["count"], -1);
    EXPECT_NE(j["message"].get<std::string>().find("more decrements"),
              std::string::npos);
  }
  EXPECT_EQ(errors, 1);
}

// The exactness promise: any interleaving, any number of threads, some
// exiting and some still alive when read.
TEST(ObjectCounter, ExactUnderConcurrentIncrementsAndDecrements) {
  ObjectCounter& handle = TrackObject("oc-exact");
  MemoryMonitor m(QuietConfig());
  constexpr int kThreads = 8, kOps = 20000;
  std::vector<int64_t> want_count(kThreads), want_bytes(kThreads);
  std::latch done(kThreads);
  std::latch release(1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);  // fixed seeds
      for (int i = 0; i < kOps; ++i) {
        uint64_t bytes = rng() % 4096;
        bool by_name = rng() % 4 == 0;
        if (rng() % 3 == 0) {
          by_name ? m.DecrementObject("oc-exact", bytes)
                  : handle.Decrement(bytes);
          --want_count[t];
          want_bytes[t] -= static_cast<int64_t>(bytes);
        } else {
          by_name ? m.IncrementObject("oc-exact", bytes)
                  : handle.Increment(bytes);
          ++want_count[t];
          want_bytes[t] += static_cast<int64_t>(bytes);
        }
        if (i % 5000 == 0) (void)m.GetTrackedObjects();  // readers meanwhile
      }
      done.count_down();
      if (t % 2 == 0) release.wait();  // half stay alive until read
    });
  }
  done.wait();
  int64_t count = 0, bytes = 0;
  for (int t = 0; t < kThreads; ++t) {
    count += want_count[t];
    bytes += want_bytes[t];
  }
  // Half the threads may have exited (slots folded), half are alive.
  EXPECT_EQ(handle.count(), count);
  EXPECT_EQ(handle.bytes(), bytes);
  release.count_down();
  for (auto& t : threads) t.join();
  EXPECT_EQ(handle.count(), count);  // all folded now
  EXPECT_EQ(handle.bytes(), bytes);
  auto obj = m.GetTrackedObjects()["oc-exact"];
  EXPECT_EQ(obj.count, count);
  EXPECT_EQ(obj.increments + obj.decrements, uint64_t{kThreads} * kOps);
}

// Updates from a thread's late exit handlers (after its slots were folded)
// go to the shared overflow atomics and are still counted.
TEST(ObjectCounter, UpdatesDuringThreadExitAreCounted) {
  ObjectCounter& c = TrackObject("oc-late-exit");
  struct IncrementOnExit {
    ObjectCounter* counter = nullptr;
    ~IncrementOnExit() {
      if (counter) counter->Increment(5);
    }
  };
  std::thread([&] {
    // Constructed before the thread's counter block, so destroyed after it.
    static thread_local IncrementOnExit late;
    late.counter = &c;
    c.Increment(1);
  }).join();
  EXPECT_EQ(c.count(), 2);
  EXPECT_EQ(c.bytes(), 6);
}

struct CacheEntry : Tracked<CacheEntry> {
  static constexpr std::string_view kTrackedName = "oc-cache-entries";
  char payload[100];
};
struct PlainWidget : Tracked<PlainWidget> {
  int x = 0;
};

TEST(Tracked, TypesCountThemselves) {
  ObjectCounter& counter = Tracked<CacheEntry>::Counter();
  EXPECT_EQ(counter.name(), "oc-cache-entries");
  {
    std::vector<CacheEntry> entries(10);
    EXPECT_EQ(counter.count(), 10);
    EXPECT_EQ(counter.bytes(), 10 * static_cast<int64_t>(sizeof(CacheEntry)));
    CacheEntry copy = entries[0];
    CacheEntry moved = std::move(copy);
    EXPECT_EQ(counter.count(), 12);
    entries[1] = entries[2];  // assignment creates nothing
    EXPECT_EQ(counter.count(), 12);
  }
  EXPECT_EQ(counter.count(), 0);
  EXPECT_EQ(counter.bytes(), 0);

  PlainWidget w;
  EXPECT_NE(Tracked<PlainWidget>::Counter().name().find("PlainWidget"),
            std::string::npos)
      << Tracked<PlainWidget>::Counter().name();
  EXPECT_EQ(Tracked<PlainWidget>::Counter().count(), 1);
}

TEST(ObjectGuard, CountsForItsLifetime) {
  ObjectCounter& c = TrackObject("oc-guard");
  {
    ObjectGuard a(c, 100);
    ObjectGuard b = a;                // a copy is another object
    ObjectGuard moved(std::move(a));  // a move is not
    EXPECT_EQ(c.count(), 2);
    EXPECT_EQ(c.bytes(), 200);
    moved.Resize(40);
    EXPECT_EQ(c.count(), 2);
    EXPECT_EQ(c.bytes(), 140);
  }
  EXPECT_EQ(c.count(), 0);
  EXPECT_EQ(c.bytes(), 0);
}

TEST(CountingAllocator, CountsAContainersBytes) {
  ObjectCounter& c = TrackObject("oc-allocator");
  {
    std::vector<int, CountingAllocator<int>> v{CountingAllocator<int>(c)};
    v.reserve(1000);
    EXPECT_EQ(c.count(), 1);  // one live allocation
    EXPECT_EQ(c.bytes(), 1000 * static_cast<int64_t>(sizeof(int)));
    v.resize(5000);  // reallocates: old block freed, new one counted
    EXPECT_EQ(c.count(), 1);
    EXPECT_EQ(c.bytes(), static_cast<int64_t>(v.capacity() * sizeof(int)));
    // Rebinding (node containers) counts into the same counter.
    std::list<int, CountingAllocator<int>> l{CountingAllocator<int>(c)};
    l.push_back(1);
    EXPECT_EQ(c.count(), 2);
  }
  EXPECT_EQ(c.count(), 0);
  EXPECT_EQ(c.bytes(), 0);
}

TEST(ObjectThreshold, OncePerCrossingRearmedWithHysteresis) {
  MemoryMonitor m(QuietConfig());  // rearm below 90 %
  ObjectCounter& c = m.TrackObject("oc-threshold", 10);
  for (int i = 0; i < 9; ++i) c.Increment(1);
  m.TakeSample();
  EXPECT_EQ(CountAlerts(m, AlertType::kObjectThreshold), 0u);
  c.Increment(1);  // 10: crosses
  m.TakeSample();
  c.Increment(1);  // still above: no second alert
  m.TakeSample();
  ASSERT_EQ(CountAlerts(m, AlertType::kObjectThreshold), 1u);
  EXPECT_NE(
      m.GetAlerts().back().message.find("oc-threshold reached 10 objects"),
      std::string::npos)
      << m.GetAlerts().back().message;
  c.Decrement(1);
  c.Decrement(1);  // 9: not below 9, not re-armed
  m.TakeSample();
  c.Increment(1);  // 10 again
  m.TakeSample();
  EXPECT_EQ(CountAlerts(m, AlertType::kObjectThreshold), 1u);
  c.Decrement(1);
  c.Decrement(1);  // 8: re-armed, which resolves the crossing
  m.TakeSample();
  ASSERT_EQ(CountAlerts(m, AlertType::kObjectThreshold, AlertState::kResolved),
            1u);
  const MemoryAlert resolved = m.GetAlerts().back();
  EXPECT_EQ(resolved.state, AlertState::kResolved);
  EXPECT_NE(resolved.message.find("oc-threshold fell to 8 objects (8 B), "
                                  "below the re-arm level of 9 (threshold "
                                  "10)"),
            std::string::npos)
      << resolved.message;
  EXPECT_EQ(resolved.value, 8);
  EXPECT_LE(resolved.episode_start_s, resolved.time_s);
  c.Increment(1);
  c.Increment(1);  // 10: a new crossing
  m.TakeSample();
  EXPECT_EQ(CountAlerts(m, AlertType::kObjectThreshold), 2u);
  EXPECT_EQ(m.GetAlerts().back().value, 10);
  EXPECT_EQ(m.GetAlerts().back().threshold, 10);
}

TEST(ObjectThreshold, DeliveredWithinASampleInterval) {
  MemoryMonitor m(QuietConfig());
  ObjectCounter& c = m.TrackObject("oc-live-threshold", 1000);
  std::mutex mu;
  std::condition_variable cv;
  bool seen = false;
  m.OnAlert([&](const MemoryAlert& a) {
    if (a.type != AlertType::kObjectThreshold) return;
    std::lock_guard l(mu);
    seen = true;
    cv.notify_all();
  });
  ASSERT_TRUE(m.Start().ok());
  for (int i = 0; i < 1000; ++i) c.Increment(8);
  std::unique_lock l(mu);
  // The sampler runs every 5 ms; the deadline only guards against a hang.
  EXPECT_TRUE(cv.wait_for(l, 30s, [&] { return seen; }));
}

TEST(TrackedObjects, PeaksTimesStatsJsonAndProfiles) {
  MemoryMonitor m(QuietConfig());
  ObjectCounter& c = m.TrackObject("oc-peaks");
  MemoryProfile before = m.GetMemoryProfile();
  auto t0 = std::chrono::system_clock::now();
  for (int i = 0; i < 50; ++i) c.Increment(2);
  m.TakeSample();  // observes the peak
  for (int i = 0; i < 30; ++i) c.Decrement(2);
  MemoryProfile after = m.GetMemoryProfile();

  TrackedObject o = m.GetTrackedObjects()["oc-peaks"];
  EXPECT_EQ(o.count, 20);
  EXPECT_EQ(o.peak_count, 50);
  EXPECT_EQ(o.peak_bytes, 100);
  ASSERT_TRUE(o.last_increment && o.last_decrement);
  EXPECT_GE(*o.last_increment, t0);
  EXPECT_GE(*o.last_decrement, *o.last_increment);

  MemoryStats st = m.GetStats();
  ASSERT_TRUE(st.tracked_objects.count("oc-peaks"));
  auto j = nlohmann::json::parse(ToJson(st));
  EXPECT_EQ(j["tracked_objects"]["oc-peaks"]["count"], 20);
  EXPECT_EQ(j["tracked_objects"]["oc-peaks"]["peak_count"], 50);
  EXPECT_TRUE(j["current_sample"]["rss_bytes"].is_number());
  EXPECT_TRUE(j["current_sample"]["pss_bytes"].is_null());  // unknown, not 0

  ProfileDiff d = MemoryMonitor::CompareProfiles(before, after);
  ASSERT_TRUE(d.objects.count("oc-peaks"));
  EXPECT_EQ(d.objects["oc-peaks"].count, 20);
  EXPECT_EQ(d.objects["oc-peaks"].bytes, 40);
  EXPECT_NE(d.ToString().find("object oc-peaks: +20"), std::string::npos)
      << d.ToString();
}

}  // namespace
}  // namespace memmon
