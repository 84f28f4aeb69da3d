// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/detectors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "trend.h"

namespace memmon {
namespace {

using internal::kMaxTrendPoints;
using U64Field = std::optional<uint64_t> Sample::*;

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::optional<Finding> GrowthOf(const DetectionInput& in, U64Field field,
                                const char* metric) {
  const MonitorConfig& cfg = *in.config;
  if (in.baseline == nullptr || in.history.empty()) return std::nullopt;
  const std::optional<uint64_t>& base = in.baseline->*field;
  const std::optional<uint64_t>& cur = in.history.back().*field;
  if (!base || !cur || *base == 0 || *cur <= *base) return std::nullopt;

  double growth = static_cast<double>(*cur - *base);
  double pct = growth / static_cast<double>(*base) * 100.0;
  if (pct < cfg.alert_threshold_pct ||
      growth < static_cast<double>(cfg.growth_floor_bytes)) {
    return std::nullopt;
  }

  // The most recent samples that know the field, oldest first.
  std::size_t want = std::min(cfg.trend_window, kMaxTrendPoints);
  std::array<double, kMaxTrendPoints> x, y;
  std::size_t n = 0;
  auto t0 = in.history.back().monotonic;
  for (auto it = in.history.rbegin(); it != in.history.rend() && n < want;
       ++it) {
    const std::optional<uint64_t>& v = (*it).*field;
    if (!v) continue;
    x[n] = Seconds(it->monotonic - t0);
    y[n] = static_cast<double>(*v);
    ++n;
  }
  if (n < 4) return std::nullopt;
  std::reverse(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
  std::reverse(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n));
  std::span<const double> xs(x.data(), n), ys(y.data(), n);

  double slope = internal::TheilSenSlope(xs, ys);
  double confidence = internal::MannKendallRising(ys);
  if (slope <= 0 || confidence < 0.95) return std::nullopt;
  // A step leaves one half flat; a sustained rise lifts both.
  std::size_t half = n / 2;
  double first = internal::TheilSenSlope(xs.first(half), ys.first(half));
  double second = internal::TheilSenSlope(xs.last(half), ys.last(half));
  if (first < slope / 4 || second < slope / 4) return std::nullopt;

  Finding f;
  f.type = AlertType::kMemoryGrowth;
  f.value = pct;
  f.threshold = cfg.alert_threshold_pct;
  f.baseline = static_cast<double>(*base);
  f.current = static_cast<double>(*cur);
  f.slope_per_s = slope;
  f.window_s = xs.back() - xs.front();
  f.confidence = confidence;
  f.metric = metric;
  return f;
}

std::optional<Finding> CountGrowth(const DetectionInput& in, U64Field field,
                                   AlertType type, double pct,
                                   uint64_t floor, const char* metric) {
  if (in.baseline == nullptr || in.history.empty()) return std::nullopt;
  const std::optional<uint64_t>& base = in.baseline->*field;
  const std::optional<uint64_t>& cur = in.history.back().*field;
  if (!base || !cur) return std::nullopt;
  double b = static_cast<double>(*base);
  double limit = std::max(b * (1 + pct / 100.0), b + static_cast<double>(floor));
  if (static_cast<double>(*cur) < limit) return std::nullopt;
  Finding f;
  f.type = type;
  f.value = static_cast<double>(*cur);
  f.threshold = limit;
  f.baseline = b;
  f.current = static_cast<double>(*cur);
  f.metric = metric;
  return f;
}

std::string Bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = b < 0 ? -b : b;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{}{:.1f} {}", b < 0 ? "-" : "", v, units[u]);
}

}  // namespace

std::optional<Finding> DetectMemoryGrowth(const DetectionInput& in) {
  if (auto f = GrowthOf(in, &Sample::heap_inuse_bytes, "heap_inuse_bytes"))
    return f;
  return GrowthOf(in, &Sample::rss_bytes, "rss_bytes");
}

std::optional<Finding> DetectThreadLeak(const DetectionInput& in) {
  return CountGrowth(in, &Sample::threads, AlertType::kThreadLeak,
                     in.config->thread_growth_pct,
                     in.config->thread_growth_floor, "threads");
}

