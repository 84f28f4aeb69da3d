// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Ranking allocation sites by the growth of their in-use bytes over a series
// of heap profiles, and telling a leak from a cache.
//
// A site is the leaf function of a sample (the first frame outside the
// allocation API, as pprof -top counts "flat"). For each site the in-use
// bytes of every snapshot form a series; with the robust statistics of
// trend.h (Theil-Sen slope, Mann-Kendall):
//   unbounded  still rising at the end: the second half of the series rises
//              (Mann-Kendall confidence >= `confidence`) at a slope of at
//              least `bounded_ratio` x the slope over the whole series;
//   bounded    grew by at least `min_growth_bytes`, then levelled off (a
//              cache filling to its cap, a pool warming up);
//   flat       grew less than `min_growth_bytes` (or shrank).
// Unbounded sites come first, by their recent slope; then bounded ones by
// growth; then the rest by growth. Fewer than 4 snapshots cannot show a
// trend: every site that grew is reported unbounded with confidence 0.
//
// Pure function: no clock, no I/O. Thread-safety: a free function.
#ifndef MEMMON_SRC_PROFILE_LEAK_SITES_H_
#define MEMMON_SRC_PROFILE_LEAK_SITES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "profile.h"

namespace memmon::profile {

struct TimedProfile {
  double time_s = 0;  // any origin; only differences matter
  const Profile* profile = nullptr;
};

enum class GrowthKind { kUnbounded, kBounded, kFlat };
std::string_view ToString(GrowthKind kind);  // "unbounded", "bounded", "flat"

struct SiteGrowth {
  std::string function;             // the leaf function
  std::string file;                 // its source file, when known
  std::vector<double> inuse_bytes;  // one per snapshot
  double first_bytes = 0;
  double last_bytes = 0;
  double peak_bytes = 0;
  double slope_bytes_per_s = 0;         // whole series, Theil-Sen
  double recent_slope_bytes_per_s = 0;  // second half
  double confidence = 0;                // Mann-Kendall, second half rising
  GrowthKind kind = GrowthKind::kFlat;
};

struct LeakRankingOptions {
  double min_growth_bytes = 1 << 20;
  double confidence = 0.95;
  double bounded_ratio = 0.25;
  std::string sample_type = "inuse_space";
};

std::vector<SiteGrowth> RankLeakSites(std::span<const TimedProfile> snapshots,
                                      const LeakRankingOptions& options = {});

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_LEAK_SITES_H_
