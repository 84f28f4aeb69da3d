// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

namespace memmon::synth {
namespace {

constexpr double kMiB = 1048576.0;
constexpr double kPi = 3.14159265358979323846;

// Raw bits from std::mt19937_64 (its output is specified by the standard);
// everything else by hand, so the draws are the same everywhere.
class Random {
 public:
  Random(uint64_t seed, int index)
      : engine_(SplitMix(SplitMix(seed) ^ static_cast<uint64_t>(index))) {}

  // [0, 1), from the 53 high bits.
  double Uniform() {
    return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);
  }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  double LogUniform(double lo, double hi) {
    return lo * std::exp(Uniform() * std::log(hi / lo));
  }
  // lo..hi inclusive.
  int Int(int lo, int hi) {
    int span = hi - lo + 1;
    return lo + std::min(span - 1, static_cast<int>(Uniform() * span));
  }
  bool Chance(double p) { return Uniform() < p; }
  // Standard normal (Box-Muller; one of the pair, for simplicity).
  double Normal() {
    double u1 = 1.0 - Uniform();  // (0, 1]: log is finite
    double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }

 private:
  static uint64_t SplitMix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  std::mt19937_64 engine_;
};

// Level noise: iid Gaussian, or AR(1) with innovations scaled so that the
// marginal standard deviation is `sigma` (started from its stationary law).
class Noise {
 public:
  Noise(Random& rng, double sigma, bool ar1, double rho)
      : sigma_(sigma), ar1_(ar1), rho_(ar1 ? rho : 0) {
    state_ = sigma_ * rng.Normal();
  }
  double Next(Random& rng) {
    if (!ar1_) return sigma_ * rng.Normal();
    state_ = rho_ * state_ + sigma_ * std::sqrt(1 - rho_ * rho_) * rng.Normal();
    return state_;
  }
  std::string Describe() const {
    return ar1_ ? fmt::format("ar1(rho={:.2f})", rho_) : std::string("iid");
  }

 private:
  double sigma_;
  bool ar1_;
  double rho_;
  double state_ = 0;
};

// What every class draws first, in this order.
struct Common {
  double interval_s;
  double base;  // heap bytes
  double sigma_pct;
  bool ar1;
  double rho;
  double free_bytes;
  double overhead;
  int threads;
  int fds;
};

Common DrawCommon(Random& rng) {
  Common c;
  c.interval_s = rng.LogUniform(0.1, 60);
  c.base = rng.LogUniform(20 * kMiB, 4096 * kMiB);
  c.sigma_pct = rng.Uniform(0, 3);
  c.ar1 = rng.Chance(0.5);
  c.rho = rng.Uniform(0.3, 0.95);
  // Free-but-held: small and steady, so the fragmentation rules stay quiet.
  c.free_bytes = std::min(0.05 * c.base, 8 * kMiB) * rng.Uniform(0.5, 1);
  c.overhead = rng.Uniform(20, 200) * kMiB;
  c.threads = rng.Int(4, 64);
  c.fds = rng.Int(10, 200);
  return c;
}

// The series being built: noise-free heap, threads and descriptors, and
// which of them jitter.
struct Shape {
  std::vector<double> heap, threads, fds;
  std::vector<double> spikes;  // added after the noise (noisy_flat)
  bool jitter_threads = true, jitter_fds = true;
  double noise_clip = -1;  // |noise| cap in bytes; < 0: none
};

Shape Flat(const Common& c, int n) {
  Shape s;
  s.heap.assign(n, c.base);
  s.threads.assign(n, c.threads);
  s.fds.assign(n, c.fds);
  return s;
}

// Memory's limit over `baseline`, solved for a leak's rate: the rate r at
// which base + r g passes max(1.2 b1, b1 + 16 MiB) exactly when g reaches
// `g_due`, where b1 = base + r g1 + x1 is the noise-free sample 1 (x1: what
// else it holds, a sawtooth's tooth).
double RateToPass(double base, double g1, double x1, double g_due) {
  double by_ratio = (0.2 * base + 1.2 * x1) / (g_due - 1.2 * g1);
  double by_floor = (16 * kMiB + x1) / (g_due - g1);
  if (g_due - 1.2 * g1 <= 0) return by_floor;
  return std::max(by_ratio, by_floor);
}

// A sawtooth over n samples: each tooth fills linearly by `amp` per `t`
// samples, lasts a length drawn from [0.8 t, t], then drops to 0. Sample 0
// sits at a random position within the first tooth.
std::vector<double> Teeth(Random& rng, int n, int t, double amp) {
  std::vector<double> out(n);
  int lo = static_cast<int>(std::ceil(0.8 * t));
  int len = rng.Int(lo, t);
  int pos = rng.Int(0, len - 1);
  for (int i = 0; i < n; ++i) {
    if (pos == len) {
      len = rng.Int(lo, t);
      pos = 0;
    }
    out[i] = amp * pos / t;
    ++pos;
  }
  return out;
}

int LengthFor(int due) { return std::min(1500, std::max(300, due + 200)); }

}  // namespace

