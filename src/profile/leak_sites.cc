// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/leak_sites.h"

#include <algorithm>
#include <map>

#include "detect/trend.h"
#include "memmon/growth.h"
#include "profile/heap_profile.h"

namespace memmon::profile {

namespace {

struct LeafKey {
  std::string function;
  std::string file;
};

// A demangled name without its parameter list and qualifiers, as pprof
// shows it: "ns::Cache<int>::Put(int) const" -> "ns::Cache<int>::Put".
// Template arguments stay; "operator()" keeps its own parentheses; a
// compiler clone suffix (" [clone .isra.0]") goes.
std::string ShortName(std::string name) {
  if (name.empty() || name[0] == '[') return name;  // "[unknown]", ...
  if (std::size_t clone = name.find(" [clone "); clone != std::string::npos) {
    name.resize(clone);
  }
  // Trailing qualifiers of a member function, then its parameter list (the
  // parenthesised group that ends the name; "operator()(int)" keeps "()").
  for (bool again = true; again;) {
    again = false;
    for (std::string_view q :
         {" const", " volatile", " &&", " &", " noexcept"}) {
      if (name.ends_with(q)) {
        name.resize(name.size() - q.size());
        again = true;
      }
    }
  }
  if (name.ends_with(")")) {
    int depth = 0;
    for (std::size_t i = name.size(); i-- > 0;) {
      if (name[i] == ')') ++depth;
      if (name[i] == '(' && --depth == 0) {
        if (i > 0) name.resize(i);
        break;
      }
    }
  }
  // A template function's return type: what precedes the last space
  // outside brackets ("Session& std::deque<...>::emplace_back<int&>"),
  // unless that space belongs to an operator ("operator new").
  int depth = 0;
  std::size_t cut = std::string::npos;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '<' || c == '(' || c == '[') ++depth;
    if ((c == '>' || c == ')' || c == ']') && depth > 0) --depth;
    if (c == ' ' && depth == 0 &&
        !std::string_view(name).substr(0, i).ends_with("operator")) {
      cut = i;
    }
  }
  if (cut != std::string::npos && cut + 1 < name.size()) name.erase(0, cut + 1);
  return name;
}

// A frame of the C++ standard library (containers, allocators, smart
// pointers, inlined into the caller): not where a program decides to hold
// memory, so a site is the first frame outside it.
bool IsLibraryFrame(const Function& f) {
  const std::string& n = f.name;
  return n.starts_with("std::") || n.starts_with("__gnu_cxx::") ||
         n.starts_with("__cxxabiv1::") ||
         f.filename.starts_with("/usr/include/c++/");
}

// The frames of a sample, innermost first (inlined functions included):
// (location index, line index) pairs.
template <typename Fn>
void ForEachFrame(const Profile& p, const Sample& s, Fn fn) {
  for (uint64_t id : s.location_ids) {
    const Location* loc = p.FindLocation(id);
    if (loc == nullptr) continue;
    for (const Line& line : loc->lines) {
      const Function* f = p.FindFunction(line.function_id);
      if (f != nullptr && !fn(*f, line)) return;
    }
  }
}

// The site of a sample: its first frame outside the standard library (the
// innermost frame when all are inside it).
LeafKey Leaf(const Profile& p, const Sample& s) {
  const Function* first = nullptr;
  const Function* site = nullptr;
  ForEachFrame(p, s, [&](const Function& f, const Line&) {
    if (first == nullptr) first = &f;
    if (IsLibraryFrame(f)) return true;
    site = &f;
    return false;
  });
  if (site == nullptr) site = first;
  if (site == nullptr) return {"[unknown]", ""};
  return {ShortName(site->name), site->filename};
}

// The stack from the site (the first frame outside the standard library)
// outwards.
std::vector<StackFrame> Stack(const Profile& p, const Sample& s) {
  std::vector<StackFrame> all;
  std::size_t site = SIZE_MAX;
  ForEachFrame(p, s, [&](const Function& f, const Line& line) {
    if (site == SIZE_MAX && !IsLibraryFrame(f)) site = all.size();
    all.push_back({ShortName(f.name), f.filename, line.line});
    return true;
  });
  if (site != SIZE_MAX)
    all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(site));
  return all;
}

// Uses the most recent kMaxTrendPoints points.
template <typename T>
std::span<const T> Tail(const std::vector<T>& v, std::size_t n) {
  n = std::min(n, v.size());
  return std::span<const T>(v).last(n);
}

// A site's ages in one snapshot: its stacks' (median, oldest, bytes).
struct StackAges {
  std::vector<std::pair<double, double>> median_weight;
  double oldest = -1;
};

