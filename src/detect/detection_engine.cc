// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/detection_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "base/format.h"
#include "detect/resolution.h"

namespace memmon::internal {
namespace {

using SteadyDuration = std::chrono::steady_clock::duration;

// The quantities the trend rules judge: a long-history point holds their
// minimum over its block.
constexpr std::optional<uint64_t> Sample::*kTrendFields[] = {
    &Sample::heap_inuse_bytes, &Sample::rss_bytes, &Sample::threads,
    &Sample::open_fds};

// The quantities whose noise's serial correlation the engine estimates
// over the run (DetectionInput::heap_noise, rss_noise), in
// noise_'s order.
constexpr std::optional<uint64_t> Sample::*kNoiseFields[] = {
    &Sample::heap_inuse_bytes, &Sample::rss_bytes};

// `into` takes `next`'s fields, but keeps the lower of each trend
// quantity's values.
void FoldMinimum(const Sample& next, Sample* into) {
  std::optional<uint64_t> lower[std::size(kTrendFields)];
  for (std::size_t i = 0; i < std::size(kTrendFields); ++i) {
    const std::optional<uint64_t>& a = into->*kTrendFields[i];
    const std::optional<uint64_t>& b = next.*kTrendFields[i];
    lower[i] = a && (!b || *a < *b) ? a : b;
  }
  *into = next;
  for (std::size_t i = 0; i < std::size(kTrendFields); ++i) {
    into->*kTrendFields[i] = lower[i];
  }
}

// The long history's first blocks: 4 samples, so that it is judged once
// per 4 samples at most (on the generated corpus's development set, blocks
// of 1 gave the same figures at more cost; blocks of 8, a false alarm
// more: docs/detection.md, "Evaluation").
constexpr std::size_t kFirstLongBlock = 4;

bool IsTrendRule(int type) {
  auto t = static_cast<AlertType>(type);
  return t == AlertType::kMemoryGrowth || t == AlertType::kThreadLeak ||
         t == AlertType::kFdLeak;
}

}  // namespace

DetectionEngine::DetectionEngine(MonitorConfig config)
    : config_(std::move(config)),
      history_(std::max<std::size_t>(1, config_.max_samples)) {
  builtin_.fill(true);
  long_capacity_ = std::max<std::size_t>(16, config_.max_samples & ~1ul);
  long_.reserve(long_capacity_);
  long_heap_max_.reserve(long_capacity_);
}

void DetectionEngine::StartLongHistory() {
  long_.clear();
  long_heap_max_.clear();
  fragmentation_ = {};
  long_block_ = kFirstLongBlock;
  pending_n_ = 0;
  long_changed_ = false;
  long_found_.fill(std::nullopt);
}

void DetectionEngine::AppendLong(const Sample& s) {
  TrackFragmentation(s);
  uint64_t heap = s.heap_inuse_bytes.value_or(0);
  if (pending_n_ == 0) {
    pending_ = s;
    pending_heap_max_ = heap;
  } else {
    FoldMinimum(s, &pending_);
    pending_heap_max_ = std::max(pending_heap_max_, heap);
  }
  if (++pending_n_ < long_block_) return;
  pending_n_ = 0;
  long_.push_back(pending_);
  long_heap_max_.push_back(pending_heap_max_);
  long_changed_ = true;
  if (long_.size() < long_capacity_) return;
  // Full: each pair of neighbours becomes one point of twice the block.
  for (std::size_t i = 0; i < long_.size() / 2; ++i) {
    Sample merged = long_[2 * i];
    FoldMinimum(long_[2 * i + 1], &merged);
    long_[i] = merged;
    long_heap_max_[i] =
        std::max(long_heap_max_[2 * i], long_heap_max_[2 * i + 1]);
  }
  long_.resize(long_.size() / 2);
  long_heap_max_.resize(long_.size());
  long_block_ *= 2;
}

void DetectionEngine::TrackFragmentation(const Sample& s) {
  FragmentationTrack& t = fragmentation_;
  if (long_.empty() && pending_n_ == 0) t.since = s.monotonic;  // baseline
  double pct = 0;
  if (!Fragmented(s, config_, &pct)) {
    t.holding = false;
    t.samples = 0;
    t.lowest_pct = 100;
    t.since = s.monotonic;
    return;
  }
  t.holding = true;
  ++t.samples;
  t.lowest_pct = std::min(t.lowest_pct, pct);
}

double DetectionEngine::HeapPeakWithin(std::chrono::nanoseconds span) const {
  std::span<const Sample> view = history_.view();
  const auto now = view.back().monotonic;
  const auto from = now - std::chrono::duration_cast<SteadyDuration>(span);
  std::size_t since = static_cast<std::size_t>(
      std::min<uint64_t>(sample_count_ - baseline_seq_ + 1, view.size()));
  std::span<const Sample> judged = view.last(since);
  double peak = 0;
  for (const Sample& x : judged) {
    if (x.monotonic > from && x.heap_inuse_bytes) {
      peak = std::max(peak, static_cast<double>(*x.heap_inuse_bytes));
    }
  }
  // The history does not reach back that far: the long history's blocks
  // whose last sample is within it (a block may reach a little earlier).
  if (!judged.empty() && judged.front().monotonic > from) {
    for (std::size_t i = long_.size(); i > 0 && long_[i - 1].monotonic > from;
         --i) {
      peak = std::max(peak, static_cast<double>(long_heap_max_[i - 1]));
    }
    if (pending_n_ > 0) {
      peak = std::max(peak, static_cast<double>(pending_heap_max_));
    }
  }
  return peak;
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

NoiseEstimate DetectionEngine::noise(
    std::optional<uint64_t> Sample::*field) const {
  for (std::size_t i = 0; i < std::size(kNoiseFields); ++i) {
    if (field != kNoiseFields[i]) continue;
    return std::isnan(noise_set_[i].rho) ? noise_[i].estimate() : noise_set_[i];
  }
  return {};
}

void DetectionEngine::SetNoise(const NoiseEstimate& heap,
                               const NoiseEstimate& rss) {
  noise_set_ = {heap, rss};
}

std::vector<MemoryAlert> DetectionEngine::Push(double time_s, const Sample& s) {
  if (!Append(s)) return {};
  return Judge(time_s, s);
}

bool DetectionEngine::Append(const Sample& s) {
  history_.Push(s);
  ++sample_count_;
  for (std::size_t i = 0; i < std::size(kNoiseFields); ++i) {
    if (const std::optional<uint64_t>& v = s.*kNoiseFields[i]) {
      noise_[i].Add(static_cast<double>(*v));
    }
  }
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
      StartLongHistory();
      AppendLong(s);
      return !ended_.empty();  // the sample a reset lands on is not judged
    }
    baseline_ = s;
    baseline_seq_ = sample_count_;
    StartLongHistory();
  }
  if (baseline_) AppendLong(s);
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
  in.heap_noise = noise(&Sample::heap_inuse_bytes);
  in.rss_noise = noise(&Sample::rss_bytes);
  AlertGate::Rules rules{
      config_.sustain_samples, config_.hysteresis_samples,
      std::chrono::duration_cast<SteadyDuration>(config_.resolve_after),
      std::chrono::duration_cast<SteadyDuration>(config_.alert_cooldown)};
  // The long history adds to the history only when the run since the
  // baseline is longer than it; it is judged once per completed point.
  bool judge_long = sample_count_ - baseline_seq_ + 1 > view.size();
  DetectionInput long_in{long_, &*baseline_, &config_, {}};
  long_in.heap_noise = in.heap_noise;
  long_in.rss_noise = in.rss_noise;
  for (int i = 0; i < kAlertTypeCount; ++i) {
    std::optional<Finding> f;
    if (builtin_[i] && i == static_cast<int>(AlertType::kHeapFragmentation)) {
      // The hold and the look-back in time, past the history's reach.
      if (fragmentation_.holding) {
        fragmentation_.peak = HeapPeakWithin(2 * config_.hold);
        f = HeapFragmentationTracked(in, fragmentation_);
      }
    } else if (builtin_[i]) {
      f = RunBuiltinDetector(static_cast<AlertType>(i), in, &trend_cache_);
      if (judge_long && IsTrendRule(i)) {
        if (long_changed_) {
          long_in.block = long_block_;
          long_found_[i] = RunBuiltinDetector(static_cast<AlertType>(i),
                                              long_in, &long_cache_);
          // Its window in samples, not points.
          if (long_found_[i]) long_found_[i]->window_samples *= long_block_;
        }
        if (!f) f = long_found_[i];
      }
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
  if (judge_long) long_changed_ = false;
  return out;
}

std::optional<double> GrowthSinceBaselinePct(const Sample& baseline,
                                             const Sample& current) {
  for (auto field : {&Sample::heap_inuse_bytes, &Sample::rss_bytes}) {
    const std::optional<uint64_t>& base = baseline.*field;
    const std::optional<uint64_t>& cur = current.*field;
    if (base && cur && *base > 0) {
      return (static_cast<double>(*cur) - static_cast<double>(*base)) /
             static_cast<double>(*base) * 100.0;
    }
  }
  return std::nullopt;
}

}  // namespace memmon::internal
