// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Runs the labelled corpus through memmon's detectors and through the Go
// original's rules, and prints, per series, what each raised and how many
// samples after the onset each caught the problem, as a Markdown table
// (docs/detection.md records it). With --generated, does the same for a
// generated set (synth.h) and prints precision, recall and time to detect
// with 95 % intervals, per set and per class. `corpus_eval --help` lists
// the flags.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "corpus.h"

namespace {

using memmon::corpus::Series;
using memmon::corpus::Verdict;

constexpr char kUsage[] = R"(usage: corpus_eval [DIR] [--verbose]
       corpus_eval --generated [--seed S] [--count N]
                   [--config monitor|analyze] [--list]
       corpus_eval --generated [--seed S] --csv INDEX

Without --generated: replays the hand-labelled corpus in DIR (default
tests/corpus) with `memmon analyze`'s defaults and with the Go original's
rules, one Markdown table row per series; --verbose adds memmon's alerts.
Exit status 1 when memmon misclassifies a series.

--generated: draws a labelled set (tools/synth.h) and judges it, printing
Markdown tables: precision (series alerted only rightly / series alerted)
and recall (leaks alerted at most 120 samples after the later of the onset
and the sample where the leak passes its limit / leaks), each with a 95 %
Wilson interval; the median samples from the onset to the alert with a
distribution-free 95 % interval; and the same per class.
  --seed S        the set: 1 is the development set (default), 20261204
                  the held-out set
  --count N       series in the set (default 400)
  --config C      monitor: the monitor's defaults (100 samples of history);
                  analyze: memmon analyze's (1000 samples; default). Both
                  with the series' sampling interval.
  --list          also one row per series: its parameters and outcome
                  (with --verbose, and memmon's alerts' messages)
  --csv INDEX     print series INDEX of the set as a samples CSV (its label
                  in '#' lines), for `memmon analyze`
)";

std::string Join(const std::set<std::string>& types) {
  if (types.empty()) return "-";
  std::string out;
  for (const std::string& t : types) out += (out.empty() ? "" : ", ") + t;
  return out;
}

std::string Ttd(double samples) {
  return samples < 0 ? std::string("missed") : fmt::format("{:.0f}", samples);
}

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2]
                      : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Percent(double x) { return fmt::format("{:.1f} %", 100 * x); }

std::string Rate(int x, int n) {
  memmon::corpus::Interval ci = memmon::corpus::WilsonInterval(x, n);
  return fmt::format("{} ({}-{}) {}/{}", Percent(n ? double(x) / n : 1),
                     Percent(ci.lo), Percent(ci.hi), x, n);
}

std::string MedianCell(const std::vector<double>& v, bool interval) {
  memmon::corpus::MedianInterval m = memmon::corpus::MedianWithInterval(v);
  if (v.empty()) return "-";
  if (!interval || !m.ok) return fmt::format("{:.0f}", m.median);
  return fmt::format("{:.0f} ({:.0f}-{:.0f})", m.median, m.lo, m.hi);
}

// "memory_growth@12,40 thread_leak@7": the sample index of each alert (for
// the Go rules, which alert on every sample that passes: the first).
std::string Alerts(const Verdict& v, double interval_s, bool first_only) {
  std::string out;
  for (const auto& [type, times] : v.alert_s) {
    out += (out.empty() ? "" : " ") + type + "@";
    for (size_t i = 0; i < times.size() && (!first_only || i < 1); ++i) {
      out += fmt::format("{}{:.0f}", i ? "," : "", times[i] / interval_s);
    }
    if (first_only && times.size() > 1) out += "..";
  }
  return out.empty() ? "-" : out;
}

std::string Verdict1(const memmon::synth::Synthetic& s,
                     const memmon::corpus::Outcome& o,
                     const std::set<std::string>& expect) {
  std::string v;
  if (o.false_alarm) v = "**FALSE ALARM**";
  if (!expect.empty() && !o.detected) {
    v += std::string(v.empty() ? "" : " ") +
         (o.right_alert ? "**LATE**" : "**MISSED**");
  }
  if (v.empty()) v = "ok";
  if (o.detected) v += fmt::format(" ttd {}", o.first_index - s.onset);
  return v;
}

