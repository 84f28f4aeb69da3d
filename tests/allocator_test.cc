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
}

TEST(AllocatorDetection, Glibc) {
  auto kv = RunProbe("");
  EXPECT_EQ(kv["allocator"], "glibc");
  ExpectHeapStats(kv);
}

TEST(AllocatorDetection, Jemalloc) {
  auto kv = RunProbe(MEMMON_JEMALLOC_SO);
  EXPECT_EQ(kv["allocator"], "jemalloc");
  ExpectHeapStats(kv);
}

TEST(AllocatorDetection, Tcmalloc) {
  auto kv = RunProbe(MEMMON_TCMALLOC_SO);
  EXPECT_EQ(kv["allocator"], "tcmalloc");
  ExpectHeapStats(kv);
}

}  // namespace
