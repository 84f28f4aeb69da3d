// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/profiler.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "profile/pprof.h"

#if defined(__SANITIZE_THREAD__)
#define MEMMON_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MEMMON_TSAN 1
#endif
#endif

namespace memmon {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/memmon-profiler-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ProfilerTest, CreatesTheDirectoryOrSaysWhyNot) {
  TempDir dir;
  Profiler p(dir.path() + "/a/b");
  EXPECT_TRUE(p.status().ok()) << p.status().ToString();
  EXPECT_TRUE(fs::is_directory(dir.path() + "/a/b"));

  std::string file = dir.path() + "/file";
  { std::ofstream(file) << "x"; }
  Profiler bad(file + "/sub");
  EXPECT_FALSE(bad.status().ok());
  EXPECT_NE(bad.status().message().find(file), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.WriteThreadProfile("t.pb.gz").code(), bad.status().code());
}

TEST(ProfilerTest, HeapProfileNeedsTheSampler) {
  TempDir dir;
  Profiler p(dir.path());
  Status s = p.WriteHeapProfile("heap.pb.gz");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("LD_PRELOAD"), std::string::npos);
}

__attribute__((noinline)) void WorkerLoop(std::shared_future<void> stop) {
  stop.wait();
  asm volatile("");  // keep the frame
}

TEST(ProfilerTest, ThreadProfileHasEveryThreadNameAndStack) {
  TempDir dir;
  Profiler p(dir.path());
  std::promise<void> stop;
  std::shared_future<void> stop_future = stop.get_future().share();
  std::promise<void> ready_a, ready_b;
  std::thread a([&] {
    pthread_setname_np(pthread_self(), "worker-a");
    ready_a.set_value();
    WorkerLoop(stop_future);
  });
  std::thread b([&] {
    pthread_setname_np(pthread_self(), "worker-b");
    ready_b.set_value();
    WorkerLoop(stop_future);
  });
  ready_a.get_future().wait();
  ready_b.get_future().wait();
  Status s = p.WriteThreadProfile("threads.pb.gz");
  stop.set_value();
  a.join();
  b.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string path = dir.path() + "/threads.pb.gz";
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  profile::Profile prof;
  ASSERT_TRUE(profile::ReadProfileFile(path, &prof).ok());
  ASSERT_EQ(prof.sample_types.size(), 1u);
  EXPECT_EQ(prof.sample_types[0].type, "threads");
  int workers = 0, with_loop = 0;
  for (const auto& sample : prof.samples) {
    std::string name;
    for (const auto& l : sample.labels) {
      if (l.key == "thread_name") name = l.str;
    }
    if (name.rfind("worker-", 0) != 0) continue;
    ++workers;
    for (uint64_t id : sample.location_ids) {
      for (const auto& line : prof.FindLocation(id)->lines) {
        if (prof.FindFunction(line.function_id)->name.find("WorkerLoop") !=
            std::string::npos) {
          ++with_loop;
          goto next;
        }
      }
    }
  next:;
  }
  EXPECT_EQ(workers, 2);
#ifndef MEMMON_TSAN
  EXPECT_EQ(with_loop, 2);
#else
  // TSan runs signal handlers later, from its own frames, with a context
  // that is not the interrupted one: stacks are not meaningful there.
  (void)with_loop;
#endif
  EXPECT_GE(prof.samples.size(), 3u);  // and this thread
}

TEST(ProfilerTest, ProfileMemoryUsageStopsOnRequest) {
  Profiler p("/tmp");
  std::vector<Sample> once =
      p.ProfileMemoryUsage(std::chrono::seconds(0), std::chrono::seconds(1));
  ASSERT_EQ(once.size(), 1u);
  EXPECT_TRUE(once[0].rss_bytes.has_value());
  std::stop_source stop;
  stop.request_stop();
  // An hour-long profile returns at once when stopped.
  std::vector<Sample> stopped = p.ProfileMemoryUsage(
      std::chrono::hours(1), std::chrono::minutes(1), stop.get_token());
  EXPECT_EQ(stopped.size(), 1u);
  std::vector<Sample> few = p.ProfileMemoryUsage(std::chrono::milliseconds(3),
                                                 std::chrono::milliseconds(1));
  EXPECT_GE(few.size(), 1u);
  EXPECT_LE(few.size(), 4u);
}

std::vector<Sample> Series(std::initializer_list<uint64_t> heap,
                           std::initializer_list<uint64_t> threads) {
  std::vector<Sample> out;
  auto h = heap.begin();
  auto t = threads.begin();
  auto now = std::chrono::system_clock::now();
  for (int i = 0; h != heap.end(); ++h, ++t, ++i) {
    Sample s;
    s.time = now + std::chrono::seconds(i);
    s.heap_inuse_bytes = *h;
    s.threads = *t;
    s.open_fds = 10;
    out.push_back(s);
  }
  return out;
}

TEST(ProfilerTest, DetectLeaks) {
  auto leaks = Profiler::DetectLeaks(
      Series({100, 120, 150, 170, 200, 230, 260}, {4, 4, 5, 4, 4, 4, 4}), 20);
  ASSERT_EQ(leaks.size(), 1u);
  EXPECT_EQ(leaks[0].type, "memory_leak");
  EXPECT_NEAR(leaks[0].growth_pct, 160, 1e-9);
  EXPECT_NE(leaks[0].description.find("from 100 to 260"), std::string::npos);
  EXPECT_LT(leaks[0].start, leaks[0].end);
  // Ends higher but does not rise steadily: not a leak.
  EXPECT_TRUE(
      Profiler::DetectLeaks(
          Series({100, 300, 90, 280, 95, 290, 130}, {4, 4, 4, 4, 4, 4, 4}), 20)
          .empty());
  auto threads = Profiler::DetectLeaks(
      Series({100, 100, 100, 100, 100}, {2, 4, 8, 16, 32}), 50);
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads[0].type, "thread_leak");
  EXPECT_TRUE(Profiler::DetectLeaks({}, 10).empty());
}

}  // namespace
}  // namespace memmon
