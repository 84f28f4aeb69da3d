// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the samples CSV parser (`make fuzz`; clang only):
//   - any input is parsed without a crash, hang or sanitizer report;
//   - a rejection is one line that starts with "line N: ";
//   - an accepted input survives a round trip through the writer with the
//     same samples.
// Seeds: tests/fuzz/samples_csv/ (also run by the SamplesCsv.SeedCorpus test).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "detect/samples_csv.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using memmon::internal::ParseSamplesCsv;
  using memmon::internal::SamplesCsv;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SamplesCsv csv;
  memmon::Status s = ParseSamplesCsv(text, &csv);
  if (!s.ok()) {
    Check(s.message().rfind("line ", 0) == 0);
    Check(s.message().find('\n') == std::string::npos);
    return 0;
  }
  std::string again = memmon::internal::SamplesCsvHeader() + "\n";
  for (const auto& ts : csv.samples) {
    again += memmon::internal::SamplesCsvRow(ts.time_s, ts.sample) + "\n";
  }
  SamplesCsv back;
  Check(ParseSamplesCsv(again, &back).ok());
  Check(back.samples.size() == csv.samples.size());
  for (std::size_t i = 0; i < csv.samples.size(); ++i) {
    const memmon::Sample& a = csv.samples[i].sample;
    const memmon::Sample& b = back.samples[i].sample;
    Check(a.rss_bytes == b.rss_bytes &&
          a.heap_inuse_bytes == b.heap_inuse_bytes &&
          a.heap_free_bytes == b.heap_free_bytes && a.threads == b.threads &&
          a.open_fds == b.open_fds &&
          a.allocator_cpu_fraction == b.allocator_cpu_fraction &&
          a.rss_heap_bytes == b.rss_heap_bytes &&
          a.rss_heap_inuse_bytes == b.rss_heap_inuse_bytes &&
          a.rss_allocator_free_bytes == b.rss_allocator_free_bytes &&
          a.rss_stacks_bytes == b.rss_stacks_bytes &&
          a.rss_code_bytes == b.rss_code_bytes &&
          a.rss_file_bytes == b.rss_file_bytes &&
          a.rss_anon_other_bytes == b.rss_anon_other_bytes &&
          a.rss_unexplained_bytes == b.rss_unexplained_bytes);
  }
  return 0;
}
