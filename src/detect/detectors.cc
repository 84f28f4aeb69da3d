// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "memmon/detectors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>

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
// An early warning projects a trend at most this many times the span it was
// measured over (and never past growth_projection_horizon): a day from an
// hour, not from seconds.
constexpr double kProjectionReach = 24.0;
// An early warning is judged again with the noise's serial correlation
// estimated over all the samples judged (NoiseCorrelation), not only the
// window's: a short window's estimate runs low under strongly correlated
// noise (true 0.8: 0.3-0.6 in the windows that raised the false alarms),
// and a wander then passes for a rise. The estimate's small-sample bias is
// corrected by this many times (1 + 4 r) / n per segment (simulated: the
// lag-1 autocorrelation of OLS residuals of n = 25-100 AR(1) samples runs
// 1.3-1.8 times that low).
constexpr double kResidualBiasCorrection = 1.5;
// ...and only once the level has covered this share of the way from the
// baseline to the limit: a wander of a percent or two under correlated
// noise is not evidence enough to page on (docs/detection.md, evaluation).
constexpr double kEarlyProgress = 0.1;
// A refill: after a large drop, a rise back up to the level before it, plus
// this share of the drop, is the same cycle again (a cache refilling, a
// burst of threads recurring), not growth.
constexpr double kRefillMargin = 0.25;
// memory_growth: the rise (the fitted level now less the level at the
// start of the longest steady window, or of the reported one) must be at
// least this share of the growth over the baseline. A step with a wander
// of the noise after it is not a leak; a leak after a step alerts once it
// has added a third of the step. A half split accelerating_leak_30s's
// episode (its surest window is recent and short); a quarter keeps it.
constexpr double kExplainedShare = 0.25;
// thread_leak, fd_leak: a burst of threads or descriptors lasts up to this
// many samples, or this long, whichever is more (the 30 samples;
// 6 s so that a burst of 5 s is the same burst at 100 ms as at 1 s). A
// count that ramps up over a burst's length looks like a steep staircase
// until it returns, so a rise counts only once it has lasted longer.
constexpr std::size_t kBurstSamples = 30;
constexpr double kBurstSeconds = 6.0;
// ...but never more than this many samples: 6 s at 100 ms, the fastest
// interval the rules are made for. Faster sampling (a test taking samples
// back to back) would otherwise wait 6 s for any count to count.
constexpr std::size_t kBurstMaxSamples = 60;
// ...and the level it rose from is this low quantile of the count over the
// samples since the baseline before the burst window, not its minimum: one
// sample that dipped does not make a burst look like a lasting rise.
constexpr double kRoseFromQuantile = 0.05;

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The series of `field` over the samples since the baseline, oldest first,
// times relative to the current sample (<= 0). CollectValues fills n and
// v; CollectTimes, t (only needed when the pre-check passes).
struct Series {
  std::array<double, kMaxGrowthSamples> t, v;
  std::size_t n = 0;
  std::size_t skipped = 0;  // known values left out before v[0]
  std::span<const double> times() const { return {t.data(), n}; }
  std::span<const double> values() const { return {v.data(), n}; }
};

std::span<const Sample> Recent(const DetectionInput& in) {
  return in.history.last(std::min(in.history.size(), kMaxGrowthSamples));
}

// Every known value of `field` in the retained samples (before the baseline
// too), oldest first, at most the last kMaxGrowthSamples: where the refill
// rule looks for drops.
std::size_t AllValues(const DetectionInput& in, U64Field field,
                      std::array<double, kMaxGrowthSamples>* out) {
  std::size_t skip = 0;
  std::size_t total = in.earlier.size() + in.history.size();
  if (total > kMaxGrowthSamples) skip = total - kMaxGrowthSamples;
  std::size_t n = 0;
  for (std::span<const Sample> part : {in.earlier, in.history}) {
    for (const Sample& x : part) {
      if (skip > 0) {
        --skip;
        continue;
      }
      if (const std::optional<uint64_t>& v = x.*field) {
        (*out)[n++] = static_cast<double>(*v);
      }
    }
  }
  return n;
}

// A refill, not growth: the series judged (`judged`, since the baseline)
// shows fewer than two large drops -- with two or more, ClassifyGrowth
// judged the troughs of a sawtooth, and its answer stands -- but the series
// since the baseline has one, and the level now is no higher than the
// highest value before the last drop plus kRefillMargin of the fall after
// it. A cache refilling after a flush, the second tooth of a sawtooth whose
// period is too long to see two (its first drop may come before the
// baseline: the samples before it count), a burst of threads recurring.
bool IsRefill(const DetectionInput& in, U64Field field,
              std::span<const double> judged, double level) {
  if (internal::FindLargeDrops(judged).count >= 2) return false;
  std::array<double, kMaxGrowthSamples> all;
  std::span<const double> v(all.data(), AllValues(in, field, &all));
  internal::LargeDrops drops = internal::FindLargeDrops(v);
  if (drops.count == 0) return false;
  double before = *std::max_element(v.begin(), v.begin() + drops.last);
  double after = *std::min_element(v.begin() + drops.last, v.end());
  return level <= before + kRefillMargin * (before - after);
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
  std::size_t k = 0, skip = s->skipped;
  for (const Sample& x : Recent(in)) {
    if (!(x.*field)) continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    s->t[k++] = Seconds(x.monotonic - now);
  }
}

