// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// MemoryMonitor end to end in this process: every case of the Go original's
// test file, asserting what it only logged, plus episodes and the JSON log.

#include "memmon/monitor.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <latch>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "test_util.h"

namespace memmon {
namespace {

using namespace std::chrono_literals;

using testing_util::CountAlerts;
using testing_util::ParkedThreads;
using testing_util::SimulatedProcess;
using testing_util::SteadyLeak;
using testing_util::TempFile;
using testing_util::TestConfig;
using testing_util::WaitFor;

TEST(MemoryMonitor, StartStopRestart) {
  MemoryMonitor m(TestConfig());
  EXPECT_FALSE(m.running());
  ASSERT_TRUE(m.Start().ok());
  EXPECT_TRUE(m.running());
  Status again = m.Start();
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  m.Stop();
  EXPECT_FALSE(m.running());
  m.Stop();  // idempotent
  ASSERT_TRUE(m.Start().ok());
  EXPECT_TRUE(m.GetStats().running);
}

TEST(MemoryMonitor, StopDoesNotWaitOutTheInterval) {
  MonitorConfig c = TestConfig();
  c.sample_interval = 1h;  // a broken Stop() hangs here until ctest's timeout
  MemoryMonitor m(c);
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return m.GetStats().sample_count >= 1; }));
  m.Stop();
  EXPECT_FALSE(m.running());
}

TEST(MemoryMonitor, DestructorStops) {
  auto m = std::make_unique<MemoryMonitor>(TestConfig());
  ASSERT_TRUE(m->Start().ok());
  m.reset();  // must join the sampling thread, not crash or hang
  SUCCEED();
}

TEST(MemoryMonitor, CollectsSamplesInTheBackground) {
  MemoryMonitor m(TestConfig());
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return m.GetStats().sample_count >= 3; }));
  MemoryStats st = m.GetStats();
  ASSERT_TRUE(st.current_sample && st.baseline_sample);
  const Sample& s = *st.current_sample;
  EXPECT_GT(s.rss_bytes.value_or(0), 0u);
  EXPECT_GE(s.threads.value_or(0), 2u);  // this one and the sampler
  EXPECT_GT(s.open_fds.value_or(0), 0u);
  EXPECT_FALSE(s.pss_bytes.has_value());  // not requested
  // Sampled times move forward.
  auto samples = m.GetSamples();
  for (std::size_t i = 1; i < samples.size(); ++i) {
    EXPECT_GE(samples[i].monotonic, samples[i - 1].monotonic);
  }
}

TEST(MemoryMonitor, InvalidConfigStartsNothing) {
  MonitorConfig c = TestConfig();
  c.max_samples = 0;
  MemoryMonitor m(c);
  Status s = m.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("max_samples"), std::string::npos);
  EXPECT_FALSE(m.running());
  EXPECT_EQ(m.GetStats().sample_count, 0u);
}

TEST(MemoryMonitor, UnwritableAlertLogIsReported) {
  MonitorConfig c = TestConfig();
  c.alert_log = "/nonexistent-dir/alerts.jsonl";
  MemoryMonitor m(c);
  Status s = m.Start();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("/nonexistent-dir/alerts.jsonl"),
            std::string::npos);
  EXPECT_FALSE(m.running());
}

TEST(MemoryMonitor, GetSamplesStaysBounded) {
  MonitorConfig c = TestConfig();
  c.max_samples = 5;
  MemoryMonitor m(c);
  std::vector<Sample> taken;
  for (int i = 0; i < 23; ++i) taken.push_back(m.TakeSample());
  auto samples = m.GetSamples();
  ASSERT_EQ(samples.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(samples[i].monotonic, taken[18 + i].monotonic);  // oldest first
  }
  EXPECT_EQ(m.GetStats().sample_count, 23u);
  EXPECT_EQ(m.GetStats().retained_samples, 5u);
}

TEST(MemoryMonitor, WarmupDelaysTheBaseline) {
  MonitorConfig c = TestConfig();
  c.warmup_samples = 3;
  MemoryMonitor m(c);
  for (int i = 0; i < 3; ++i) m.TakeSample();
  EXPECT_FALSE(m.GetStats().baseline_sample.has_value());
  Sample fourth = m.TakeSample();
  ASSERT_TRUE(m.GetStats().baseline_sample.has_value());
  EXPECT_EQ(m.GetStats().baseline_sample->monotonic, fourth.monotonic);
}

