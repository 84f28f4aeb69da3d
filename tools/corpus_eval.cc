// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Runs the labelled corpus through memmon's detectors and through the Go
// original's rules, and prints, per series, what each raised and how many
// samples after the onset each caught the problem, as a Markdown table
// (docs/detection.md records it).
//
//   build/bin/corpus_eval [tests/corpus] [--verbose]

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "corpus.h"

namespace {

using memmon::corpus::Series;
using memmon::corpus::Verdict;

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

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "tests/corpus";
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--verbose") == 0) {
      verbose = true;
    } else {
      dir = argv[i];
    }
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
