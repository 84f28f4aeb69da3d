// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/verdict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "base/format.h"
#include "detect/growth_internal.h"

namespace memmon::internal {
namespace {

// A large drop, as ClassifyGrowth's sawtooth test counts them.
constexpr double kDropSigmas = 6;
constexpr double kDropShareOfLevel = 0.005;
// A tooth's drop falls below the sample before its peak by this share of
// the drop (a spike falls back to where it came from), and the peak rose
// from that sample by at least kRiseIntoPeak of it (a burst held flat does
// not).
constexpr double kBelowPrePeak = 0.3;
constexpr double kRiseIntoPeak = 0.05;
constexpr int kMinTeeth = 2;
// Warm-up: the rise is over within this share of the series' span.
constexpr double kWarmUpShare = 0.2;
// "Clearly above": robust standard deviations, share of the level, and the
// first part of the series the start level is the lowest of.
constexpr double kRiseSigmas = 4;
constexpr double kRiseShareOfLevel = 0.01;
constexpr double kStartShare = 0.05;
constexpr double kMad = 1.4826;      // MAD to a normal standard deviation
constexpr double kMeanAbs = 1.2533;  // mean absolute deviation, likewise

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  double m = *mid;
  if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), mid)) / 2;
  return m;
}

// A robust standard deviation: 1.4826 x the median absolute deviation from
// the median; when that is 0 (a count that mostly repeats one value),
// 1.2533 x the mean absolute deviation. Plus, in quadrature, the rounding
// of a value measured in whole units of `quantum` (quantum^2 / 12), so a
// count toggling by one is noise, not a step.
double RobustSigma(std::span<const double> v, double quantum) {
  std::vector<double> copy(v.begin(), v.end());
  double m = Median(copy);
  double sum = 0;
  for (double& x : copy) {
    x = std::abs(x - m);
    sum += x;
  }
  double mad = Median(std::move(copy));
  double spread = mad > 0 || v.empty()
                      ? kMad * mad
                      : kMeanAbs * sum / static_cast<double>(v.size());
  return std::sqrt(spread * spread + quantum * quantum / 12);
}

int CountTeeth(std::span<const double> v, double quantum) {
  if (v.size() < 4) return 0;
  std::vector<double> d(v.size() - 1);
  for (std::size_t i = 0; i + 1 < v.size(); ++i) d[i] = v[i + 1] - v[i];
  // A difference of two rounded values: twice the rounding variance.
  double sigma = RobustSigma(d, quantum * std::sqrt(2.0));
  int teeth = 0;
  for (std::size_t j = 1; j + 1 < v.size(); ++j) {
    double drop = v[j] - v[j + 1];
    if (drop <= kDropSigmas * sigma || drop <= kDropShareOfLevel * v[j])
      continue;
    if (v[j - 1] - v[j + 1] > kBelowPrePeak * drop &&
        v[j] - v[j - 1] > kRiseIntoPeak * drop) {
      ++teeth;
    }
  }
  return teeth;
}

std::string Amount(double x, Unit unit) {
  return unit == Unit::kBytes ? HumanBytes(x) : fmt::format("{:.0f}", x);
}

std::string Rate(double per_s, Unit unit) {
  return unit == Unit::kBytes ? HumanBytes(per_s) + "/s"
                              : fmt::format("{:.2f}/min", per_s * 60);
}

}  // namespace

std::string_view ToString(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kUnknown:
      return "unknown";
    case VerdictKind::kFlat:
      return "flat";
    case VerdictKind::kWarmUp:
      return "warm-up";
    case VerdictKind::kBounded:
      return "bounded";
    case VerdictKind::kSawtooth:
      return "sawtooth";
    case VerdictKind::kLeak:
      return "leak";
  }
  return "unknown";
}