TEST(MemoryMonitor, ResetBaselineMovesTheBaseline) {
  auto sim = std::make_unique<SimulatedProcess>(SteadyLeak(64 << 20, 1 << 20));
  SimulatedProcess* process = sim.get();
  MemoryMonitor m(TestConfig(), std::move(sim));
  Sample first = m.TakeSample();
  m.TakeSample();
  ASSERT_EQ(m.GetStats().baseline_sample->monotonic, first.monotonic);
  EXPECT_EQ(process->snapshots(), std::vector<std::string>{"baseline"});
  m.ResetBaseline();
  MemoryStats st = m.GetStats();
  ASSERT_TRUE(st.baseline_sample && st.current_sample);
  EXPECT_GT(st.baseline_sample->monotonic, first.monotonic);
  EXPECT_EQ(st.baseline_sample->monotonic, st.current_sample->monotonic);
  EXPECT_EQ(st.growth_since_baseline_pct.value_or(-1), 0.0);
  EXPECT_EQ(*st.baseline_sample->heap_inuse_bytes, (64u + 2) << 20);
  EXPECT_EQ(process->snapshots(),
            (std::vector<std::string>{"baseline", "baseline"}));
}

TEST(MemoryMonitor, SteadyLeakRaisesOneMemoryGrowthWithEvidence) {
  // 100 MiB + 10 MiB a sample, simulated: nothing is allocated.
  auto sim =
      std::make_unique<SimulatedProcess>(SteadyLeak(100 << 20, 10 << 20));
  SimulatedProcess* process = sim.get();
  MonitorConfig config = TestConfig();
  config.alert_cooldown = DefaultMonitorConfig().alert_cooldown;
  MemoryMonitor m(config, std::move(sim));
  for (int i = 0; i < 41; ++i) m.TakeSample();  // baseline, then +400 MiB
  ASSERT_EQ(CountAlerts(m, AlertType::kMemoryGrowth), 1u);
  EXPECT_EQ(m.GetAlerts().size(), 1u);
  const MemoryAlert a = m.GetAlerts().front();
  EXPECT_GE(a.value, 20.0);
  EXPECT_EQ(a.threshold, 20.0);
  EXPECT_NE(a.message.find("heap_inuse_bytes"), std::string::npos);
  EXPECT_NE(a.message.find("rising steadily at 10.0 MiB/s"), std::string::npos)
      << a.message;
  // Seconds from the first sample, on the source's clock: judged from the
  // trend window (10 samples) on, held for sustain_samples (3).
  EXPECT_GE(a.time_s, 10);
  EXPECT_LE(a.time_s, 20);
  EXPECT_NEAR(*m.GetStats().growth_since_baseline_pct, 400, 1e-9);
  // Evidence: a heap snapshot at the baseline and at the alert.
  EXPECT_EQ(process->snapshots(),
            (std::vector<std::string>{"baseline", "memory_growth"}));
  EXPECT_EQ(process->reads(), 41u);
}