// The bytes-weighted median of the stacks' medians.
double WeightedMedian(std::vector<std::pair<double, double>> v) {
  std::sort(v.begin(), v.end());
  double total = 0;
  for (const auto& [m, w] : v) total += w;
  double seen = 0;
  for (const auto& [m, w] : v) {
    seen += w;
    if (seen >= total / 2) return m;
  }
  return v.empty() ? -1 : v.back().first;
}

// Sets g's age fields from its per-snapshot ages; `run_s` is the run's
// time at each snapshot.
void JudgeAge(const std::vector<double>& times,
              const std::vector<double>& run_s, SiteGrowth& g) {
  std::vector<double> t, m;
  for (std::size_t i = 0; i < g.median_age_s.size(); ++i) {
    if (g.median_age_s[i] < 0) continue;
    t.push_back(times[i]);
    m.push_back(g.median_age_s[i]);
    g.last_median_age_s = g.median_age_s[i];
    g.last_oldest_age_s = g.oldest_age_s[i];
  }
  if (m.empty()) return;
  std::size_t last = g.median_age_s.size();
  while (last-- > 0 && g.median_age_s[last] < 0) {
  }
  const double run = run_s[last];
  if (m.size() >= 2 && t.back() > t.front()) {
    g.age_slope = m.size() >= 3
                      ? internal::TheilSenSlope(t, m)
                      : (m.back() - m.front()) / (t.back() - t.front());
  }
  const bool rising =
      m.size() >= 2 ? g.age_slope >= kAgeingSlope
                    : run > 0 && g.last_median_age_s >= kAgeingFraction * run;
  if (rising) {
    g.age = SiteGrowth::Age::kAgeing;
  } else if (run > 0 && g.last_median_age_s <= kYoungFraction * run) {
    g.age = SiteGrowth::Age::kYoung;
  } else {
    g.age = SiteGrowth::Age::kSteady;
  }
}

// A site whose live memory keeps ageing and that is still rising: memory
// kept, a leak candidate. Still rising: a positive slope over the recent
// window, and the latter half of the series (from its middle snapshot to
// the last) holds at least a quarter of the site's growth and at least
// `min_growth` -- a cache filled to its cap ages too, but its latter half
// is flat (within the sampling's noise, well under a quarter of the fill).
bool KeptAndRising(const SiteGrowth& g, double min_growth) {
  if (g.age != SiteGrowth::Age::kAgeing || g.recent_slope_bytes_per_s <= 0 ||
      g.inuse_bytes.size() < 2) {
    return false;
  }
  const double latter =
      g.last_bytes - g.inuse_bytes[(g.inuse_bytes.size() - 1) / 2];
  return latter >= min_growth &&
         latter >= 0.25 * (g.last_bytes - g.first_bytes);
}

}  // namespace

std::string_view ToString(SiteGrowth::Age age) {
  switch (age) {
    case SiteGrowth::Age::kYoung:
      return "young";
    case SiteGrowth::Age::kSteady:
      return "steady";
    case SiteGrowth::Age::kAgeing:
      return "ageing";
    case SiteGrowth::Age::kUnknown:
      break;
  }
  return "unknown";
}