// A level shift (a config reload, a cache sized up once) is a change of
// level, not a slope: when the series since the baseline rose in exactly
// one large step (internal::FindLargeRises: a rise that large is not the
// noise's, nor one of a leak's many), only the samples after it are
// judged for a trend. With the step inside the judged window, Mann-Kendall
// counts every pair across it as a rise, and a wander of correlated noise
// on either side is then enough for the split test (which allows one step
// at kWithinConfidence only) -- the false alarms of docs/detection.md's
// "Known limits" before this rule. Two or more large rises are repeated
// increases, judged whole as before; so is a series without any.
void SkipToLastStep(Series* s) {
  internal::LargeDrops rises = internal::FindLargeRises(s->values());
  if (rises.count != 1) return;
  std::size_t from = rises.last;
  std::copy(s->v.begin() + static_cast<std::ptrdiff_t>(from),
            s->v.begin() + static_cast<std::ptrdiff_t>(s->n), s->v.begin());
  s->n -= from;
  s->skipped = from;
}

// ClassifyGrowth over `field`'s series when it is kUnbounded, else
// nullopt. The pre-check (internal::MayRiseSteadily, on the values alone)
// settles the usual case, a series that does not rise, at a small part of
// the cost; internal::UnboundedTrend works out the rest.
std::optional<GrowthTrend> UnboundedTrendOf(const DetectionInput& in,
                                            internal::TrendCache* cache,
                                            U64Field field, Series* s,
                                            bool after_step = false,
                                            double* longest_rise = nullptr) {
  GrowthOptions options = internal::TrendOptions(*in.config);
  CollectValues(in, field, s);
  if (after_step) SkipToLastStep(s);
  if (!internal::MayRiseSteadily(s->values(), options, cache)) {
    return std::nullopt;
  }
  CollectTimes(in, field, s);
  return internal::UnboundedTrend(s->times(), s->values(), options, cache,
                                  longest_rise);
}

// The lag-1 autocorrelation of `y`'s residuals around its least-squares
// line, added to *num and *den (pooled over segments); *segments and
// *points count what was added. Segments of fewer than 4 samples add
// nothing.
void AddResidualCorrelation(std::span<const double> y, double* num, double* den,
                            std::size_t* segments, std::size_t* points) {
  std::size_t n = y.size();
  if (n < 4) return;
  double mx = (static_cast<double>(n) - 1) / 2, my = 0;
  for (double v : y) my += v;
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double dx = static_cast<double>(i) - mx;
    sxy += dx * (y[i] - my);
    sxx += dx * dx;
  }
  double slope = sxy / sxx;
  double prev = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double e = y[i] - my - slope * (static_cast<double>(i) - mx);
    *den += e * e;
    if (i > 0) *num += prev * e;
    prev = e;
  }
  ++*segments;
  *points += n;
}

// The lag-1 autocorrelation of the noise of `s` (the samples judged),
// for an early warning whose window is its last `window` samples: the
// residuals around a line fitted to the window and another fitted to the
// samples before it, pooled (a leak that started late is two lines, not
// correlated noise), bias-corrected (kResidualBiasCorrection), in [0, 0.9].
// From levels, not differences: under strong correlation the differences
// are nearly independent and say little (docs/detection.md). 0 when the
// samples show a large drop: a sawtooth's teeth would pass for correlation.
double NoiseCorrelation(const Series& s, std::size_t window) {
  if (window > s.n) return 0;
  std::span<const double> v = s.values();
  // A sawtooth's teeth are not noise (its floor blocks hold a trough each).
  if (internal::FindLargeDrops(v).count > 0) return 0;
  double num = 0, den = 0;
  std::size_t segments = 0, points = 0;
  AddResidualCorrelation(v.first(s.n - window), &num, &den, &segments, &points);
  AddResidualCorrelation(v.last(window), &num, &den, &segments, &points);
  if (!(den > 0)) return 0;
  double r = num / den;
  // Only a correlation the samples show at about 97.5 % (white noise's
  // estimate has a standard error of 1 / sqrt(n)): white noise's chance
  // positive estimate would only make its leaks' warnings later.
  if (r <= 2 / std::sqrt(static_cast<double>(points))) return 0;
  r += kResidualBiasCorrection * (1 + 4 * r) * static_cast<double>(segments) /
       static_cast<double>(points);
  return std::min(r, 0.9);
}

}  // namespace

