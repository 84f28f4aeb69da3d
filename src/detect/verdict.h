// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The verdict `memmon analyze` ends with: what a whole recorded series of
// one quantity did, judged with hindsight. The live detectors must decide
// on what they have seen so far; an offline reader sees the end too, and
// says what it sees:
//
//   leak      ClassifyGrowth (memmon/growth.h) says unbounded: rising
//             steadily at the end of the series.
//   sawtooth  not a leak, and at least two teeth: a rise over two or more
//             samples, then a large drop (more than 6 robust standard
//             deviations of the sample-to-sample change and 0.5 % of the
//             level, as ClassifyGrowth counts them; counts' rounding
//             added, below) back below the sample
//             before the peak by at least 30 % of the drop. A one-sample
//             spike or a burst held flat is not a tooth.
//   warm-up   rose -- the level of the last half is clearly above the
//             start -- and the rise was over (the series last below half of
//             it) within the first 20 % of the series: a start-up that
//             filled caches and levelled off. (ClassifyGrowth over the whole
//             series often says flat here: a short rise before a long
//             plateau is not significant against it.)
//   bounded   rose, later than that, and is not rising now: a step, a cache
//             that filled.
//   flat      no clear rise.
//   unknown   too few samples (fewer than 2 x trend_window known values),
//             no such column, or a series ClassifyGrowth cannot judge.
//
// "Clearly above": the median of the last half exceeds the start (the 10th
// percentile of the first 5 %, so a lone dip is not the start) by more than
// 4 robust standard deviations of the last half and 1 % of its level.
// Robust standard deviations are 1.4826 x the median absolute deviation, or
// 1.2533 x the mean absolute deviation when that is 0 (a count mostly at
// one value); for counts, the rounding to whole numbers (1/12) is added in
// quadrature, so a count toggling by one neither rises nor has teeth.
//
// Thread-safety: pure functions. Allocation: yes (copies for medians, the
// message); offline use only.
#ifndef MEMMON_SRC_DETECT_VERDICT_H_
#define MEMMON_SRC_DETECT_VERDICT_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "detect/samples_csv.h"
#include "memmon/config.h"
#include "memmon/growth.h"

namespace memmon::internal {

enum class VerdictKind { kUnknown, kFlat, kWarmUp, kBounded, kSawtooth, kLeak };

// "unknown", "flat", "warm-up", "bounded", "sawtooth", "leak".
std::string_view ToString(VerdictKind kind);

struct Verdict {
  VerdictKind kind = VerdictKind::kUnknown;
  // One sentence with numbers: "rising steadily at 10.5 KiB/s ...".
  std::string reason;
};

enum class Unit { kBytes, kCount };

// Judges `values` at `times_s` (seconds, increasing), the whole series.
// `options` as for ClassifyGrowth (min_points: the monitor's
// trend_window). A series longer than kMaxGrowthSamples is thinned evenly
// for ClassifyGrowth; the teeth are counted on all of it.
Verdict JudgeSeries(std::span<const double> times_s,
                    std::span<const double> values, Unit unit,
                    const GrowthOptions& options = {});

struct QuantityVerdict {
  std::string quantity;  // the column: heap_inuse_bytes, rss_bytes, ...
  Verdict verdict;
};

// The quantities memmon's detectors judge, each over the whole recording:
// memory (heap_inuse_bytes, or rss_bytes without it), threads and fds.
// A missing column is an unknown verdict that says so.
std::vector<QuantityVerdict> JudgeRecording(const SamplesCsv& csv,
                                            const MonitorConfig& config);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_VERDICT_H_
