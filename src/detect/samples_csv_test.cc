// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/samples_csv.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace memmon::internal {
namespace {

TEST(SamplesCsv, ParsesTheIssuesFormat) {
  SamplesCsv csv;
  ASSERT_TRUE(
      ParseSamplesCsv("time_s,rss_bytes,heap_inuse_bytes,heap_free_bytes,"
                      "threads,fds,comment\n"
                      "0,1000,600,100,4,9,start\n"
                      "30.5,,700,,5,10,\n",
                      &csv)
          .ok());
  ASSERT_EQ(csv.samples.size(), 2u);
  EXPECT_TRUE(csv.Has("fds"));
  EXPECT_FALSE(csv.Has("comment"));  // unknown columns are ignored
  EXPECT_FALSE(csv.Has("allocator_cpu_fraction"));
  const Sample& a = csv.samples[0].sample;
  EXPECT_EQ(a.rss_bytes, 1000u);
  EXPECT_EQ(a.heap_inuse_bytes, 600u);
  EXPECT_EQ(a.heap_free_bytes, 100u);
  EXPECT_EQ(a.threads, 4u);
  EXPECT_EQ(a.open_fds, 9u);
  const TimedSample& b = csv.samples[1];
  EXPECT_DOUBLE_EQ(b.time_s, 30.5);
  EXPECT_FALSE(b.sample.rss_bytes.has_value());  // empty cell: unknown, not 0
  EXPECT_FALSE(b.sample.heap_free_bytes.has_value());
  EXPECT_EQ(std::chrono::duration<double>(b.sample.monotonic.time_since_epoch())
                .count(),
            30.5);
}

TEST(SamplesCsv, FieldOfAColumn) {
  EXPECT_EQ(SamplesCsvField("rss_bytes"), &Sample::rss_bytes);
  EXPECT_EQ(SamplesCsvField("fds"), &Sample::open_fds);
  EXPECT_EQ(SamplesCsvField("rss_unexplained_bytes"),
            &Sample::rss_unexplained_bytes);
  EXPECT_EQ(SamplesCsvField("time_s"), nullptr);
  EXPECT_EQ(SamplesCsvField("allocator_cpu_fraction"), nullptr);
  EXPECT_EQ(SamplesCsvField("no_such_column"), nullptr);
}

TEST(SamplesCsv, MissingColumnsLeaveFieldsUnknown) {
  SamplesCsv csv;
  ASSERT_TRUE(ParseSamplesCsv("fds,time_s\n3,0\n", &csv).ok());
  EXPECT_EQ(csv.samples[0].sample.open_fds, 3u);
  EXPECT_FALSE(csv.samples[0].sample.rss_bytes.has_value());
  EXPECT_FALSE(csv.Has("rss_bytes"));
}

TEST(SamplesCsv, ErrorsNameTheLineAndTheProblem) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"", "line 1: no header"},
      {"rss_bytes\n1\n", "line 1: the header has no time_s column"},
      {"# c\ntime_s,rss_bytes\n0,1\n\n1,2,3\n",
       "line 5: 3 cells, but the header (line 2) has 2"},
      {"time_s,rss_bytes\n0,-1\n",
       "line 2: rss_bytes: expected a non-negative integer, got '-1'"},
      {"time_s,threads\n0,1\n0,2\n",
       "line 3: time_s 0 is not after the previous sample's 0"},
      {"time_s,allocator_cpu_fraction\n0,2\n",
       "line 2: allocator_cpu_fraction: expected a number from 0 to 1"},
      {"time_s,fds,fds\n", "line 1: column 'fds' appears twice"},
      {"time_s,rss_bytes\n0,\x01x\n", "got '\\x01x'"},
  };
  for (const Case& c : cases) {
    SamplesCsv csv;
    Status s = ParseSamplesCsv(c.text, &csv);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.want), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
}