std::vector<SiteGrowth> RankLeakSites(std::span<const TimedProfile> snapshots,
                                      const LeakRankingOptions& options) {
  const std::size_t n = snapshots.size();
  std::map<std::string, SiteGrowth> sites;
  std::map<std::string, std::vector<StackAges>> ages;
  for (std::size_t i = 0; i < n; ++i) {
    const Profile& p = *snapshots[i].profile;
    int idx = p.SampleTypeIndex(options.sample_type);
    if (idx < 0) continue;
    for (const Sample& s : p.samples) {
      if (static_cast<std::size_t>(idx) >= s.values.size()) continue;
      LeafKey key = Leaf(p, s);
      SiteGrowth& g = sites[key.function];
      if (g.inuse_bytes.empty()) {
        g.function = key.function;
        g.file = key.file;
        g.inuse_bytes.assign(n, 0.0);
      }
      const double v = static_cast<double>(s.values[idx]);
      g.inuse_bytes[i] += v;
      if (LiveAge age; v > 0 && LiveAgeOf(s, &age)) {
        std::vector<StackAges>& a = ages[key.function];
        if (a.empty()) a.resize(n);
        a[i].median_weight.emplace_back(age.median_s, v);
        a[i].oldest = std::max(a[i].oldest, age.oldest_s);
      }
      // Later snapshots replace the stack; within one, the heaviest wins.
      if (v > 0 && (g.stack_snapshot != i || v > g.stack_bytes)) {
        g.stack_snapshot = i;
        g.stack_bytes = v;
        g.stack = Stack(p, s);
      }
    }
  }

  std::vector<double> times(n);
  for (std::size_t i = 0; i < n; ++i) times[i] = snapshots[i].time_s;
  // The run's time at each snapshot: the sampler's age when the profile
  // says it, else the time since the first snapshot.
  std::vector<double> run_s(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t d = snapshots[i].profile->duration_nanos;
    run_s[i] = d > 0 ? static_cast<double>(d) / 1e9 : times[i] - times[0];
  }

  std::vector<SiteGrowth> out;
  for (auto& [name, g] : sites) {
    g.median_age_s.assign(n, -1);
    g.oldest_age_s.assign(n, -1);
    if (auto a = ages.find(name); a != ages.end()) {
      for (std::size_t i = 0; i < n; ++i) {
        if (a->second[i].median_weight.empty()) continue;
        g.median_age_s[i] = WeightedMedian(a->second[i].median_weight);
        g.oldest_age_s[i] = a->second[i].oldest;
      }
    }
    JudgeAge(times, run_s, g);
    const std::vector<double>& y = g.inuse_bytes;
    g.first_bytes = y.front();
    g.last_bytes = y.back();
    g.peak_bytes = *std::max_element(y.begin(), y.end());
    const double growth = g.last_bytes - g.first_bytes;
    if (n < 4) {
      g.slope_bytes_per_s = n >= 2 && times[n - 1] > times[0]
                                ? growth / (times[n - 1] - times[0])
                                : 0;
      g.recent_slope_bytes_per_s = g.slope_bytes_per_s;
      // Too few points for the trend test: a site that grew is not called
      // a leak on its bytes alone (unknown); its ages decide when they
      // speak: ageing memory still rising is kept (unbounded), young
      // memory is churn (bounded).
      g.kind = growth < options.min_growth_bytes ? GrowthKind::kFlat
               : KeptAndRising(g, options.min_growth_bytes)
                   ? GrowthKind::kUnbounded
               : g.age == SiteGrowth::Age::kYoung ? GrowthKind::kBounded
                                                  : GrowthKind::kUnknown;
      out.push_back(std::move(g));
      continue;
    }
    // The same trend machinery as the monitor's memory_growth rule
    // (memmon/growth.h): each snapshot is one point (snapshots are few and
    // already far apart), judged over windows down to four points.
    const std::size_t window = std::min(n, internal::kMaxTrendPoints);
    g.slope_bytes_per_s =
        internal::TheilSenSlope(Tail(times, window), Tail(y, window));
    GrowthOptions growth_options;
    growth_options.block_samples = 1;
    growth_options.min_points = 4;
    growth_options.confidence = options.confidence;
    GrowthTrend trend = ClassifyGrowth(times, y, growth_options);
    g.recent_slope_bytes_per_s = trend.slope_per_s;
    g.slope_lower_bytes_per_s = trend.slope_lower_per_s;
    g.confidence = trend.confidence;
    if (growth < options.min_growth_bytes) {
      g.kind = GrowthKind::kFlat;
    } else if (trend.kind == GrowthKind::kUnbounded &&
               g.age != SiteGrowth::Age::kYoung) {
      // Young memory rising is churn running higher, not memory kept.
      g.kind = GrowthKind::kUnbounded;
    } else if (KeptAndRising(g, options.min_growth_bytes)) {
      // The trend test is not confident (a short or noisy series), but the
      // memory is kept: its live objects keep ageing while it still rises.
      g.kind = GrowthKind::kUnbounded;
    } else {
      g.kind = GrowthKind::kBounded;
    }
    out.push_back(std::move(g));
  }
  // Unbounded first, then unknown (grew; too few snapshots to judge), then
  // bounded, then flat.
  auto rank = [](GrowthKind k) {
    switch (k) {
      case GrowthKind::kUnbounded:
        return 0;
      case GrowthKind::kUnknown:
        return 1;
      case GrowthKind::kBounded:
        return 2;
      case GrowthKind::kFlat:
        return 3;
    }
    return 3;
  };
  std::sort(out.begin(), out.end(),
            [&](const SiteGrowth& a, const SiteGrowth& b) {
              if (a.kind != b.kind) return rank(a.kind) < rank(b.kind);
              // Among leaks, memory that is kept first (with one profile
              // every site is flat and ranked by bytes alone).
              if (a.kind == GrowthKind::kUnbounded) {
                const bool ageing_a = a.age == SiteGrowth::Age::kAgeing,
                           ageing_b = b.age == SiteGrowth::Age::kAgeing;
                if (ageing_a != ageing_b) return ageing_a;
              }
              if (a.kind == GrowthKind::kUnbounded &&
                  a.recent_slope_bytes_per_s != b.recent_slope_bytes_per_s) {
                return a.recent_slope_bytes_per_s > b.recent_slope_bytes_per_s;
              }
              double ga = a.last_bytes - a.first_bytes,
                     gb = b.last_bytes - b.first_bytes;
              if (ga != gb) return ga > gb;
              if (a.last_bytes != b.last_bytes)
                return a.last_bytes > b.last_bytes;
              return a.function < b.function;
            });
  return out;
}

}  // namespace memmon::profile
