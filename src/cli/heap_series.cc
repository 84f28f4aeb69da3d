// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cli/heap_series.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <system_error>

#include "base/format.h"
#include "profile/pprof.h"

namespace memmon::cli {

namespace fs = std::filesystem;

std::vector<profile::TimedProfile> HeapSeries::Timed() const {
  std::vector<profile::TimedProfile> out;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    out.push_back({times_s[i], &profiles[i]});
  }
  return out;
}

std::vector<std::string> RunDirProfiles(const std::string& dir) {
  std::vector<std::pair<long, std::string>> numbered;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    // heap.NNNN.pb.gz: digits only between the dots (a child's files are
    // heap.pid<pid>[.NNNN].pb.gz).
    constexpr std::string_view kPrefix = "heap.", kSuffix = ".pb.gz";
    if (name.size() <= kPrefix.size() + kSuffix.size() ||
        !name.starts_with(kPrefix) || !name.ends_with(kSuffix)) {
      continue;
    }
    std::string mid = name.substr(
        kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
    if (mid.empty() || mid.size() > 9 ||
        !std::all_of(mid.begin(), mid.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    numbered.emplace_back(std::strtol(mid.c_str(), nullptr, 10),
                          e.path().string());
  }
  std::sort(numbered.begin(), numbered.end());
  std::vector<std::string> out;
  for (auto& [n, path] : numbered) out.push_back(std::move(path));
  // The profile written at exit is the series' last point: it carries the
  // growth since the last snapshot. When it shows the program's teardown
  // instead (main's objects destroyed, caches freed), LoadHeapSeries sets
  // it aside with the rest of the final collapse; when it is a copy of the
  // last snapshot (a program that did not exit normally), as a duplicate.
  fs::path final_profile = fs::path(dir) / "heap.pb.gz";
  if (fs::is_regular_file(final_profile, ec)) {
    out.push_back(final_profile.string());
  }
  return out;
}

Status LoadHeapSeries(const std::vector<std::string>& inputs, HeapSeries* out) {
  *out = HeapSeries{};
  std::vector<std::string> paths;
  std::error_code ec;
  if (inputs.size() == 1 && fs::is_directory(inputs[0], ec)) {
    paths = RunDirProfiles(inputs[0]);
    if (paths.empty()) {
      return Status::NotFound(
          fmt::format("{}: no heap profiles (heap.pb.gz, heap.NNNN.pb.gz) in "
                      "this directory",
                      inputs[0]));
    }
  } else {
    for (const std::string& p : inputs) {
      if (fs::is_directory(p, ec)) {
        return Status::InvalidArgument(
            fmt::format("{}: is a directory; give one run directory alone, or "
                        "profile files",
                        p));
      }
      paths.push_back(p);
    }
  }
  std::vector<profile::Profile> profiles(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (Status s = profile::ReadProfileFile(paths[i], &profiles[i]); !s.ok()) {
      // ReadProfileFile's messages already name the file when it is the
      // file that fails; name it always.
      std::string m = s.message();
      if (m.find(paths[i]) == std::string::npos) m = paths[i] + ": " + m;
      return Status(s.code(), m);
    }
    if (profiles[i].SampleTypeIndex("inuse_space") < 0) {
      std::string types;
      for (const profile::ValueType& t : profiles[i].sample_types) {
        types += (types.empty() ? "" : ", ") + t.type;
      }
      return Status::InvalidArgument(fmt::format(
          "{}: not a heap profile: no inuse_space sample type (it has: {})",
          paths[i], types.empty() ? "none" : types));
    }
  }
  // Time order: by time_nanos when every profile has one, else as given.
  std::vector<std::size_t> order(paths.size());
  std::iota(order.begin(), order.end(), 0);
  const bool timed =
      std::all_of(profiles.begin(), profiles.end(),
                  [](const profile::Profile& p) { return p.time_nanos > 0; });
  if (timed) {
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) {
                       return profiles[a].time_nanos < profiles[b].time_nanos;
                     });
    // One point per time: a copy (the exit profile kept from the last
    // snapshot) is not a second observation. The later file stands.
    std::vector<std::size_t> unique;
    for (std::size_t i : order) {
      if (!unique.empty() &&
          profiles[unique.back()].time_nanos == profiles[i].time_nanos) {
        unique.back() = i;
      } else {
        unique.push_back(i);
      }
    }
    order = std::move(unique);
  }
  // A run directory's final collapse is its teardown (never the only
  // points: at least four remain, or nothing is left out).
  std::size_t keep = order.size();
  if (inputs.size() == 1 && fs::is_directory(inputs[0], ec)) {
    std::vector<double> total(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
      const profile::Profile& p = profiles[order[k]];
      int idx = p.SampleTypeIndex("inuse_space");
      for (const profile::Sample& s : p.samples) {
        if (static_cast<std::size_t>(idx) < s.values.size()) {
          total[k] +=
              static_cast<double>(s.values[static_cast<std::size_t>(idx)]);
        }
      }
    }
    double peak = *std::max_element(total.begin(), total.end());
    std::size_t last_high = order.size();
    for (std::size_t k = order.size(); k-- > 0;) {
      if (total[k] >= peak / 2) {
        last_high = k;
        break;
      }
    }
    if (last_high + 1 < order.size() && last_high + 1 >= 4)
      keep = last_high + 1;
  }
  for (std::size_t k = keep; k < order.size(); ++k)
    out->teardown.push_back(paths[order[k]]);
  order.resize(keep);
  for (std::size_t k = 0; k < order.size(); ++k) {
    std::size_t i = order[k];
    out->paths.push_back(paths[i]);
    out->times_s.push_back(
        timed ? static_cast<double>(profiles[i].time_nanos -
                                    profiles[order[0]].time_nanos) /
                    1e9
              : static_cast<double>(k));
    out->profiles.push_back(std::move(profiles[i]));
  }
  return Status::Ok();
}