std::optional<Finding> DetectFdLeak(const DetectionInput& in) {
  return CountGrowth(in, &Sample::open_fds, AlertType::kFdLeak,
                     in.config->fd_growth_pct, in.config->fd_growth_floor,
                     "open_fds");
}

std::optional<Finding> DetectHeapFragmentation(const DetectionInput& in) {
  if (in.history.empty()) return std::nullopt;
  const Sample& s = in.history.back();
  if (!s.heap_inuse_bytes || !s.heap_free_bytes) return std::nullopt;
  double used = static_cast<double>(*s.heap_inuse_bytes);
  double free_bytes = static_cast<double>(*s.heap_free_bytes);
  if (used + free_bytes <= 0) return std::nullopt;
  double pct = free_bytes / (used + free_bytes) * 100.0;
  if (pct < in.config->fragmentation_pct ||
      *s.heap_free_bytes < in.config->fragmentation_floor_bytes) {
    return std::nullopt;
  }
  Finding f;
  f.type = AlertType::kHeapFragmentation;
  f.value = pct;
  f.threshold = in.config->fragmentation_pct;
  f.current = free_bytes;
  f.baseline = used;
  f.metric = "heap_free_bytes";
  return f;
}

std::optional<Finding> DetectAllocatorPressure(const DetectionInput& in) {
  if (in.history.empty()) return std::nullopt;
  const Sample& s = in.history.back();
  if (!s.allocator_cpu_fraction) return std::nullopt;
  double pct = *s.allocator_cpu_fraction * 100.0;
  if (pct < in.config->allocator_cpu_pct) return std::nullopt;
  Finding f;
  f.type = AlertType::kAllocatorPressure;
  f.value = pct;
  f.threshold = in.config->allocator_cpu_pct;
  f.current = pct;
  f.metric = "allocator_cpu_fraction";
  return f;
}

Detector DefaultDetector(AlertType type) {
  switch (type) {
    case AlertType::kMemoryGrowth: return DetectMemoryGrowth;
    case AlertType::kThreadLeak: return DetectThreadLeak;
    case AlertType::kFdLeak: return DetectFdLeak;
    case AlertType::kHeapFragmentation: return DetectHeapFragmentation;
    case AlertType::kAllocatorPressure: return DetectAllocatorPressure;
    case AlertType::kObjectThreshold: return nullptr;
  }
  return nullptr;
}

std::string Describe(const Finding& f) {
  switch (f.type) {
    case AlertType::kMemoryGrowth:
      return fmt::format(
          "{} grew {:.1f} % ({} -> {}), above the {:.1f} % threshold, rising "
          "steadily at {}/s over the last {:.0f} s (trend confidence {:.1f} %)",
          f.metric, f.value, Bytes(f.baseline), Bytes(f.current), f.threshold,
          Bytes(f.slope_per_s), f.window_s, f.confidence * 100);
    case AlertType::kThreadLeak:
    case AlertType::kFdLeak:
      return fmt::format(
          "{} grew from {:.0f} to {:.0f} (+{:.0f} %), at or above the limit of "
          "{:.0f}",
          f.type == AlertType::kThreadLeak ? "threads" : "open descriptors",
          f.baseline, f.current,
          f.baseline > 0 ? (f.current - f.baseline) / f.baseline * 100 : 0.0,
          f.threshold);
    case AlertType::kHeapFragmentation:
      return fmt::format(
          "{:.1f} % of the heap is free but held ({} free, {} in use), at or "
          "above the {:.1f} % limit",
          f.value, Bytes(f.current), Bytes(f.baseline), f.threshold);
    case AlertType::kAllocatorPressure:
      return fmt::format(
          "the allocator takes {:.1f} % of CPU time, at or above the {:.1f} % "
          "limit",
          f.value, f.threshold);
    case AlertType::kObjectThreshold:
      return fmt::format("{} reached {:.0f}, at or above the threshold of {:.0f}",
                         f.metric, f.value, f.threshold);
  }
  return "unknown alert";
}

}  // namespace memmon
