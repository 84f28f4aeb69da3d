// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon diff BASE NEW [--json]: the change of every allocation site's
// in-use bytes and objects between two heap profiles, largest change first.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/format.h"
#include "cli/command.h"
#include "profile/leak_sites.h"
#include "profile/pprof.h"

namespace memmon::cli {
namespace {

struct DiffOptions {
  std::string base;
  std::string next;
  std::size_t top = 20;
  bool json = false;
};

struct SiteChange {
  std::string function;
  std::string file;
  double base_bytes = 0, new_bytes = 0;
  double base_objects = 0, new_objects = 0;
  double delta_bytes() const { return new_bytes - base_bytes; }
  double delta_objects() const { return new_objects - base_objects; }
};

// Per-site values of `type` in both profiles, through the same site
// attribution as `memmon leaks` (the leaf function).
std::vector<profile::SiteGrowth> Sites(const profile::Profile& base,
                                       const profile::Profile& next,
                                       const char* type) {
  std::vector<profile::TimedProfile> pair = {{0, &base}, {1, &next}};
  profile::LeakRankingOptions options;
  options.sample_type = type;
  options.min_growth_bytes = 0;
  return profile::RankLeakSites(pair, options);
}

std::string Signed(double v, std::string text) {
  return v > 0 ? "+" + text : text;
}

int RunDiff(const DiffOptions& o) {
  profile::Profile base, next;
  for (auto [path, p] :
       {std::pair{&o.base, &base}, std::pair{&o.next, &next}}) {
    if (Status s = profile::ReadProfileFile(*path, p); !s.ok()) {
      std::string m = s.message();
      if (m.find(*path) == std::string::npos) m = *path + ": " + m;
      std::fprintf(stderr, "memmon: diff: %s\n", m.c_str());
      return kExitUsage;
    }
    if (p->SampleTypeIndex("inuse_space") < 0) {
      std::fprintf(
          stderr,
          "memmon: diff: %s: not a heap profile (no inuse_space values)\n",
          path->c_str());
      return kExitUsage;
    }
  }
  std::map<std::string, SiteChange> by_site;
  for (const profile::SiteGrowth& g : Sites(base, next, "inuse_space")) {
    SiteChange& c = by_site[g.function];
    c.function = g.function;
    c.file = g.file;
    c.base_bytes = g.first_bytes;
    c.new_bytes = g.last_bytes;
  }
  for (const profile::SiteGrowth& g : Sites(base, next, "inuse_objects")) {
    SiteChange& c = by_site[g.function];
    c.function = g.function;
    c.file = g.file;
    c.base_objects = g.first_bytes;  // the values of the sample type asked for
    c.new_objects = g.last_bytes;
  }
  std::vector<SiteChange> changes;
  double base_total = 0, new_total = 0;
  for (auto& [name, c] : by_site) {
    base_total += c.base_bytes;
    new_total += c.new_bytes;
    if (c.delta_bytes() != 0 || c.delta_objects() != 0) changes.push_back(c);
  }
  std::sort(changes.begin(), changes.end(),
            [](const SiteChange& a, const SiteChange& b) {
              if (std::abs(a.delta_bytes()) != std::abs(b.delta_bytes())) {
                return std::abs(a.delta_bytes()) > std::abs(b.delta_bytes());
              }
              return a.function < b.function;
            });
  const std::size_t shown = std::min(changes.size(), o.top);

  if (o.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < shown; ++i) {
      const SiteChange& c = changes[i];
      nlohmann::ordered_json j;
      j["function"] = c.function;
      j["file"] = c.file;
      j["base_inuse_bytes"] = static_cast<int64_t>(c.base_bytes);
      j["new_inuse_bytes"] = static_cast<int64_t>(c.new_bytes);
      j["delta_inuse_bytes"] = static_cast<int64_t>(c.delta_bytes());
      j["base_inuse_objects"] = static_cast<int64_t>(c.base_objects);
      j["new_inuse_objects"] = static_cast<int64_t>(c.new_objects);
      j["delta_inuse_objects"] = static_cast<int64_t>(c.delta_objects());
      out.push_back(std::move(j));
    }
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
    return FinishOutput("diff");
  }
  std::fputs(fmt::format("in use: {} -> {} ({}); {} site{} changed\n",
                         internal::HumanBytes(base_total),
                         internal::HumanBytes(new_total),
                         internal::SignedHumanBytes(new_total - base_total),
                         changes.size(), changes.size() == 1 ? "" : "s")
                 .c_str(),
             stdout);
  for (std::size_t i = 0; i < shown; ++i) {
    const SiteChange& c = changes[i];
    std::string file = c.file.substr(c.file.rfind('/') + 1);
    std::fputs(fmt::format("{:>12}  {:>10} objects  {:>10} -> {:<10}  {}{}{}\n",
                           internal::SignedHumanBytes(c.delta_bytes()),
                           Signed(c.delta_objects(),
                                  fmt::format("{:.0f}", c.delta_objects())),
                           internal::HumanBytes(c.base_bytes),
                           internal::HumanBytes(c.new_bytes), c.function,
                           file.empty() ? "" : "  ", file)
                   .c_str(),
               stdout);
  }
  if (changes.size() > shown) {
    std::fputs(
        fmt::format("... {} more (--top)\n", changes.size() - shown).c_str(),
        stdout);
  }
  return FinishOutput("diff");
}

}  // namespace

Subcommand AddDiff(CLI::App& parent) {
  auto o = std::make_shared<DiffOptions>();
  CLI::App* app = parent.add_subcommand(
      "diff",
      "Per-site change between two heap profiles: in-use bytes and objects of "
      "each allocation site (leaf function) in BASE and NEW, largest change "
      "first.");
  app->add_option("base", o->base, "the earlier heap profile")->required();
  app->add_option("new", o->next, "the later heap profile")->required();
  app->add_option("--top", o->top, "show this many sites")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_flag(
      "--json", o->json,
      "a JSON array, largest change first: function, file, base_/new_/delta_ "
      "inuse_bytes and inuse_objects");
  return {app, [o] { return RunDiff(*o); }};
}

}  // namespace memmon::cli