namespace {

using ChunkVector = std::array<double, internal::NoiseCorrelationTrack::kChunk>;

// The orthonormal basis of the polynomials of degree 2 over a chunk's
// sample indices (Gram-Schmidt on 1, i, i^2): a chunk's residuals are what
// is left of it after its projection on them.
constexpr std::size_t kChunkDegree = 2;
using ChunkBasis = std::array<ChunkVector, kChunkDegree + 1>;
ChunkBasis MakeChunkBasis() {
  constexpr std::size_t n = internal::NoiseCorrelationTrack::kChunk;
  ChunkBasis u;
  const double mid = (static_cast<double>(n) - 1) / 2;
  for (std::size_t k = 0; k <= kChunkDegree; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      u[k][i] = std::pow(static_cast<double>(i) - mid, static_cast<double>(k));
    }
    for (std::size_t l = 0; l < k; ++l) {
      double p = 0;
      for (std::size_t i = 0; i < n; ++i) p += u[l][i] * u[k][i];
      for (std::size_t i = 0; i < n; ++i) u[k][i] -= p * u[l][i];
    }
    double norm = 0;
    for (double x : u[k]) norm += x * x;
    for (double& x : u[k]) x /= std::sqrt(norm);
  }
  return u;
}

double Dot(const ChunkVector& a, const ChunkVector& b) {
  double x = 0;
  for (std::size_t i = 0; i < a.size(); ++i) x += a[i] * b[i];
  return x;
}

// What the sums of one chunk's residuals converge to, in expectation, for
// AR(1) noise with coefficient rho and unit variance: the lag-1 sum of
// products (`products`) and the sum of squares (`squares`). With M the
// residual projection (I - sum_k u_k u_k'), A the lag-1 pairing (1/2
// beside the diagonal) and S the noise's correlation matrix (rho^|i-j|):
// tr(M A M S) and tr(M S).
struct ChunkExpectation {
  double products = 0, squares = 0;
};
ChunkExpectation ExpectedChunkSums(const ChunkBasis& u, double rho) {
  constexpr std::size_t n = internal::NoiseCorrelationTrack::kChunk;
  ChunkBasis su{}, au{};  // S u_k and A u_k
  for (std::size_t k = 0; k <= kChunkDegree; ++k) {
    for (std::size_t i = 0; i < n; ++i) {
      double p = 1;  // rho^d, d walking away from i both ways
      su[k][i] = u[k][i];
      for (std::size_t d = 1; d < n; ++d) {
        p *= rho;
        if (i >= d) su[k][i] += p * u[k][i - d];
        if (i + d < n) su[k][i] += p * u[k][i + d];
      }
      au[k][i] =
          ((i > 0 ? u[k][i - 1] : 0) + (i + 1 < n ? u[k][i + 1] : 0)) / 2;
    }
  }
  // tr(M S) = tr(S) - sum_k u_k' S u_k; tr(M A M S) = tr(A S) -
  // 2 sum_k u_k' A S u_k + sum_kl (u_k' A u_l)(u_l' S u_k).
  ChunkExpectation e;
  e.squares = static_cast<double>(n);
  e.products = (static_cast<double>(n) - 1) * rho;
  for (std::size_t k = 0; k <= kChunkDegree; ++k) {
    e.squares -= Dot(u[k], su[k]);
    e.products -= 2 * Dot(au[k], su[k]);
    for (std::size_t l = 0; l <= kChunkDegree; ++l) {
      e.products += Dot(u[k], au[l]) * Dot(u[l], su[k]);
    }
  }
  return e;
}

// The basis, and ExpectedChunkSums at rho = 0, 0.01, ..., 0.97 (the ratio
// products / squares increases with rho), computed on first use.
constexpr std::size_t kExpectedSteps = 98;
constexpr double kMaxNoiseRho = 0.95;
struct ChunkTables {
  ChunkBasis basis;
  std::array<ChunkExpectation, kExpectedSteps> expected;
};
const ChunkTables& Tables() {
  static const ChunkTables tables = [] {
    ChunkTables t;
    t.basis = MakeChunkBasis();
    for (std::size_t i = 0; i < kExpectedSteps; ++i) {
      t.expected[i] = ExpectedChunkSums(t.basis, static_cast<double>(i) / 100);
    }
    return t;
  }();
  return tables;
}

// A chunk weighs in the pool at most this many times the median sum of
// squares of the chunks pooled: a chunk whose residuals are far larger
// than the others' holds a shape (the kink where a leak starts, a warm-up's
// bend), not the noise, and would set the estimate alone.
constexpr double kChunkWeightCap = 4.0;

// The noise's rho as the early warnings take it is its one-sided 95 %
// upper confidence bound (NoiseEstimate::rho_upper): a few hundred samples
// of strongly correlated noise hold few independent values, the estimate
// from them can run far low (0.53 for a true 0.8 after 275 samples, in one
// realisation of forty), and that realisation's wander then passes for a
// rise. The bound is that wide while the chunks are few and disagree, and
// narrows as they accumulate.
constexpr double kUpperZ = 1.645;

}  // namespace

