// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/monitor.h"

#include <fmt/format.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <thread>

#include "base/format.h"
#include "base/mutex.h"
#include "detect/detection_engine.h"
#include "monitor/alert_log.h"
#include "monitor/object_registry.h"
#include "source/process_source.h"

namespace memmon {

// Detection is internal::DetectionEngine's (history, baseline, detectors,
// gates): the engine `memmon run` and `memmon analyze` drive too.
//
// Locking (checked by clang -Wthread-safety, `make lint`): `sample_mu`
// serialises everything that takes a sample or runs detectors (TakeSample,
// ResetBaseline, SetDetector, the source); `mu` guards what readers see.
// The engine's history and baseline are written (Append) under both, so
// detection reads them under `sample_mu` alone and readers under `mu` alone;
// neither waits for the other's slow part. Judge, which writes only the
// gates and the detectors' trend cache (never read under `mu`), runs under
// `sample_mu` alone, so a detector may call GetStats(). Callbacks, the alert
// log and heap snapshots run with neither held. `sample_mu` is taken
// before `mu`, never after.
struct MemoryMonitor::Impl {
  Impl(MonitorConfig c, std::unique_ptr<SampleSource> s)
      : config(std::move(c)),
        source(s ? std::move(s)
                 : std::make_unique<internal::ProcessSource>(config)),
        engine(config) {}

  const MonitorConfig config;

  // --- guarded by sample_mu ---
  internal::Mutex sample_mu ACQUIRED_BEFORE(mu);
  bool sources_open GUARDED_BY(sample_mu) = false;
  // Usage is at or above oom_profile_fraction of the binding limit: the
  // "oom_risk" heap snapshot was written on the way up; re-armed below it.
  bool near_limit GUARDED_BY(sample_mu) = false;
  const std::unique_ptr<SampleSource> source PT_GUARDED_BY(sample_mu);
  // Seconds in alerts count from the first sample.
  std::optional<std::chrono::steady_clock::time_point> first_sample
      GUARDED_BY(sample_mu);
  std::atomic<bool> target_exited{false};
  // Opened under sample_mu before the first sample; Write is thread-safe.
  internal::AlertLog log;

  // Its history and baseline are written only while `mu` is held too
  // (AppendLocked), so readers may read them under `mu` alone
  // (EngineForReaders).
  internal::DetectionEngine engine GUARDED_BY(sample_mu);

  // --- guarded by mu ---
  mutable internal::Mutex mu;
  uint64_t alert_count GUARDED_BY(mu) = 0;
  std::array<uint64_t, kAlertTypeCount> fired_by_type GUARDED_BY(mu){};
  std::array<uint64_t, kAlertTypeCount> open_by_type GUARDED_BY(mu){};
  std::deque<MemoryAlert> alerts GUARDED_BY(mu);
  std::shared_ptr<const std::vector<AlertCallback>> callbacks GUARDED_BY(mu) =
      std::make_shared<std::vector<AlertCallback>>();

  // --- the sampling thread, guarded by run_mu ---
  internal::Mutex run_mu;
  std::jthread thread GUARDED_BY(run_mu);
  std::atomic<bool> running{false};
  std::mutex wait_mu;
  std::condition_variable_any wake;

  // The engine as readers see it: its history and baseline, which change
  // only under both locks, so holding `mu` is enough to read them.
  const internal::DetectionEngine& EngineForReaders() const
      REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {
    return engine;
  }

  bool AppendLocked(const Sample& s, bool make_baseline, bool* new_baseline)
      REQUIRES(sample_mu, mu) {
    bool had_baseline = engine.baseline().has_value();
    if (make_baseline) engine.ResetBaseline();
    bool judge = engine.Append(s);
    *new_baseline = make_baseline || (!had_baseline && engine.baseline());
    return judge;
  }

  void SetDetectorLocked(AlertType type, Detector detector)
      REQUIRES(sample_mu) {
    engine.SetDetector(type, std::move(detector));
  }

