// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/pprof.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace memmon::profile {
namespace {

Profile SmallProfile() {
  Profile p;
  p.sample_types = {{"alloc_objects", "count"}, {"inuse_space", "bytes"}};
  p.period_type = {"space", "bytes"};
  p.period = 524288;
  p.time_nanos = 1700000000000000000;
  p.duration_nanos = 5'000'000'000;
  p.comments = {"hello"};
  p.default_sample_type = "inuse_space";
  p.mappings.push_back({1, 0x400000, 0x500000, 0x1000, "/bin/prog", "abcd",
                        true, true, true, false});
  p.functions.push_back({1, "Leak(int)", "_Z4Leaki", "leak.cc", 10});
  p.functions.push_back({2, "main", "main", "main.cc", 0});
  p.locations.push_back({1, 1, 0x401234, {{1, 12}}, false});
  p.locations.push_back({2, 1, 0x405678, {{2, 30}, {1, 11}}, false});
  p.samples.push_back({{1, 2}, {3, 4096}, {{"thread", "worker", 0, ""}}});
  p.samples.push_back({{2}, {0, -5}, {{"bytes", "", 64, "bytes"}}});
  return p;
}

TEST(PprofTest, RoundTrip) {
  Profile in = SmallProfile();
  Profile out;
  ASSERT_TRUE(DecodeProfile(EncodeProfile(in), &out).ok());
  EXPECT_EQ(out.sample_types, in.sample_types);
  EXPECT_EQ(out.period_type, in.period_type);
  EXPECT_EQ(out.period, in.period);
  EXPECT_EQ(out.time_nanos, in.time_nanos);
  EXPECT_EQ(out.duration_nanos, in.duration_nanos);
  EXPECT_EQ(out.comments, in.comments);
  EXPECT_EQ(out.default_sample_type, "inuse_space");
  ASSERT_EQ(out.mappings.size(), 1u);
  EXPECT_EQ(out.mappings[0].filename, "/bin/prog");
  EXPECT_EQ(out.mappings[0].build_id, "abcd");
  EXPECT_EQ(out.mappings[0].memory_start, 0x400000u);
  EXPECT_TRUE(out.mappings[0].has_functions);
  EXPECT_FALSE(out.mappings[0].has_inline_frames);
  ASSERT_EQ(out.functions.size(), 2u);
  EXPECT_EQ(out.functions[0].name, "Leak(int)");
  EXPECT_EQ(out.functions[0].system_name, "_Z4Leaki");
  EXPECT_EQ(out.functions[0].start_line, 10);
  ASSERT_EQ(out.locations.size(), 2u);
  EXPECT_EQ(out.locations[1].lines.size(), 2u);
  EXPECT_EQ(out.locations[1].lines[1].line, 11);
  ASSERT_EQ(out.samples.size(), 2u);
  EXPECT_EQ(out.samples[0].location_ids, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(out.samples[0].values, (std::vector<int64_t>{3, 4096}));
  EXPECT_EQ(out.samples[1].values[1], -5);
  EXPECT_EQ(out.samples[0].labels[0].str, "worker");
  EXPECT_EQ(out.samples[1].labels[0].num, 64);
  EXPECT_EQ(out.samples[1].labels[0].num_unit, "bytes");
}

TEST(PprofTest, GzipRoundTripAndParseProfile) {
  std::string raw = EncodeProfile(SmallProfile());
  std::string gz, back;
  ASSERT_TRUE(Gzip(raw, &gz).ok());
  EXPECT_EQ(static_cast<uint8_t>(gz[0]), 0x1F);
  ASSERT_TRUE(Gunzip(gz, &back).ok());
  EXPECT_EQ(back, raw);
  Profile p;
  EXPECT_TRUE(ParseProfile(gz, &p).ok());
  EXPECT_TRUE(ParseProfile(raw, &p).ok());
  EXPECT_EQ(p.samples.size(), 2u);
}

TEST(PprofTest, GunzipRefusesBombs) {
  std::string zeros(4 << 20, '\0'), gz, out;
  ASSERT_TRUE(Gzip(zeros, &gz).ok());
  Status s = Gunzip(gz, &out, 1 << 20);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("size limit"), std::string::npos);
}

// A heap profile written by Go's runtime/pprof (Go 1.19, MemProfileRate
// 4096, 2000 x 4 KiB retained by main.leak), for which
// `go tool pprof -top -sample_index=inuse_space` reports main.leak at
// 6464.50kB = 6619648 bytes (Go scales its samples before writing).
TEST(PprofTest, ReadsGoHeapProfile) {
  Profile p;
  Status s = ReadProfileFile(MEMMON_TESTDATA "/go_heap.pb.gz", &p);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(p.sample_types.size(), 4u);
  EXPECT_EQ(p.sample_types[3].type, "inuse_space");
  EXPECT_EQ(p.period_type.type, "space");
  EXPECT_EQ(p.period, 4096);
  int idx = p.SampleTypeIndex("inuse_space");
  double leak = 0;
  for (const Sample& sample : p.samples) {
    const Location* loc = p.FindLocation(sample.location_ids.at(0));
    ASSERT_NE(loc, nullptr);
    for (const Line& line : loc->lines) {
      const Function* f = p.FindFunction(line.function_id);
      ASSERT_NE(f, nullptr);
      if (f->name == "main.leak")
        leak += static_cast<double>(sample.values[idx]);
    }
  }
  EXPECT_NEAR(leak, 6619648, 8);
}

TEST(PprofTest, CorruptInputsAreErrors) {
  std::string raw = EncodeProfile(SmallProfile());
  Profile p;
  // Truncations at every length.
  for (std::size_t n = 1; n < raw.size(); ++n) {
    Status s = DecodeProfile(raw.substr(0, n), &p);
    (void)s;  // many prefixes are valid messages; none may crash
  }
  EXPECT_FALSE(
      DecodeProfile(std::string("\x0a\xff\xff\xff\xff\x0f", 6), &p).ok());
  Status s = DecodeProfile(std::string(11, '\xff'), &p);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("corrupt profile"), std::string::npos);
  // Wire type 3 (groups) is not supported.
  EXPECT_FALSE(DecodeProfile(std::string("\x0b", 1), &p).ok());
  // A sample pointing at a location that does not exist.
  Profile bad = SmallProfile();
  bad.samples[0].location_ids = {99};
  s = DecodeProfile(EncodeProfile(bad), &p);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown location 99"), std::string::npos);
  // Values that do not match the sample types.
  bad = SmallProfile();
  bad.samples[0].values = {1};
  EXPECT_FALSE(DecodeProfile(EncodeProfile(bad), &p).ok());
  // Not gzip after the magic.
  EXPECT_FALSE(ParseProfile(std::string("\x1f\x8b\x08garbage", 10), &p).ok());
  EXPECT_FALSE(ReadProfileFile("/nonexistent/profile.pb.gz", &p).ok());
}