TEST(MemoryMonitor, CallbacksAndTheLogGetTheResolvedRecordToo) {
  // 10 threads, 60 for samples 3..19, then 10 again; a sample a second;
  // thread_leak is "more than 30 threads" here (the delivery is under test,
  // not the rule).
  auto sim = std::make_unique<SimulatedProcess>([](uint64_t i, Sample* s) {
    s->threads = i >= 3 && i < 20 ? 60 : 10;
    s->open_fds = 8;
  });
  SimulatedProcess* process = sim.get();
  TempFile log;
  ASSERT_FALSE(log.path().empty());
  MonitorConfig c = TestConfig();
  c.resolve_after = 10s;
  c.alert_log = log.path();
  MemoryMonitor m(c, std::move(sim));
  m.SetDetector(AlertType::kThreadLeak,
                [](const DetectionInput& in) -> std::optional<Finding> {
                  if (*in.history.back().threads <= 30) return std::nullopt;
                  Finding f;
                  f.type = AlertType::kThreadLeak;
                  f.value = 60;
                  f.threshold = 30;
                  return f;
                });
  std::vector<MemoryAlert> seen;
  m.OnAlert([&](const MemoryAlert& a) { seen.push_back(a); });
  for (int i = 0; i < 40; ++i) m.TakeSample();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].type, AlertType::kThreadLeak);
  EXPECT_EQ(seen[0].state, AlertState::kFiring);
  EXPECT_DOUBLE_EQ(seen[0].time_s, 5);  // held on samples 3, 4, 5
  EXPECT_EQ(seen[1].type, AlertType::kThreadLeak);
  EXPECT_EQ(seen[1].state, AlertState::kResolved);
  EXPECT_EQ(seen[1].episode_start_s, seen[0].time_s);
  // Last held at sample 19; 10 s later, sample 29.
  EXPECT_DOUBLE_EQ(seen[1].time_s, 29);
  EXPECT_EQ(seen[1].message,
            "its detector has not found it on 3 consecutive samples and for "
            "10.0 s");
  // GetAlerts keeps both; the stats count the firing one.
  ASSERT_EQ(m.GetAlerts().size(), 2u);
  EXPECT_EQ(m.GetAlerts().back().state, AlertState::kResolved);
  EXPECT_EQ(m.GetStats().alert_count, 1u);
  // No heap snapshot for a resolution (nor for a thread leak).
  EXPECT_EQ(process->snapshots(), std::vector<std::string>{"baseline"});
  std::ifstream in(log.path());
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["state"], "firing");
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["state"], "resolved");
  EXPECT_EQ(j["episode_start_s"], seen[0].time_s);
}

TEST(MemoryMonitor, StackTracesNameTheLargestSitesOnGrowthAlerts) {
  for (bool enabled : {true, false}) {
    auto sim =
        std::make_unique<SimulatedProcess>(SteadyLeak(100 << 20, 10 << 20));
    SimulatedProcess* process = sim.get();
    process->SetTopSites({{"Leaky::Grow", "/src/leaky.cc", 27, 40 << 20},
                          {"main", "", 0, 1 << 20}});
    MonitorConfig config = TestConfig();
    config.enable_stack_traces = enabled;
    TempFile log;
    config.alert_log = log.path();
    MemoryMonitor m(config, std::move(sim));
    for (int i = 0; i < 20; ++i) m.TakeSample();
    ASSERT_EQ(CountAlerts(m, AlertType::kMemoryGrowth), 1u) << enabled;
    const MemoryAlert a = m.GetAlerts().front();
    std::ifstream in(log.path());
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    nlohmann::json j = nlohmann::json::parse(line);
    if (!enabled) {
      EXPECT_TRUE(a.top_sites.empty());
      EXPECT_EQ(process->top_sites_calls(), 0);
      EXPECT_FALSE(j.contains("top_sites"));
      continue;
    }
    EXPECT_EQ(process->top_sites_calls(), 1);  // once, at the alert
    ASSERT_EQ(a.top_sites.size(), 2u);
    EXPECT_EQ(a.top_sites[0].function, "Leaky::Grow");
    EXPECT_NE(a.message.find("Largest live allocation sites: Leaky::Grow "
                             "(leaky.cc:27) 40.0 MiB; main 1.0 MiB"),
              std::string::npos)
        << a.message;
    ASSERT_TRUE(j.contains("top_sites")) << line;
    EXPECT_EQ(j["top_sites"][0]["function"], "Leaky::Grow");
    EXPECT_EQ(j["top_sites"][0]["file"], "/src/leaky.cc");
    EXPECT_EQ(j["top_sites"][0]["line"], 27);
    EXPECT_EQ(j["top_sites"][0]["inuse_bytes"], 40 << 20);
  }
}

TEST(MemoryMonitor, SteadyLeakRaisesAnAlertInTheBackground) {
  MonitorConfig c = TestConfig();
  c.sample_interval = 1ms;
  MemoryMonitor m(
      c, std::make_unique<SimulatedProcess>(SteadyLeak(100 << 20, 4 << 20)));
  std::mutex mu;
  std::condition_variable cv;
  bool grew = false;
  m.OnAlert([&](const MemoryAlert& a) {
    if (a.type != AlertType::kMemoryGrowth) return;
    std::lock_guard l(mu);
    grew = true;
    cv.notify_all();
  });
  ASSERT_TRUE(m.Start().ok());
  std::unique_lock l(mu);
  // A deadline against a hang, not a timing assumption.
  EXPECT_TRUE(cv.wait_for(l, 60s, [&] { return grew; }));
  l.unlock();
  m.Stop();
  EXPECT_GE(CountAlerts(m, AlertType::kMemoryGrowth), 1u);
}