void internal::NoiseCorrelationTrack::Add(double value) {
  chunk_[n_++] = value;
  if (n_ < kChunk) return;
  n_ = 0;
  std::span<const double> y(chunk_.data(), kChunk);
  // A sawtooth's flush or a step would pass for correlation.
  if (internal::FindLargeDrops(y).count > 0 ||
      internal::FindLargeRises(y).count > 0) {
    return;
  }
  const ChunkTables& t = Tables();
  // The residuals around the chunk's quadratic (a leak, accelerating or
  // not, is a shape, not correlated noise), from the first value (for
  // precision at large levels).
  ChunkVector e;
  for (std::size_t i = 0; i < kChunk; ++i) e[i] = chunk_[i] - chunk_[0];
  for (const ChunkVector& u : t.basis) {
    double p = Dot(u, e);
    for (std::size_t i = 0; i < kChunk; ++i) e[i] -= p * u[i];
  }
  double num = 0, den = 0;
  for (std::size_t i = 0; i < kChunk; ++i) {
    den += e[i] * e[i];
    if (i > 0) num += e[i - 1] * e[i];
  }
  if (!(den > 0)) return;  // no noise
  std::size_t slot = counted_ % kMemory;
  products_[slot] = num;
  squares_[slot] = den;
  ++counted_;
  // The last kMemory chunks pooled, each weighing at most kChunkWeightCap
  // times the median's sum of squares.
  const std::size_t k = std::min(counted_, kMemory);
  std::array<double, kMemory> sorted;
  std::copy(squares_.begin(), squares_.begin() + static_cast<std::ptrdiff_t>(k),
            sorted.begin());
  auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(k / 2);
  std::nth_element(sorted.begin(), mid,
                   sorted.begin() + static_cast<std::ptrdiff_t>(k));
  const double cap = kChunkWeightCap * *mid;
  double products = 0, squares = 0, weights = 0;
  for (std::size_t c = 0; c < k; ++c) {
    double w = squares_[c] > cap ? cap / squares_[c] : 1;
    products += w * products_[c];
    squares += w * squares_[c];
    weights += w;
  }
  // Mapped back through the expectations: the rho whose products / squares
  // is the pooled ratio (interpolated), and the variance whose squares are
  // the pooled ones at that rho.
  const std::array<ChunkExpectation, kExpectedSteps>& x = t.expected;
  auto ratio = [&x](std::size_t i) { return x[i].products / x[i].squares; };
  auto index = [&](double r) {
    double at = 0;  // the table's index, fractional
    if (r >= ratio(kExpectedSteps - 1)) {
      at = static_cast<double>(kExpectedSteps - 1);
    } else if (r > ratio(0)) {
      std::size_t i = 1;
      while (ratio(i) <= r) ++i;  // ratio(i - 1) <= r < ratio(i)
      at = static_cast<double>(i - 1) +
           (r - ratio(i - 1)) / (ratio(i) - ratio(i - 1));
    }
    return at;
  };
  double r = products / squares;
  double at = index(r);
  double rho = std::min(at / 100, kMaxNoiseRho);
  // Only a correlation the samples show at about 97.5 %.
  if (rho <= 2 / std::sqrt(static_cast<double>(k * kChunk))) rho = 0;
  // Its upper confidence bound: the pooled ratio plus kUpperZ standard
  // errors of the mean of the chunks' own ratios (their spread says how
  // far a few chunks can be from the truth), mapped back the same way.
  double upper = rho;
  if (rho > 0 && k >= 2) {
    double mean = 0, m2 = 0;
    for (std::size_t c = 0; c < k; ++c) mean += products_[c] / squares_[c];
    mean /= static_cast<double>(k);
    for (std::size_t c = 0; c < k; ++c) {
      double d = products_[c] / squares_[c] - mean;
      m2 += d * d;
    }
    const double n = static_cast<double>(k);
    double se = std::sqrt(m2 / (n - 1) / n);
    upper =
        std::max(rho, std::min(index(r + kUpperZ * se) / 100, kMaxNoiseRho));
  }
  estimate_.rho_upper = upper;
  at = rho * 100;
  std::size_t i = std::min(static_cast<std::size_t>(at), kExpectedSteps - 2);
  double expected = x[i].squares + (at - static_cast<double>(i)) *
                                       (x[i + 1].squares - x[i].squares);
  estimate_.rho = rho;
  estimate_.sd = std::sqrt(squares / weights / expected);
}