// Fuzz-style: deterministic mutations of valid inputs (raw and gzip) must
// parse or fail cleanly; run under ASan/UBSan in make test.
TEST(PprofTest, MutatedInputsNeverCrash) {
  std::string raw = EncodeProfile(SmallProfile());
  std::ifstream go(MEMMON_TESTDATA "/go_heap.pb.gz", std::ios::binary);
  std::string go_gz((std::istreambuf_iterator<char>(go)), {});
  std::string go_raw;
  ASSERT_TRUE(Gunzip(go_gz, &go_raw).ok());
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int ok = 0, errors = 0;
  for (const std::string* seed : {&raw, &go_raw, &go_gz}) {
    for (int round = 0; round < 3000; ++round) {
      std::string m = *seed;
      int edits = 1 + static_cast<int>(next() % 4);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        std::size_t at = next() % m.size();
        switch (next() % 4) {
          case 0:
            m[at] = static_cast<char>(next());
            break;
          case 1:
            m[at] = static_cast<char>(m[at] ^ (1 << (next() % 8)));
            break;
          case 2:
            m.erase(at, 1 + next() % 8);
            break;
          case 3:
            m.insert(at, 1, static_cast<char>(0x80 | next()));
            break;
        }
      }
      if (next() % 5 == 0) m.resize(next() % (m.size() + 1));
      Profile p;
      Status s = ParseProfile(m, &p);
      if (s.ok()) {
        ++ok;
      } else {
        ++errors;
        EXPECT_FALSE(s.message().empty());
      }
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_GT(ok + errors, 8999);
}

}  // namespace
}  // namespace memmon::profile
