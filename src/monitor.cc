// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/monitor.h"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <stop_token>
#include <thread>

#include "alert_gate.h"
#include "alert_log.h"
#include "allocator_stats.h"
#include "procfs.h"
#include "sample_history.h"

namespace memmon {

// Locking: `sample_mu` serialises everything that takes a sample or runs
// detectors (TakeSample, ResetBaseline, SetDetector); `mu` guards what
// readers see. Writers of the history hold both, so detection may read the
// history under `sample_mu` alone while readers hold `mu` alone. Callbacks
// and the alert log run with neither held.
struct MemoryMonitor::Impl {
  explicit Impl(MonitorConfig c)
      : config(std::move(c)),
        history(std::max<std::size_t>(1, config.max_samples)),
        created(std::chrono::steady_clock::now()) {
    for (int i = 0; i < kAlertTypeCount; ++i) {
      detectors[i] = DefaultDetector(static_cast<AlertType>(i));
    }
  }

  const MonitorConfig config;

  // --- guarded by sample_mu ---
  std::mutex sample_mu;
  bool sources_open = false;
  internal::ProcReader proc;
  internal::AllocatorStats allocator;
  internal::AlertLog log;
  std::array<Detector, kAlertTypeCount> detectors;
  std::array<internal::AlertGate, kAlertTypeCount> gates;

  // --- guarded by mu (history written under both) ---
  mutable std::mutex mu;
  internal::SampleHistory history;
  std::optional<Sample> baseline;
  uint64_t baseline_seq = 0;  // 1-based sample number of the baseline
  uint64_t sample_count = 0;
  uint64_t alert_count = 0;
  std::deque<MemoryAlert> alerts;
  std::shared_ptr<const std::vector<AlertCallback>> callbacks =
      std::make_shared<std::vector<AlertCallback>>();

  const std::chrono::steady_clock::time_point created;

  // --- the sampling thread, guarded by run_mu ---
  std::mutex run_mu;
  std::jthread thread;
  std::atomic<bool> running{false};
  std::mutex wait_mu;
  std::condition_variable_any wake;

  // Requires sample_mu.
  Status OpenSources() {
    if (sources_open) return Status::Ok();
    if (Status s = proc.Open(); !s.ok()) return s;
    if (Status s = log.Open(config.alert_log); !s.ok()) return s;
    allocator = internal::AllocatorStats::Detect();
    sources_open = true;
    return Status::Ok();
  }

  // Requires sample_mu. Never allocates.
  Sample Collect() {
    Sample s;
    s.time = std::chrono::system_clock::now();
    s.monotonic = std::chrono::steady_clock::now();
    if (!sources_open) OpenSources().IgnoreError();  // fields stay unknown
    proc.Read(&s, config.enable_pss);
    if (config.enable_allocator_stats) allocator.Read(&s);
    return s;
  }

  Sample Take(bool make_baseline) {
    std::vector<MemoryAlert> fired;  // allocates only when an alert fires
    std::shared_ptr<const std::vector<AlertCallback>> cbs;
    Sample s;
    bool new_baseline = false;
    {
      std::lock_guard sl(sample_mu);
      s = Collect();
      {
        std::lock_guard l(mu);
        history.Push(s);
        ++sample_count;
        if (make_baseline || (!baseline && sample_count > config.warmup_samples)) {
          baseline = s;
          baseline_seq = sample_count;
          new_baseline = true;
          if (make_baseline) {
            for (auto& g : gates) g.ResetEpisode();
          }
        }
      }
      if (!make_baseline) Detect(s, &fired);
      if (!fired.empty()) {
        std::lock_guard l(mu);
        for (const MemoryAlert& a : fired) {
          alerts.push_back(a);
          if (alerts.size() > config.max_alerts) alerts.pop_front();
          ++alert_count;
        }
        cbs = callbacks;
      }
    }
    // Heap profiles at the baseline and at each growth alert give a
    // before/after pair (no-op without the heap sampler and MEMMON_OUTPUT).
    if (new_baseline) allocator.SnapshotHeap("baseline");
    for (const MemoryAlert& a : fired) Deliver(a, *cbs);
    return s;
  }

  // Requires sample_mu (not mu: detectors may call GetStats()).
  void Detect(const Sample& s, std::vector<MemoryAlert>* fired) {
    if (!baseline) return;  // warming up
    std::span<const Sample> view = history.view();
    std::size_t since = static_cast<std::size_t>(
        std::min<uint64_t>(sample_count - baseline_seq + 1, view.size()));
    DetectionInput in{view.last(since), &*baseline, &config};
    for (int i = 0; i < kAlertTypeCount; ++i) {
      if (!detectors[i]) continue;
      std::optional<Finding> f = detectors[i](in);
      if (!gates[i].Update(f.has_value(), s.monotonic, config.sustain_samples,
                           config.hysteresis_samples,
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               config.alert_cooldown))) {
        continue;
      }
      MemoryAlert a;
      a.type = static_cast<AlertType>(i);
      a.time = s.time;
      a.time_s = std::chrono::duration<double>(s.monotonic - created).count();
      a.message = Describe(*f);
      a.value = f->value;
      a.threshold = f->threshold;
      a.sample = s;
      fired->push_back(std::move(a));
    }
  }

