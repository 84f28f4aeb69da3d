// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon leaks DIR|PROFILE... [--top N] [--json]: ranks allocation sites by
// the growth of their in-use bytes over a series of heap profiles
// (profile/leak_sites.h), telling a leak (unbounded) from a cache that
// filled (bounded).

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/format.h"
#include "cli/command.h"
#include "cli/heap_series.h"
#include "cli/units.h"
#include "profile/leak_sites.h"
#include "profile/raw_heap.h"

namespace memmon::cli {
namespace {

struct LeaksOptions {
  std::vector<std::string> inputs;
  std::size_t top = 10;
  bool json = false;
  std::string min_growth = "1M";
};

// The suspect in a few lines: rank, verdict, figures, then its stack.
std::string Describe(std::size_t rank, const profile::SiteGrowth& g,
                     bool trend) {
  std::string figures =
      fmt::format("{} in use", internal::HumanBytes(g.last_bytes));
  if (trend) {
    figures +=
        fmt::format(", {} -> {}, {}/s", internal::HumanBytes(g.first_bytes),
                    internal::HumanBytes(g.last_bytes),
                    internal::HumanBytes(g.recent_slope_bytes_per_s));
    if (g.kind == profile::GrowthKind::kUnbounded && g.confidence > 0) {
      figures += fmt::format(" (at least {}/s), trend confidence {:.1f} %",
                             internal::HumanBytes(g.slope_lower_bytes_per_s),
                             100 * g.confidence);
    }
  }
  if (g.age != profile::SiteGrowth::Age::kUnknown) {
    figures += fmt::format("; live memory {}: median age {}, oldest {}",
                           profile::ToString(g.age),
                           internal::HumanDuration(g.last_median_age_s),
                           internal::HumanDuration(g.last_oldest_age_s));
  }
  std::string out = fmt::format("#{:<2} {:<9}  {}  {}\n", rank,
                                profile::ToString(g.kind), g.function, figures);
  constexpr std::size_t kFrames = 8;
  for (std::size_t i = 0; i < g.stack.size() && i < kFrames; ++i) {
    std::string where = FrameWhere(g.stack[i]);
    out += fmt::format("      {}{}{}\n", g.stack[i].function,
                       where.empty() ? "" : "  ", where);
  }
  if (g.stack.size() > kFrames) {
    out += fmt::format("      ... {} more frames\n", g.stack.size() - kFrames);
  }
  return out;
}

int RunLeaks(const LeaksOptions& o) {
  uint64_t min_growth = 0;
  if (Status s = ParseSize(o.min_growth, &min_growth); !s.ok()) {
    std::fprintf(stderr, "memmon: leaks: --min-growth: %s\n",
                 s.message().c_str());
    return kExitUsage;
  }
  // A run directory of a process that ended by a fatal signal, _exit or
  // _Exit (under the bare preload: nobody converted its raw heap dump).
  for (const std::string& input : o.inputs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(input, ec)) continue;
    std::vector<std::string> errors;
    profile::ConvertRawHeaps(input, &errors);
    for (const std::string& e : errors) {
      std::fprintf(stderr, "memmon: leaks: %s (left as it is)\n", e.c_str());
    }
  }
  HeapSeries series;
  if (Status s = LoadHeapSeries(o.inputs, &series); !s.ok()) {
    std::fprintf(stderr, "memmon: leaks: %s\n", s.message().c_str());
    return kExitUsage;
  }
  profile::LeakRankingOptions options;
  options.min_growth_bytes = static_cast<double>(min_growth);
  std::vector<profile::SiteGrowth> ranked =
      profile::RankLeakSites(series.Timed(), options);
  if (ranked.size() > o.top) ranked.resize(o.top);

  if (o.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const profile::SiteGrowth& g : ranked) out.push_back(SuspectJson(g));
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
    return FinishOutput("leaks");
  }
  const std::size_t n = series.profiles.size();
  const bool trend = n >= 2;
  std::string head =
      trend
          ? fmt::format("{} heap profiles over {}", n,
                        internal::HumanDuration(series.times_s.back()))
          : "1 heap profile: no growth can be measured; sites by bytes in use";
  if (trend && n < 4) head += " (fewer than 4: growth without a trend test)";
  if (!series.teardown.empty()) {
    head += fmt::format(
        "; the last {} left out: the heap collapsed there (the program's "
        "teardown)",
        series.teardown.size());
  }
  std::fputs((head + "\n").c_str(), stdout);
  if (ranked.empty())
    std::fputs("no allocation sites in the profiles\n", stdout);
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    std::fputs(Describe(i + 1, ranked[i], trend).c_str(), stdout);
  }
  return FinishOutput("leaks");
}

}  // namespace

Subcommand AddLeaks(CLI::App& parent) {
  auto o = std::make_shared<LeaksOptions>();
  CLI::App* app = parent.add_subcommand(
      "leaks",
      "Rank leak suspects: the allocation sites whose in-use bytes grow over a "
      "series of heap profiles (a run directory, or profile files), with their "
      "stacks. 'unbounded' is still rising steadily (a leak); 'bounded' grew, "
      "then stopped (a cache that filled); 'flat' did not grow.");
  app->add_option(
         "inputs", o->inputs,
         "a run directory (memmon run --out, MEMMON_OUTPUT) or heap profiles")
      ->required();
  app->add_option("--top", o->top, "show this many sites")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--min-growth", o->min_growth,
                  "growth below this is 'flat' (512k, 2M)")
      ->capture_default_str();
  app->add_flag("--json", o->json,
                "a JSON array, most suspect first: stack, frames, inuse_bytes, "
                "growth_bytes_per_s, confidence, kind, ...");
  return {app, [o] { return RunLeaks(*o); }};
}

}  // namespace memmon::cli