std::string FrameWhere(const profile::StackFrame& f) {
  return internal::HumanSourceLocation(f.file, f.line);
}

nlohmann::ordered_json SuspectJson(const profile::SiteGrowth& site) {
  nlohmann::ordered_json j;
  nlohmann::ordered_json stack = nlohmann::ordered_json::array();
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const profile::StackFrame& f : site.stack) {
    stack.push_back(f.function);
    nlohmann::ordered_json frame;
    frame["function"] = f.function;
    frame["file"] = f.file;
    frame["line"] = f.line;
    frames.push_back(std::move(frame));
  }
  if (site.stack.empty()) stack.push_back(site.function);
  j["stack"] = std::move(stack);
  j["frames"] = std::move(frames);
  j["function"] = site.function;
  j["file"] = site.file;
  j["inuse_bytes"] = static_cast<int64_t>(site.last_bytes);
  j["growth_bytes_per_s"] = site.recent_slope_bytes_per_s;
  j["slope_lower_bytes_per_s"] = site.slope_lower_bytes_per_s;
  j["confidence"] = site.confidence;
  j["kind"] = std::string(profile::ToString(site.kind));
  j["first_bytes"] = static_cast<int64_t>(site.first_bytes);
  j["peak_bytes"] = static_cast<int64_t>(site.peak_bytes);
  j["snapshots"] = site.inuse_bytes.size();
  // The age of the live memory (null when the profiles carry no ages).
  if (site.age != profile::SiteGrowth::Age::kUnknown) {
    j["median_age_s"] = site.last_median_age_s;
    j["oldest_age_s"] = site.last_oldest_age_s;
    j["median_age_growth"] = site.age_slope;
  } else {
    j["median_age_s"] = nullptr;
    j["oldest_age_s"] = nullptr;
    j["median_age_growth"] = nullptr;
  }
  j["age"] = std::string(profile::ToString(site.age));
  return j;
}

}  // namespace memmon::cli