Verdict JudgeSeries(std::span<const double> times_s,
                    std::span<const double> values, Unit unit,
                    const GrowthOptions& options) {
  Verdict out;
  std::size_t n = std::min(times_s.size(), values.size());
  std::size_t needed = 2 * std::clamp<std::size_t>(options.min_points, 4, 64);
  if (n < needed) {
    out.reason =
        fmt::format("too short to judge: {} samples, {} needed", n, needed);
    return out;
  }
  times_s = times_s.first(n);
  values = values.first(n);

  // ClassifyGrowth judges at most kMaxGrowthSamples: thin longer series
  // evenly, ending at the last sample.
  std::vector<double> tt, vv;
  std::span<const double> t = times_s, v = values;
  if (n > kMaxGrowthSamples) {
    std::size_t stride = (n + kMaxGrowthSamples - 1) / kMaxGrowthSamples;
    for (std::size_t i = (n - 1) % stride; i < n; i += stride) {
      tt.push_back(times_s[i]);
      vv.push_back(values[i]);
    }
    t = tt;
    v = vv;
  }
  GrowthTrend trend = ClassifyGrowth(t, v, options);
  if (trend.kind == GrowthKind::kUnknown) {
    // Spikes or a count's ties can make every drop "large" and the
    // sawtooth blocks longer than the series allows; with hindsight, plain
    // blocks of n / 64 samples do.
    GrowthOptions plain = options;
    plain.block_samples = std::max<std::size_t>(1, (v.size() + 63) / 64);
    trend = ClassifyGrowth(t, v, plain);
  }
  if (trend.kind == GrowthKind::kUnknown) {
    out.reason = "the trend cannot be judged (a time or value is not finite)";
    return out;
  }
  double span_s = times_s.back() - times_s.front();

  if (trend.kind == GrowthKind::kUnbounded) {
    out.kind = VerdictKind::kLeak;
    out.reason = fmt::format(
        "rising steadily at {} (at least {}) over the last {}, to {}",
        Rate(trend.slope_per_s, unit), Rate(trend.slope_lower_per_s, unit),
        HumanDuration(trend.window_s), Amount(trend.level, unit));
    return out;
  }

  double peak = *std::max_element(values.begin(), values.end());
  // Counts are whole numbers: their rounding is noise too.
  double quantum = unit == Unit::kCount ? 1 : 0;
  if (int teeth = CountTeeth(values, quantum); teeth >= kMinTeeth) {
    out.kind = VerdictKind::kSawtooth;
    out.reason = fmt::format(
        "{} drops back to a floor of about {}, peaks up to {}; the floor is "
        "not rising",
        teeth, Amount(trend.level, unit), Amount(peak, unit));
    return out;
  }

  std::size_t start_n =
      std::max<std::size_t>(3, static_cast<std::size_t>(kStartShare * n));
  std::vector<double> first(
      values.begin(), values.begin() + static_cast<std::ptrdiff_t>(start_n));
  auto low = first.begin() + static_cast<std::ptrdiff_t>(start_n / 10);
  std::nth_element(first.begin(), low, first.end());
  double start = *low;
  std::span<const double> last_half = values.subspan(n / 2);
  double end = Median({last_half.begin(), last_half.end()});
  double rise = end - start;
  double sigma = RobustSigma(last_half, quantum);
  bool clearly =
      rise > kRiseSigmas * sigma && rise > kRiseShareOfLevel * std::abs(end);
  if (!clearly) {
    out.kind = VerdictKind::kFlat;
    out.reason = fmt::format(
        "no lasting rise: {} at the start, {} over the last half (peak {})",
        Amount(start, unit), Amount(end, unit), Amount(peak, unit));
    return out;
  }
  // When the rise was over: after the last sample below half of it.
  double half = start + rise / 2;
  std::size_t over = 0;
  for (std::size_t i = n; i-- > 0;) {
    if (values[i] < half) {
      over = std::min(i + 1, n - 1);
      break;
    }
  }
  double over_s = times_s[over] - times_s.front();
  if (rise > 0 && span_s > 0 && over_s <= kWarmUpShare * span_s) {
    out.kind = VerdictKind::kWarmUp;
    out.reason = fmt::format(
        "rose from {} to {} in the first {} ({:.0f} % of the series), flat "
        "since",
        Amount(start, unit), Amount(end, unit), HumanDuration(over_s),
        over_s / span_s * 100);
    return out;
  }
  out.kind = VerdictKind::kBounded;
  out.reason = fmt::format(
      "rose from {} to {} (half of it by {} into the series) and is not "
      "rising now",
      Amount(start, unit), Amount(end, unit), HumanDuration(over_s));
  return out;
}

std::vector<QuantityVerdict> JudgeRecording(const SamplesCsv& csv,
                                            const MonitorConfig& config) {
  GrowthOptions options = TrendOptions(config);
  std::size_t needed = 2 * std::clamp<std::size_t>(options.min_points, 4, 64);
  using U64Field = std::optional<uint64_t> Sample::*;
  auto series = [&](U64Field field, std::vector<double>* t,
                    std::vector<double>* v) {
    for (const TimedSample& ts : csv.samples) {
      if (!(ts.sample.*field)) continue;
      t->push_back(ts.time_s);
      v->push_back(static_cast<double>(*(ts.sample.*field)));
    }
  };
  struct Quantity {
    const char* column;
    U64Field field;
    Unit unit;
  };
  std::vector<QuantityVerdict> out;
  auto judge = [&](const Quantity& q) {
    QuantityVerdict qv;
    qv.quantity = q.column;
    if (!csv.Has(q.column)) {
      qv.verdict.reason = fmt::format("no {} column", q.column);
    } else {
      std::vector<double> t, v;
      series(q.field, &t, &v);
      qv.verdict = JudgeSeries(t, v, q.unit, options);
    }
    out.push_back(std::move(qv));
  };
  // Memory as memory_growth judges it: heap in use, RSS without it.
  Quantity heap{"heap_inuse_bytes", &Sample::heap_inuse_bytes, Unit::kBytes};
  Quantity rss{"rss_bytes", &Sample::rss_bytes, Unit::kBytes};
  std::size_t heap_known = 0;
  if (csv.Has(heap.column)) {
    for (const TimedSample& ts : csv.samples)
      heap_known += ts.sample.heap_inuse_bytes.has_value();
  }
  judge(heap_known >= needed || !csv.Has(rss.column) ? heap : rss);
  judge({"threads", &Sample::threads, Unit::kCount});
  judge({"fds", &Sample::open_fds, Unit::kCount});
  return out;
}

}  // namespace memmon::internal
