// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Writes the labelled detection corpus: tests/corpus/*.csv (the samples CSV
// that `memmon analyze` reads) and tests/corpus/manifest.json (what each
// series is, and which alerts it must raise, from when).
//
//   build/bin/gen_corpus tests/corpus
//
// Deterministic: every series has a fixed seed, and the random numbers use
// only integer arithmetic and + - * / (splitmix64; normals as the sum of 12
// uniforms, minus 6), so the output is the same on every machine. The
// corpus_reproducible test regenerates it and compares with the committed
// files.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

constexpr double kMiB = 1048576.0;

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double Uniform() {
    return static_cast<double>(Next() >> 11) / 9007199254740992.0;
  }
  // Approximately standard normal (Irwin-Hall, 12 terms): |x| <= 6.
  double Normal() {
    double s = 0;
    for (int i = 0; i < 12; ++i) s += Uniform();
    return s - 6;
  }
  int Between(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform() < p; }

 private:
  uint64_t state_;
};

// One series: per-sample values in MiB (memory) and counts; negative means
// unknown (an empty cell).
struct Data {
  std::vector<double> heap, free_bytes, rss, threads, fds;
  bool heap_columns =
      true;  // false: no heap_inuse_bytes/heap_free_bytes columns
};

struct Series {
  std::string name;
  double interval_s;
  int samples;
  uint64_t seed;
  std::string description;
  std::vector<std::string> expect;  // alert types that must fire
  double onset_s;                   // when the problem starts (leaks), else -1
  std::function<void(Data&, Rng&)> shape;
};

// A quiet service: heap `base` MiB with noise `sigma`, a little free-but-
// held memory, RSS following the heap, 16 threads and 40 descriptors with
// the odd one-sample flicker.
Data Background(int n, double base, double sigma, Rng& rng) {
  Data d;
  for (int i = 0; i < n; ++i) {
    d.heap.push_back(base + sigma * rng.Normal());
    d.free_bytes.push_back(8 + 0.5 * std::fabs(rng.Normal()));
    d.threads.push_back(16 + (rng.Chance(0.02) ? 1 : 0));
    d.fds.push_back(40 + (rng.Chance(0.05) ? (rng.Chance(0.5) ? 1 : -1) : 0));
  }
  return d;
}

void FinishRss(Data& d, Rng& rng) {
  d.rss.clear();
  for (std::size_t i = 0; i < d.heap.size(); ++i) {
    d.rss.push_back(d.heap[i] + d.free_bytes[i] + 30 + 0.5 * rng.Normal());
  }
}

// Adds a sawtooth: from each trough, `rise` MiB per sample for a period
// drawn from [lo, hi] samples, then back down.
void Sawtooth(Data& d, Rng& rng, double rise, int lo, int hi) {
  int n = static_cast<int>(d.heap.size());
  for (int i = 0; i < n;) {
    int period = rng.Between(lo, hi);
    for (int k = 0; k < period && i < n; ++k, ++i)
      d.heap[static_cast<std::size_t>(i)] += rise * k;
  }
}

