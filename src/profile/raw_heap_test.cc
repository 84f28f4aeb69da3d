// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/raw_heap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "memmon/memmon_preload.h"
#include "profile/heap_profile.h"
#include "profile/pprof.h"

namespace memmon::profile {
namespace {

// A raw heap dump, word by word (memmon_preload.h's format).
struct Dump {
  std::vector<uint64_t> words;
  void Header(uint64_t version) {
    words = {MEMMON_RAW_HEAP_MAGIC,
             version,
             4242,
             /*rate*/ 1,
             /*object_scale*/ 1,
             /*time*/ 1'700'000'000'000'000'000ull,
             /*duration*/ 30'000'000'000ull};
    words.push_back(4);  // "test", padded to a word
    uint64_t reason = 0;
    std::memcpy(&reason, "test", 4);
    words.push_back(reason);
  }
  void Stack(uint64_t ref, uint64_t frame, uint64_t bytes) {
    words.insert(words.end(), {MEMMON_RAW_STACK, ref, 1, bytes, 1, frame});
  }
  void Live(uint64_t ref, uint64_t size) {
    words.insert(words.end(), {MEMMON_RAW_LIVE, ref, size});
  }
  void Aged(uint64_t ref, uint64_t size, double age_s) {
    words.insert(words.end(), {MEMMON_RAW_LIVE_AGED, ref, size,
                               static_cast<uint64_t>(age_s * 1e9)});
  }
  std::string Write(const std::filesystem::path& path) {
    words.insert(words.end(), {MEMMON_RAW_MAPS, 0, MEMMON_RAW_END});
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(words.data()),
            static_cast<std::streamsize>(words.size() * 8));
    return path.string();
  }
};

// The sample of `profile` whose in-use bytes are `bytes`.
const Sample* WithInuse(const Profile& p, int64_t bytes) {
  const int idx = p.SampleTypeIndex("inuse_space");
  for (const Sample& s : p.samples) {
    if (idx >= 0 && s.values[idx] == bytes) return &s;
  }
  return nullptr;
}

class RawHeapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("raw_heap_test." + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

// Version 2's aged live samples become the site's live_age labels: the
// median over its objects (here one object a sample, rate 1) and the
// oldest; a site whose samples carry no age gets none.
TEST_F(RawHeapTest, AgedLiveSamplesBecomeLiveAgeLabels) {
  Dump d;
  d.Header(2);
  d.Stack(1, 0x1000, 1000);
  d.Stack(2, 0x2000, 500);
  d.Aged(1, 100, 1.0);
  d.Aged(1, 100, 10.0);
  d.Aged(1, 100, 2.0);
  d.Live(2, 50);
  const std::string raw = d.Write(dir_ / "heap.raw");
  const std::string out = (dir_ / "heap.pb.gz").string();
  ASSERT_TRUE(ConvertRawHeap(raw, out).ok());
  Profile p;
  ASSERT_TRUE(ReadProfileFile(out, &p).ok());
  const Sample* aged = WithInuse(p, 300);
  ASSERT_NE(aged, nullptr);
  LiveAge age;
  ASSERT_TRUE(LiveAgeOf(*aged, &age));
  EXPECT_NEAR(age.median_s, 2.0, 1e-3);
  EXPECT_NEAR(age.oldest_s, 10.0, 1e-3);
  const Sample* plain = WithInuse(p, 50);
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(LiveAgeOf(*plain, &age));
}

// A version-1 dump (no ages) still converts; a later version does not.
TEST_F(RawHeapTest, ReadsVersionOneAndRejectsUnknownVersions) {
  Dump v1;
  v1.Header(1);
  v1.Stack(1, 0x1000, 1000);
  v1.Live(1, 100);
  const std::string raw1 = v1.Write(dir_ / "v1.raw");
  ASSERT_TRUE(ConvertRawHeap(raw1, (dir_ / "v1.pb.gz").string()).ok());
  Profile p;
  ASSERT_TRUE(ReadProfileFile((dir_ / "v1.pb.gz").string(), &p).ok());
  ASSERT_NE(WithInuse(p, 100), nullptr);

  Dump v3;
  v3.Header(MEMMON_RAW_HEAP_VERSION + 1);
  v3.Stack(1, 0x1000, 1000);
  const std::string raw3 = v3.Write(dir_ / "v3.raw");
  EXPECT_FALSE(ConvertRawHeap(raw3, (dir_ / "v3.pb.gz").string()).ok());
  // An aged record cut short is an incomplete dump, not a profile.
  Dump cut;
  cut.Header(2);
  cut.Stack(1, 0x1000, 1000);
  cut.words.insert(cut.words.end(), {MEMMON_RAW_LIVE_AGED, 1, 100});
  std::ofstream f(dir_ / "cut.raw", std::ios::binary);
  f.write(reinterpret_cast<const char*>(cut.words.data()),
          static_cast<std::streamsize>(cut.words.size() * 8));
  f.close();
  EXPECT_FALSE(
      ConvertRawHeap((dir_ / "cut.raw").string(), (dir_ / "cut.pb.gz").string())
          .ok());
}

}  // namespace
}  // namespace memmon::profile