TEST(MemoryMonitor, ASourceThatFailsToOpenFailsStart) {
  auto sim = std::make_unique<SimulatedProcess>(SteadyLeak(1 << 20, 0));
  sim->FailOpen(Status::NotFound("no such process: 4242"));
  MemoryMonitor m(TestConfig(), std::move(sim));
  Status s = m.Start();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no such process: 4242");
  EXPECT_FALSE(m.running());
}

TEST(MemoryMonitor, ASourceThatEndsEndsTheHistory) {
  auto sim = std::make_unique<SimulatedProcess>(SteadyLeak(1 << 20, 0));
  SimulatedProcess* process = sim.get();
  MemoryMonitor m(TestConfig(), std::move(sim));
  m.TakeSample();
  m.TakeSample();
  EXPECT_FALSE(m.target_exited());
  process->Exit();
  m.TakeSample();
  EXPECT_TRUE(m.target_exited());
  EXPECT_EQ(m.GetStats().retained_samples, 2u);  // the last was dropped
}

TEST(MemoryMonitor, ReleaseFreeMemoryAsksTheSource) {
  auto sim = std::make_unique<SimulatedProcess>(SteadyLeak(1 << 20, 0));
  SimulatedProcess* process = sim.get();
  MemoryMonitor m(TestConfig(), std::move(sim));
  Sample s = m.ReleaseFreeMemory();
  EXPECT_EQ(process->releases(), 1u);
  EXPECT_EQ(process->reads(), 1u);
  EXPECT_EQ(*s.heap_inuse_bytes, 1u << 20);
}

TEST(MemoryMonitor, ThreadsStartedStepByStepRaiseOneThreadLeak) {
  MemoryMonitor m(TestConfig());
  m.TakeSample();  // baseline
  {
    // One more thread before each sample: a trend, sustained. (Samples
    // are taken as each step runs: a thread still starting touches its
    // stack.)
    ParkedThreads parked;
    // Longer than a burst: samples taken back to back count 60 of them.
    for (int i = 0; i < 70; ++i) {
      parked.Add(1);
      m.TakeSample();
    }
  }
  ASSERT_EQ(CountAlerts(m, AlertType::kThreadLeak), 1u);
  MemoryAlert a;
  for (const MemoryAlert& x : m.GetAlerts()) {
    if (x.type == AlertType::kThreadLeak) a = x;
  }
  EXPECT_NE(a.message.find("threads are rising steadily"), std::string::npos)
      << a.message;
  // The stacks are not heap: with the heap known, no memory_growth. (Under
  // a sanitizer the heap is unknown and RSS, with its shadow memory for
  // new stacks, may rise steadily while they start.)
  if (a.sample.allocator != AllocatorKind::kUnknown) {
    EXPECT_EQ(CountAlerts(m, AlertType::kMemoryGrowth), 0u);
  }
}

TEST(MemoryMonitor, AHundredThreadsStartedAtOnceAreNotALeak) {
  // One step held: a pool, not a leak (thread_leak judges a trend).
  MemoryMonitor m(TestConfig());
  m.TakeSample();
  ParkedThreads parked;
  parked.Add(100);
  for (int i = 0; i < 30; ++i) m.TakeSample();
  EXPECT_EQ(CountAlerts(m, AlertType::kThreadLeak), 0u);
}

TEST(MemoryMonitor, AThreadBurstShorterThanSustainDoesNotAlert) {
  MemoryMonitor m(TestConfig());  // sustain 3
  m.TakeSample();
  {
    std::latch release(1);
    std::vector<std::thread> burst;
    for (int i = 0; i < 50; ++i) burst.emplace_back([&] { release.wait(); });
    m.TakeSample();
    m.TakeSample();
    release.count_down();
    for (auto& t : burst) t.join();
  }
  for (int i = 0; i < 5; ++i) m.TakeSample();
  EXPECT_EQ(CountAlerts(m, AlertType::kThreadLeak), 0u);
}

