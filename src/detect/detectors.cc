// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/detectors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "base/format.h"
#include "detect/growth_internal.h"
#include "memmon/growth.h"

namespace memmon {
namespace {

using U64Field = std::optional<uint64_t> Sample::*;

// A rise must reach this Mann-Kendall confidence to alert by projection
// before the limit is reached (kTrendConfidence, growth_internal.h, to count
// at all).
constexpr double kEarlyConfidence = 0.999;
// heap_fragmentation: "just past a peak" means in use is below this share
// of its recent maximum.
constexpr double kOffPeakShare = 0.8;

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The series of `field` over the samples since the baseline, oldest first,
// times relative to the current sample (<= 0). CollectValues fills n and
// v; CollectTimes, t (only needed when the pre-check passes).
struct Series {
  std::array<double, kMaxGrowthSamples> t, v;
  std::size_t n = 0;
  std::span<const double> times() const { return {t.data(), n}; }
  std::span<const double> values() const { return {v.data(), n}; }
};

std::span<const Sample> Recent(const DetectionInput& in) {
  return in.history.last(std::min(in.history.size(), kMaxGrowthSamples));
}

void CollectValues(const DetectionInput& in, U64Field field, Series* s) {
  s->n = 0;
  for (const Sample& x : Recent(in)) {
    const std::optional<uint64_t>& v = x.*field;
    if (!v) continue;
    s->v[s->n++] = static_cast<double>(*v);
  }
}

void CollectTimes(const DetectionInput& in, U64Field field, Series* s) {
  auto now = in.history.back().monotonic;
  std::size_t k = 0;
  for (const Sample& x : Recent(in)) {
    if (!(x.*field)) continue;
    s->t[k++] = Seconds(x.monotonic - now);
  }
}

// ClassifyGrowth over `field`'s series when it is kUnbounded, else
// nullopt. The pre-check (internal::MayRiseSteadily, on the values alone)
// settles the usual case, a series that does not rise, at a small part of
// the cost; internal::UnboundedTrend works out the rest.
std::optional<GrowthTrend> UnboundedTrendOf(const DetectionInput& in,
                                            internal::TrendCache* cache,
                                            U64Field field, Series* s) {
  GrowthOptions options = internal::TrendOptions(*in.config);
  CollectValues(in, field, s);
  if (!internal::MayRiseSteadily(s->values(), options, cache)) {
    return std::nullopt;
  }
  CollectTimes(in, field, s);
  return internal::UnboundedTrend(s->times(), s->values(), options, cache);
}

// The larger of the ratio and the absolute floor over the baseline.
double Limit(double base, double pct, double floor) {
  return std::max(base * (1 + pct / 100.0), base + floor);
}

// Fills the trend part of `f` from `trend`.
void SetTrend(const GrowthTrend& trend, Finding* f) {
  f->slope_per_s = trend.slope_per_s;
  f->slope_lower_per_s = trend.slope_lower_per_s;
  f->window_s = trend.window_s;
  f->window_samples = trend.window_samples;
  f->confidence = trend.confidence;
  f->level = trend.level;
}

// Whether `trend` (below `limit`) is certain enough and fast enough to warn
// now; sets the time it needs.
bool ProjectedToPass(const GrowthTrend& trend, double limit,
                     const MonitorConfig& cfg, double* time_to_limit_s) {
  double horizon = Seconds(cfg.growth_projection_horizon);
  if (horizon <= 0 || trend.kind != GrowthKind::kUnbounded ||
      trend.confidence < kEarlyConfidence || trend.slope_lower_per_s <= 0) {
    return false;
  }
  *time_to_limit_s = (limit - trend.level) / trend.slope_lower_per_s;
  return *time_to_limit_s <= horizon;
}

std::optional<Finding> GrowthOf(const DetectionInput& in,
                                internal::TrendCache* cache, U64Field field,
                                const char* metric) {
  const MonitorConfig& cfg = *in.config;
  if (in.baseline == nullptr || in.history.empty()) return std::nullopt;
  const std::optional<uint64_t>& base = in.baseline->*field;
  const std::optional<uint64_t>& cur = in.history.back().*field;
  if (!base || !cur || *base == 0) return std::nullopt;

  Series s;
  std::optional<GrowthTrend> unbounded = UnboundedTrendOf(in, cache, field, &s);
  if (!unbounded) return std::nullopt;
  const GrowthTrend& trend = *unbounded;

  double b = static_cast<double>(*base);
  Finding f;
  f.type = AlertType::kMemoryGrowth;
  f.limit = Limit(b, cfg.alert_threshold_pct,
                  static_cast<double>(cfg.growth_floor_bytes));
  if (trend.level < f.limit &&
      !ProjectedToPass(trend, f.limit, cfg, &f.time_to_limit_s)) {
    return std::nullopt;
  }
  f.projected = trend.level < f.limit;
  if (!f.projected) f.time_to_limit_s = 0;
  SetTrend(trend, &f);
  f.value = (trend.level - b) / b * 100.0;
  f.threshold = cfg.alert_threshold_pct;
  f.baseline = b;
  f.current = static_cast<double>(*cur);
  f.metric = metric;
  return f;
}

std::optional<Finding> CountLeak(const DetectionInput& in,
                                 internal::TrendCache* cache, U64Field field,
                                 AlertType type, double pct, uint64_t floor,
                                 const char* metric) {
  const MonitorConfig& cfg = *in.config;
  if (in.baseline == nullptr || in.history.empty()) return std::nullopt;
  const std::optional<uint64_t>& base = in.baseline->*field;
  const std::optional<uint64_t>& cur = in.history.back().*field;
  if (!base || !cur) return std::nullopt;
  double b = static_cast<double>(*base);
  Finding f;
  f.type = type;
  f.limit = Limit(b, pct, static_cast<double>(floor));
  f.threshold = f.limit;
  f.baseline = b;
  f.current = static_cast<double>(*cur);
  f.metric = metric;

  // The level: the lowest of the last hold_samples known counts.
  std::size_t seen = 0;
  double lowest = f.current;
  for (auto it = in.history.rbegin();
       it != in.history.rend() && seen < cfg.hold_samples; ++it) {
    const std::optional<uint64_t>& v = (*it).*field;
    if (!v) continue;
    lowest = std::min(lowest, static_cast<double>(*v));
    ++seen;
  }
  if (seen == cfg.hold_samples && lowest >= f.limit) {
    f.value = f.current;
    f.level = lowest;
    f.window_samples = seen;
    return f;
  }

  // Early: a steady rise projected to pass the limit. A count that never
  // rose above its baseline has no trend to judge (and a steady count is
  // the usual case, so this skips most of the cost).
  if (Seconds(cfg.growth_projection_horizon) <= 0) return std::nullopt;
  bool rose = false;
  for (const Sample& x : in.history) {
    const std::optional<uint64_t>& v = x.*field;
    if (v && *v > *base) {
      rose = true;
      break;
    }
  }
  if (!rose) return std::nullopt;
  // Only a kUnbounded trend can be projected (ProjectedToPass).
  Series s;
  std::optional<GrowthTrend> unbounded = UnboundedTrendOf(in, cache, field, &s);
  if (!unbounded) return std::nullopt;
  const GrowthTrend& trend = *unbounded;
  if (trend.level >= f.limit ||
      !ProjectedToPass(trend, f.limit, cfg, &f.time_to_limit_s)) {
    return std::nullopt;
  }
  SetTrend(trend, &f);
  f.projected = true;
  f.value = f.current;
  return f;
}

std::string Bytes(double b) { return internal::HumanBytes(b); }
std::string Duration(double s) { return internal::HumanDuration(s); }

std::optional<Finding> MemoryGrowth(const DetectionInput& in,
                                    internal::TrendCache* cache) {
  if (auto f =
          GrowthOf(in, cache, &Sample::heap_inuse_bytes, "heap_inuse_bytes"))
    return f;
  return GrowthOf(in, cache, &Sample::rss_bytes, "rss_bytes");
}

std::optional<Finding> ThreadLeak(const DetectionInput& in,
                                  internal::TrendCache* cache) {
  return CountLeak(in, cache, &Sample::threads, AlertType::kThreadLeak,
                   in.config->thread_growth_pct, in.config->thread_growth_floor,
                   "threads");
}

std::optional<Finding> FdLeak(const DetectionInput& in,
                              internal::TrendCache* cache) {
  return CountLeak(in, cache, &Sample::open_fds, AlertType::kFdLeak,
                   in.config->fd_growth_pct, in.config->fd_growth_floor,
                   "open_fds");
}

}  // namespace

namespace internal {

GrowthOptions TrendOptions(const MonitorConfig& config) {
  GrowthOptions o;
  o.min_points = config.trend_window;
  o.confidence = kTrendConfidence;
  return o;
}

std::optional<Finding> RunBuiltinDetector(AlertType type,
                                          const DetectionInput& in,
                                          TrendCache* cache) {
  switch (type) {
    case AlertType::kMemoryGrowth:
      return MemoryGrowth(in, cache);
    case AlertType::kThreadLeak:
      return ThreadLeak(in, cache);
    case AlertType::kFdLeak:
      return FdLeak(in, cache);
    case AlertType::kHeapFragmentation:
      return DetectHeapFragmentation(in);
    case AlertType::kAllocatorPressure:
      return DetectAllocatorPressure(in);
    case AlertType::kObjectThreshold:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace internal

std::optional<Finding> DetectMemoryGrowth(const DetectionInput& in) {
  return MemoryGrowth(in, nullptr);
}

std::optional<Finding> DetectThreadLeak(const DetectionInput& in) {
  return ThreadLeak(in, nullptr);
}

std::optional<Finding> DetectFdLeak(const DetectionInput& in) {
  return FdLeak(in, nullptr);
}

std::optional<Finding> DetectHeapFragmentation(const DetectionInput& in) {
  if (in.history.empty()) return std::nullopt;
  const MonitorConfig& cfg = *in.config;
  const Sample& now = in.history.back();
  if (!now.heap_inuse_bytes || !now.heap_free_bytes) return std::nullopt;
  double used_now = static_cast<double>(*now.heap_inuse_bytes);
  std::size_t held = 0, looked = 0;
  double peak = used_now, lowest_pct = 100;
  for (auto it = in.history.rbegin();
       it != in.history.rend() && looked < 2 * cfg.hold_samples; ++it) {
    if (!it->heap_inuse_bytes || !it->heap_free_bytes) continue;
    ++looked;
    double used = static_cast<double>(*it->heap_inuse_bytes);
    peak = std::max(peak, used);
    if (held == cfg.hold_samples) continue;
    double free_bytes = static_cast<double>(*it->heap_free_bytes);
    if (used + free_bytes <= 0) return std::nullopt;
    double pct = free_bytes / (used + free_bytes) * 100.0;
    if (pct < cfg.fragmentation_pct ||
        *it->heap_free_bytes < cfg.fragmentation_floor_bytes) {
      return std::nullopt;
    }
    lowest_pct = std::min(lowest_pct, pct);
    ++held;
  }
  if (held < cfg.hold_samples) return std::nullopt;
  if (used_now < kOffPeakShare * peak) return std::nullopt;  // just past a peak
  double free_now = static_cast<double>(*now.heap_free_bytes);
  Finding f;
  f.type = AlertType::kHeapFragmentation;
  f.value = free_now / (used_now + free_now) * 100.0;
  f.threshold = cfg.fragmentation_pct;
  f.level = lowest_pct;
  f.current = free_now;
  f.baseline = used_now;
  f.window_samples = held;
  f.metric = "heap_free_bytes";
  return f;
}

std::optional<Finding> DetectAllocatorPressure(const DetectionInput& in) {
  if (in.history.empty()) return std::nullopt;
  const MonitorConfig& cfg = *in.config;
  if (!in.history.back().allocator_cpu_fraction) return std::nullopt;
  std::array<double, 64> shares{};
  std::size_t n = 0;
  std::size_t want = std::min<std::size_t>(cfg.hold_samples, shares.size());
  for (auto it = in.history.rbegin(); it != in.history.rend() && n < want;
       ++it) {
    if (it->allocator_cpu_fraction)
      shares[n++] = *it->allocator_cpu_fraction * 100.0;
  }
  auto mid = shares.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(shares.begin(), mid,
                   shares.begin() + static_cast<std::ptrdiff_t>(n));
  double pct = *mid;
  if (n % 2 == 0) pct = (pct + *std::max_element(shares.begin(), mid)) / 2;
  if (pct < cfg.allocator_cpu_pct) return std::nullopt;
  Finding f;
  f.type = AlertType::kAllocatorPressure;
  f.value = pct;
  f.threshold = cfg.allocator_cpu_pct;
  f.current = *in.history.back().allocator_cpu_fraction * 100.0;
  f.window_samples = n;
  f.metric = "allocator_cpu_fraction";
  return f;
}

Detector DefaultDetector(AlertType type) {
  if (type == AlertType::kObjectThreshold) return nullptr;  // the counters'
  return [type](const DetectionInput& in) {
    return internal::RunBuiltinDetector(type, in, nullptr);
  };
}

std::string Describe(const Finding& f) {
  switch (f.type) {
    case AlertType::kMemoryGrowth: {
      std::string trend = fmt::format(
          "rising steadily at {}/s (at least {}/s) over the last {} ({} "
          "samples), trend confidence {:.2f} %",
          Bytes(f.slope_per_s), Bytes(f.slope_lower_per_s),
          Duration(f.window_s), f.window_samples, f.confidence * 100);
      if (f.projected) {
        return fmt::format(
            "{} is {}: up {:.1f} % ({} -> {}) so far, below the {:.1f} % "
            "threshold ({}), projected to pass it in {}",
            f.metric, trend, f.value, Bytes(f.baseline), Bytes(f.level),
            f.threshold, Bytes(f.limit), Duration(f.time_to_limit_s));
      }
      return fmt::format(
          "{} grew {:.1f} % ({} -> {}), above the {:.1f} % threshold, {}",
          f.metric, f.value, Bytes(f.baseline), Bytes(f.level), f.threshold,
          trend);
    }
    case AlertType::kThreadLeak:
    case AlertType::kFdLeak: {
      const char* what =
          f.type == AlertType::kThreadLeak ? "threads" : "open descriptors";
      if (f.projected) {
        return fmt::format(
            "{} are rising steadily from {:.0f} to {:.0f}, at {:.2f}/min (at "
            "least {:.2f}/min) over the last {}, trend confidence {:.2f} %: "
            "projected to reach the limit of {:.0f} in {}",
            what, f.baseline, f.current, f.slope_per_s * 60,
            f.slope_lower_per_s * 60, Duration(f.window_s), f.confidence * 100,
            f.limit, Duration(f.time_to_limit_s));
      }
      return fmt::format(
          "{} grew from {:.0f} to {:.0f} (+{:.0f} %), at or above the limit of "
          "{:.0f} and not below {:.0f} on any of the last {} samples",
          what, f.baseline, f.current,
          f.baseline > 0 ? (f.current - f.baseline) / f.baseline * 100 : 0.0,
          f.threshold, f.level, f.window_samples == 0 ? 1 : f.window_samples);
    }
    case AlertType::kHeapFragmentation:
      return fmt::format(
          "{:.1f} % of the heap is free but held ({} free, {} in use), at or "
          "above the {:.1f} % limit on each of the last {} samples, and not "
          "just after a peak",
          f.value, Bytes(f.current), Bytes(f.baseline), f.threshold,
          f.window_samples);
    case AlertType::kAllocatorPressure:
      return fmt::format(
          "the allocator takes {:.1f} % of CPU time (median of the last {} "
          "samples), at or above the {:.1f} % limit",
          f.value, f.window_samples, f.threshold);
    case AlertType::kObjectThreshold:
      return fmt::format(
          "{} reached {:.0f}, at or above the threshold of {:.0f}", f.metric,
          f.value, f.threshold);
  }
  return "unknown alert";
}

}  // namespace memmon