  Status OpenSources() REQUIRES(sample_mu) {
    if (sources_open) return Status::Ok();
    if (Status s = source->Open(); !s.ok()) return s;
    if (Status s = log.Open(config.alert_log); !s.ok()) return s;
    // Created now, so that its one-time allocations are not counted between
    // two samples by the heap sampler's exact counters.
    internal::ObjectRegistry::Get();
    sources_open = true;
    return Status::Ok();
  }

  // Never allocates (with the default source). False when the source is
  // gone for good (the watched process exited).
  bool Collect(Sample* s) REQUIRES(sample_mu) {
    s->time = std::chrono::system_clock::now();
    s->monotonic = std::chrono::steady_clock::now();
    if (!sources_open) OpenSources().IgnoreError();  // fields stay unknown
    return source->Read(s);
  }

  Sample Take(bool make_baseline) EXCLUDES(sample_mu, mu) {
    std::vector<MemoryAlert> fired;   // allocates only when an alert fires
    std::vector<std::string> errors;  // tracking errors, as JSON lines
    std::shared_ptr<const std::vector<AlertCallback>> cbs;
    Sample s;
    bool new_baseline = false;
    bool reached_limit_fraction = false;
    SampleSource* evidence = nullptr;
    {
      internal::MutexLock sl(&sample_mu);
      if (!Collect(&s)) {
        target_exited.store(true, std::memory_order_relaxed);
        return s;  // nothing to keep
      }
      if (!first_sample) first_sample = s.monotonic;
      if (s.memory_limit_bytes && s.memory_limit_usage_bytes) {
        bool near = static_cast<double>(*s.memory_limit_usage_bytes) >=
                    config.oom_profile_fraction *
                        static_cast<double>(*s.memory_limit_bytes);
        reached_limit_fraction = near && !near_limit;
        near_limit = near;
      }
      double time_s =
          std::chrono::duration<double>(s.monotonic - *first_sample).count();
      bool judge;
      {
        internal::MutexLock l(&mu);
        judge = AppendLocked(s, make_baseline, &new_baseline);
      }
      // Judge reads the history and writes only the gates and the trend
      // cache, which readers never touch: `sample_mu` alone suffices.
      if (judge) fired = engine.Judge(time_s, s);
      if (config.enable_stack_traces) {
        for (MemoryAlert& a : fired) {
          if (IsGrowthFiring(a)) AttachTopSites(&a);
        }
      }
      ObserveObjects(s, time_s, &fired, &errors);
      if (!fired.empty()) {
        internal::MutexLock l(&mu);
        for (const MemoryAlert& a : fired) {
          alerts.push_back(a);
          if (alerts.size() > config.max_alerts) alerts.pop_front();
          int t = static_cast<int>(a.type);
          if (a.state == AlertState::kFiring) {
            ++alert_count;
            ++fired_by_type[t];
            ++open_by_type[t];
          } else if (open_by_type[t] > 0) {
            --open_by_type[t];
          }
        }
        cbs = callbacks;
      }
      evidence = source.get();  // const pointer, valid for the monitor's life
    }
    for (const std::string& line : errors) log.Write(line);
    // Heap profiles at the baseline and at each growth alert give a
    // before/after pair (no-op without the heap sampler and MEMMON_OUTPUT).
    if (new_baseline) evidence->SnapshotHeap("baseline");
    // Near the limit, before a kill can take the evidence with it.
    if (reached_limit_fraction) evidence->SnapshotHeap("oom_risk");
    for (const MemoryAlert& a : fired) Deliver(a, *cbs, evidence);
    return s;
  }

  // A memory_growth episode opening: the alert that gets a heap snapshot and
  // the top sites (its resolution gets neither).
  static bool IsGrowthFiring(const MemoryAlert& a) {
    return a.type == AlertType::kMemoryGrowth && a.state == AlertState::kFiring;
  }

  // The sites holding the most live heap, on the alert and in its message.
  void AttachTopSites(MemoryAlert* a) REQUIRES(sample_mu) {
    a->top_sites = source->TopAllocationSites(kTopSites);
    if (a->top_sites.empty()) return;
    a->message += ". Largest live allocation sites: ";
    for (std::size_t i = 0; i < a->top_sites.size(); ++i) {
      const AllocationSite& site = a->top_sites[i];
      if (i > 0) a->message += "; ";
      a->message += site.function;
      if (!site.file.empty()) {
        a->message += fmt::format(
            " ({})", internal::HumanSourceLocation(site.file, site.line));
      }
      a->message += " " + internal::HumanBytes(site.inuse_bytes);
    }
  }
  static constexpr std::size_t kTopSites = 5;