std::vector<Series> Corpus() {
  std::vector<Series> c;
  c.push_back(
      {"slow_leak_noise_30s",
       30,
       300,
       101,
       "400 MiB heap, +0.6 MiB/min leak from the start under 3 MiB noise; "
       "reaches +20 % only after 2.2 h",
       {"memory_growth"},
       0,
       [](Data& d, Rng&) {
         for (std::size_t i = 0; i < d.heap.size(); ++i) d.heap[i] += 0.3 * i;
       }});
  c.push_back(
      {"slow_leak_noise_1s",
       1,
       900,
       102,
       "200 MiB heap, +2.4 MiB/min leak from the start under 2 MiB noise; "
       "ends at +18 %, never passing +20 %",
       {"memory_growth"},
       0,
       [](Data& d, Rng&) {
         for (std::size_t i = 0; i < d.heap.size(); ++i) d.heap[i] += 0.04 * i;
       }});
  c.push_back({"fast_leak_1s",
               1,
               300,
               103,
               "150 MiB heap, +2 MiB/s from 60 s",
               {"memory_growth"},
               60,
               [](Data& d, Rng&) {
                 for (std::size_t i = 60; i < d.heap.size(); ++i)
                   d.heap[i] += 2.0 * (i - 60);
               }});
  c.push_back({"fast_leak_30s",
               30,
               120,
               104,
               "500 MiB heap, +15 MiB per sample (30 MiB/min) from 600 s",
               {"memory_growth"},
               600,
               [](Data& d, Rng&) {
                 for (std::size_t i = 20; i < d.heap.size(); ++i)
                   d.heap[i] += 15.0 * (i - 20);
               }});
  c.push_back({"late_leak_30s",
               30,
               400,
               105,
               "250 MiB heap flat for 2 h 5 min, then +2 MiB/min",
               {"memory_growth"},
               7500,
               [](Data& d, Rng&) {
                 for (std::size_t i = 250; i < d.heap.size(); ++i)
                   d.heap[i] += 1.0 * (i - 250);
               }});
  c.push_back({"late_leak_1s",
               1,
               900,
               106,
               "300 MiB heap flat for 10 min, then +0.3 MiB/s",
               {"memory_growth"},
               600,
               [](Data& d, Rng&) {
                 for (std::size_t i = 600; i < d.heap.size(); ++i)
                   d.heap[i] += 0.3 * (i - 600);
               }});
  c.push_back(
      {"accelerating_leak_30s",
       30,
       300,
       107,
       "300 MiB heap growing quadratically (0.002 MiB x sample^2): slow, "
       "then fast; +20 % at 1.4 h",
       {"memory_growth"},
       0,
       [](Data& d, Rng&) {
         for (std::size_t i = 0; i < d.heap.size(); ++i)
           d.heap[i] += 0.002 * i * i;
       }});
  c.push_back(
      {"accelerating_leak_1s",
       1,
       900,
       108,
       "150 MiB heap growing exponentially (0.5 MiB x (1.005^t - 1)): flat "
       "for minutes, then +44 MiB",
       {"memory_growth"},
       0,
       [](Data& d, Rng&) {
         double g = 1;
         for (std::size_t i = 0; i < d.heap.size(); ++i, g *= 1.005)
           d.heap[i] += 0.5 * (g - 1);
       }});
  c.push_back(
      {"warmup_plateau_30s",
       30,
       300,
       109,
       "start-up fills caches: 150 -> 400 MiB (each sample closes 40 % of "
       "the gap), then flat",
       {},
       -1,
       [](Data& d, Rng&) {
         double left = 1;
         for (std::size_t i = 0; i < d.heap.size(); ++i, left *= 0.6)
           d.heap[i] += 250 * (1 - left);
       }});
  c.push_back({"warmup_plateau_1s",
               1,
               600,
               110,
               "start-up: 120 -> 420 MiB (each second closes 15 % of the gap), "
               "then flat",
               {},
               -1,
               [](Data& d, Rng&) {
                 double left = 1;
                 for (std::size_t i = 0; i < d.heap.size(); ++i, left *= 0.85)
                   d.heap[i] += 300 * (1 - left);
               }});
  c.push_back({"sawtooth_flat_1s",
               1,
               900,
               111,
               "300 MiB floor, per-batch buffers growing 10 MiB/s and released "
               "every 6-9 s (peaks +27 %)",
               {},
               -1,
               [](Data& d, Rng& rng) { Sawtooth(d, rng, 10.0, 6, 9); }});
  c.push_back(
      {"sawtooth_flat_30s",
       30,
       300,
       112,
       "400 MiB floor, a cache growing 20 MiB per sample and flushed every "
       "5-7 samples (peaks +30 %)",
       {},
       -1,
       [](Data& d, Rng& rng) { Sawtooth(d, rng, 20.0, 5, 7); }});
  c.push_back(
      {"sawtooth_rising_30s",
       30,
       400,
       113,
       "as sawtooth_flat_30s, but the floor rises 1 MiB/min: a leak under "
       "the cache",
       {"memory_growth"},
       0,
       [](Data& d, Rng& rng) {
         Sawtooth(d, rng, 20.0, 5, 7);
         for (std::size_t i = 0; i < d.heap.size(); ++i) d.heap[i] += 0.5 * i;
       }});
  c.push_back({"sawtooth_rising_1s",
               1,
               900,
               114,
               "as sawtooth_flat_1s, but the floor rises 3 MiB/min",
               {"memory_growth"},
               0,
               [](Data& d, Rng& rng) {
                 Sawtooth(d, rng, 10.0, 6, 9);
                 for (std::size_t i = 0; i < d.heap.size(); ++i)
                   d.heap[i] += 0.05 * i;
               }});
  c.push_back({"single_step_1s",
               1,
               600,
               115,
               "200 MiB, one config reload at 200 s adds 100 MiB for good",
               {},
               -1,
               [](Data& d, Rng&) {
                 for (std::size_t i = 200; i < d.heap.size(); ++i)
                   d.heap[i] += 100;
               }});
  c.push_back({"single_step_30s",
               30,
               200,
               116,
               "300 MiB, a new index loaded at 40 min adds 150 MiB for good",
               {},
               -1,
               [](Data& d, Rng&) {
                 for (std::size_t i = 80; i < d.heap.size(); ++i)
                   d.heap[i] += 150;
               }});
  c.push_back(
      {"noisy_flat_1s",
       1,
       900,
       117,
       "200 MiB with 8 MiB noise and one-sample spikes of +60 MiB (1 %)",
       {},
       -1,
       [](Data& d, Rng& rng) {
         for (double& h : d.heap) {
           h += 8 * rng.Normal();
           if (rng.Chance(0.01)) h += 60;
         }
       }});
  c.push_back(
      {"noisy_flat_30s",
       30,
       400,
       118,
       "300 MiB wandering: autocorrelated noise (AR(1), phi 0.6, 6 MiB)",
       {},
       -1,
       [](Data& d, Rng& rng) {
         double e = 0;
         for (double& h : d.heap) {
           e = 0.6 * e + 6 * rng.Normal();
           h += e;
         }
       }});
  c.push_back({"thread_leak_30s",
               30,
               300,
               119,
               "24 threads; from 50 min one more every 3 samples (a thread per "
               "reconnect, never joined)",
               {"thread_leak"},
               3000,
               [](Data& d, Rng&) {
                 for (std::size_t i = 0; i < d.threads.size(); ++i) {
                   d.threads[i] +=
                       8 + (i >= 100 ? static_cast<double>((i - 100) / 3) : 0);
                 }
               }});
  c.push_back({"thread_bursts_1s",
               1,
               900,
               120,
               "16 threads; every 45-75 s a burst to 50-80 threads for 2-4 s",
               {},
               -1,
               [](Data& d, Rng& rng) {
                 for (std::size_t i = 30; i < d.threads.size();) {
                   int len = rng.Between(2, 4);
                   int extra = rng.Between(34, 64);
                   for (int k = 0; k < len && i < d.threads.size(); ++k, ++i)
                     d.threads[i] += extra;
                   i += static_cast<std::size_t>(rng.Between(45, 75));
                 }
               }});
  c.push_back({"thread_pool_step_1s",
               1,
               600,
               121,
               "12 threads; at 200 s a pool of 100 workers starts and stays: "
               "one step held, not a trend",
               {},
               -1,
               [](Data& d, Rng&) {
                 for (std::size_t i = 0; i < d.threads.size(); ++i) {
                   d.threads[i] += -4 + (i >= 200 ? 100 : 0);
                 }
               }});
  c.push_back({"thread_staircase_1s",
               1,
               600,
               129,
               "12 threads; from 200 s one more every 4 s (a thread per "
               "request, never joined)",
               {"thread_leak"},
               200,
               [](Data& d, Rng&) {
                 for (std::size_t i = 0; i < d.threads.size(); ++i) {
                   d.threads[i] +=
                       -4.0 + (i >= 200 ? static_cast<double>((i - 200) / 4 + 1)
                                        : 0.0);
                 }
               }});
  c.push_back(
      {"fd_leak_30s",
       30,
       240,
       122,
       "40 descriptors; from 30 min two more per sample (sockets never closed)",
       {"fd_leak"},
       1800,
       [](Data& d, Rng&) {
         for (std::size_t i = 60; i < d.fds.size(); ++i)
           d.fds[i] += 2.0 * (i - 60);
       }});
  c.push_back({"fd_leak_1s",
               1,
               900,
               123,
               "40 descriptors; from 5 min one more every 5 s",
               {"fd_leak"},
               300,
               [](Data& d, Rng&) {
                 for (std::size_t i = 300; i < d.fds.size(); ++i) {
                   d.fds[i] += static_cast<double>((i - 300) / 5);
                 }
               }});
  c.push_back(
      {"fd_bursts_30s",
       30,
       300,
       124,
       "60 descriptors; connection bursts to 130-160 for 1-3 samples every "
       "15-25 samples",
       {},
       -1,
       [](Data& d, Rng& rng) {
         for (double& f : d.fds) f += 20;
         for (std::size_t i = 10; i < d.fds.size();) {
           int len = rng.Between(1, 3);
           int extra = rng.Between(70, 100);
           for (int k = 0; k < len && i < d.fds.size(); ++k, ++i)
             d.fds[i] += extra;
           i += static_cast<std::size_t>(rng.Between(15, 25));
         }
       }});
  c.push_back(
      {"fragmentation_after_peak_30s",
       30,
       200,
       125,
       "200 MiB in use; a 3-sample batch job peaks at 900 MiB, then the "
       "700 MiB it freed is reused or returned (40 % per sample)",
       {},
       -1,
       [](Data& d, Rng&) {
         for (std::size_t i = 100; i < 103; ++i) d.heap[i] += 700;
         double left = 700;
         for (std::size_t i = 103; i < d.heap.size(); ++i, left *= 0.6)
           d.free_bytes[i] += left;
       }});
  c.push_back(
      {"fragmentation_persistent_30s",
       30,
       200,
       126,
       "as fragmentation_after_peak_30s, but 650 MiB stays free and held "
       "(pinned by a few live chunks)",
       {"heap_fragmentation"},
       3090,
       [](Data& d, Rng& rng) {
         for (std::size_t i = 100; i < 103; ++i) d.heap[i] += 700;
         for (std::size_t i = 103; i < d.heap.size(); ++i)
           d.free_bytes[i] += 650 + 3 * rng.Normal();
       }});
  c.push_back(
      {"fragmentation_after_peak_1s",
       1,
       600,
       127,
       "200 MiB in use; a 20 s peak at 900 MiB, then the freed 700 MiB "
       "decays away (20 % per second, as with jemalloc's dirty-page decay)",
       {},
       -1,
       [](Data& d, Rng&) {
         for (std::size_t i = 300; i < 320; ++i) d.heap[i] += 700;
         double left = 700;
         for (std::size_t i = 320; i < d.heap.size(); ++i, left *= 0.8)
           d.free_bytes[i] += left;
       }});
  c.push_back(
      {"rss_only_leak_30s",
       30,
       300,
       128,
       "no allocator statistics (no heap columns): RSS 500 MiB, +1.6 MiB/min "
       "under 4 MiB noise",
       {"memory_growth"},
       0,
       [](Data& d, Rng& rng) {
         d.heap_columns = false;
         for (std::size_t i = 0; i < d.heap.size(); ++i) {
           d.heap[i] += 0.8 * i + 4 * rng.Normal();
         }
       }});
  return c;
}

