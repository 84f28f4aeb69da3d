// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "corpus.h"

#include <fmt/format.h>

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

namespace {

void GoRules(const internal::SamplesCsv& csv, Verdict* go) {
  if (csv.samples.empty()) return;
  const Sample& first = csv.samples.front().sample;
  auto memory = [&](const Sample& s) {
    return csv.Has("heap_inuse_bytes") ? s.heap_inuse_bytes : s.rss_bytes;
  };
  for (const internal::TimedSample& ts : csv.samples) {
    const Sample& s = ts.sample;
    auto m0 = memory(first), m = memory(s);
    if (m0 && m && static_cast<double>(*m) > 1.2 * static_cast<double>(*m0)) {
      go->alert_s["memory_growth"].push_back(ts.time_s);
    }
    if (first.threads && s.threads &&
        static_cast<double>(*s.threads) >
            1.5 * static_cast<double>(*first.threads)) {
      go->alert_s["thread_leak"].push_back(ts.time_s);
    }
    if (s.heap_inuse_bytes && s.heap_free_bytes) {
      double used = static_cast<double>(*s.heap_inuse_bytes);
      double idle = static_cast<double>(*s.heap_free_bytes);
      if (used + idle > 0 && idle / (used + idle) > 0.5) {
        go->alert_s["heap_fragmentation"].push_back(ts.time_s);
      }
    }
  }
}

}  // namespace

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
  internal::Analysis a =
      internal::AnalyzeSamples(csv, internal::AnalyzeDefaultConfig());
  for (const MemoryAlert& alert : a.alerts) {
    std::string type(ToString(alert.type));
    out->memmon.alert_s[type].push_back(alert.time_s);
    out->memmon.messages.push_back(fmt::format(
        "{:>8.0f} s  {:<18}  {}", alert.time_s, type, alert.message));
  }
  GoRules(csv, &out->go);
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

}  // namespace memmon::corpus
