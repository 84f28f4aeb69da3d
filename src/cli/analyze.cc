// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon analyze FILE.csv [--json]: replays a samples CSV (samples_csv.h)
// through the monitor's detectors and gates (detect/analyze.h), prints the
// alert records, firing and resolved, and ends with a verdict per quantity
// over the whole series (detect/verdict.h).

#include "detect/analyze.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/format.h"
#include "cli/command.h"
#include "cli/oom_options.h"
#include "cli/units.h"
#include "detect/samples_csv.h"
#include "memmon/config.h"

namespace memmon::cli {
namespace {

struct AnalyzeOptions {
  std::string file;
  bool json = false;
  std::size_t max_samples = internal::AnalyzeDefaultConfig().max_samples;
  double threshold_pct = internal::AnalyzeDefaultConfig().alert_threshold_pct;
  std::size_t warmup_samples = internal::AnalyzeDefaultConfig().warmup_samples;
  bool no_early = false;
  std::string oom_horizon;  // empty: the default
  std::string resolve_after = "5m";
};

bool ReadAll(const std::string& path, std::string* text, std::string* error) {
  if (path == "-") {
    text->assign(std::istreambuf_iterator<char>(std::cin), {});
    if (std::cin.bad()) {
      *error = "cannot read standard input";
      return false;
    }
    return true;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("cannot open {}: {}", path,
                         errno ? std::strerror(errno) : "unknown error");
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    *error = fmt::format("cannot read {}", path);
    return false;
  }
  *text = std::move(buf).str();
  return true;
}

int RunAnalyze(const AnalyzeOptions& o) {
  MonitorConfig config = internal::AnalyzeDefaultConfig();
  config.max_samples = o.max_samples;
  config.alert_threshold_pct = o.threshold_pct;
  config.warmup_samples = o.warmup_samples;
  config.alert_log = "none";
  if (o.no_early) config.growth_projection_horizon = std::chrono::seconds(0);
  if (int rc = ParseOomOptions("analyze", o.oom_horizon, "", &config);
      rc != kExitOk) {
    return rc;
  }
  if (Status s = ParseDuration(o.resolve_after, &config.resolve_after);
      !s.ok()) {
    std::fprintf(stderr, "memmon: analyze: --resolve-after: %s\n",
                 s.message().c_str());
    return kExitUsage;
  }
  if (Status s = Validate(config); !s.ok()) {
    std::fprintf(stderr, "memmon: analyze: %s\n", s.message().c_str());
    return kExitUsage;
  }

  std::string text, error;
  if (!ReadAll(o.file, &text, &error)) {
    std::fprintf(stderr, "memmon: analyze: %s\n", error.c_str());
    return kExitUsage;
  }
  internal::SamplesCsv csv;
  if (Status s = internal::ParseSamplesCsv(text, &csv); !s.ok()) {
    std::fprintf(stderr, "memmon: analyze: %s: %s\n",
                 o.file == "-" ? "<stdin>" : o.file.c_str(),
                 s.message().c_str());
    return kExitUsage;
  }

  internal::Analysis result = internal::AnalyzeSamples(csv, config);
  std::size_t alerts = 0, resolved = 0;
  for (const MemoryAlert& a : result.alerts) {
    bool firing = a.state == AlertState::kFiring;
    ++(firing ? alerts : resolved);
    if (o.json) {
      nlohmann::ordered_json j;
      j["type"] = ToString(a.type);
      j["state"] = ToString(a.state);
      j["time_s"] = a.time_s;
      j["message"] = a.message;
      j["value"] = a.value;
      j["threshold"] = a.threshold;
      if (!firing) j["episode_start_s"] = a.episode_start_s;
      std::fputs((j.dump() + "\n").c_str(), stdout);
    } else {
      std::string what =
          firing ? a.message
                 : fmt::format(
                       "resolved after {}: {}",
                       internal::HumanDuration(a.time_s - a.episode_start_s),
                       a.message);
      std::fputs(fmt::format("{:>10.1f} s  {:<18}  {}\n", a.time_s,
                             ToString(a.type), what)
                     .c_str(),
                 stdout);
    }
  }
  const std::vector<std::string>& disabled = result.not_judged;
  if (!o.json) {
    std::string span =
        csv.samples.empty()
            ? std::string()
            : " over " + internal::HumanDuration(csv.samples.back().time_s -
                                                 csv.samples.front().time_s);
    std::string summary =
        fmt::format("{} samples{}, {} alert{}", csv.samples.size(), span,
                    alerts, alerts == 1 ? "" : "s");
    if (resolved > 0) summary += fmt::format(" ({} resolved)", resolved);
    if (!disabled.empty()) {
      summary += "; not judged, for want of a column: ";
      for (std::size_t i = 0; i < disabled.size(); ++i) {
        summary += (i ? ", " : "") + disabled[i];
      }
    }
    std::fputs((summary + "\n").c_str(), stdout);
  }
  // With hindsight: what each quantity did over the whole series.
  for (const internal::QuantityVerdict& v : result.verdicts) {
    if (o.json) {
      nlohmann::ordered_json j;
      j["verdict"] = internal::ToString(v.verdict.kind);
      j["quantity"] = v.quantity;
      j["reason"] = v.verdict.reason;
      std::fputs((j.dump() + "\n").c_str(), stdout);
    } else {
      std::fputs(
          fmt::format("verdict {}: {}, {}\n", v.quantity,
                      internal::ToString(v.verdict.kind), v.verdict.reason)
              .c_str(),
          stdout);
    }
  }
  return FinishOutput("analyze");
}

}  // namespace

Subcommand AddAnalyze(CLI::App& parent) {
  auto o = std::make_shared<AnalyzeOptions>();
  CLI::App* app = parent.add_subcommand(
      "analyze",
      "Replay a samples CSV through memmon's detectors and print the alerts "
      "they raise and resolve (the same rules, gates and defaults as the "
      "in-process monitor), then a verdict per quantity over the whole "
      "series: leak, bounded, warm-up, sawtooth, flat or unknown.");
  app->add_option("file", o->file,
                  "samples CSV: a header naming at least time_s, then one "
                  "sample per line; columns rss_bytes, heap_inuse_bytes, "
                  "heap_free_bytes, threads, fds, allocator_cpu_fraction are "
                  "used, others ignored; an empty cell is unknown; '-' reads "
                  "standard input")
      ->required();
  app->add_flag("--json", o->json,
                "one JSON object per line: per alert record type, state "
                "(firing or resolved), time_s, message, value, threshold "
                "(and episode_start_s when resolved); then per quantity "
                "verdict, quantity, reason");
  app->add_option(
         "--max-samples", o->max_samples,
         "history the detectors see, in samples (MonitorConfig::max_samples; "
         "the monitor's default is 100)")
      ->capture_default_str();
  app->add_option("--threshold-pct", o->threshold_pct,
                  "memory_growth threshold over the baseline, percent "
                  "(MonitorConfig::alert_threshold_pct)")
      ->capture_default_str();
  app->add_option("--warmup-samples", o->warmup_samples,
                  "samples before the baseline (MonitorConfig::warmup_samples)")
      ->capture_default_str();
  app->add_option(
         "--resolve-after", o->resolve_after,
         "an episode that fired resolves once its condition has been absent on "
         "3 consecutive samples and for this long (0s: the 3 samples "
         "alone; MonitorConfig::resolve_after)")
      ->capture_default_str();
  app->add_flag(
      "--no-early", o->no_early,
      "no early warnings by projection (growth_projection_horizon = 0)");
  AddOomOptions(app, &o->oom_horizon, nullptr);
  return {app, [o] { return RunAnalyze(*o); }};
}

}  // namespace memmon::cli