namespace {

// Fills the trend part of `f` from `trend`.
void SetTrend(const GrowthTrend& trend, Finding* f) {
  f->slope_per_s = trend.slope_per_s;
  f->slope_lower_per_s = trend.slope_lower_per_s;
  f->window_s = trend.window_s;
  f->window_samples = trend.window_samples;
  f->confidence = trend.confidence;
  f->level = trend.level;
}

// Whether `trend` (below `limit`) is certain enough, far enough along and
// fast enough to warn now; sets the time it needs.
bool ProjectedToPass(const GrowthTrend& trend, double base, double limit,
                     const MonitorConfig& cfg, double* time_to_limit_s) {
  double horizon = Seconds(cfg.growth_projection_horizon);
  if (horizon <= 0 || trend.kind != GrowthKind::kUnbounded ||
      trend.confidence < kEarlyConfidence || trend.slope_lower_per_s <= 0 ||
      trend.level - base < kEarlyProgress * (limit - base)) {
    return false;
  }
  *time_to_limit_s = (limit - trend.level) / trend.slope_lower_per_s;
  return *time_to_limit_s <=
         std::min(horizon, kProjectionReach * trend.window_s);
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
  double longest_rise = 0;
  std::optional<GrowthTrend> unbounded = UnboundedTrendOf(
      in, cache, field, &s, /*after_step=*/true, &longest_rise);
  if (!unbounded) return std::nullopt;
  if (IsRefill(in, field, s.values(), unbounded->level)) return std::nullopt;

  double b = static_cast<double>(*base);
  Finding f;
  f.type = AlertType::kMemoryGrowth;
  f.limit = internal::GrowthLimit(b, cfg.alert_threshold_pct,
                                  static_cast<double>(cfg.growth_floor_bytes));
  if (unbounded->level < f.limit) {
    // An early warning: judged again with the noise's correlation over all
    // the samples judged (kResidualBiasCorrection), where noise could
    // reorder the floor points.
    if (!ProjectedToPass(*unbounded, b, f.limit, cfg, &f.time_to_limit_s)) {
      return std::nullopt;
    }
    double rho = NoiseCorrelation(s, unbounded->window_samples);
    // The caller's estimate over the whole run, carried to the points'
    // spacing (the long history's points are in.block samples apart), when
    // it is higher: the samples judged are too few to tell a wander of
    // strongly correlated noise from a rise.
    const NoiseEstimate& run =
        field == &Sample::heap_inuse_bytes ? in.heap_noise : in.rss_noise;
    double noise_sd = run.sd > 0 ? run.sd : 0;
    const double run_rho =
        std::isfinite(run.rho_upper) ? run.rho_upper : run.rho;
    if (run_rho > 0) {
      rho = std::max(
          rho, std::pow(run_rho, static_cast<double>(
                                     std::max<std::size_t>(1, in.block))));
    }
    if (rho > 0) {
      unbounded = internal::UnboundedTrend(s.times(), s.values(),
                                           internal::TrendOptions(cfg), cache,
                                           &longest_rise, rho, noise_sd);
      if (!unbounded || unbounded->level >= f.limit ||
          !ProjectedToPass(*unbounded, b, f.limit, cfg, &f.time_to_limit_s)) {
        return std::nullopt;
      }
    }
  }
  const GrowthTrend& trend = *unbounded;
  // The rise must account for kExplainedShare of the growth over the
  // baseline: a step (judged or before the samples judged) that put the
  // level near or past the limit, and a wander of the noise after it, is
  // not a leak.
  if (std::max(longest_rise, trend.level - trend.start_level) <
      kExplainedShare * (trend.level - b)) {
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

// Whether the rise in the count `field` has lasted longer than a burst:
// the burst window is the last kBurstSamples + 1 samples or the last
// kBurstSeconds (at most kBurstMaxSamples + 1), whichever is more (in
// samples, each history
// point standing for in.block of them); the count's lowest value in it must
// be above the level it rose from -- the kRoseFromQuantile quantile of the
// count over the samples since the baseline before the burst window (all of
// them, not the trend's window, which can shrink from one sample to the
// next and make the answer flicker). A burst of up to that length, however
// it ramps, has its level before it inside the window (or has returned to
// it); a staircase has left it.
bool RiseOutlastsBurst(const DetectionInput& in, U64Field field) {
  std::span<const Sample> recent = Recent(in);
  const std::size_t block = std::max<std::size_t>(1, in.block);
  const std::size_t burst_points = (kBurstSamples + 1 + block - 1) / block;
  const std::size_t max_points = (kBurstMaxSamples + 1 + block - 1) / block;
  const auto now = recent.back().monotonic;
  const auto span =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(kBurstSeconds));
  // Walk back over the samples that know the count: the burst window first,
  // then the rest.
  std::array<double, kMaxGrowthSamples> before;
  std::size_t n_before = 0;
  std::size_t known = 0;
  double lowest_in_burst = 0;
  bool in_burst = true;
  for (std::size_t k = recent.size(); k > 0; --k) {
    const Sample& x = recent[k - 1];
    const std::optional<uint64_t>& v = x.*field;
    if (!v) continue;
    ++known;
    if (in_burst && known > burst_points &&
        (now - x.monotonic >= span || known > max_points)) {
      in_burst = false;
    }
    double value = static_cast<double>(*v);
    if (in_burst) {
      lowest_in_burst = known == 1 ? value : std::min(lowest_in_burst, value);
    } else {
      before[n_before++] = value;
    }
  }
  if (n_before == 0) return false;  // the rise is no older than a burst
  auto q = before.begin() +
           static_cast<std::ptrdiff_t>(kRoseFromQuantile *
                                       static_cast<double>(n_before - 1));
  std::nth_element(before.begin(), q,
                   before.begin() + static_cast<std::ptrdiff_t>(n_before));
  return lowest_in_burst > *q;
}

// thread_leak, fd_leak: the count rises steadily (ClassifyGrowth, as
// memory_growth) -- repeated increases, which one step held for a while, a
// burst, or a pool starting is not -- and its fitted level is at or above
// the limit, or (early) is projected to reach it within the horizon.
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
  f.limit = internal::GrowthLimit(b, pct, static_cast<double>(floor));
  f.threshold = f.limit;
  f.baseline = b;
  f.current = static_cast<double>(*cur);
  f.metric = metric;

  // A count that never rose above its baseline has no trend to judge (a
  // steady count is the usual case, so this skips most of the cost); nor
  // does one that never reached the limit when nothing is projected.
  bool projecting = Seconds(cfg.growth_projection_horizon) > 0;
  uint64_t highest = 0;
  for (const Sample& x : Recent(in)) {
    if (const std::optional<uint64_t>& v = x.*field) {
      highest = std::max(highest, *v);
    }
  }
  if (highest <= *base) return std::nullopt;
  if (!projecting && static_cast<double>(highest) < f.limit) {
    return std::nullopt;
  }
  Series s;
  std::optional<GrowthTrend> unbounded = UnboundedTrendOf(in, cache, field, &s);
  if (!unbounded) return std::nullopt;
  const GrowthTrend& trend = *unbounded;
  if (IsRefill(in, field, s.values(), trend.level)) return std::nullopt;
  if (!RiseOutlastsBurst(in, field)) return std::nullopt;
  f.projected = trend.level < f.limit;
  if (f.projected &&
      !ProjectedToPass(trend, b, f.limit, cfg, &f.time_to_limit_s)) {
    return std::nullopt;
  }
  if (!f.projected) f.time_to_limit_s = 0;
  SetTrend(trend, &f);
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

// The projection oom_risk and the time-to-limit gauges share; `trend`
// gets the usage's trend when it rises steadily.
std::optional<TimeToLimit> ProjectTimeToLimit(const DetectionInput& in,
                                              GrowthTrend* trend_out,
                                              internal::TrendCache* cache) {
  if (in.history.empty()) return std::nullopt;
  const Sample& now = in.history.back();
  if (!now.memory_limit_bytes || !now.memory_limit_usage_bytes) {
    return std::nullopt;
  }
  TimeToLimit t;
  t.limit_bytes = static_cast<double>(*now.memory_limit_bytes);
  t.usage_bytes = static_cast<double>(*now.memory_limit_usage_bytes);
  t.kind = now.memory_limit_kind;
  t.fitted_s = t.earliest_s = std::numeric_limits<double>::infinity();
  const auto field = &Sample::memory_limit_usage_bytes;
  Series s;
  std::optional<GrowthTrend> unbounded = UnboundedTrendOf(in, cache, field, &s);
  if (!unbounded || IsRefill(in, field, s.values(), unbounded->level) ||
      !(unbounded->slope_per_s > 0) || !(unbounded->slope_upper_per_s > 0)) {
    return t;  // not rising steadily: no kill in sight
  }
  const GrowthTrend& trend = *unbounded;
  if (trend_out != nullptr) *trend_out = trend;
  t.slope_per_s = trend.slope_per_s;
  t.slope_upper_per_s = trend.slope_upper_per_s;
  const double left =
      std::max(0.0, t.limit_bytes - std::max(trend.level, t.usage_bytes));
  t.fitted_s = left / trend.slope_per_s;
  t.earliest_s = left / trend.slope_upper_per_s;
  return t;
}

// oom_risk: the usage the binding limit counts rises steadily (the trend
// rules' ClassifyGrowth, not a refill), and the earliest time at which its
// trend reaches the limit -- at Sen's upper confidence bound of the slope
// (by rank, GrowthTrend::slope_upper_per_s) -- is within
// oom_horizon (and within kProjectionReach times the span measured). At
// or over the limit already: at once.
std::optional<Finding> OomRisk(const DetectionInput& in,
                               internal::TrendCache* cache) {
  const MonitorConfig& cfg = *in.config;
  double horizon = Seconds(cfg.oom_horizon);
  if (horizon <= 0 || in.history.empty()) return std::nullopt;
  GrowthTrend trend;
  std::optional<TimeToLimit> t = ProjectTimeToLimit(in, &trend, cache);
  if (!t || !(t->slope_per_s > 0) || !(t->slope_upper_per_s > 0)) {
    return std::nullopt;
  }
  const double earliest = t->earliest_s;
  if (earliest > std::min(horizon, kProjectionReach * trend.window_s)) {
    return std::nullopt;
  }
  const Sample& now = in.history.back();
  Finding f;
  f.type = AlertType::kOomRisk;
  SetTrend(trend, &f);
  f.metric = "memory_limit_usage_bytes";
  f.value = earliest;
  f.threshold = horizon;
  f.limit = t->limit_bytes;
  f.current = t->usage_bytes;
  f.baseline = in.baseline != nullptr && in.baseline->memory_limit_usage_bytes
                   ? static_cast<double>(*in.baseline->memory_limit_usage_bytes)
                   : t->usage_bytes;
  f.projected = earliest > 0;
  f.time_to_limit_s = t->fitted_s;
  f.limit_kind = now.memory_limit_kind;
  f.slope_upper_per_s = t->slope_upper_per_s;
  return f;
}

}  // namespace

std::optional<TimeToLimit> ProjectTimeToLimit(const DetectionInput& in) {
  return ProjectTimeToLimit(in, nullptr, nullptr);
}

namespace internal {

double GrowthLimit(double base, double pct, double floor) {
  return std::max(base * (1 + pct / 100.0), base + floor);
}

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
    case AlertType::kOomRisk:
      return OomRisk(in, cache);
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

std::optional<Finding> DetectOomRisk(const DetectionInput& in) {
  return OomRisk(in, nullptr);
}

namespace internal {

HeldSamples SamplesWithin(const DetectionInput& in,
                          std::chrono::nanoseconds span) {
  auto from =
      in.history.back().monotonic -
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(span);
  std::size_t k = in.history.size();
  while (k > 0 && in.history[k - 1].monotonic > from) --k;
  return {in.history.subspan(k),
          k > 0 || in.history.size() >= in.config->max_samples};
}

double MedianAllocatorSharePct(std::span<const Sample> samples,
                               std::size_t* count) {
  std::array<double, 256> shares{};
  std::size_t n = 0;
  for (const Sample& x :
       samples.last(std::min(samples.size(), shares.size()))) {
    if (x.allocator_cpu_fraction) shares[n++] = *x.allocator_cpu_fraction * 100;
  }
  *count = n;
  if (n == 0) return 0;
  auto mid = shares.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(shares.begin(), mid,
                   shares.begin() + static_cast<std::ptrdiff_t>(n));
  double pct = *mid;
  if (n % 2 == 0) pct = (pct + *std::max_element(shares.begin(), mid)) / 2;
  return pct;
}

}  // namespace internal

namespace internal {

bool Fragmented(const Sample& x, const MonitorConfig& cfg, double* pct) {
  if (!x.heap_inuse_bytes || !x.heap_free_bytes) return false;
  double used = static_cast<double>(*x.heap_inuse_bytes);
  double free_bytes = static_cast<double>(*x.heap_free_bytes);
  if (used + free_bytes <= 0) return false;
  *pct = free_bytes / (used + free_bytes) * 100.0;
  return *pct >= cfg.fragmentation_pct &&
         *x.heap_free_bytes >= cfg.fragmentation_floor_bytes;
}

std::optional<Finding> HeapFragmentationTracked(
    const DetectionInput& in, const FragmentationTrack& track) {
  if (in.history.empty() || !track.holding) return std::nullopt;
  const MonitorConfig& cfg = *in.config;
  const Sample& now = in.history.back();
  auto from =
      now.monotonic -
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(cfg.hold);
  if (track.since > from) return std::nullopt;
  double used_now = static_cast<double>(*now.heap_inuse_bytes);
  if (used_now < kOffPeakShare * std::max(track.peak, used_now)) {
    return std::nullopt;
  }
  double free_now = static_cast<double>(*now.heap_free_bytes);
  Finding f;
  f.type = AlertType::kHeapFragmentation;
  f.value = free_now / (used_now + free_now) * 100.0;
  f.threshold = cfg.fragmentation_pct;
  f.level = track.lowest_pct;
  f.current = free_now;
  f.baseline = used_now;
  f.window_samples = track.samples;
  f.window_s = Seconds(now.monotonic - track.since);
  f.metric = "heap_free_bytes";
  return f;
}

}  // namespace internal

std::optional<Finding> DetectHeapFragmentation(const DetectionInput& in) {
  if (in.history.empty()) return std::nullopt;
  const MonitorConfig& cfg = *in.config;
  const Sample& now = in.history.back();
  if (!now.heap_inuse_bytes || !now.heap_free_bytes) return std::nullopt;
  internal::HeldSamples held = internal::SamplesWithin(in, cfg.hold);
  if (!held.covered) return std::nullopt;
  double used_now = static_cast<double>(*now.heap_inuse_bytes);
  std::size_t count = 0;
  double lowest_pct = 100;
  for (const Sample& x : held.samples) {
    if (!x.heap_inuse_bytes || !x.heap_free_bytes) continue;
    double used = static_cast<double>(*x.heap_inuse_bytes);
    double free_bytes = static_cast<double>(*x.heap_free_bytes);
    if (used + free_bytes <= 0) return std::nullopt;
    double pct = free_bytes / (used + free_bytes) * 100.0;
    if (pct < cfg.fragmentation_pct ||
        *x.heap_free_bytes < cfg.fragmentation_floor_bytes) {
      return std::nullopt;
    }
    lowest_pct = std::min(lowest_pct, pct);
    ++count;
  }
  if (count == 0) return std::nullopt;
  // Not just past a peak: in use now near its maximum over twice the hold.
  double peak = used_now;
  for (const Sample& x : internal::SamplesWithin(in, 2 * cfg.hold).samples) {
    if (x.heap_inuse_bytes) {
      peak = std::max(peak, static_cast<double>(*x.heap_inuse_bytes));
    }
  }
  if (used_now < internal::kOffPeakShare * peak) return std::nullopt;
  double free_now = static_cast<double>(*now.heap_free_bytes);
  Finding f;
  f.type = AlertType::kHeapFragmentation;
  f.value = free_now / (used_now + free_now) * 100.0;
  f.threshold = cfg.fragmentation_pct;
  f.level = lowest_pct;
  f.current = free_now;
  f.baseline = used_now;
  f.window_samples = count;
  f.window_s = Seconds(now.monotonic - held.samples.front().monotonic);
  f.metric = "heap_free_bytes";
  return f;
}

std::optional<Finding> DetectAllocatorPressure(const DetectionInput& in) {
  if (in.history.empty()) return std::nullopt;
  const MonitorConfig& cfg = *in.config;
  const Sample& now = in.history.back();
  if (!now.allocator_cpu_fraction) return std::nullopt;
  internal::HeldSamples held = internal::SamplesWithin(in, cfg.hold);
  if (!held.covered) return std::nullopt;
  std::size_t n = 0;
  double pct = internal::MedianAllocatorSharePct(held.samples, &n);
  if (pct < cfg.allocator_cpu_pct) return std::nullopt;
  Finding f;
  f.type = AlertType::kAllocatorPressure;
  f.value = pct;
  f.threshold = cfg.allocator_cpu_pct;
  f.current = *now.allocator_cpu_fraction * 100.0;
  f.window_samples = n;
  f.window_s = Seconds(now.monotonic - held.samples.front().monotonic);
  f.metric = "allocator_cpu_fraction";
  return f;
}

Detector DefaultDetector(AlertType type) {
  if (type == AlertType::kObjectThreshold) return nullptr;  // the counters'
  return [type](const DetectionInput& in) {
    return internal::RunBuiltinDetector(type, in, nullptr);
  };
}

namespace {

// oom_risk's subject: the usage the binding limit counts, named by the
// limit, with what the kernel counts for it (docs/limits.md).
std::string LimitPhrase(MemoryLimitKind kind) {
  switch (kind) {
    case MemoryLimitKind::kCgroupV2Max:
      return "memory the cgroup v2 memory.max limit counts (a cgroup counts "
             "page cache and kernel memory too, of all its processes)";
    case MemoryLimitKind::kCgroupV2High:
      return "memory the cgroup v2 memory.high limit counts (a cgroup "
             "counts page cache and kernel memory too, of all its processes)";
    case MemoryLimitKind::kCgroupV1:
      return "memory the cgroup v1 memory.limit_in_bytes limit counts (a "
             "cgroup counts page cache and kernel memory too, of all its "
             "processes)";
    case MemoryLimitKind::kRlimitAs:
      return "the virtual size RLIMIT_AS counts (VmSize)";
    case MemoryLimitKind::kRlimitData:
      return "the data size RLIMIT_DATA counts (VmData)";
    case MemoryLimitKind::kMachine:
      return "RSS against the machine's available memory";
    case MemoryLimitKind::kUnknown:
      break;
  }
  return "memory the limit counts";
}

}  // namespace

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
          "{} are rising steadily: up from {:.0f} to {:.0f} (+{:.0f} %), at "
          "or above the limit of {:.0f}, at {:.2f}/min (at least {:.2f}/min) "
          "over the last {}, trend confidence {:.2f} %",
          what, f.baseline, f.current,
          f.baseline > 0 ? (f.current - f.baseline) / f.baseline * 100 : 0.0,
          f.limit, f.slope_per_s * 60, f.slope_lower_per_s * 60,
          Duration(f.window_s), f.confidence * 100);
    }
    case AlertType::kHeapFragmentation:
      return fmt::format(
          "{:.1f} % of the heap is free but held ({} free, {} in use), at or "
          "above the {:.1f} % limit on each of the last {} samples ({}), and "
          "not just after a peak",
          f.value, Bytes(f.current), Bytes(f.baseline), f.threshold,
          f.window_samples, Duration(f.window_s));
    case AlertType::kAllocatorPressure:
      return fmt::format(
          "the allocator takes {:.1f} % of CPU time (median of the last {} "
          "samples, {}), at or above the {:.1f} % limit",
          f.value, f.window_samples, Duration(f.window_s), f.threshold);
    case AlertType::kObjectThreshold:
      return fmt::format(
          "{} reached {:.0f}, at or above the threshold of {:.0f}", f.metric,
          f.value, f.threshold);
    case AlertType::kOomRisk: {
      const std::string what = LimitPhrase(f.limit_kind);
      if (!f.projected) {
        return fmt::format(
            "{} is at {}, at or over the limit of {}, and rising at {}/s", what,
            Bytes(f.current), Bytes(f.limit), Bytes(f.slope_per_s));
      }
      return fmt::format(
          "{} is rising steadily at {}/s (at most {}/s) over the last {} "
          "(trend confidence {:.2f} %): {} of the {} limit, projected to "
          "reach it in {} (as soon as {}), within the {} horizon",
          what, Bytes(f.slope_per_s), Bytes(f.slope_upper_per_s),
          Duration(f.window_s), f.confidence * 100, Bytes(f.current),
          Bytes(f.limit), Duration(f.time_to_limit_s), Duration(f.value),
          Duration(f.threshold));
    }
  }
  return "unknown alert";
}

}  // namespace memmon
