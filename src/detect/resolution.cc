// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/resolution.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string_view>

#include "base/format.h"
#include "detect/growth_internal.h"
#include "memmon/growth.h"

namespace memmon::internal {
namespace {

using U64Field = std::optional<uint64_t> Sample::*;

// A quantity's known values since the baseline (the last kMaxGrowthSamples),
// times relative to the current sample, with its last value and peak.
struct Series {
  std::array<double, kMaxGrowthSamples> t, v;
  std::size_t n = 0;
  double last = 0;
  double peak = 0;
};

void Collect(const DetectionInput& in, U64Field field, Series* s) {
  std::span<const Sample> h =
      in.history.last(std::min(in.history.size(), kMaxGrowthSamples));
  auto now = in.history.back().monotonic;
  s->n = 0;
  for (const Sample& x : h) {
    const std::optional<uint64_t>& v = x.*field;
    if (!v) continue;
    s->t[s->n] = std::chrono::duration<double>(x.monotonic - now).count();
    s->v[s->n] = static_cast<double>(*v);
    s->peak = s->n == 0 ? s->v[s->n] : std::max(s->peak, s->v[s->n]);
    s->last = s->v[s->n];
    ++s->n;
  }
}

GrowthTrend Trend(const DetectionInput& in, const Series& s) {
  return ClassifyGrowth({s.t.data(), s.n}, {s.v.data(), s.n},
                        TrendOptions(*in.config));
}

// The samples the detectors' hold looks at, `holds` holds back from now,
// oldest first.
std::span<const Sample> HoldWindow(const DetectionInput& in,
                                   std::size_t holds) {
  return SamplesWithin(in, static_cast<int64_t>(holds) * in.config->hold)
      .samples;
}

std::string HoldText(const MonitorConfig& c) {
  return HumanDuration(std::chrono::duration<double>(c.hold).count());
}

std::string Horizon(const MonitorConfig& c) {
  return HumanDuration(
      std::chrono::duration<double>(c.growth_projection_horizon).count());
}

// Why a trend rule's condition ended, in words, from how ClassifyGrowth
// sees the series now (the end of a "stopped rising at X" message).
std::string WhyEnded(GrowthKind kind) {
  switch (kind) {
    case GrowthKind::kBounded:
      return "it rose, then levelled off (bounded: no longer rising "
             "steadily)";
    case GrowthKind::kFlat:
      return "no lasting rise over the samples judged (flat)";
    case GrowthKind::kUnknown:
      return "too few points to judge a trend (samples since the baseline, "
             "or the troughs of a sawtooth with long teeth)";
    case GrowthKind::kUnbounded:
      return "its floor still rises, but the rule no longer holds (memory "
             "that came back and is refilling, or a rise no longer than a "
             "burst)";
  }
  return "the condition no longer holds";
}

Resolution MemoryGrowth(const Finding& opened, const DetectionInput& in) {
  std::string_view metric = opened.metric;
  U64Field field =
      metric == "rss_bytes" ? &Sample::rss_bytes : &Sample::heap_inuse_bytes;
  if (metric != "rss_bytes") metric = "heap_inuse_bytes";
  Resolution r;
  r.threshold = opened.threshold;
  Series s;
  Collect(in, field, &s);
  if (s.n == 0) {
    r.message = fmt::format("{} is no longer known", metric);
    return r;
  }
  double b = opened.baseline, limit = opened.limit;
  r.value = b > 0 ? (s.last - b) / b * 100.0 : 0;
  GrowthTrend trend = Trend(in, s);
  if (trend.kind == GrowthKind::kUnbounded && s.last < limit) {
    r.message = fmt::format(
        "{} is still rising, at least {}/s, but at {} is no longer projected "
        "to reach the limit of {} within {}",
        metric, HumanBytes(trend.slope_lower_per_s), HumanBytes(s.last),
        HumanBytes(limit), Horizon(*in.config));
  } else if (s.last < limit && s.peak >= limit) {
    r.message = fmt::format(
        "{} came back to {} ({:+.1f} % against the baseline {}), below the "
        "limit of {}, from a peak of {}",
        metric, HumanBytes(s.last), r.value, HumanBytes(b), HumanBytes(limit),
        HumanBytes(s.peak));
  } else {
    r.message = fmt::format(
        "{} stopped rising at {} ({:+.1f} % against the baseline {}), {} the "
        "limit of {}: {}",
        metric, HumanBytes(s.last), r.value, HumanBytes(b),
        s.last < limit ? "below" : "above", HumanBytes(limit),
        WhyEnded(trend.kind));
  }
  return r;
}

Resolution CountLeak(const Finding& opened, const DetectionInput& in,
                     U64Field field, std::string_view what) {
  Resolution r;
  r.threshold = opened.limit;
  Series s;
  Collect(in, field, &s);
  if (s.n == 0) {
    r.message = fmt::format("{} are no longer known", what);
    return r;
  }
  double limit = opened.limit;
  r.value = s.last;
  GrowthTrend trend = Trend(in, s);
  if (s.last < limit && s.peak >= limit) {
    // First: a count that came back below the limit has returned, whatever
    // the fitted trend over a window that still holds its rise says.
    r.message = fmt::format(
        "{} returned to {:.0f}, below the limit of {:.0f} (baseline {:.0f}, "
        "peak {:.0f})",
        what, s.last, limit, opened.baseline, s.peak);
  } else if (s.last < limit && trend.kind == GrowthKind::kUnbounded) {
    r.message = fmt::format(
        "{} are still rising, at least {:.2f}/min, but at {:.0f} are no "
        "longer projected to reach the limit of {:.0f} within {}",
        what, trend.slope_lower_per_s * 60, s.last, limit, Horizon(*in.config));
  } else if (s.last < limit) {
    r.message = fmt::format(
        "{} stopped rising at {:.0f}, below the limit of {:.0f} (baseline "
        "{:.0f}): {}",
        what, s.last, limit, opened.baseline, WhyEnded(trend.kind));
  } else {
    // thread_leak and fd_leak judge a trend: a count that stays high but no
    // longer rises is a level, not a leak in progress.
    r.message = fmt::format(
        "{} stopped rising at {:.0f}, at or above the limit of {:.0f} "
        "(baseline {:.0f}): {}",
        what, s.last, limit, opened.baseline, WhyEnded(trend.kind));
  }
  return r;
}

Resolution Fragmentation(const DetectionInput& in) {
  const MonitorConfig& cfg = *in.config;
  Resolution r;
  r.threshold = cfg.fragmentation_pct;
  double used = 0, free_bytes = 0, peak = 0;
  bool known = false;
  std::span<const Sample> look = HoldWindow(in, 2);
  for (auto it = look.rbegin(); it != look.rend(); ++it) {
    if (!it->heap_inuse_bytes || !it->heap_free_bytes) continue;
    double u = static_cast<double>(*it->heap_inuse_bytes);
    if (!known) {
      used = u;
      free_bytes = static_cast<double>(*it->heap_free_bytes);
      known = true;
    }
    peak = std::max(peak, u);
  }
  if (!known) {
    r.message = "the heap's free-but-held bytes are no longer known";
    return r;
  }
  double share =
      used + free_bytes > 0 ? free_bytes / (used + free_bytes) * 100 : 0;
  r.value = share;
  if (share < cfg.fragmentation_pct) {
    r.message = fmt::format(
        "the free-but-held share of the heap fell to {:.1f} % ({} free, {} "
        "in use), below the {:.1f} % limit",
        share, HumanBytes(free_bytes), HumanBytes(used), cfg.fragmentation_pct);
  } else if (free_bytes < static_cast<double>(cfg.fragmentation_floor_bytes)) {
    r.message = fmt::format(
        "free-but-held bytes fell to {}, below the floor of {} ({:.1f} % of "
        "the heap)",
        HumanBytes(free_bytes),
        HumanBytes(static_cast<double>(cfg.fragmentation_floor_bytes)), share);
  } else if (used < kOffPeakShare * peak) {
    r.message = fmt::format(
        "{:.1f} % of the heap is free but held just after a peak: {} in use, "
        "down from {} (the freed memory is normally reused or returned)",
        share, HumanBytes(used), HumanBytes(peak));
  } else {
    r.message = fmt::format(
        "{:.1f} % of the heap is free but held ({}), but it fell below the "
        "limits within the last {}",
        share, HumanBytes(free_bytes), HoldText(cfg));
  }
  return r;
}

Resolution AllocatorPressure(const DetectionInput& in) {
  const MonitorConfig& cfg = *in.config;
  Resolution r;
  r.threshold = cfg.allocator_cpu_pct;
  std::size_t n = 0;
  double median = MedianAllocatorSharePct(HoldWindow(in, 1), &n);
  if (n == 0) {
    r.message = "the allocator's CPU share is no longer measured";
    return r;
  }
  r.value = median;
  r.message = fmt::format(
      "the allocator's CPU share fell to {:.1f} % (median over the last {}), "
      "below the {:.1f} % limit",
      median, HoldText(cfg), cfg.allocator_cpu_pct);
  return r;
}

// oom_risk: why the kill is no longer near. `value` is the projected time
// now (seconds; 0 when not rising), against the horizon.
Resolution OomRisk(const Finding& opened, const DetectionInput& in) {
  Resolution r;
  r.threshold = opened.threshold;
  const Sample& now = in.history.back();
  if (!now.memory_limit_bytes || !now.memory_limit_usage_bytes) {
    r.message = "the memory limit or its usage is no longer known";
    return r;
  }
  double limit = static_cast<double>(*now.memory_limit_bytes);
  double usage = static_cast<double>(*now.memory_limit_usage_bytes);
  Series s;
  Collect(in, &Sample::memory_limit_usage_bytes, &s);
  GrowthTrend trend = Trend(in, s);
  if (limit > opened.limit) {
    r.message = fmt::format("the limit was raised from {} to {}; usage is {}",
                            HumanBytes(opened.limit), HumanBytes(limit),
                            HumanBytes(usage));
  } else if (trend.kind == GrowthKind::kUnbounded && trend.slope_per_s > 0) {
    r.value = std::max(0.0, limit - usage) / trend.slope_per_s;
    r.message = fmt::format(
        "usage ({} of {}) still rises, at {}/s, but is no longer projected to "
        "reach the limit within {}",
        HumanBytes(usage), HumanBytes(limit), HumanBytes(trend.slope_per_s),
        HumanDuration(r.threshold));
  } else {
    r.message = fmt::format(
        "usage stopped rising at {} of the {} limit ({} left): {}",
        HumanBytes(usage), HumanBytes(limit),
        HumanBytes(std::max(0.0, limit - usage)), WhyEnded(trend.kind));
  }
  return r;
}

}  // namespace

Resolution Resolve(const Finding& opened, const DetectionInput& in) {
  if (in.history.empty() || in.config == nullptr) {
    return {opened.value, opened.threshold, "no samples to judge"};
  }
  switch (opened.type) {
    case AlertType::kMemoryGrowth:
      return MemoryGrowth(opened, in);
    case AlertType::kThreadLeak:
      return CountLeak(opened, in, &Sample::threads, "threads");
    case AlertType::kFdLeak:
      return CountLeak(opened, in, &Sample::open_fds, "open descriptors");
    case AlertType::kHeapFragmentation:
      return Fragmentation(in);
    case AlertType::kAllocatorPressure:
      return AllocatorPressure(in);
    case AlertType::kOomRisk:
      return OomRisk(opened, in);
    case AlertType::kObjectThreshold:
      break;
  }
  return {opened.value, opened.threshold, "the condition no longer holds"};
}

}  // namespace memmon::internal
