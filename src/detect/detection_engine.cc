// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/detection_engine.h"

#include <algorithm>
#include <chrono>

namespace memmon::internal {

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
  gates_[i].ResetEpisode();
}

void DetectionEngine::ResetBaseline() { reset_pending_ = true; }

std::vector<MemoryAlert> DetectionEngine::Push(double time_s, const Sample& s) {
  if (!Append(s)) return {};
  return Judge(time_s, s);
}

bool DetectionEngine::Append(const Sample& s) {
  history_.Push(s);
  ++sample_count_;
  if (reset_pending_ ||
      (!baseline_ && sample_count_ > config_.warmup_samples)) {
    baseline_ = s;
    baseline_seq_ = sample_count_;
    if (reset_pending_) {
      for (AlertGate& g : gates_) g.ResetEpisode();
      reset_pending_ = false;
      return false;  // the sample a reset lands on is not judged
    }
  }
  return baseline_.has_value();  // false while warming up
}

std::vector<MemoryAlert> DetectionEngine::Judge(double time_s,
                                                const Sample& s) {
  std::vector<MemoryAlert> fired;
  std::span<const Sample> view = history_.view();
  std::size_t since = static_cast<std::size_t>(
      std::min<uint64_t>(sample_count_ - baseline_seq_ + 1, view.size()));
  DetectionInput in{view.last(since), &*baseline_, &config_,
                    view.first(view.size() - since)};
  auto cooldown =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          config_.alert_cooldown);
  for (int i = 0; i < kAlertTypeCount; ++i) {
    std::optional<Finding> f;
    if (builtin_[i]) {
      f = RunBuiltinDetector(static_cast<AlertType>(i), in, &trend_cache_);
    } else if (detectors_[i]) {
      f = detectors_[i](in);
    } else {
      continue;  // disabled
    }
    if (!gates_[i].Update(f.has_value(), s.monotonic, config_.sustain_samples,
                          config_.hysteresis_samples, cooldown)) {
      continue;
    }
    MemoryAlert a;
    a.type = static_cast<AlertType>(i);
    a.time = s.time;
    a.time_s = time_s;
    a.message = Describe(*f);
    a.value = f->value;
    a.threshold = f->threshold;
    a.sample = s;
    fired.push_back(std::move(a));
  }
  return fired;
}

}  // namespace memmon::internal