  void Deliver(const MemoryAlert& a,
               const std::vector<AlertCallback>& cbs) {
    if (a.type == AlertType::kMemoryGrowth) allocator.SnapshotHeap("memory_growth");
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
    : impl_(std::make_unique<Impl>(std::move(config))) {}

MemoryMonitor::~MemoryMonitor() {
  Stop();
  // A Stop() called from the sampling thread could not join it.
  if (impl_->thread.joinable() &&
      impl_->thread.get_id() != std::this_thread::get_id()) {
    impl_->thread.join();
  }
}

Status MemoryMonitor::Start() {
  std::lock_guard rl(impl_->run_mu);
  if (impl_->running) {
    return Status::FailedPrecondition("the monitor is already running");
  }
  if (Status s = Validate(impl_->config); !s.ok()) return s;
  {
    std::lock_guard sl(impl_->sample_mu);
    if (Status s = impl_->OpenSources(); !s.ok()) return s;
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->running = true;
  impl_->thread =
      std::jthread([impl = impl_.get()](std::stop_token st) { impl->Run(st); });
  return Status::Ok();
}

void MemoryMonitor::Stop() {
  std::lock_guard rl(impl_->run_mu);
  impl_->running = false;
  if (!impl_->thread.joinable()) return;
  impl_->thread.request_stop();  // wakes the interval wait
  if (impl_->thread.get_id() == std::this_thread::get_id()) return;
  impl_->thread.join();
}

bool MemoryMonitor::running() const { return impl_->running; }

Sample MemoryMonitor::TakeSample() { return impl_->Take(false); }

void MemoryMonitor::ResetBaseline() { impl_->Take(true); }

Sample MemoryMonitor::ReleaseFreeMemory() {
  {
    std::lock_guard sl(impl_->sample_mu);
    impl_->OpenSources().IgnoreError();
    impl_->allocator.ReleaseFreeMemory();
  }
  return impl_->Take(false);
}

MemoryStats MemoryMonitor::GetStats() const {
  MemoryStats st;
  st.running = impl_->running;
  std::lock_guard l(impl_->mu);
  st.sample_count = impl_->sample_count;
  st.alert_count = impl_->alert_count;
  st.retained_samples = impl_->history.size();
  if (!impl_->history.empty()) st.current_sample = impl_->history.view().back();
  st.baseline_sample = impl_->baseline;
  if (st.current_sample && st.baseline_sample) {
    for (auto field : {&Sample::heap_inuse_bytes, &Sample::rss_bytes}) {
      const auto& base = (*st.baseline_sample).*field;
      const auto& cur = (*st.current_sample).*field;
      if (base && cur && *base > 0) {
        st.growth_since_baseline_pct =
            (static_cast<double>(*cur) - static_cast<double>(*base)) /
            static_cast<double>(*base) * 100.0;
        break;
      }
    }
  }
  return st;
}

std::vector<Sample> MemoryMonitor::GetSamples() const {
  std::lock_guard l(impl_->mu);
  auto v = impl_->history.view();
  return {v.begin(), v.end()};
}

std::vector<MemoryAlert> MemoryMonitor::GetAlerts() const {
  std::lock_guard l(impl_->mu);
  return {impl_->alerts.begin(), impl_->alerts.end()};
}

void MemoryMonitor::ClearAlerts() {
  std::lock_guard l(impl_->mu);
  impl_->alerts.clear();
}

MemoryProfile MemoryMonitor::GetMemoryProfile() {
  MemoryProfile p;
  p.sample = TakeSample();
  return p;
}

ProfileDiff MemoryMonitor::CompareProfiles(const MemoryProfile& before,
                                           const MemoryProfile& after) {
  ProfileDiff d;
  d.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      after.sample.monotonic - before.sample.monotonic);
  auto delta = [&](std::optional<uint64_t> Sample::*f) -> std::optional<int64_t> {
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
  return d;
}

void MemoryMonitor::OnAlert(AlertCallback callback) {
  std::lock_guard l(impl_->mu);
  auto next = std::make_shared<std::vector<AlertCallback>>(*impl_->callbacks);
  next->push_back(std::move(callback));
  impl_->callbacks = std::move(next);
}

void MemoryMonitor::SetDetector(AlertType type, Detector detector) {
  int i = static_cast<int>(type);
  if (i < 0 || i >= kAlertTypeCount) return;
  std::lock_guard sl(impl_->sample_mu);
  impl_->detectors[i] = std::move(detector);
  impl_->gates[i].ResetEpisode();
}

const MonitorConfig& MemoryMonitor::config() const { return impl_->config; }

std::string ProfileDiff::ToString() const {
  std::string out = fmt::format(
      "over {:.3f} s:\n", std::chrono::duration<double>(elapsed).count());
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
      out += fmt::format("  {}: {:+.1f} MiB{}\n", name,
                         static_cast<double>(*d) / (1 << 20), pct);
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
  return out;
}

}  // namespace memmon
