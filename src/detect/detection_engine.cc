// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/detection_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "base/format.h"
#include "detect/resolution.h"

namespace memmon::internal {
namespace {

using SteadyDuration = std::chrono::steady_clock::duration;

}  // namespace

DetectionEngine::DetectionEngine(MonitorConfig config)
    : config_(std::move(config)),
      history_(std::max<std::size_t>(1, config_.max_samples)) {
  builtin_.fill(true);
}

void DetectionEngine::SetDetector(AlertType type, Detector detector) {
  int i = static_cast<int>(type);
  if (i < 0 || i >= kAlertTypeCount) return;
  detectors_[i] = std::move(detector);
  builtin_[i] = false;
  if (gates_[i].ResetEpisode()) {
    const Episode& e = episodes_[i];
    MemoryAlert a;
    a.type = type;
    a.state = AlertState::kResolved;
    a.message =
        "its detector was replaced (SetDetector): the episode ends "
        "unjudged";
    a.value = e.opened.value;
    a.threshold = e.opened.threshold;
    a.episode_start = e.time;
    a.episode_start_s = e.time_s;
    ended_.push_back(std::move(a));
  }
}

void DetectionEngine::ResetBaseline() { reset_pending_ = true; }

std::vector<MemoryAlert> DetectionEngine::Push(double time_s, const Sample& s) {
  if (!Append(s)) return {};
  return Judge(time_s, s);
}

bool DetectionEngine::Append(const Sample& s) {
  history_.Push(s);
  ++sample_count_;
  judge_ = false;
  if (reset_pending_ ||
      (!baseline_ && sample_count_ > config_.warmup_samples)) {
    if (reset_pending_) {
      reset_pending_ = false;
      // Episodes that fired end here, judged against the old baseline.
      std::span<const Sample> view = history_.view();
      std::size_t since = static_cast<std::size_t>(
          std::min<uint64_t>(sample_count_ - baseline_seq_ + 1, view.size()));
      for (int i = 0; i < kAlertTypeCount; ++i) {
        if (!gates_[i].ResetEpisode()) continue;
        const Episode& e = episodes_[i];
        MemoryAlert a;
        a.type = static_cast<AlertType>(i);
        a.state = AlertState::kResolved;
        a.value = e.opened.value;
        a.threshold = e.opened.threshold;
        a.message = "the baseline was reset";
        if (builtin_[i] && baseline_) {
          Resolution r =
              Resolve(e.opened, {view.last(since), &*baseline_, &config_,
                                 view.first(view.size() - since)});
          a.value = r.value;
          a.threshold = r.threshold;
          a.message += ": " + r.message;
        }
        a.episode_start = e.time;
        a.episode_start_s = e.time_s;
        ended_.push_back(std::move(a));
      }
      baseline_ = s;
      baseline_seq_ = sample_count_;
      return !ended_.empty();  // the sample a reset lands on is not judged
    }
    baseline_ = s;
    baseline_seq_ = sample_count_;
  }
  judge_ = baseline_.has_value();  // false while warming up
  return judge_ || !ended_.empty();
}

std::vector<MemoryAlert> DetectionEngine::Judge(double time_s,
                                                const Sample& s) {
  std::vector<MemoryAlert> out;
  if (!ended_.empty()) {
    out.swap(ended_);
    for (MemoryAlert& a : out) {
      a.time = s.time;
      a.time_s = time_s;
      a.sample = s;
    }
  }
  if (!judge_) return out;
  std::span<const Sample> view = history_.view();
  std::size_t since = static_cast<std::size_t>(
      std::min<uint64_t>(sample_count_ - baseline_seq_ + 1, view.size()));
  DetectionInput in{view.last(since), &*baseline_, &config_,
                    view.first(view.size() - since)};
  AlertGate::Rules rules{
      config_.sustain_samples, config_.hysteresis_samples,
      std::chrono::duration_cast<SteadyDuration>(config_.resolve_after),
      std::chrono::duration_cast<SteadyDuration>(config_.alert_cooldown)};
  for (int i = 0; i < kAlertTypeCount; ++i) {
    std::optional<Finding> f;
    if (builtin_[i]) {
      f = RunBuiltinDetector(static_cast<AlertType>(i), in, &trend_cache_);
    } else if (detectors_[i]) {
      f = detectors_[i](in);
    } else {
      continue;  // disabled
    }
    AlertGate::Event event =
        gates_[i].Update(f.has_value(), s.monotonic, rules);
    if (event == AlertGate::Event::kNone) continue;
    MemoryAlert a;
    a.type = static_cast<AlertType>(i);
    a.time = s.time;
    a.time_s = time_s;
    a.sample = s;
    Episode& e = episodes_[i];
    if (event == AlertGate::Event::kFire) {
      a.message = Describe(*f);
      a.value = f->value;
      a.threshold = f->threshold;
      e = {*f, s.time, time_s};
    } else {
      a.state = AlertState::kResolved;
      if (builtin_[i]) {
        Resolution r = Resolve(e.opened, in);
        a.message = std::move(r.message);
        a.value = r.value;
        a.threshold = r.threshold;
      } else {
        double after =
            std::chrono::duration<double>(config_.resolve_after).count();
        a.message = fmt::format(
            "its detector has not found it on {} consecutive samples{}",
            config_.hysteresis_samples,
            after > 0 ? " and for " + HumanDuration(after) : "");
        a.value = e.opened.value;
        a.threshold = e.opened.threshold;
      }
      a.episode_start = e.time;
      a.episode_start_s = e.time_s;
    }
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace memmon::internal
