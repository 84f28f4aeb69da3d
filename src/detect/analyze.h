// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// AnalyzeSamples: a recorded series (samples_csv.h) through a DetectionEngine,
// with the detectors whose columns are missing switched off, and a verdict
// per quantity over the whole series (verdict.h). What `memmon analyze`,
// the corpus test and the corpus evaluation share.
//
// Thread-safety: pure function. Allocates (the history, the alerts).
#ifndef MEMMON_SRC_DETECT_ANALYZE_H_
#define MEMMON_SRC_DETECT_ANALYZE_H_

#include <string>
#include <vector>

#include "detect/samples_csv.h"
#include "detect/verdict.h"
#include "memmon/alert.h"
#include "memmon/config.h"

namespace memmon::internal {

// The monitor's defaults, but with 1000 samples of history (the monitor
// keeps 100 by default, under an hour at 30 s and under two minutes at 1 s;
// an offline replay can afford more) and no alert log.
MonitorConfig AnalyzeDefaultConfig();

struct Analysis {
  // The alert records in the order raised, firing and resolved.
  std::vector<MemoryAlert> alerts;
  // "fd_leak (needs fds)" for each detector a missing column switched off.
  std::vector<std::string> not_judged;
  // With hindsight, per quantity (verdict.h): memory, threads, fds.
  std::vector<QuantityVerdict> verdicts;
};

// `hindsight`: the detectors are given the noise's serial correlation
// estimated over the whole series from the first sample on
// (DetectionEngine::SetNoise), as `memmon analyze` does; false
// replays the series as a live monitor sees it, estimating as it goes (the
// generated corpus's monitor configuration).
Analysis AnalyzeSamples(const SamplesCsv& csv, const MonitorConfig& config,
                        bool hindsight = true);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_ANALYZE_H_
