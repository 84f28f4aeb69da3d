// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Why an alert episode ended, in one sentence with numbers: the resolved
// record's message, value and threshold.
//
// Given the Finding that opened the episode (its metric, limit, baseline)
// and the samples since the baseline at the resolution, it says what the
// quantity did: memory came back below the limit, or stopped rising
// (ClassifyGrowth says bounded or flat) at a level; a thread or descriptor
// count returned below its limit or stopped rising; the free-but-held share
// or the allocator's CPU share fell. A trend that still rises but is no
// longer projected to reach the limit in time says so.
//
// Thread-safety: a pure function. Allocation: the message only (it runs
// once per resolved episode, never per sample); a ClassifyGrowth on the
// stack (~80 KiB at most, as the detectors).
#ifndef MEMMON_SRC_DETECT_RESOLUTION_H_
#define MEMMON_SRC_DETECT_RESOLUTION_H_

#include <string>

#include "memmon/detectors.h"

namespace memmon::internal {

struct Resolution {
  // The quantity now and the limit, in the firing record's unit (percent
  // over the baseline for memory_growth, a count for thread_leak and
  // fd_leak, percent for heap_fragmentation and allocator_pressure).
  double value = 0;
  double threshold = 0;
  std::string message;
};

// `opened` is the Finding of the built-in detector that opened the episode
// (type, metric, baseline, limit); `in` the samples since the baseline now,
// with the config.
Resolution Resolve(const Finding& opened, const DetectionInput& in);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_RESOLUTION_H_
