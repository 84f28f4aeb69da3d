// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Each allocator is detected at run time and its statistics are read: the
// probe runs natively (glibc) and under LD_PRELOAD of Debian's jemalloc and
// gperftools tcmalloc (installed by scripts/install-deps), with memmon's
// heap sampler preloaded or linked, and with the sampler bypassed.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::map<std::string, std::string> RunProbe(const std::string& preload,
                                            const std::string& probe) {
  std::string cmd = "env ";
  if (!preload.empty()) cmd += "LD_PRELOAD=" + preload + " ";
  cmd += probe;
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
  // 128 MiB were live between the first two samples, and gone by the third
  // (allocator metadata and caches may differ by a few MiB). A sampler that
  // is loaded but bypassed must not replace this with its own zero.
  EXPECT_GE(during - before, 120ll << 20);
  EXPECT_LT(after, during - (112ll << 20));
  EXPECT_GE(Num(kv, "system_during"), during);
  EXPECT_GE(Num(kv, "free_during"), 0);
  // Freed behind a pinned block: held by the allocator, and known as free
  // (jemalloc purges part of it at once: 78 MiB of the 128 stay held).
  EXPECT_GE(Num(kv, "free_freed"), 72ll << 20);
  // ... which is fragmentation: over the 64 MiB floor and 50 % of the heap.
  EXPECT_EQ(Num(kv, "fragmentation_fired"), 1);
  // ReleaseFreeMemory returns most of it to the OS.
  EXPECT_LE(Num(kv, "rss_released"), Num(kv, "rss_freed") - (64ll << 20))
      << "rss after free " << Num(kv, "rss_freed") << ", after release "
      << Num(kv, "rss_released");
}

// Each allocator alone, and under memmon's heap sampler -- preloaded first,
// so that it forwards to the allocator, or linked (memmon::heap) with the
// allocator after it -- the same allocator, statistics, free-but-held
// bytes, fragmentation and release either way. And the sampler present but
// bypassed (jemalloc ahead of it: linked before it, or preloaded into a
// program linked with it): jemalloc's figures, not the sampler's zeros.
struct Case {
  const char* name;
  const char* allocator;
  std::string preload;
  std::string probe;
  bool sampler;
  bool sampler_serves;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class AllocatorDetection : public testing::TestWithParam<Case> {};

TEST_P(AllocatorDetection, StatisticsFreeBytesFragmentationAndRelease) {
  const Case& c = GetParam();
  auto kv = RunProbe(c.preload, c.probe);
  EXPECT_EQ(kv["allocator"], c.allocator) << c.preload;
  EXPECT_EQ(Num(kv, "sampler"), c.sampler ? 1 : 0) << c.preload;
  EXPECT_EQ(Num(kv, "sampler_serves"), c.sampler_serves ? 1 : 0) << c.preload;
  ExpectHeapStats(kv);
}

std::vector<Case> Cases() {
  const std::string probe = MEMMON_PROBE_PATH;
  std::vector<Case> cases = {
      {"Glibc", "glibc", "", probe, false, false},
      {"Jemalloc", "jemalloc", MEMMON_JEMALLOC_SO, probe, false, false},
      {"Tcmalloc", "tcmalloc", MEMMON_TCMALLOC_SO, probe, false, false},
  };
#ifdef MEMMON_SAMPLER_SO
  const std::string sampler = MEMMON_SAMPLER_SO;
  cases.push_back(
      {"GlibcUnderTheSampler", "glibc", sampler, probe, true, true});
  cases.push_back({"JemallocUnderTheSampler", "jemalloc",
                   sampler + ":" + MEMMON_JEMALLOC_SO, probe, true, true});
  cases.push_back({"TcmallocUnderTheSampler", "tcmalloc",
                   sampler + ":" + MEMMON_TCMALLOC_SO, probe, true, true});
  cases.push_back(
      {"GlibcLinkedSampler", "glibc", "", MEMMON_PROBE_HEAP_PATH, true, true});
  cases.push_back({"JemallocAfterTheLinkedSampler", "jemalloc", "",
                   MEMMON_PROBE_HEAP_JEMALLOC_PATH, true, true});
  cases.push_back({"TcmallocAfterTheLinkedSampler", "tcmalloc", "",
                   MEMMON_PROBE_HEAP_TCMALLOC_PATH, true, true});
  cases.push_back({"JemallocBeforeTheLinkedSampler", "jemalloc", "",
                   MEMMON_PROBE_JEMALLOC_HEAP_PATH, true, false});
  cases.push_back({"JemallocPreloadedIntoTheLinkedSampler", "jemalloc",
                   MEMMON_JEMALLOC_SO, MEMMON_PROBE_HEAP_PATH, true, false});
#endif
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, AllocatorDetection,
                         testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
