// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Each allocator is detected at run time and its statistics are read: the
// probe runs natively (glibc) and under LD_PRELOAD of Debian's jemalloc and
// gperftools tcmalloc (installed by scripts/install-deps).

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::map<std::string, std::string> RunProbe(const std::string& preload) {
  std::string cmd = "env ";
  if (!preload.empty()) cmd += "LD_PRELOAD=" + preload + " ";
  cmd += MEMMON_PROBE_PATH;
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (p != nullptr && fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  int status = p ? pclose(p) : -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n"
                                                             << out;
  std::map<std::string, std::string> kv;
  std::istringstream in(out);
  std::string pair;
  while (in >> pair) {
    auto eq = pair.find('=');
    if (eq != std::string::npos) kv[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return kv;
}

long long Num(const std::map<std::string, std::string>& kv, const char* key) {
  auto it = kv.find(key);
  return it == kv.end() ? -2 : std::stoll(it->second);
}

void ExpectHeapStats(const std::map<std::string, std::string>& kv) {
  long long before = Num(kv, "inuse_before"), during = Num(kv, "inuse_during"),
            after = Num(kv, "inuse_after");
  ASSERT_GE(before, 0);
  // 64 MiB were live between the first two samples, and gone by the third
  // (allocator metadata and caches may differ by a few MiB).
  EXPECT_GE(during - before, 60ll << 20);
  EXPECT_LT(after, during - (56ll << 20));
  EXPECT_GE(Num(kv, "system_during"), during);
  EXPECT_GE(Num(kv, "free_during"), 0);
  // Freed behind a pinned block: held by the allocator, and known as free.
  EXPECT_GE(Num(kv, "free_freed"), 48ll << 20);
  // ReleaseFreeMemory returns most of it to the OS.
  EXPECT_LE(Num(kv, "rss_released"), Num(kv, "rss_freed") - (40ll << 20))
      << "rss after free " << Num(kv, "rss_freed") << ", after release "
      << Num(kv, "rss_released");
}

// Each allocator alone, and under memmon's heap sampler (preloaded first,
// so that it forwards to the allocator): the same allocator, statistics,
// free-but-held bytes and release either way.
struct Case {
  const char* name;
  const char* allocator;
  std::string preload;
  bool sampler;
};

class AllocatorDetection : public testing::TestWithParam<Case> {};

TEST_P(AllocatorDetection, StatisticsFreeBytesAndRelease) {
  const Case& c = GetParam();
  auto kv = RunProbe(c.preload);
  EXPECT_EQ(kv["allocator"], c.allocator) << c.preload;
  EXPECT_EQ(Num(kv, "sampler"), c.sampler ? 1 : 0) << c.preload;
  ExpectHeapStats(kv);
}

std::vector<Case> Cases() {
  std::vector<Case> cases = {
      {"Glibc", "glibc", "", false},
      {"Jemalloc", "jemalloc", MEMMON_JEMALLOC_SO, false},
      {"Tcmalloc", "tcmalloc", MEMMON_TCMALLOC_SO, false},
  };
#ifdef MEMMON_SAMPLER_SO
  const std::string sampler = MEMMON_SAMPLER_SO;
  cases.push_back({"GlibcUnderTheSampler", "glibc", sampler, true});
  cases.push_back({"JemallocUnderTheSampler", "jemalloc",
                   sampler + ":" + MEMMON_JEMALLOC_SO, true});
  cases.push_back({"TcmallocUnderTheSampler", "tcmalloc",
                   sampler + ":" + MEMMON_TCMALLOC_SO, true});
#endif
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, AllocatorDetection,
                         testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
