// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Memory limits from fixture trees (cgroup v2 with a nested limit, cgroup
// v1 inside a container's view, rlimits, the machine) and from this
// machine's real /proc.

#include "source/memory_limit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace memmon::internal {
namespace {

namespace fs = std::filesystem;

class Tree {
 public:
  Tree() {
    char tmpl[] = "/tmp/memmon-limit-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~Tree() { fs::remove_all(root_); }
  void Write(const std::string& path, const std::string& text) {
    fs::path p = fs::path(root_) / path.substr(1);
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

constexpr const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           "
    "Units\n"
    "Max data size             unlimited            unlimited            "
    "bytes\n"
    "Max address space         8589934592           unlimited            "
    "bytes\n";

TEST(MemoryLimit, ParsesCgroupPathsMountsAndValues) {
  CgroupPaths p = ParseProcCgroup(
      "12:cpu,cpuacct:/x\n4:memory:/process_api/ab:c\n0::/user.slice/s\n");
  EXPECT_EQ(p.v2, "/user.slice/s");
  EXPECT_EQ(p.v1_memory, "/process_api/ab:c");
  CgroupMounts m = ParseCgroupMounts(
      "35 31 0:32 /docker/ab /sys/fs/cgroup/memory rw,relatime - cgroup "
      "cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(m.v2_mount, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m.v1_memory_mount, "/sys/fs/cgroup/memory");
  EXPECT_EQ(m.v1_memory_root, "/docker/ab");
  EXPECT_EQ(ParseLimitValue("max\n"), std::nullopt);
  EXPECT_EQ(ParseLimitValue("9223372036854771712\n"), std::nullopt);
  EXPECT_EQ(ParseLimitValue("67108864\n"), 67108864u);
  EXPECT_EQ(ParseLimitValue("garbage"), std::nullopt);
  EXPECT_EQ(ParseOomKills("low 0\nhigh 3\nmax 9\noom 2\noom_kill 1\n"), 1u);
  EXPECT_EQ(ParseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 4\n"), 4u);
  EXPECT_EQ(ParseRlimit(kLimits, "Max address space"), 8589934592u);
  EXPECT_EQ(ParseRlimit(kLimits, "Max data size"), std::nullopt);
}

// cgroup v2: the parent's memory.max binds (less headroom than the
// child's); memory.high is reported, never binding.
TEST(MemoryLimit, CgroupV2TheTightestAncestorBinds) {
  Tree t;
  t.Write("/proc/42/cgroup", "0::/svc/worker\n");
  t.Write("/proc/42/mountinfo",
          "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  t.Write("/proc/42/limits", kLimits);
  t.Write("/proc/42/status", "VmSize:\t 1048576 kB\nVmData:\t 524288 kB\n");
  t.Write("/proc/meminfo", "MemTotal: 8388608 kB\nMemAvailable: 4194304 kB\n");
  t.Write("/sys/fs/cgroup/svc/worker/memory.current", "100000000\n");
  t.Write("/sys/fs/cgroup/svc/worker/memory.max", "max\n");
  t.Write("/sys/fs/cgroup/svc/worker/memory.high", "110000000\n");
  t.Write("/sys/fs/cgroup/svc/worker/memory.events", "oom 0\noom_kill 0\n");
  t.Write("/sys/fs/cgroup/svc/memory.current", "300000000\n");
  t.Write("/sys/fs/cgroup/svc/memory.max", "320000000\n");
  t.Write("/sys/fs/cgroup/svc/memory.events", "oom 1\noom_kill 2\n");
  MemoryLimits l;
  ASSERT_TRUE(ReadMemoryLimitsUnder(t.root(), 42, 90000000, &l).ok());
  const MemoryLimit* b = l.Binding();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->kind, LimitKind::kCgroupV2Max);
  EXPECT_EQ(b->source, "/sys/fs/cgroup/svc/memory.max");
  EXPECT_EQ(b->limit_bytes, 320000000u);
  EXPECT_EQ(b->usage_bytes, 300000000u);
  EXPECT_EQ(b->oom_kills, 2u);
  EXPECT_TRUE(b->kills);
  bool high = false, as = false, machine = false;
  for (const MemoryLimit& x : l.limits) {
    high |= x.kind == LimitKind::kCgroupV2High && x.limit_bytes == 110000000u;
    as |= x.kind == LimitKind::kRlimitAs && x.usage_bytes == (1ull << 30);
    machine |= x.kind == LimitKind::kMachine &&
               x.limit_bytes == 90000000u + (4ull << 30);
  }
  EXPECT_TRUE(high && as && machine);
}

// cgroup v1 seen from inside a container: the hierarchy's root is the
// container's cgroup, mounted at the mount point.
TEST(MemoryLimit, CgroupV1ThroughAContainersMount) {
  Tree t;
  t.Write("/proc/self/cgroup", "4:memory:/docker/ab/app\n0::/\n");
  t.Write("/proc/self/mountinfo",
          "35 31 0:32 /docker/ab /sys/fs/cgroup/memory rw - cgroup cgroup "
          "rw,memory\n");
  t.Write("/sys/fs/cgroup/memory/app/memory.limit_in_bytes", "67108864\n");
  t.Write("/sys/fs/cgroup/memory/app/memory.usage_in_bytes", "50331648\n");
  t.Write("/sys/fs/cgroup/memory/app/memory.oom_control",
          "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  t.Write("/sys/fs/cgroup/memory/memory.limit_in_bytes",
          "9223372036854771712\n");
  t.Write("/sys/fs/cgroup/memory/memory.usage_in_bytes", "90000000\n");
  MemoryLimits l;
  ASSERT_TRUE(ReadMemoryLimitsUnder(t.root(), 0, 1 << 20, &l).ok());
  ASSERT_NE(l.Binding(), nullptr);
  EXPECT_EQ(l.Binding()->kind, LimitKind::kCgroupV1);
  EXPECT_EQ(l.Binding()->limit_bytes, 67108864u);
  EXPECT_EQ(l.Binding()->oom_kills, 3u);
  EXPECT_EQ(l.limits.size(), 1u);  // no rlimits, no meminfo in the fixture
}

// LimitReader: the files found at Open are reread each time -- a limit
// changed in place is seen; a process that leaves its cgroup (as an exiting
// one does, for the root) still reads the limit it had.
TEST(MemoryLimit, LimitReaderRereadsTheFilesFoundAtOpen) {
  Tree t;
  t.Write("/proc/7/cgroup", "0::/svc\n");
  t.Write("/proc/7/mountinfo",
          "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  t.Write("/proc/meminfo", "MemAvailable: 4194304 kB\n");
  t.Write("/sys/fs/cgroup/svc/memory.current", "100000000\n");
  t.Write("/sys/fs/cgroup/svc/memory.max", "200000000\n");
  LimitReader r;
  ASSERT_TRUE(r.Open(7, t.root()).ok());
  uint64_t limit = 0, usage = 0;
  ASSERT_TRUE(r.Read(90000000, &limit, &usage));
  EXPECT_EQ(limit, 200000000u);
  EXPECT_EQ(usage, 100000000u);
  t.Write("/sys/fs/cgroup/svc/memory.max", "150000000\n");
  t.Write("/sys/fs/cgroup/svc/memory.current", "120000000\n");
  t.Write("/proc/7/cgroup", "0::/\n");
  ASSERT_TRUE(r.Read(90000000, &limit, &usage));
  EXPECT_EQ(limit, 150000000u);
  EXPECT_EQ(usage, 120000000u);
  t.Write("/sys/fs/cgroup/svc/memory.max", "max\n");  // lifted: the machine
  ASSERT_TRUE(r.Read(90000000, &limit, &usage));
  EXPECT_EQ(limit, 90000000u + (4ull << 30));
  EXPECT_EQ(usage, 90000000u);
}

// MemAvailable is reread at most once per kMeminfoMaxAge of the times
// given: a change within it is not seen, one after it is; the RSS passed
// in is always current.
TEST(MemoryLimit, LimitReaderRereadsMeminfoAtMostOncePerMaxAge) {
  Tree t;
  t.Write("/proc/7/cgroup", "0::/\n");
  t.Write("/proc/7/mountinfo",
          "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  t.Write("/proc/meminfo", "MemAvailable: 4194304 kB\n");
  LimitReader r;
  ASSERT_TRUE(r.Open(7, t.root()).ok());
  const auto t0 =
      std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  uint64_t limit = 0, usage = 0;
  LimitKind kind = LimitKind::kUnknown;
  ASSERT_TRUE(r.Read(1000, &limit, &usage, &kind, t0));
  EXPECT_EQ(kind, LimitKind::kMachine);
  EXPECT_EQ(limit, 1000 + (4ull << 30));
  t.Write("/proc/meminfo", "MemAvailable: 2097152 kB\n");
  ASSERT_TRUE(r.Read(2000, &limit, &usage, &kind,
                     t0 + LimitReader::kMeminfoMaxAge / 2));
  EXPECT_EQ(limit, 2000 + (4ull << 30));  // the value read at t0
  EXPECT_EQ(usage, 2000u);
  ASSERT_TRUE(
      r.Read(2000, &limit, &usage, &kind, t0 + LimitReader::kMeminfoMaxAge));
  EXPECT_EQ(limit, 2000 + (2ull << 30));
}

// The OOM kills come from the process's own cgroup -- the deepest with the
// memory controller, limited or not (here worker, under svc's limit) --
// reread by file each time; Read names the binding limit's kind; and the
// start line says how the kernel counts usage.
TEST(MemoryLimit, OomKillsOfTheProcesssOwnCgroupAndTheKind) {
  Tree t;
  t.Write("/proc/9/cgroup", "0::/svc/worker\n");
  t.Write("/proc/9/mountinfo",
          "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  t.Write("/sys/fs/cgroup/svc/worker/memory.current", "100000000\n");
  t.Write("/sys/fs/cgroup/svc/worker/memory.max", "max\n");
  t.Write("/sys/fs/cgroup/svc/worker/memory.events", "oom 0\noom_kill 3\n");
  t.Write("/sys/fs/cgroup/svc/memory.current", "150000000\n");
  t.Write("/sys/fs/cgroup/svc/memory.max", "200000000\n");
  t.Write("/sys/fs/cgroup/svc/memory.events", "oom 1\noom_kill 7\n");
  LimitReader r;
  ASSERT_TRUE(r.Open(9, t.root()).ok());
  EXPECT_EQ(r.found().oom_events_path,
            "/sys/fs/cgroup/svc/worker/memory.events");
  EXPECT_EQ(r.found().oom_kills, 3u);
  EXPECT_EQ(r.OomKills(), 3u);
  t.Write("/sys/fs/cgroup/svc/worker/memory.events",
          "oom 1\noom_kill 4\noom_group_kill 0\n");
  EXPECT_EQ(r.OomKills(), 4u);
  uint64_t limit = 0, usage = 0;
  LimitKind kind = LimitKind::kUnknown;
  ASSERT_TRUE(r.Read(1 << 20, &limit, &usage, &kind));
  EXPECT_EQ(kind, LimitKind::kCgroupV2Max);
  EXPECT_EQ(limit, 200000000u);
  const MemoryLimit* b = r.found().Binding();
  ASSERT_NE(b, nullptr);
  std::string line = DescribeLimit(*b);
  EXPECT_NE(line.find("cgroup_v2_max limit"), std::string::npos) << line;
  EXPECT_NE(line.find("/sys/fs/cgroup/svc/memory.max"), std::string::npos);
  EXPECT_NE(line.find("page cache and kernel memory"), std::string::npos);
  EXPECT_EQ(UsageCounted(MemoryLimitKind::kCgroupV1), b->counts);
  // No memory cgroup: no count.
  Tree none;
  none.Write("/proc/9/cgroup", "0::/\n");
  none.Write("/proc/meminfo", "MemAvailable: 4194304 kB\n");
  LimitReader n;
  ASSERT_TRUE(n.Open(9, none.root()).ok());
  EXPECT_EQ(n.OomKills(), std::nullopt);
}

TEST(MemoryLimit, AMissingProcessIsNotFound) {
  Tree t;
  MemoryLimits l;
  EXPECT_EQ(ReadMemoryLimitsUnder(t.root(), 12345, 0, &l).code(),
            StatusCode::kNotFound);
}

// This machine: at least the machine's own limit, which binds when nothing
// tighter applies.
TEST(MemoryLimit, ReadsThisProcess) {
  MemoryLimits l;
  ASSERT_TRUE(ReadMemoryLimits(0, 10 << 20, &l).ok());
  ASSERT_NE(l.Binding(), nullptr);
  bool machine = false;
  for (const MemoryLimit& x : l.limits) {
    machine |= x.kind == LimitKind::kMachine;
    EXPECT_GE(x.limit_bytes, 1u) << x.source;
  }
  EXPECT_TRUE(machine);
}

}  // namespace
}  // namespace memmon::internal
