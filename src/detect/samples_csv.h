// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The samples CSV: the format `memmon analyze` reads (and `memmon run` will
// write). One header line naming the columns, then one line per sample:
//
//   time_s,rss_bytes,heap_inuse_bytes,heap_free_bytes,threads,fds
//   0,104857600,73400320,8388608,12,40
//   30,,73412000,8388608,12,41          <- empty cell: unknown
//
// - `time_s` (seconds, any origin -- Unix time works -- within +-4e9, strictly
//   increasing) is required; the
//   other known columns (SamplesCsvColumns() lists them) are optional, in any
//   order; unknown columns are ignored. A missing column leaves that field
//   unknown in every sample, which disables the detectors that need it.
// - Byte and count cells are non-negative integers (written as digits, or
//   as a number with an integral value such as 1.5e6); allocator_cpu_fraction
//   is a number in [0, 1]. An empty cell is unknown, never 0.
// - Blank lines and lines starting with '#' are skipped; CRLF line ends and
//   a UTF-8 byte-order mark are accepted. No quoting: a cell is plain text
//   between commas, surrounding spaces trimmed.
//
// Thread-safety: pure functions. The parser is fuzzed
// (samples_csv_fuzz.cc) and never reads outside `text`.
#ifndef MEMMON_SRC_DETECT_SAMPLES_CSV_H_
#define MEMMON_SRC_DETECT_SAMPLES_CSV_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon::internal {

// A sample and the time it was taken, as the CSV gives it. `sample.monotonic`
// and `sample.time` are `time_s` after their clocks' epochs.
struct TimedSample {
  double time_s = 0;
  Sample sample;
};

struct SamplesCsv {
  std::vector<TimedSample> samples;
  // Known columns the header named (names as in SamplesCsvColumns()).
  std::vector<std::string> columns;
  bool Has(std::string_view column) const;
};

// The known columns, in the order the writer uses.
std::span<const std::string_view> SamplesCsvColumns();

// The Sample field an integer column is read into; nullptr for time_s,
// allocator_cpu_fraction and names that are no column.
std::optional<uint64_t> Sample::*SamplesCsvField(std::string_view column);

// Parses a whole file's text. On failure returns InvalidArgument with a
// one-line message that starts with "line N: " (1-based) and says what is
// wrong; `out` is then unspecified.
Status ParseSamplesCsv(std::string_view text, SamplesCsv* out);

// Sets both clocks of a sample taken `time_s` seconds into a recorded
// series: `monotonic` and `time` are that far from their clocks' epochs
// (how ParseSamplesCsv times a row).
void SetSampleTimes(double time_s, Sample* sample);

// The header line and one sample's line (no newline), in the column order
// of SamplesCsvColumns(); unknown fields are empty cells.
std::string SamplesCsvHeader();
std::string SamplesCsvRow(double time_s, const Sample& sample);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_SAMPLES_CSV_H_
