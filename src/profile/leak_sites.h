// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Ranking allocation sites by the growth of their in-use bytes over a series
// of heap profiles, and telling a leak from a cache.
//
// A site is the function where a sample's stack leaves the C++ standard
// library: its first frame (inlined ones included) that is neither in the
// allocation API (cut when the profile was written) nor in namespace std
// or __gnu_cxx, nor in a /usr/include/c++ header. So memory a program keeps
// in a std::deque it fills in Registry::Remember is Remember's, not
// std::allocator's; a stack entirely inside the library keeps its leaf. For
// each site the in-use bytes of every snapshot form a series, judged by
// ClassifyGrowth (memmon/growth.h) -- the trend machinery of the monitor's
// memory_growth rule -- with one point per snapshot:
//   unbounded  rising steadily now (ClassifyGrowth's kUnbounded at
//              `confidence`) and grown by at least `min_growth_bytes`;
//              or grown by that much, still rising (a positive recent
//              slope, and at least a quarter of the growth and
//              `min_growth_bytes` in the latter half of the series) and
//              its live memory ageing (below), however few the snapshots
//              or weak the trend test: memory that keeps ageing is kept,
//              a leak candidate;
//   bounded    grew by at least `min_growth_bytes`, but is not rising
//              steadily now (a cache filled to its cap, a pool warmed up,
//              a one-off step);
//   flat       grew less than `min_growth_bytes` (or shrank).
// Unbounded sites come first: those whose memory is ageing (below) before
// the others, each group by its recent slope (ClassifyGrowth's slope over
// the latest window), steepest first; then unknown, bounded and flat ones,
// each by growth (last - first bytes), then by bytes at the last snapshot.
// Fewer than 4 snapshots cannot show a trend: a site that grew is kUnknown
// ("unknown": grew, not judged), ranked after the unbounded ones -- never
// called a leak on its bytes alone (its ages can: ageing memory still
// rising is unbounded, young memory bounded).
//
// The age of live memory (profiles written with MEMMON_LIVE_AGE carry, per
// sample, the median and oldest age of its live objects; heap_profile.h):
// per snapshot, a site's median age is the bytes-weighted median of its
// stacks' medians, its oldest the oldest. Judged against the run's time at
// the snapshot (the profile's duration, the sampler's age; else the time
// since the first snapshot):
//   ageing  its median age rises with the run (by >= kAgeingSlope seconds a
//           second between the first and last snapshots that have ages; a
//           steady leak's rises by 0.5), or, with one snapshot, is at least
//           kAgeingFraction of the run: memory kept, a leak candidate;
//   young   its median age at the last snapshot is at most kYoungFraction
//           of the run and not rising: memory replaced, churn;
//   steady  neither; unknown: no ages.
// It is used in the judgement: a site that grew steadily but whose memory
// is young is bounded (churn that happens to be rising now, not kept
// memory); one that grew and still rises with ageing memory is unbounded
// even when the trend test is not confident; and among unbounded sites
// ageing ones rank first.
//
// Names are shown as pprof shows them: without parameter lists
// ("ns::Cache<int>::Put", not "ns::Cache<int>::Put(int) const").
//
// Each site also carries its heaviest stack (the leaf's callers, so a
// reader sees *who* calls the leaking function).
//
// Pure function: no clock, no I/O. Thread-safety: a free function.
#ifndef MEMMON_SRC_PROFILE_LEAK_SITES_H_
#define MEMMON_SRC_PROFILE_LEAK_SITES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memmon/growth.h"
#include "profile/profile.h"

namespace memmon::profile {

struct TimedProfile {
  double time_s = 0;  // any origin; only differences matter
  const Profile* profile = nullptr;
};

// A site's kind is memmon's one growth judgement (memmon/growth.h): kFlat,
// kBounded or kUnbounded; kUnknown for a site that grew in a series too
// short for the trend test (fewer than 4 snapshots).
using memmon::GrowthKind;
using memmon::ToString;

// One frame of a stack: a function (an inlined one has its own frame), its
// source file and the line executing, when known (empty, 0 otherwise).
struct StackFrame {
  std::string function;
  std::string file;
  int64_t line = 0;
};

struct SiteGrowth {
  std::string function;  // the leaf function
  std::string file;      // its source file, when known
  // The stack through this site that held the most bytes in the latest
  // snapshot where the site held any, from the site outwards (the library
  // frames inside it left out).
  std::vector<StackFrame> stack;
  double stack_bytes = 0;           // what that stack held there
  std::size_t stack_snapshot = 0;   // index of that snapshot
  std::vector<double> inuse_bytes;  // one per snapshot
  double first_bytes = 0;
  double last_bytes = 0;
  double peak_bytes = 0;
  double slope_bytes_per_s = 0;         // whole series, Theil-Sen
  double recent_slope_bytes_per_s = 0;  // over ClassifyGrowth's window
  double slope_lower_bytes_per_s = 0;   // its lower confidence bound
  double confidence = 0;                // Mann-Kendall over that window
  GrowthKind kind = GrowthKind::kFlat;
  // Live ages, seconds, one per snapshot (negative: no ages there).
  std::vector<double> median_age_s;
  std::vector<double> oldest_age_s;
  double last_median_age_s = -1;  // at the last snapshot with ages
  double last_oldest_age_s = -1;
  double age_slope = 0;  // median age's rise, seconds per second
  enum class Age { kUnknown, kYoung, kSteady, kAgeing };
  Age age = Age::kUnknown;
};

inline constexpr double kAgeingSlope = 0.25;
inline constexpr double kAgeingFraction = 0.25;
inline constexpr double kYoungFraction = 0.1;

// "unknown", "young", "steady", "ageing".
std::string_view ToString(SiteGrowth::Age age);

struct LeakRankingOptions {
  double min_growth_bytes = 1 << 20;
  double confidence = 0.95;
  std::string sample_type = "inuse_space";
};

std::vector<SiteGrowth> RankLeakSites(std::span<const TimedProfile> snapshots,
                                      const LeakRankingOptions& options = {});

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_LEAK_SITES_H_