  // Object thresholds fire once per crossing and re-arm (a resolved record)
  // below threshold x (1 - object_rearm_pct); they do not use the gates.
  void ObserveObjects(const Sample& s, double time_s,
                      std::vector<MemoryAlert>* fired,
                      std::vector<std::string>* errors) REQUIRES(sample_mu) {
    std::vector<internal::ObjectEvent> events;
    internal::ObjectRegistry::Get().Observe(
        s.time, config.object_rearm_pct / 100, &events);
    for (const internal::ObjectEvent& e : events) {
      if (e.kind == internal::ObjectEvent::kNegativeCount) {
        nlohmann::ordered_json j;
        j["error"] = "tracking_error";
        j["object"] = e.counter->name();
        j["count"] = e.count;
        j["time_s"] = time_s;
        j["message"] =
            fmt::format("{} count is {}: more decrements than increments",
                        e.counter->name(), e.count);
        errors->push_back(j.dump());
        continue;
      }
      MemoryAlert a;
      a.type = AlertType::kObjectThreshold;
      a.time = s.time;
      a.time_s = time_s;
      if (e.kind == internal::ObjectEvent::kRearmed) {
        a.state = AlertState::kResolved;
        a.message = fmt::format(
            "{} fell to {} objects ({}), below the re-arm level of {:.0f} "
            "(threshold {})",
            e.counter->name(), e.count,
            internal::HumanBytes(static_cast<double>(e.bytes)), e.rearm_below,
            e.threshold);
        a.episode_start = e.crossed;
        a.episode_start_s =
            time_s - std::chrono::duration<double>(s.time - e.crossed).count();
      } else {
        a.message = fmt::format(
            "{} reached {} objects ({}), at or above the threshold of {}",
            e.counter->name(), e.count,
            internal::HumanBytes(static_cast<double>(e.bytes)), e.threshold);
      }
      a.value = static_cast<double>(e.count);
      a.threshold = static_cast<double>(e.threshold);
      a.sample = s;
      fired->push_back(std::move(a));
    }
  }

  void Deliver(const MemoryAlert& a, const std::vector<AlertCallback>& cbs,
               SampleSource* evidence) EXCLUDES(sample_mu, mu) {
    if (IsGrowthFiring(a)) evidence->SnapshotHeap("memory_growth");
    log.Write(ToJson(a));
    for (const AlertCallback& cb : cbs) {
      try {
        cb(a);
      } catch (const std::exception& e) {
        log.Write(fmt::format(R"({{"error":"OnAlert callback threw: {}"}})",
                              e.what()));
      } catch (...) {
        log.Write(R"({"error":"OnAlert callback threw"})");
      }
    }
  }

  void Run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      Take(false);
      std::unique_lock l(wait_mu);
      wake.wait_for(l, stop, config.sample_interval, [] { return false; });
    }
  }
};

MemoryMonitor::MemoryMonitor(MonitorConfig config)
    : MemoryMonitor(std::move(config), nullptr) {}

MemoryMonitor::MemoryMonitor(MonitorConfig config,
                             std::unique_ptr<SampleSource> source)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(source))) {}

MemoryMonitor::~MemoryMonitor() {
  Stop();
  // A Stop() called from the sampling thread could not join it: joined
  // here, outside run_mu (the thread may still be in a Stop() of its own).
  std::jthread thread;
  {
    internal::MutexLock rl(&impl_->run_mu);
    if (impl_->thread.get_id() != std::this_thread::get_id()) {
      thread = std::move(impl_->thread);
    }
  }
  if (thread.joinable()) thread.join();
}

