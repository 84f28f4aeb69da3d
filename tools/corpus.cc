// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "corpus.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "detect/analyze.h"
#include "detect/samples_csv.h"

namespace memmon::corpus {

std::set<std::string> Verdict::Types() const {
  std::set<std::string> out;
  for (const auto& [type, times] : alert_s) out.insert(type);
  return out;
}

bool LoadManifest(const std::string& dir, std::vector<Series>* out,
                  std::string* error) {
  std::ifstream in(dir + "/manifest.json");
  if (!in) {
    *error = "cannot open " + dir + "/manifest.json";
    return false;
  }
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    for (const auto& s : j.at("series")) {
      Series x;
      x.name = s.at("name").get<std::string>();
      x.file = s.at("file").get<std::string>();
      x.interval_s = s.at("interval_s").get<double>();
      x.samples = s.at("samples").get<int>();
      for (const auto& t : s.at("expect"))
        x.expect.insert(t.get<std::string>());
      x.onset_s = s.at("onset_s").get<double>();
      x.description = s.at("description").get<std::string>();
      out->push_back(std::move(x));
    }
  } catch (const std::exception& e) {
    *error = dir + "/manifest.json: " + e.what();
    return false;
  }
  return true;
}

Verdict JudgeMemmon(const internal::SamplesCsv& csv,
                    const MonitorConfig& config, bool hindsight) {
  Verdict out;
  internal::Analysis a = internal::AnalyzeSamples(csv, config, hindsight);
  for (const MemoryAlert& alert : a.alerts) {
    std::string type(ToString(alert.type));
    if (alert.state == AlertState::kResolved) {
      // An episode's end: shown, not counted as an alert.
      out.messages.push_back(fmt::format("{:>8.0f} s  {:<18}  resolved: {}",
                                         alert.time_s, type, alert.message));
      continue;
    }
    out.alert_s[type].push_back(alert.time_s);
    out.messages.push_back(fmt::format("{:>8.0f} s  {:<18}  {}", alert.time_s,
                                       type, alert.message));
  }
  return out;
}

Verdict JudgeGoRules(const internal::SamplesCsv& csv) {
  Verdict go;
  if (csv.samples.empty()) return go;
  const Sample& first = csv.samples.front().sample;
  auto memory = [&](const Sample& s) {
    return csv.Has("heap_inuse_bytes") ? s.heap_inuse_bytes : s.rss_bytes;
  };
  for (const internal::TimedSample& ts : csv.samples) {
    const Sample& s = ts.sample;
    auto m0 = memory(first), m = memory(s);
    if (m0 && m && static_cast<double>(*m) > 1.2 * static_cast<double>(*m0)) {
      go.alert_s["memory_growth"].push_back(ts.time_s);
    }
    if (first.threads && s.threads &&
        static_cast<double>(*s.threads) >
            1.5 * static_cast<double>(*first.threads)) {
      go.alert_s["thread_leak"].push_back(ts.time_s);
    }
    if (s.heap_inuse_bytes && s.heap_free_bytes) {
      double used = static_cast<double>(*s.heap_inuse_bytes);
      double idle = static_cast<double>(*s.heap_free_bytes);
      if (used + idle > 0 && idle / (used + idle) > 0.5) {
        go.alert_s["heap_fragmentation"].push_back(ts.time_s);
      }
    }
  }
  return go;
}

bool Evaluate(const std::string& dir, const Series& series, Result* out,
              std::string* error) {
  std::string path = dir + "/" + series.file;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path;
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  internal::SamplesCsv csv;
  if (Status s = internal::ParseSamplesCsv(text.str(), &csv); !s.ok()) {
    *error = path + ": " + s.message();
    return false;
  }
  out->memmon = JudgeMemmon(csv, internal::AnalyzeDefaultConfig());
  out->go = JudgeGoRules(csv);
  return true;
}

double SamplesToDetect(const Series& series, const Verdict& verdict,
                       const std::string& type) {
  auto it = verdict.alert_s.find(type);
  if (it == verdict.alert_s.end() || series.onset_s < 0) return -1;
  for (double t : it->second) {
    if (t >= series.onset_s) return (t - series.onset_s) / series.interval_s;
  }
  return -1;
}

Outcome Score(const synth::Synthetic& s, const Verdict& verdict,
              const std::set<std::string>& expect) {
  Outcome o;
  int last = std::max(s.onset, s.due) + kDetectWithinSamples;
  for (const auto& [type, times] : verdict.alert_s) {
    bool expected = expect.count(type) > 0;
    for (double t : times) {
      o.any_alert = true;
      int index = static_cast<int>(std::lround(t / s.interval_s));
      if (!expected || index < s.onset) {
        o.false_alarm = true;
        continue;
      }
      o.right_alert = true;
      if (o.first_index < 0 || index < o.first_index) o.first_index = index;
      if (index <= last) o.detected = true;
    }
  }
  return o;
}

MonitorConfig ConfigFor(ConfigKind kind, double interval_s) {
  MonitorConfig c = kind == ConfigKind::kMonitor
                        ? DefaultMonitorConfig()
                        : internal::AnalyzeDefaultConfig();
  c.sample_interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(interval_s));
  c.alert_log = "none";
  return c;
}

SyntheticResult JudgeSynthetic(const synth::Synthetic& s, ConfigKind kind) {
  SyntheticResult r;
  internal::SamplesCsv csv = s.Csv();
  r.memmon = JudgeMemmon(csv, ConfigFor(kind, s.interval_s),
                         /*hindsight=*/kind == ConfigKind::kAnalyze);
  r.go = JudgeGoRules(csv);
  r.go_expect = s.expect;
  r.go_expect.erase("fd_leak");
  r.memmon_outcome = Score(s, r.memmon, s.expect);
  r.go_outcome = Score(s, r.go, r.go_expect);
  return r;
}

void Tally::Add(const synth::Synthetic& s, const Outcome& o,
                const std::set<std::string>& expect) {
  ++series;
  alerted += o.any_alert;
  right += o.Right();
  false_alarm += o.false_alarm;
  if (expect.empty()) return;
  ++positives;
  if (!o.detected) return;
  ++detected;
  ttd.push_back(o.first_index - s.onset);
  vs_due.push_back(o.first_index - s.due);
}

Interval WilsonInterval(int successes, int n) {
  if (n <= 0) return {};
  const double z = 1.959963984540054;
  double p = static_cast<double>(successes) / n, z2n = z * z / n;
  double centre = (p + z2n / 2) / (1 + z2n);
  double half =
      z / (1 + z2n) * std::sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

MedianInterval MedianWithInterval(std::vector<double> v) {
  MedianInterval m;
  if (v.empty()) return m;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  m.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  // P(Binomial(n, 1/2) <= k), summed in logs (n may be large).
  auto log_pmf = [n](size_t k) {
    return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) -
           std::lgamma(n - k + 1.0) - n * std::log(2.0);
  };
  double cdf = 0;
  size_t l = 0;  // 1-based rank; 0: none
  for (size_t k = 0; k < n; ++k) {
    cdf += std::exp(log_pmf(k));  // P(B <= k)
    if (cdf > 0.025) break;
    l = k + 1;  // P(B < l) = P(B <= k) <= 2.5 %
  }
  if (l == 0) return m;
  m.lo = v[l - 1];
  m.hi = v[n - l];
  m.ok = true;
  return m;
}

}  // namespace memmon::corpus