TEST(MemoryMonitor, ClearAlertsEmpties) {
  MemoryMonitor m(TestConfig());
  // Only the thread leak: under a sanitizer the heap is unknown, and RSS,
  // with shadow memory for each new stack, may rise steadily too.
  m.SetDetector(AlertType::kMemoryGrowth, nullptr);
  m.TakeSample();
  {
    ParkedThreads parked;
    // Longer than a burst: samples taken back to back count 60 of them.
    for (int i = 0; i < 70; ++i) {
      parked.Add(1);
      m.TakeSample();
    }
  }
  ASSERT_FALSE(m.GetAlerts().empty());
  m.ClearAlerts();
  EXPECT_TRUE(m.GetAlerts().empty());
  EXPECT_EQ(m.GetStats().alert_count, 1u);  // raised since construction
}

TEST(MemoryMonitor, AlertsGoToTheJsonLogAndCallbacks) {
  TempFile log;
  ASSERT_FALSE(log.path().empty());
  MonitorConfig c = TestConfig();
  c.alert_log = log.path();
  std::vector<std::string> seen;
  {
    MemoryMonitor m(c);
    m.OnAlert(
        [&](const MemoryAlert& a) { seen.emplace_back(ToString(a.type)); });
    m.OnAlert([](const MemoryAlert&) { throw std::runtime_error("boom"); });
    m.SetDetector(AlertType::kMemoryGrowth, nullptr);  // as above
    m.TakeSample();
    ParkedThreads parked;
    // Longer than a burst: samples taken back to back count 60 of them.
    for (int i = 0; i < 70; ++i) {
      parked.Add(1);
      m.TakeSample();
    }
  }
  EXPECT_EQ(seen, std::vector<std::string>{"thread_leak"});
  std::ifstream in(log.path());
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["type"], "thread_leak");
  EXPECT_GT(j["time_s"].get<double>(), 0.0);
  ASSERT_TRUE(std::getline(in, line));  // the throwing callback is reported
  EXPECT_NE(line.find("OnAlert callback threw: boom"), std::string::npos)
      << line;
  EXPECT_FALSE(std::getline(in, line));
}

TEST(MemoryMonitor, ReplacedDetectorIsUsed) {
  MemoryMonitor m(TestConfig());
  int calls = 0;
  m.SetDetector(AlertType::kFdLeak,
                [&](const DetectionInput& in) -> std::optional<Finding> {
                  ++calls;
                  EXPECT_NE(in.baseline, nullptr);
                  Finding f;
                  f.type = AlertType::kFdLeak;
                  f.value = 1;
                  return f;
                });
  m.SetDetector(AlertType::kThreadLeak, nullptr);  // disabled
  for (int i = 0; i < 5; ++i) m.TakeSample();
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(CountAlerts(m, AlertType::kFdLeak), 1u);
}

TEST(MemoryMonitor, StopFromAnAlertCallback) {
  MonitorConfig c = TestConfig();
  c.sample_interval = 1ms;
  MemoryMonitor m(c);
  m.SetDetector(AlertType::kFdLeak, [](const DetectionInput&) {
    Finding f;
    f.type = AlertType::kFdLeak;
    return std::optional<Finding>(f);
  });
  std::atomic<int> calls{0};
  m.OnAlert([&](const MemoryAlert&) {
    ++calls;
    m.Stop();  // on the sampling thread: must not join itself
  });
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return calls.load() == 1 && !m.running(); }));
  // The stopped thread is joined by the next Start().
  ASSERT_TRUE(m.Start().ok());
  m.Stop();
  EXPECT_EQ(calls.load(), 1);  // one episode, one alert
}

TEST(MemoryMonitor, WatchesAnotherProcessUntilItExits) {
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // waits for the parent to close the pipe, then exits
    close(gate[1]);
    char c;
    while (read(gate[0], &c, 1) > 0) {
    }
    _exit(0);
  }
  close(gate[0]);
  MonitorConfig c = TestConfig();
  c.pid = child;
  c.enable_pss = true;
  MemoryMonitor m(c);
  Sample s = m.TakeSample();
  EXPECT_GT(s.rss_bytes.value_or(0), 0u);