TEST(SamplesCsv, WriterRoundTrips) {
  Sample s;
  s.rss_bytes = 123456789012ull;
  s.threads = 7;
  s.allocator_cpu_fraction = 0.25;
  std::string text = SamplesCsvHeader() + "\n" + SamplesCsvRow(1.5, s) + "\n";
  SamplesCsv csv;
  ASSERT_TRUE(ParseSamplesCsv(text, &csv).ok()) << text;
  ASSERT_EQ(csv.samples.size(), 1u);
  EXPECT_EQ(csv.samples[0].sample.rss_bytes, s.rss_bytes);
  EXPECT_EQ(csv.samples[0].sample.threads, 7u);
  EXPECT_EQ(csv.samples[0].sample.allocator_cpu_fraction, 0.25);
  EXPECT_FALSE(csv.samples[0].sample.heap_inuse_bytes.has_value());
  EXPECT_EQ(csv.columns.size(), SamplesCsvColumns().size());
}

// The breakdown's columns (the report's stacked area reads them by these
// names): written and read back, an empty cell unknown.
TEST(SamplesCsv, BreakdownColumnsRoundTrip) {
  Sample s;
  s.rss_bytes = 1000;
  s.rss_heap_bytes = 400;
  s.rss_heap_inuse_bytes = 300;
  s.rss_allocator_free_bytes = 100;
  s.rss_stacks_bytes = 50;
  s.rss_code_bytes = 200;
  s.rss_file_bytes = 150;
  s.rss_anon_other_bytes = 190;
  s.rss_unexplained_bytes = 10;
  Sample unsplit = s;
  unsplit.rss_heap_inuse_bytes.reset();
  unsplit.rss_allocator_free_bytes.reset();
  std::string text = SamplesCsvHeader() + "\n" + SamplesCsvRow(1, s) + "\n" +
                     SamplesCsvRow(2, unsplit) + "\n";
  for (const char* name :
       {"rss_heap_bytes", "rss_heap_inuse_bytes", "rss_allocator_free_bytes",
        "rss_stacks_bytes", "rss_code_bytes", "rss_file_bytes",
        "rss_anon_other_bytes", "rss_unexplained_bytes"}) {
    EXPECT_NE(SamplesCsvHeader().find(name), std::string::npos) << name;
  }
  SamplesCsv csv;
  ASSERT_TRUE(ParseSamplesCsv(text, &csv).ok()) << text;
  ASSERT_EQ(csv.samples.size(), 2u);
  const Sample& a = csv.samples[0].sample;
  EXPECT_EQ(a.rss_heap_bytes, 400u);
  EXPECT_EQ(a.rss_heap_inuse_bytes, 300u);
  EXPECT_EQ(a.rss_allocator_free_bytes, 100u);
  EXPECT_EQ(a.rss_stacks_bytes, 50u);
  EXPECT_EQ(a.rss_code_bytes, 200u);
  EXPECT_EQ(a.rss_file_bytes, 150u);
  EXPECT_EQ(a.rss_anon_other_bytes, 190u);
  EXPECT_EQ(a.rss_unexplained_bytes, 10u);
  const Sample& b = csv.samples[1].sample;
  EXPECT_EQ(b.rss_heap_bytes, 400u);
  EXPECT_FALSE(b.rss_heap_inuse_bytes.has_value());
  EXPECT_FALSE(b.rss_allocator_free_bytes.has_value());
}

// The fuzz target's seed corpus: files named bad_* must be rejected with a
// one-line "line N: ..." message, the others accepted. (The fuzzer itself,
// samples_csv_fuzz.cc, runs in `make fuzz`.)
TEST(SamplesCsv, SeedCorpus) {
  int seen = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(MEMMON_CSV_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    SamplesCsv csv;
    Status s = ParseSamplesCsv(text.str(), &csv);
    std::string name = entry.path().filename().string();
    if (name.rfind("bad_", 0) == 0) {
      EXPECT_FALSE(s.ok()) << name;
      EXPECT_EQ(s.message().rfind("line ", 0), 0u)
          << name << ": " << s.message();
      EXPECT_EQ(s.message().find('\n'), std::string::npos) << name;
    } else {
      EXPECT_TRUE(s.ok()) << name << ": " << s.message();
    }
    ++seen;
  }
  EXPECT_GE(seen, 20);
}

}  // namespace
}  // namespace memmon::internal