Status MemoryMonitor::Start() {
  internal::MutexLock rl(&impl_->run_mu);
  if (impl_->running) {
    return Status::FailedPrecondition("the monitor is already running");
  }
  if (Status s = Validate(impl_->config); !s.ok()) return s;
  {
    internal::MutexLock sl(&impl_->sample_mu);
    if (Status s = impl_->OpenSources(); !s.ok()) return s;
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->running = true;
  impl_->thread = std::jthread([impl = impl_.get()](std::stop_token st) {
    // Named for top -H and /proc/PID/task/*/comm.
    pthread_setname_np(pthread_self(), "memmon-monitor");
    impl->Run(st);
  });
  return Status::Ok();
}

void MemoryMonitor::Stop() {
  internal::MutexLock rl(&impl_->run_mu);
  impl_->running = false;
  if (!impl_->thread.joinable()) return;
  impl_->thread.request_stop();  // wakes the interval wait
  if (impl_->thread.get_id() == std::this_thread::get_id()) return;
  impl_->thread.join();
}

bool MemoryMonitor::running() const { return impl_->running; }

bool MemoryMonitor::target_exited() const {
  return impl_->target_exited.load(std::memory_order_relaxed);
}

Sample MemoryMonitor::TakeSample() { return impl_->Take(false); }

void MemoryMonitor::ResetBaseline() { impl_->Take(true); }

Sample MemoryMonitor::ReleaseFreeMemory() {
  {
    internal::MutexLock sl(&impl_->sample_mu);
    impl_->OpenSources().IgnoreError();
    impl_->source->ReleaseFreeMemory();
  }
  return impl_->Take(false);
}

namespace {

std::map<std::string, TrackedObject> TrackedObjectsNow() {
  auto& registry = internal::ObjectRegistry::Get();
  registry.Observe(std::chrono::system_clock::now(), 0, nullptr);
  std::map<std::string, TrackedObject> out;
  for (TrackedObject& o : registry.Snapshot()) {
    std::string name = o.name;
    out.emplace(std::move(name), std::move(o));
  }
  return out;
}

}  // namespace

ObjectCounter& MemoryMonitor::TrackObject(std::string_view name,
                                          uint64_t alert_threshold) {
  return memmon::TrackObject(name, alert_threshold);
}

void MemoryMonitor::IncrementObject(std::string_view name, uint64_t bytes) {
  GetObjectCounter(name).Increment(bytes);
}

void MemoryMonitor::DecrementObject(std::string_view name, uint64_t bytes) {
  GetObjectCounter(name).Decrement(bytes);
}

std::map<std::string, TrackedObject> MemoryMonitor::GetTrackedObjects() const {
  return TrackedObjectsNow();
}

MemoryStats MemoryMonitor::GetStats() const {
  MemoryStats st;
  st.running = impl_->running;
  st.tracked_objects = TrackedObjectsNow();
  internal::MutexLock l(&impl_->mu);
  const internal::DetectionEngine& engine = impl_->EngineForReaders();
  st.sample_count = engine.sample_count();
  st.alert_count = impl_->alert_count;
  st.alerts_fired_by_type = impl_->fired_by_type;
  st.alerts_open_by_type = impl_->open_by_type;
  st.retained_samples = engine.history().size();
  if (!engine.history().empty()) st.current_sample = engine.history().back();
  st.baseline_sample = engine.baseline();
  if (st.current_sample && st.baseline_sample) {
    st.growth_since_baseline_pct = internal::GrowthSinceBaselinePct(
        *st.baseline_sample, *st.current_sample);
  }
  return st;
}

std::optional<TimeToLimit> MemoryMonitor::TimeToMemoryLimit() const {
  internal::MutexLock l(&impl_->mu);
  const internal::DetectionEngine& engine = impl_->EngineForReaders();
  const std::optional<Sample>& baseline = engine.baseline();
  DetectionInput in{engine.history(), baseline ? &*baseline : nullptr,
                    &impl_->config};
  return ProjectTimeToLimit(in);
}

std::vector<Sample> MemoryMonitor::GetSamples() const {
  internal::MutexLock l(&impl_->mu);
  auto v = impl_->EngineForReaders().history();
  return {v.begin(), v.end()};
}

std::vector<MemoryAlert> MemoryMonitor::GetAlerts() const {
  internal::MutexLock l(&impl_->mu);
  return {impl_->alerts.begin(), impl_->alerts.end()};
}

void MemoryMonitor::ClearAlerts() {
  internal::MutexLock l(&impl_->mu);
  impl_->alerts.clear();
}

MemoryProfile MemoryMonitor::GetMemoryProfile() {
  MemoryProfile p;
  p.sample = TakeSample();
  p.objects = TrackedObjectsNow();
  return p;
}

ProfileDiff MemoryMonitor::CompareProfiles(const MemoryProfile& before,
                                           const MemoryProfile& after) {
  ProfileDiff d;
  d.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      after.sample.monotonic - before.sample.monotonic);
  auto delta =
      [&](std::optional<uint64_t> Sample::*f) -> std::optional<int64_t> {
    const auto& a = before.sample.*f;
    const auto& b = after.sample.*f;
    if (!a || !b) return std::nullopt;
    return static_cast<int64_t>(*b) - static_cast<int64_t>(*a);
  };
  d.heap_inuse_bytes = delta(&Sample::heap_inuse_bytes);
  d.heap_free_bytes = delta(&Sample::heap_free_bytes);
  d.heap_system_bytes = delta(&Sample::heap_system_bytes);
  d.rss_bytes = delta(&Sample::rss_bytes);
  d.threads = delta(&Sample::threads);
  d.open_fds = delta(&Sample::open_fds);
  d.allocations = delta(&Sample::allocations);
  d.frees = delta(&Sample::frees);
  d.before = before.sample;
  d.after = after.sample;
  for (const auto& [name, o] : before.objects) {
    d.objects[name] = {-o.count, -o.bytes};
  }
  for (const auto& [name, o] : after.objects) {
    ProfileDiff::ObjectDelta& delta = d.objects[name];
    delta.count += o.count;
    delta.bytes += o.bytes;
  }
  return d;
}