bool PassesLimit(Quantity q, double value, double limit) {
  return q == Quantity::kHeap ? value > limit : value >= limit;
}

double LimitOver(Quantity q, double baseline) {
  switch (q) {
    case Quantity::kHeap:
      return std::max(baseline * 1.2, baseline + 16 * kMiB);
    case Quantity::kThreads:
      return std::max(baseline * 1.5, baseline + 10);
    case Quantity::kFds:
      return std::max(baseline * 1.5, baseline + 32);
  }
  return 0;
}

const std::vector<std::string>& ClassNames() {
  static const std::vector<std::string> kNames = {
      // Negatives: nothing may fire.
      "warmup", "sawtooth_flat", "step", "thread_burst", "fd_burst",
      "noisy_flat",
      // Positives.
      "leak_from_start", "leak_late", "leak_under_sawtooth", "accelerating",
      "thread_staircase", "fd_staircase"};
  return kNames;
}

internal::SamplesCsv Synthetic::Csv() const {
  internal::SamplesCsv csv;
  csv.samples = samples;
  csv.columns = {"rss_bytes", "heap_inuse_bytes", "heap_free_bytes", "threads",
                 "fds"};
  return csv;
}

std::string Synthetic::CsvText(uint64_t seed) const {
  std::string types;
  for (const std::string& t : expect) types += (types.empty() ? "" : ",") + t;
  std::string out = fmt::format(
      "# seed {} index {}: {}, expect {}, onset {}, due {}\n# {}\n{}\n", seed,
      index, class_name, types.empty() ? "-" : types, onset, due, params,
      internal::SamplesCsvHeader());
  for (const internal::TimedSample& ts : samples) {
    out += internal::SamplesCsvRow(ts.time_s, ts.sample) + "\n";
  }
  return out;
}