#ifdef __SANITIZE_THREAD__
  EXPECT_GE(s.threads.value_or(0), 1u);  // TSan's runtime may add its own
#else
  EXPECT_EQ(s.threads.value_or(0), 1u);
#endif
  EXPECT_GT(s.pss_bytes.value_or(0), 0u);
  EXPECT_EQ(s.allocator, AllocatorKind::kUnknown);  // not ours to ask
  EXPECT_FALSE(s.heap_inuse_bytes.has_value());
  EXPECT_FALSE(m.target_exited());

  close(gate[1]);  // the child exits and stays a zombie until reaped
  EXPECT_TRUE(WaitFor([&] {
    m.TakeSample();
    return m.target_exited();
  }));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  Sample after = m.TakeSample();
  EXPECT_FALSE(after.rss_bytes.has_value());
  EXPECT_EQ(m.GetStats().retained_samples, m.GetSamples().size());
  for (const Sample& kept : m.GetSamples())
    EXPECT_TRUE(kept.rss_bytes.has_value());
}

TEST(MemoryMonitor, WatchingAMissingProcessFailsToStart) {
  MonitorConfig c = TestConfig();
  c.pid = 1 << 23;  // above any pid_max
  MemoryMonitor m(c);
  Status s = m.Start();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("8388608"), std::string::npos) << s.message();
  EXPECT_FALSE(m.running());
}

TEST(MemoryMonitor, ReleaseFreeMemoryReturnsASample) {
  MemoryMonitor m(TestConfig());
  uint64_t before = m.GetStats().sample_count;
  Sample s = m.ReleaseFreeMemory();
  EXPECT_EQ(m.GetStats().sample_count, before + 1);
  EXPECT_TRUE(s.rss_bytes.has_value());
}

TEST(MemoryMonitor, CompareProfiles) {
  // Sanitizer runtimes start a helper thread with the first thread; start
  // it now so the count below sees only ours.
  std::thread([] {}).join();
  MemoryMonitor m(TestConfig());
  MemoryProfile before = m.GetMemoryProfile();
  std::vector<char> block(32 << 20, 1);
  std::latch release(1);
  std::thread t([&] { release.wait(); });
  MemoryProfile after = m.GetMemoryProfile();
  release.count_down();
  t.join();
  ProfileDiff d = MemoryMonitor::CompareProfiles(before, after);
  ASSERT_TRUE(d.rss_bytes && d.threads);
  EXPECT_GE(*d.rss_bytes, 30 << 20);
  EXPECT_EQ(*d.threads, 1);
  EXPECT_GT(d.elapsed.count(), 0);
  std::string text = d.ToString();
  EXPECT_NE(text.find("rss: +"), std::string::npos) << text;
  EXPECT_NE(text.find("threads: +1"), std::string::npos) << text;
  // Each profile is a point of the series, as documented.
  std::vector<Sample> samples = m.GetSamples();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples.back().rss_bytes, after.sample.rss_bytes);
}

// Readers and writers from many threads while the sampler runs (meant for
// the TSan build; also checks nothing deadlocks).
TEST(MemoryMonitor, ConcurrentReadersAndWriters) {
  MonitorConfig c = TestConfig();
  c.sample_interval = 1ms;
  c.max_samples = 16;
  MemoryMonitor m(c);
  std::atomic<int> callbacks{0};
  m.OnAlert([&](const MemoryAlert&) {
    ++callbacks;
    (void)m.GetStats();  // re-entering from a callback is allowed
  });
  ASSERT_TRUE(m.Start().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        switch ((t + i) % 6) {
          case 0:
            (void)m.GetStats();
            break;
          case 1:
            EXPECT_LE(m.GetSamples().size(), 16u);
            break;
          case 2:
            (void)m.GetAlerts();
            break;
          case 3:
            m.TakeSample();
            break;
          case 4:
            m.ClearAlerts();
            break;
          case 5:
            if (i % 50 == 0) m.ResetBaseline();
            break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  m.Stop();
  EXPECT_LE(m.GetSamples().size(), 16u);
  EXPECT_GE(m.GetStats().sample_count, 200u);
}

}  // namespace
}  // namespace memmon