void MemoryMonitor::OnAlert(AlertCallback callback) {
  internal::MutexLock l(&impl_->mu);
  auto next = std::make_shared<std::vector<AlertCallback>>(*impl_->callbacks);
  next->push_back(std::move(callback));
  impl_->callbacks = std::move(next);
}

void MemoryMonitor::SetDetector(AlertType type, Detector detector) {
  internal::MutexLock sl(&impl_->sample_mu);
  impl_->SetDetectorLocked(type, std::move(detector));
}

const MonitorConfig& MemoryMonitor::config() const { return impl_->config; }

Status MemoryMonitor::Explain(MemoryBreakdown* out) const {
  return ExplainMemory(impl_->config.pid, out);
}

std::string ProfileDiff::ToString() const {
  std::string out = fmt::format("over {:.3f} s:\n",
                                std::chrono::duration<double>(elapsed).count());
  auto line = [&](const char* name, const std::optional<int64_t>& d,
                  std::optional<uint64_t> Sample::*base, bool bytes) {
    if (!d) return;
    const auto& b = before.*base;
    std::string pct;
    if (b && *b > 0) {
      pct = fmt::format(" ({:+.1f} %)", static_cast<double>(*d) /
                                            static_cast<double>(*b) * 100.0);
    }
    if (bytes) {
      out +=
          fmt::format("  {}: {}{}\n", name,
                      internal::SignedHumanBytes(static_cast<double>(*d)), pct);
    } else {
      out += fmt::format("  {}: {:+d}{}\n", name, *d, pct);
    }
  };
  line("heap in use", heap_inuse_bytes, &Sample::heap_inuse_bytes, true);
  line("heap free but held", heap_free_bytes, &Sample::heap_free_bytes, true);
  line("heap from the OS", heap_system_bytes, &Sample::heap_system_bytes, true);
  line("rss", rss_bytes, &Sample::rss_bytes, true);
  line("threads", threads, &Sample::threads, false);
  line("open descriptors", open_fds, &Sample::open_fds, false);
  line("allocations", allocations, &Sample::allocations, false);
  line("frees", frees, &Sample::frees, false);
  for (const auto& [name, delta] : objects) {
    out += fmt::format(
        "  object {}: {:+d} ({})\n", name, delta.count,
        internal::SignedHumanBytes(static_cast<double>(delta.bytes)));
  }
  return out;
}

}  // namespace memmon