int RunGenerated(uint64_t seed, int count, memmon::corpus::ConfigKind kind,
                 bool list, bool verbose) {
  using memmon::corpus::Tally;
  auto start = std::chrono::steady_clock::now();
  std::vector<memmon::synth::Synthetic> set =
      memmon::synth::GenerateSet(seed, count);
  Tally memmon_all, go_all;
  std::map<std::string, std::pair<Tally, Tally>> by_class;
  std::vector<std::string> rows;
  for (const memmon::synth::Synthetic& s : set) {
    memmon::corpus::SyntheticResult r = memmon::corpus::JudgeSynthetic(s, kind);
    memmon_all.Add(s, r.memmon_outcome, s.expect);
    go_all.Add(s, r.go_outcome, r.go_expect);
    by_class[s.class_name].first.Add(s, r.memmon_outcome, s.expect);
    by_class[s.class_name].second.Add(s, r.go_outcome, r.go_expect);
    if (list) {
      rows.push_back(fmt::format(
          "| {} | {} | {} | {} | {} | {} {} | {} {} |", s.index, s.class_name,
          s.onset, s.due, s.params, Alerts(r.memmon, s.interval_s, false),
          Verdict1(s, r.memmon_outcome, s.expect),
          Alerts(r.go, s.interval_s, true),
          Verdict1(s, r.go_outcome, r.go_expect)));
      for (const std::string& m :
           verbose ? r.memmon.messages : std::vector<std::string>()) {
        rows.push_back("|   |   |   |   |   | " + m + " |   |");
      }
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  const char* which = seed == memmon::synth::kDevelopmentSeed ? "development"
                      : seed == memmon::synth::kHeldOutSeed   ? "held-out"
                                                              : "other";
  std::printf(
      "Generated corpus: seed %llu (%s set), %d series, config %s\n\n",
      static_cast<unsigned long long>(seed), which, count,
      kind == memmon::corpus::ConfigKind::kMonitor ? "monitor" : "analyze");
  std::printf(
      "| rules | precision (95 %% CI) | recall (95 %% CI) | false alarms | "
      "median samples to detect (95 %% CI) |\n|---|---|---|---|---|\n");
  for (const auto& [name, t] :
       {std::pair<const char*, const Tally&>{"memmon", memmon_all},
        std::pair<const char*, const Tally&>{"Go rules", go_all}}) {
    std::printf("| %s | %s | %s | %d of %d | %s |\n", name,
                Rate(t.right, t.alerted).c_str(),
                Rate(t.detected, t.positives).c_str(), t.false_alarm, t.series,
                MedianCell(t.ttd, true).c_str());
  }
  std::printf(
      "\n(Go rules: recall over the leaks it has a rule for, not fd_leak.)\n\n"
      "| class | series | memmon false alarms | memmon detected | memmon "
      "median TTD | memmon median alert - due | Go false alarms | Go "
      "detected | Go median TTD |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const std::string& name : memmon::synth::ClassNames()) {
    auto it = by_class.find(name);
    if (it == by_class.end()) continue;
    const Tally &m = it->second.first, &g = it->second.second;
    auto detected = [](const Tally& t) {
      return t.positives ? fmt::format("{}/{}", t.detected, t.positives)
                         : std::string("-");
    };
    std::printf("| %s | %d | %d | %s | %s | %s | %d | %s | %s |\n",
                name.c_str(), m.series, m.false_alarm, detected(m).c_str(),
                MedianCell(m.ttd, false).c_str(),
                MedianCell(m.vs_due, false).c_str(), g.false_alarm,
                detected(g).c_str(), MedianCell(g.ttd, false).c_str());
  }
  if (list) {
    std::printf(
        "\n| # | class | onset | due | parameters | memmon alerts (sample) | "
        "Go rules (first sample) |\n|---|---|---|---|---|---|---|\n");
    for (const std::string& row : rows) std::printf("%s\n", row.c_str());
  }
  std::fflush(stdout);
  std::fprintf(stderr, "corpus_eval: judged %d series in %.1f s\n", count,
               seconds);
  return 0;
}

int PrintCsv(uint64_t seed, int index) {
  std::fputs(memmon::synth::GenerateSeries(seed, index).CsvText(seed).c_str(),
             stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "tests/corpus";
  bool verbose = false, generated = false, list = false;
  uint64_t seed = memmon::synth::kDevelopmentSeed;
  int count = memmon::synth::kDefaultCount;
  int csv_index = -1;
  memmon::corpus::ConfigKind kind = memmon::corpus::ConfigKind::kAnalyze;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "corpus_eval: %s needs a value\n%s", arg.c_str(),
                     kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--generated") {
      generated = true;
    } else if (arg == "--list") {
      list = true;
    } else if (arg == "--csv") {
      csv_index = std::atoi(value());
    } else if (arg == "--seed") {
      seed = std::strtoull(value(), nullptr, 10);
    } else if (arg == "--count") {
      count = std::atoi(value());
    } else if (arg == "--config") {
      std::string c = value();
      if (c == "monitor") {
        kind = memmon::corpus::ConfigKind::kMonitor;
      } else if (c == "analyze") {
        kind = memmon::corpus::ConfigKind::kAnalyze;
      } else {
        std::fprintf(stderr, "corpus_eval: --config is monitor or analyze\n");
        return 2;
      }
    } else if (arg.starts_with("-")) {
      std::fprintf(stderr, "corpus_eval: unknown flag %s\n%s", arg.c_str(),
                   kUsage);
      return 2;
    } else {
      dir = arg;
    }
  }
  if (generated) {
    if (count <= 0) {
      std::fprintf(stderr, "corpus_eval: --count must be positive\n");
      return 2;
    }
    if (csv_index >= 0) return PrintCsv(seed, csv_index);
    return RunGenerated(seed, count, kind, list, verbose);
  }
  std::vector<Series> corpus;
  std::string error;
  if (!memmon::corpus::LoadManifest(dir, &corpus, &error)) {
    std::fprintf(stderr, "corpus_eval: %s\n", error.c_str());
    return 2;
  }

  std::printf(
      "| series | every | expected | memmon | Go rules | memmon TTD | Go TTD "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  int memmon_right = 0, go_right = 0, memmon_false = 0, go_false = 0;
  int leaks = 0, memmon_missed = 0, go_missed = 0;
  std::vector<double> memmon_ttd, go_ttd;
  for (const Series& s : corpus) {
    memmon::corpus::Result r;
    if (!memmon::corpus::Evaluate(dir, s, &r, &error)) {
      std::fprintf(stderr, "corpus_eval: %s\n", error.c_str());
      return 2;
    }
    std::set<std::string> mine = r.memmon.Types(), go = r.go.Types();
    // The Go original has no descriptor rule: judge it on what it can see.
    std::set<std::string> go_expect = s.expect;
    go_expect.erase("fd_leak");
    bool m_ok = mine == s.expect, g_ok = go == go_expect;
    memmon_right += m_ok;
    go_right += g_ok;
    auto extra = [](const std::set<std::string>& got,
                    const std::set<std::string>& want) {
      for (const std::string& t : got) {
        if (!want.count(t)) return true;
      }
      return false;
    };
    memmon_false += extra(mine, s.expect);
    go_false += extra(go, go_expect);
    std::string m_ttd = "", g_ttd = "";
    for (const std::string& type : s.expect) {
      ++leaks;
      double m = memmon::corpus::SamplesToDetect(s, r.memmon, type);
      double g = go_expect.count(type)
                     ? memmon::corpus::SamplesToDetect(s, r.go, type)
                     : -2;
      memmon_missed += m < 0;
      go_missed += g == -1;
      if (m >= 0) memmon_ttd.push_back(m);
      if (g >= 0) go_ttd.push_back(g);
      m_ttd += (m_ttd.empty() ? "" : ", ") + Ttd(m);
      g_ttd += (g_ttd.empty() ? "" : ", ") +
               (g == -2 ? std::string("no rule") : Ttd(g));
    }
    std::printf("| %s | %.0f s | %s | %s %s | %s %s | %s | %s |\n",
                s.name.c_str(), s.interval_s, Join(s.expect).c_str(),
                Join(mine).c_str(), m_ok ? "ok" : "**WRONG**", Join(go).c_str(),
                g_ok ? "ok" : "**wrong**", m_ttd.empty() ? "" : m_ttd.c_str(),
                g_ttd.empty() ? "" : g_ttd.c_str());
    if (verbose) {
      for (const std::string& m : r.memmon.messages)
        std::printf("|   | %s |\n", m.c_str());
    }
  }
  int n = static_cast<int>(corpus.size());
  std::printf(
      "\nseries classified right: memmon %d/%d, Go rules %d/%d\n"
      "series with a false alarm: memmon %d, Go rules %d\n"
      "problems missed (of %d): memmon %d, Go rules %d (+ descriptor leaks it "
      "has no rule for)\n"
      "median samples from onset to alert: memmon %.0f, Go rules %.0f (over "
      "the problems each caught)\n",
      memmon_right, n, go_right, n, memmon_false, go_false, leaks,
      memmon_missed, go_missed, Median(memmon_ttd), Median(go_ttd));
  return memmon_right == n ? 0 : 1;
}