std::string Cell(double v, double scale) {
  if (v < 0) return "";
  return std::to_string(static_cast<uint64_t>(std::llround(v * scale)));
}

bool Write(const std::string& dir, const Series& s) {
  Rng rng(s.seed);
  // The quiet service under each series: heap MiB and its noise.
  double base = 200;
  double sigma = 2;
  if (s.name.find("slow_leak_noise_30s") == 0) base = 400, sigma = 3;
  if (s.name.find("fast_leak_1s") == 0) base = 150, sigma = 1.5;
  if (s.name.find("fast_leak_30s") == 0) base = 500, sigma = 5;
  if (s.name.find("late_leak_30s") == 0) base = 250, sigma = 3;
  if (s.name.find("late_leak_1s") == 0) base = 300;
  if (s.name.find("accelerating_leak_30s") == 0) base = 300, sigma = 3;
  if (s.name.find("accelerating_leak_1s") == 0) base = 150, sigma = 1.5;
  if (s.name.find("warmup_plateau_30s") == 0) base = 150, sigma = 3;
  if (s.name.find("warmup_plateau_1s") == 0) base = 120;
  if (s.name.find("sawtooth_") == 0)
    base = s.interval_s == 1 ? 300 : 400, sigma = s.interval_s == 1 ? 1 : 3;
  if (s.name.find("single_step_1s") == 0) sigma = 1.5;
  if (s.name.find("single_step_30s") == 0) base = 300, sigma = 3;
  if (s.name.find("noisy_flat_1s") == 0) sigma = 0;
  if (s.name.find("noisy_flat_30s") == 0) base = 300, sigma = 0;
  if (s.name.find("thread_") == 0 || s.name.find("fd_") == 0)
    base = 300, sigma = 3;
  if (s.name.find("rss_only") == 0) base = 470, sigma = 0;
  Data d = Background(s.samples, base, sigma, rng);
  s.shape(d, rng);
  FinishRss(d, rng);

  std::string path = dir + "/" + s.name + ".csv";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << "# " << s.name << ": " << s.description << "\n";
  out << "# generated by tools/gen_corpus.cc (seed " << s.seed
      << "); do not edit\n";
  out << (d.heap_columns ? "time_s,rss_bytes,heap_inuse_bytes,heap_free_bytes,"
                           "threads,fds\n"
                         : "time_s,rss_bytes,threads,fds\n");
  for (int i = 0; i < s.samples; ++i) {
    auto k = static_cast<std::size_t>(i);
    out << std::to_string(
               static_cast<long long>(std::llround(i * s.interval_s)))
        << ',' << Cell(d.rss[k], kMiB) << ',';
    if (d.heap_columns)
      out << Cell(d.heap[k], kMiB) << ',' << Cell(d.free_bytes[k], kMiB) << ',';
    out << Cell(d.threads[k], 1) << ',' << Cell(d.fds[k], 1) << '\n';
  }
  return static_cast<bool>(out);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_corpus DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  std::vector<Series> corpus = Corpus();
  std::ofstream manifest(dir + "/manifest.json",
                         std::ios::binary | std::ios::trunc);
  manifest
      << "{\n  \"about\": \"Labelled series for memmon's detectors; generated "
         "by "
         "tools/gen_corpus.cc. expect: the alert types that must fire (and no "
         "other); onset_s: when the problem starts (-1: none).\",\n  "
         "\"series\": [\n";
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const Series& s = corpus[i];
    if (!Write(dir, s)) {
      std::fprintf(stderr, "gen_corpus: cannot write %s/%s.csv\n", dir.c_str(),
                   s.name.c_str());
      return 1;
    }
    manifest << "    {\"name\": " << JsonString(s.name)
             << ", \"file\": " << JsonString(s.name + ".csv")
             << ", \"interval_s\": " << s.interval_s
             << ", \"samples\": " << s.samples << ", \"expect\": [";
    for (std::size_t j = 0; j < s.expect.size(); ++j) {
      manifest << (j ? ", " : "") << JsonString(s.expect[j]);
    }
    manifest << "], \"onset_s\": " << s.onset_s
             << ",\n     \"description\": " << JsonString(s.description) << "}"
             << (i + 1 < corpus.size() ? "," : "") << "\n";
  }
  manifest << "  ]\n}\n";
  if (!manifest) {
    std::fprintf(stderr, "gen_corpus: cannot write %s/manifest.json\n",
                 dir.c_str());
    return 1;
  }
  std::printf("gen_corpus: %zu series in %s\n", corpus.size(), dir.c_str());
  return 0;
}
