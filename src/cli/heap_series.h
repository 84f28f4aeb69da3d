// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The heap profiles of a run, in time order, for `memmon leaks`, `memmon
// run` and `memmon report`, and the JSON form of a ranked leak suspect
// (leaks.json, `memmon leaks --json`).
//
// A run directory (what `memmon run --out DIR` or MEMMON_OUTPUT=DIR fills)
// contributes the first process's numbered snapshots DIR/heap.NNNN.pb.gz in
// number order, then DIR/heap.pb.gz (written at exit: it carries the
// growth since the last snapshot; set aside with the rest of a final
// collapse by LoadHeapSeries, counted once when it is a copy of the last
// snapshot). Other processes'
// files (heap.pid<pid>.*) are not mixed in. Files given one by one
// are put in the order of the time they were taken (the profile's
// time_nanos; the order given when a file has none).
//
// Thread-safety: pure functions apart from reading files.
#ifndef MEMMON_SRC_CLI_HEAP_SERIES_H_
#define MEMMON_SRC_CLI_HEAP_SERIES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "memmon/status.h"
#include "profile/leak_sites.h"
#include "profile/profile.h"

namespace memmon::cli {

struct HeapSeries {
  std::vector<std::string> paths;
  std::vector<profile::Profile> profiles;
  std::vector<double> times_s;  // from the first profile's time
  // Snapshots of a run directory left out at the end because the heap had
  // collapsed there (see LoadHeapSeries).
  std::vector<std::string> teardown;

  std::vector<profile::TimedProfile> Timed() const;
};

// The run directory's numbered snapshots and final profile, in order
// (paths only; none found is an empty list, not an error).
std::vector<std::string> RunDirProfiles(const std::string& dir);

// `inputs` is one directory, or profile files. For a directory, the last
// snapshots are left out (listed in `teardown`) when the heap in use has
// collapsed there to under half its peak: a program destroying its state
// before it exits (main's objects, caches) is not a program whose leak
// stopped, and a trend through its teardown would hide the leak. Errors
// (InvalidArgument or NotFound) are one line naming the file: a missing or
// unreadable path, a corrupt or truncated profile, a directory without
// profiles.
Status LoadHeapSeries(const std::vector<std::string>& inputs, HeapSeries* out);

// One suspect as a JSON object: "stack" (function names, innermost first),
// "frames" ({function, file, line}), "function", "file", "inuse_bytes",
// "growth_bytes_per_s", "slope_lower_bytes_per_s", "confidence", "kind",
// "first_bytes", "peak_bytes", "snapshots", and the live memory's age:
// "median_age_s", "oldest_age_s", "median_age_growth" (null without ages),
// "age" (docs/cli.md, memmon leaks).
nlohmann::ordered_json SuspectJson(const profile::SiteGrowth& site);

// "file.cc:54" (the file's base name, and the line when known), or "" when
// the frame has no file.
std::string FrameWhere(const profile::StackFrame& frame);

}  // namespace memmon::cli

#endif  // MEMMON_SRC_CLI_HEAP_SERIES_H_