Synthetic GenerateSeries(uint64_t seed, int index) {
  Random rng(seed, index);
  Synthetic out;
  out.index = index;
  const std::vector<std::string>& names = ClassNames();
  out.class_name = names[static_cast<size_t>(index) % names.size()];
  const std::string& k = out.class_name;
  Common c = DrawCommon(rng);
  out.interval_s = c.interval_s;
  std::string params;
  Shape s;
  Quantity q = Quantity::kHeap;
  double baseline = 0;  // of the labelled quantity, for positives

  if (k == "warmup") {
    int n = rng.Int(300, 1000);
    int len = rng.Int(5, 50);
    double amp = rng.Uniform(0.2, 2.0);
    int shape = rng.Int(0, 2);
    s = Flat(c, n);
    for (int i = 0; i < n; ++i) {
      double t = std::min(1.0, static_cast<double>(i) / len);
      double f = shape == 0   ? t
                 : shape == 1 ? 1 - std::exp(-i / (len / 4.0))
                              : std::sqrt(t);
      s.heap[i] += amp * c.base * f;
    }
    params = fmt::format("L={} amp={:.0f}% shape={}", len, 100 * amp,
                         shape == 0   ? "linear"
                         : shape == 1 ? "exp"
                                      : "sqrt");
  } else if (k == "sawtooth_flat") {
    int n = rng.Int(300, 1000);
    int t = rng.Int(5, 60);
    double amp = rng.Uniform(0.1, 0.6);
    s = Flat(c, n);
    std::vector<double> teeth = Teeth(rng, n, t, amp * c.base);
    for (int i = 0; i < n; ++i) s.heap[i] += teeth[i];
    params = fmt::format("T={} amp={:.0f}%", t, 100 * amp);
  } else if (k == "step") {
    int n = rng.Int(300, 1000);
    int at = rng.Int(5, n - 50);
    double height = rng.Uniform(0.05, 1.0);
    s = Flat(c, n);
    for (int i = at; i < n; ++i) s.heap[i] += height * c.base;
    params = fmt::format("at={} height={:.0f}%", at, 100 * height);
  } else if (k == "thread_burst" || k == "fd_burst") {
    int n = rng.Int(300, 1000);
    bool threads = k == "thread_burst";
    q = threads ? Quantity::kThreads : Quantity::kFds;
    s = Flat(c, n);
    int base = threads ? c.threads : c.fds;
    std::vector<double>& v = threads ? s.threads : s.fds;
    (threads ? s.jitter_threads : s.jitter_fds) = false;
    double excess = LimitOver(q, base) - base;
    int bursts = rng.Int(1, 5);
    int pos = rng.Int(5, 60);
    std::string shown;
    int placed = 0;
    for (int b = 0; b < bursts; ++b) {
      // Up to 30 samples above the base: a ramp of rise - 1 samples (the
      // rise-th reaches the peak), then the peak held.
      int rise = rng.Int(1, 15);
      double peak = std::ceil(base + rng.Uniform(1, 3) * excess);
      int hold = rng.Int(1, 31 - rise);
      if (pos + rise + hold >= n - 5) break;
      for (int j = 0; j + 1 < rise; ++j) {
        v[pos + j] = std::round(base + (peak - base) * (j + 1) / rise);
      }
      for (int i = pos + rise - 1; i < pos + rise - 1 + hold; ++i) v[i] = peak;
      shown += fmt::format("{}{}+{}/{}x{:.0f}", placed ? "," : "", pos,
                           rise - 1, hold, peak);
      ++placed;
      pos += rise - 1 + hold + rng.Int(30, 150);
    }
    params = fmt::format("base={} bursts={} [at+ramp/hold x peak: {}]", base,
                         placed, shown);
  } else if (k == "noisy_flat") {
    int n = rng.Int(300, 1000);
    c.sigma_pct = rng.Uniform(2, 5);
    c.ar1 = rng.Chance(0.5);
    bool spikes = rng.Chance(0.5);
    s = Flat(c, n);
    s.noise_clip = 0.10 * c.base;
    s.spikes.assign(n, 0);
    int count = 0;
    for (int i = 0; spikes && i < n; ++i) {
      if (rng.Chance(0.01)) {
        s.spikes[i] = rng.Uniform(0.2, 0.6) * c.base;
        ++count;
      }
    }
    params = fmt::format("spikes={}", count);
  } else if (k == "leak_from_start" || k == "leak_late") {
    bool late = k == "leak_late";
    out.onset = late ? rng.Int(30, 500) : 0;
    int due =
        late ? rng.Int(out.onset + 10, out.onset + 400) : rng.Int(20, 600);
    int n = LengthFor(due);
    double g1 = late ? 0 : 1;
    double rate = RateToPass(c.base, g1, 0, due - out.onset - 0.5);
    s = Flat(c, n);
    for (int i = out.onset; i < n; ++i) s.heap[i] += rate * (i - out.onset);
    out.clean = s.heap;
    baseline = s.heap[1];
    params = fmt::format("rate={:.3g}MiB/sample", rate / kMiB);
  } else if (k == "leak_under_sawtooth") {
    int t = rng.Int(4, 30);
    double amp = rng.Uniform(0.1, 0.6);
    int due = rng.Int(100, 800);
    int n = LengthFor(due);
    std::vector<double> teeth = Teeth(rng, n, t, amp * c.base);
    double rate = RateToPass(c.base, 1, teeth[1], due - 0.5);
    out.onset = 0;
    s = Flat(c, n);
    for (int i = 0; i < n; ++i) s.heap[i] += rate * i;
    out.clean = s.heap;  // the floor
    baseline = s.heap[1] + teeth[1];
    for (int i = 0; i < n; ++i) s.heap[i] += teeth[i];
    params = fmt::format("T={} amp={:.0f}% floor_rate={:.3g}MiB/sample", t,
                         100 * amp, rate / kMiB);
  } else if (k == "accelerating") {
    bool late = rng.Chance(0.5);
    out.onset = late ? rng.Int(30, 300) : 0;
    int d = rng.Int(50, 600);
    bool quadratic = rng.Chance(0.5);
    double tau = d / rng.Uniform(2, 5);  // exponential: 2..5 e-folds by due
    int onset = out.onset;
    std::function<double(double)> g = [=](double i) {
      double x = std::max(0.0, i - onset);
      return quadratic ? x * x : std::exp(x / tau) - 1;
    };
    int due = onset + d;
    int n = LengthFor(due);
    double rate = RateToPass(c.base, g(1), 0, g(due - 0.5));
    s = Flat(c, n);
    // A process does not grow forever: at 8 x its base it levels off (long
    // after the alert window).
    for (int i = 0; i < n; ++i) s.heap[i] += std::min(rate * g(i), 8 * c.base);
    out.clean = s.heap;
    baseline = s.heap[1];
    params = quadratic
                 ? fmt::format("quadratic r={:.3g}MiB", rate / kMiB)
                 : fmt::format("exp tau={:.1f} r={:.3g}MiB", tau, rate / kMiB);
  } else {  // thread_staircase, fd_staircase
    bool threads = k == "thread_staircase";
    q = threads ? Quantity::kThreads : Quantity::kFds;
    out.onset = rng.Int(0, 300);
    int step = rng.Int(1, 4);
    int every = rng.Int(1, 10);
    int base = threads ? c.threads : c.fds;
    std::vector<double> v(1500);
    for (int i = 0; i < 1500; ++i) {
      v[i] = i < out.onset ? base : base + step * ((i - out.onset) / every + 1);
    }
    double limit = LimitOver(q, v[1]);
    int due = 1499;
    for (int i = 1; i < 1500; ++i) {
      if (PassesLimit(q, v[i], limit)) {
        due = i;
        break;
      }
    }
    int n = LengthFor(due);
    s = Flat(c, n);
    v.resize(n);
    (threads ? s.threads : s.fds) = v;
    (threads ? s.jitter_threads : s.jitter_fds) = false;
    out.clean = v;
    baseline = v[1];
    params = fmt::format("base={} +{} every {}", base, step, every);
  }

  // Noise, RSS and the jitter of the counts the class is not about.
  int n = static_cast<int>(s.heap.size());
  Noise noise(rng, c.sigma_pct / 100 * c.base, c.ar1, c.rho);
  out.samples.resize(n);
  for (int i = 0; i < n; ++i) {
    double e = noise.Next(rng);
    if (s.noise_clip >= 0) e = std::clamp(e, -s.noise_clip, s.noise_clip);
    double heap = s.heap[i] + e + (s.spikes.empty() ? 0 : s.spikes[i]);
    heap = std::max(heap, 1 * kMiB);
    double free_bytes = c.free_bytes * (1 + 0.02 * rng.Normal());
    double rss = heap + free_bytes + c.overhead + 0.5 * kMiB * rng.Normal();
    double threads = s.threads[i], fds = s.fds[i];
    if (s.jitter_threads && rng.Chance(0.02))
      threads += rng.Chance(0.5) ? 1 : -1;
    if (s.jitter_fds && rng.Chance(0.05)) fds += rng.Chance(0.5) ? 1 : -1;

    internal::TimedSample& ts = out.samples[i];
    ts.time_s = i * c.interval_s;
    internal::SetSampleTimes(ts.time_s, &ts.sample);
    ts.sample.heap_inuse_bytes = static_cast<uint64_t>(std::llround(heap));
    ts.sample.heap_free_bytes =
        static_cast<uint64_t>(std::llround(std::max(0.0, free_bytes)));
    ts.sample.rss_bytes =
        static_cast<uint64_t>(std::llround(std::max(heap, rss)));
    ts.sample.threads = static_cast<uint64_t>(std::llround(threads));
    ts.sample.open_fds = static_cast<uint64_t>(std::llround(fds));
  }

  out.quantity = q;
  if (!out.clean.empty()) {
    out.baseline = baseline;
    out.limit = LimitOver(q, baseline);
    out.expect = {q == Quantity::kHeap      ? "memory_growth"
                  : q == Quantity::kThreads ? "thread_leak"
                                            : "fd_leak"};
    for (int i = 1; i < n; ++i) {
      if (PassesLimit(q, out.clean[i], out.limit)) {
        out.due = i;
        break;
      }
    }
  }
  out.params = fmt::format(
      "every={:.3g}s n={} base={:.0f}MiB noise={:.2f}%{} {}", c.interval_s, n,
      c.base / kMiB, c.sigma_pct,
      c.sigma_pct > 0 ? " " + noise.Describe() : std::string(), params);
  return out;
}

std::vector<Synthetic> GenerateSet(uint64_t seed, int count) {
  std::vector<Synthetic> out;
  out.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) out.push_back(GenerateSeries(seed, i));
  return out;
}

}  // namespace memmon::synth
