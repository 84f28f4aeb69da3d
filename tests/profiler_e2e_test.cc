// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// End to end: target programs (tests/targets/) run under the built
// libmemmon_preload.so; what they write is read back with memmon's pprof
// reader and with the real `go tool pprof` (Debian's golang-go, installed by
// scripts/install-deps: a missing go fails these tests, it does not skip
// them).
//
// Randomness: every run fixes MEMMON_SEED, so each outcome is deterministic
// for a given build. The accuracy bound (+-10 %) is stated for a site holding
// >= 10 % of the heap at MEMMON_SAMPLE_RATE=16384 with 1000-byte objects:
// ~1200 samples, a relative standard deviation of ~2.9 %, so a different
// seed would exceed the bound with odds below 1 in 3000 (3.4 sigma).

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "profile/pprof.h"

namespace {

namespace fs = std::filesystem;
using memmon::profile::Profile;

struct RunResult {
  int status = -1;
  std::string out;
};

RunResult Shell(const std::string& cmd) {
  RunResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/memmon-e2e-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `program args` under the preload with MEMMON_OUTPUT=dir and `env`.
RunResult RunPreloaded(const std::string& dir, const std::string& env,
                       const std::string& program_and_args,
                       const std::string& extra_preload = "") {
  std::string preload = MEMMON_PRELOAD_PATH;
  if (!extra_preload.empty()) preload += ":" + extra_preload;
  return Shell("env LD_PRELOAD=" + preload + " MEMMON_OUTPUT=" + dir +
               " MEMMON_SEED=1 " + env + " " + program_and_args);
}

std::string GoBinary() {
  RunResult r = Shell("command -v go");
  std::string path = r.out.substr(0, r.out.find('\n'));
  return r.status == 0 ? path : "";
}

// The function go tool pprof -top puts first for inuse_space.
std::string PprofTopFunction(const std::string& file, const std::string& home) {
  std::string go = GoBinary();
  if (go.empty()) {
    ADD_FAILURE() << "go not found: scripts/install-deps installs golang-go";
    return "";
  }
  RunResult r = Shell("env HOME=" + home + " PPROF_TMPDIR=" + home + " " + go +
                      " tool pprof -top -sample_index=inuse_space " + file);
  EXPECT_EQ(r.status, 0) << r.out;
  std::istringstream in(r.out);
  std::string line;
  bool table = false;
  while (std::getline(in, line)) {
    if (line.find("flat%") != std::string::npos) {
      table = true;
      continue;
    }
    if (table) {
      // "  19474.56kB 88.23% 88.23% 19474.56kB 88.23%  name(args)"
      std::istringstream row(line);
      std::string field;
      for (int i = 0; i < 5 && row >> field; ++i) {
      }
      std::string name;
      std::getline(row, name);
      return name.substr(name.find_first_not_of(' '));
    }
  }
  ADD_FAILURE() << "no table in pprof output:\n" << r.out;
  return "";
}

Profile ReadProfile(const std::string& path) {
  Profile p;
  memmon::Status s = memmon::profile::ReadProfileFile(path, &p);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return p;
}

// Sum of `type` over samples whose leaf function's name contains `function`.
double LeafTotal(const Profile& p, const std::string& type,
                 const std::string& function) {
  int idx = p.SampleTypeIndex(type);
  EXPECT_GE(idx, 0);
  double total = 0;
  for (const auto& s : p.samples) {
    if (s.location_ids.empty()) continue;
    const auto* loc = p.FindLocation(s.location_ids[0]);
    if (loc == nullptr || loc->lines.empty()) continue;
    const auto* fn = p.FindFunction(loc->lines[0].function_id);
    if (fn != nullptr && fn->name.find(function) != std::string::npos) {
      total += static_cast<double>(s.values[idx]);
    }
  }
  return total;
}

double Total(const Profile& p, const std::string& type) {
  int idx = p.SampleTypeIndex(type);
  double total = 0;
  for (const auto& s : p.samples) total += static_cast<double>(s.values[idx]);
  return total;
}

long Field(const std::string& out, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(key + "=(-?[0-9]+)"))) return -1;
  return std::stol(m[1]);
}

struct LeakCase {
  const char* mode;
  const char* function;
};

void PrintTo(const LeakCase& c, std::ostream* os) { *os << c.mode; }

class LeakTargetTest : public ::testing::TestWithParam<LeakCase> {};

// The profile written at exit at the default rate names the leaking function
// first, in go tool pprof's own reading.
TEST_P(LeakTargetTest, GoPprofShowsLeakingFunctionFirst) {
  TempDir dir;
  RunResult r = RunPreloaded(
      dir.path(), "", std::string(MEMMON_LEAK_TARGET) + " " + GetParam().mode);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string file = dir.path() + "/heap.pb.gz";
  ASSERT_TRUE(fs::exists(file)) << r.out;
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  std::string top = PprofTopFunction(file, dir.path());
  EXPECT_NE(top.find(GetParam().function), std::string::npos) << top;

  Profile p = ReadProfile(file);
  ASSERT_EQ(p.sample_types.size(), 4u);
  EXPECT_EQ(p.sample_types[0],
            (memmon::profile::ValueType{"alloc_objects", "count"}));
  EXPECT_EQ(p.sample_types[1],
            (memmon::profile::ValueType{"alloc_space", "bytes"}));
  EXPECT_EQ(p.sample_types[2],
            (memmon::profile::ValueType{"inuse_objects", "count"}));
  EXPECT_EQ(p.sample_types[3],
            (memmon::profile::ValueType{"inuse_space", "bytes"}));
  EXPECT_EQ(p.period_type, (memmon::profile::ValueType{"space", "bytes"}));
  EXPECT_EQ(p.period, 512 * 1024);
  // The program's own mapping carries its build ID (linked with one).
  ASSERT_FALSE(p.mappings.empty());
  EXPECT_NE(p.mappings[0].filename.find("leak_target"), std::string::npos);
  EXPECT_EQ(p.mappings[0].build_id.size(), 40u);
  // The leaking function has its source file and line.
  bool found = false;
  for (const auto& f : p.functions) {
    if (f.name.find(GetParam().function) != std::string::npos) {
      found = true;
      EXPECT_NE(f.filename.find("leak_target.cc"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
}

// In-use estimate within +-10 % of the truth for a site holding >= 10 % of
// the heap (see the file comment for the odds).
TEST_P(LeakTargetTest, InuseEstimateWithinTenPercent) {
  TempDir dir;
  RunResult r =
      RunPreloaded(dir.path(), "MEMMON_SAMPLE_RATE=16384",
                   std::string(MEMMON_LEAK_TARGET) + " " + GetParam().mode);
  ASSERT_EQ(r.status, 0) << r.out;
  double truth = static_cast<double>(Field(r.out, "leaked_bytes"));
  ASSERT_GT(truth, 0);
  Profile p = ReadProfile(dir.path() + "/heap.pb.gz");
  double estimate = LeafTotal(p, "inuse_space", GetParam().function);
  EXPECT_GE(estimate / Total(p, "inuse_space"), 0.10);
  EXPECT_NEAR(estimate / truth, 1.0, 0.10) << "estimate " << estimate;
  // Cumulative bytes too (churn included: the leak is part of it).
  EXPECT_GE(LeafTotal(p, "alloc_space", GetParam().function) / truth, 0.9);
}

INSTANTIATE_TEST_SUITE_P(Apis, LeakTargetTest,
                         ::testing::Values(LeakCase{"new", "LeakWithNew"},
                                           LeakCase{"strdup", "LeakWithStrdup"},
                                           LeakCase{"posix_memalign",
                                                    "LeakWithPosixMemalign"}),
                         [](const ::testing::TestParamInfo<LeakCase>& info) {
                           std::string n = info.param.mode;
                           for (char& c : n) {
                             if (c == '_') c = 'X';
                           }
                           return n;
                         });

// Every allocation sampled (rate 1): the estimate is exact.
TEST(PreloadTest, RateOneIsExact) {
  TempDir dir;
  RunResult r =
      RunPreloaded(dir.path(), "MEMMON_SAMPLE_RATE=1",
                   std::string(MEMMON_LEAK_TARGET) + " strdup 3000 100");
  ASSERT_EQ(r.status, 0) << r.out;
  Profile p = ReadProfile(dir.path() + "/heap.pb.gz");
  EXPECT_EQ(LeafTotal(p, "inuse_space", "LeakWithStrdup"), 300000);
  EXPECT_EQ(LeafTotal(p, "inuse_objects", "LeakWithStrdup"), 3000);
  EXPECT_EQ(LeafTotal(p, "inuse_space", "Retain"), 2048000);
  EXPECT_EQ(LeafTotal(p, "inuse_space", "Churn"), 0);
  EXPECT_EQ(LeafTotal(p, "alloc_objects", "Churn"), 400000);
  EXPECT_EQ(p.period, 1);
}

// Every entry point is intercepted and attributed to its caller, exactly at
// rate 1; errno survives; failures look as they would without memmon.
TEST(PreloadTest, EveryAllocationEntryPoint) {
  TempDir dir;
  RunResult r =
      RunPreloaded(dir.path(), "MEMMON_SAMPLE_RATE=1", MEMMON_ALLOC_API_TARGET);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Field(r.out, "errno_ok"), 1) << r.out;
  EXPECT_EQ(Field(r.out, "failures_ok"), 1) << r.out;
  EXPECT_EQ(Field(r.out, "data_ok"), 1) << r.out;
  EXPECT_EQ(Field(r.out, "align_ok"), 1) << r.out;
  EXPECT_EQ(Field(r.out, "zero_ok"), 1) << r.out;
  EXPECT_EQ(Field(r.out, "live_ok"), 1) << r.out;
  // malloc_usable_size answers as glibc does (264 for 256 bytes), not with
  // the chunk size memmon counts.
  EXPECT_EQ(Field(r.out, "usable"), 264) << r.out;
  Profile p = ReadProfile(dir.path() + "/heap.pb.gz");
  for (const char* fn :
       {"UseMalloc", "UseCalloc", "UseRealloc", "UseReallocarray",
        "UseMemalign", "UseAlignedAlloc", "UseValloc", "UseNew", "UseNewArray",
        "UseNewNothrow", "UseNewAligned", "UsePosixMemalign"}) {
    std::string name = std::string("::") + fn + "(";  // UseNew, not UseNewArray
    EXPECT_EQ(LeafTotal(p, "inuse_objects", name), 100) << fn;
    EXPECT_EQ(LeafTotal(p, "inuse_space", name), 100 * 256) << fn;
  }
  // pvalloc rounds the request up to a page.
  EXPECT_EQ(LeafTotal(p, "inuse_space", "::UsePvalloc("), 100 * 4096);
  // realloc's first malloc(16) was freed by the realloc.
  EXPECT_EQ(LeafTotal(p, "alloc_objects", "::UseRealloc("), 200);
}

// Linked instead of preloaded (libmemmon_heap.so as a dependency).
TEST(PreloadTest, LinkedInsteadOfPreloaded) {
  TempDir dir;
  RunResult r = Shell("env MEMMON_OUTPUT=" + dir.path() + " MEMMON_SEED=1 " +
                      MEMMON_LEAK_TARGET_LINKED + " new");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(PprofTopFunction(dir.path() + "/heap.pb.gz", dir.path())
                .find("LeakWithNew"),
            std::string::npos);
}

// The allocator underneath may be jemalloc or tcmalloc.
TEST(PreloadTest, OverOtherAllocators) {
  for (const char* lib : {MEMMON_JEMALLOC_SO, MEMMON_TCMALLOC_SO}) {
    TempDir dir;
    RunResult r = RunPreloaded(dir.path(), "MEMMON_SAMPLE_RATE=16384",
                               std::string(MEMMON_LEAK_TARGET) + " new", lib);
    ASSERT_EQ(r.status, 0) << lib << "\n" << r.out;
    Profile p = ReadProfile(dir.path() + "/heap.pb.gz");
    double truth = static_cast<double>(Field(r.out, "leaked_bytes"));
    EXPECT_NEAR(LeafTotal(p, "inuse_space", "LeakWithNew") / truth, 1.0, 0.10)
        << lib;
    EXPECT_NE(PprofTopFunction(dir.path() + "/heap.pb.gz", dir.path())
                  .find("LeakWithNew"),
              std::string::npos)
        << lib;
  }
}

// Threads come and go while they allocate; counters stay exact and the
// per-thread leak is found.
TEST(PreloadTest, ThreadsCreatedAndExiting) {
  TempDir dir;
  RunResult r = RunPreloaded(dir.path(), "MEMMON_SAMPLE_RATE=65536",
                             std::string(MEMMON_THREADED_TARGET) + " 25 200");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Field(r.out, "preload"), 1);
  long leaked = Field(r.out, "leaked_bytes");
  EXPECT_EQ(leaked, 100L * 200 * 512);
  // Every thread's batch was flushed when it exited: at least the 2.1 M
  // churn + leak allocations are counted, and the leak is still in use.
  EXPECT_GE(Field(r.out, "allocations"), 100L * (20000 + 200));
  EXPECT_GE(Field(r.out, "frees"), 100L * 20000);
  EXPECT_GE(Field(r.out, "inuse_bytes"), leaked);
  Profile p = ReadProfile(dir.path() + "/heap.pb.gz");
  EXPECT_NEAR(LeafTotal(p, "inuse_space", "ThreadLeak") / leaked, 1.0, 0.15);
  EXPECT_NE(PprofTopFunction(dir.path() + "/heap.pb.gz", dir.path())
                .find("ThreadLeak"),
            std::string::npos);
}

// fork: the child keeps sampling and writes its own file; exec: the new
// program is followed (LD_PRELOAD is inherited) and writes its own file.
TEST(PreloadTest, ForkAndExec) {
  TempDir dir;
  RunResult r =
      RunPreloaded(dir.path(), "MEMMON_SAMPLE_RATE=1", MEMMON_FORK_EXEC_TARGET);
  ASSERT_EQ(r.status, 0) << r.out;
  long child = Field(r.out, "fork_child"),
       exec_child = Field(r.out, "exec_child");
  ASSERT_GT(child, 0);
  ASSERT_GT(exec_child, 0);
  std::string parent_file = dir.path() + "/heap.pb.gz";
  std::string child_file =
      dir.path() + "/heap.pid" + std::to_string(child) + ".pb.gz";
  std::string exec_file =
      dir.path() + "/heap.pid" + std::to_string(exec_child) + ".pb.gz";
  ASSERT_TRUE(fs::exists(parent_file));
  ASSERT_TRUE(fs::exists(child_file));
  ASSERT_TRUE(fs::exists(exec_file));
  Profile parent = ReadProfile(parent_file);
  Profile forked = ReadProfile(child_file);
  Profile execd = ReadProfile(exec_file);
  // Every allocation is sampled (rate 1): the figures are exact.
  EXPECT_EQ(LeafTotal(parent, "inuse_space", "ParentLeak"), 4e6);
  EXPECT_EQ(LeafTotal(parent, "inuse_space", "ChildLeak"), 0);
  // The forked child inherited the parent's heap and added its own leak.
  EXPECT_EQ(LeafTotal(forked, "inuse_space", "ChildLeak"), 6e6);
  EXPECT_EQ(LeafTotal(forked, "inuse_space", "ParentLeak"), 4e6);
  EXPECT_EQ(LeafTotal(execd, "inuse_space", "ExecLeak"), 8e6);
  EXPECT_EQ(LeafTotal(execd, "inuse_space", "ParentLeak"), 0);
  EXPECT_NE(PprofTopFunction(exec_file, dir.path()).find("ExecLeak"),
            std::string::npos);
  // Nothing else was written (no file shared, no temporary left behind):
  // each process wrote one file of each profile that is on by default.
  std::set<std::string> names, want;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    names.insert(e.path().filename().string());
  }
  for (const std::string kind : {"heap", "peak", "mutex", "block", "mmap"}) {
    want.insert(kind + ".pb.gz");
    want.insert(kind + ".pid" + std::to_string(child) + ".pb.gz");
    want.insert(kind + ".pid" + std::to_string(exec_child) + ".pb.gz");
  }
  EXPECT_EQ(names, want);
}

// dlopen/dlclose cycles with sampled allocations inside the plugin; a
// snapshot taken while it is loaded attributes its leak to it.
TEST(PreloadTest, DlopenAndDlclose) {
  TempDir dir;
  RunResult r = RunPreloaded(
      dir.path(), "MEMMON_SAMPLE_RATE=1",
      std::string(MEMMON_DLOPEN_TARGET) + " " + MEMMON_PLUGIN + " 30");
  ASSERT_EQ(r.status, 0) << r.out;
  Profile loaded = ReadProfile(dir.path() + "/heap.0001.pb.gz");
  EXPECT_EQ(LeafTotal(loaded, "inuse_space", "PluginLeak"), 1e7);
  EXPECT_NE(PprofTopFunction(dir.path() + "/heap.0001.pb.gz", dir.path())
                .find("PluginLeak"),
            std::string::npos);
  Profile at_exit = ReadProfile(dir.path() + "/heap.pb.gz");
  EXPECT_EQ(LeafTotal(at_exit, "inuse_space", "MainLeak"), 3e7);
}

// The core monitor finds the sampler by name and fills the exact counters;
// without it they stay unknown.
TEST(PreloadTest, MonitorSamplesCarryExactCounters) {
  RunResult r = Shell(std::string("env LD_PRELOAD=") + MEMMON_PRELOAD_PATH +
                      " " + MEMMON_COUNTERS_PROBE);
  ASSERT_EQ(r.status, 0) << r.out;
  // Exactly what the loop did, plus what TakeSample itself allocates (none
  // in steady state).
  EXPECT_EQ(Field(r.out, "allocations"), 10000) << r.out;
  EXPECT_EQ(Field(r.out, "frees"), 4000) << r.out;
  EXPECT_EQ(Field(r.out, "allocated_bytes"), 1000000) << r.out;
  // Usable sizes: glibc gives 104 bytes for a 100-byte request.
  long inuse = Field(r.out, "inuse_bytes");
  EXPECT_GE(inuse, 6000 * 100) << r.out;
  EXPECT_LE(inuse, 6000 * 128) << r.out;
  // The in-process allocator share (ProcessSource, from the sampler's
  // allocator clock): set after a loop that does little but allocate, and
  // most of its CPU (docs/profiler.md, "Allocator time"; the clock reads
  // such a loop at 0.5-1.0).
  std::smatch share;
  ASSERT_TRUE(std::regex_search(
      r.out, share, std::regex("allocator_cpu_fraction=([0-9.]+)\n")))
      << r.out;
  const double fraction = std::stod(share[1]);
  EXPECT_GT(fraction, 0.2) << r.out;
  EXPECT_LE(fraction, 1.0) << r.out;
  RunResult native = Shell(MEMMON_COUNTERS_PROBE);
  ASSERT_EQ(native.status, 0) << native.out;
  EXPECT_NE(native.out.find(
                "allocations=unknown frees=unknown allocated_bytes=unknown"),
            std::string::npos)
      << native.out;
  EXPECT_NE(native.out.find("allocator_cpu_fraction=unknown"),
            std::string::npos)
      << native.out;
}

// MonitorConfig::enable_stack_traces: the growth alert names the leaking
// function first, in its message and its JSON line, at the default rate;
// without the sampler it names nothing (and still alerts).
TEST(PreloadTest, GrowthAlertNamesTheLeakingSite) {
  TempDir dir;
  RunResult r = RunPreloaded(dir.path(), "", MEMMON_STACK_TRACES_TARGET);
  ASSERT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m, std::regex(R"re("top_sites":\[\{"function":"([^"]*)")re")))
      << r.out;
  EXPECT_NE(m[1].str().find("LeakTwoMiB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Largest live allocation sites: "), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("stack_traces_target.cc:"), std::string::npos)
      << r.out;  // file:line from debug info

  RunResult native = Shell(MEMMON_STACK_TRACES_TARGET);
  ASSERT_EQ(native.status, 0) << native.out;
  EXPECT_EQ(native.out.find("top_sites"), std::string::npos) << native.out;
}

// The same counts whichever path the hooks take: glibc's fast paths, the
// slow paths every allocation takes over jemalloc and tcmalloc, and the
// sampling path (every allocation at rate 1).
TEST(PreloadTest, CountersExactOverEveryAllocatorAndRate) {
  for (std::string lib : {"", MEMMON_JEMALLOC_SO, MEMMON_TCMALLOC_SO}) {
    for (std::string rate :
         {"", "MEMMON_SAMPLE_RATE=1", "MEMMON_SAMPLE_RATE=4096"}) {
      std::string preload = MEMMON_PRELOAD_PATH;
      if (!lib.empty()) preload += ":" + lib;
      RunResult r = Shell("env LD_PRELOAD=" + preload + " MEMMON_SEED=1 " +
                          rate + " " + MEMMON_COUNTERS_PROBE);
      const std::string what = lib + " " + rate + "\n" + r.out;
      ASSERT_EQ(r.status, 0) << what;
      EXPECT_EQ(Field(r.out, "allocations"), 10000) << what;
      EXPECT_EQ(Field(r.out, "frees"), 4000) << what;
      EXPECT_EQ(Field(r.out, "allocated_bytes"), 1000000) << what;
      long inuse = Field(r.out, "inuse_bytes");  // 104 to 112 bytes each
      EXPECT_GE(inuse, 6000 * 100) << what;
      EXPECT_LE(inuse, 6000 * 128) << what;
    }
  }
}

std::string Reason(const Profile& p) {
  for (const std::string& c : p.comments) {
    auto at = c.find("reason: ");
    if (at != std::string::npos) return c.substr(at + 8);
  }
  return "";
}

// Numbered snapshots: at the monitor's baseline and growth alert, and on
// MEMMON_SIGNAL; then the Profiler API writes heap and thread profiles.
TEST(PreloadTest, SnapshotsOnBaselineAlertSignalAndApi) {
  TempDir dir, api;
  RunResult r =
      RunPreloaded(dir.path(), "MEMMON_SIGNAL=SIGUSR2 MEMMON_SAMPLE_RATE=65536",
                   std::string(MEMMON_SNAPSHOT_TARGET) + " " + dir.path() +
                       " " + api.path());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Field(r.out, "alerts"), 1) << r.out;
  EXPECT_EQ(Field(r.out, "signal_snapshot"), 1) << r.out;
  EXPECT_NE(r.out.find("api=ok"), std::string::npos) << r.out;
  Profile baseline = ReadProfile(dir.path() + "/heap.0001.pb.gz");
  Profile alert = ReadProfile(dir.path() + "/heap.0002.pb.gz");
  Profile signal = ReadProfile(dir.path() + "/heap.0003.pb.gz");
  EXPECT_EQ(Reason(baseline), "baseline");
  EXPECT_EQ(Reason(alert), "memory_growth");
  EXPECT_EQ(Reason(signal), "signal");
  // The pair shows what grew in between.
  EXPECT_EQ(LeafTotal(baseline, "inuse_space", "LeakSteadily"), 0);
  EXPECT_GT(LeafTotal(alert, "inuse_space", "LeakSteadily"), 4 << 20);
  Profile api_heap = ReadProfile(api.path() + "/api-heap.pb.gz");
  EXPECT_GT(LeafTotal(api_heap, "inuse_space", "LeakSteadily"), 4 << 20);
  Profile threads = ReadProfile(api.path() + "/api-threads.pb.gz");
  EXPECT_GE(threads.samples.size(), 2u);  // main and memmon-writer
  // The original's WriteAllProfiles("objectfs-<timestamp>"): readable names.
  EXPECT_NE(r.out.find("named=ok"), std::string::npos) << r.out;
  Profile named =
      ReadProfile(api.path() + "/objectfs-20261204T120000-heap.pb.gz");
  EXPECT_GT(LeafTotal(named, "inuse_space", "LeakSteadily"), 4 << 20);
  EXPECT_TRUE(
      fs::exists(api.path() + "/objectfs-20261204T120000-threads.pb.gz"));
  // The peak through the Profiler API: the leak is all of it.
  Profile peak = ReadProfile(api.path() + "/api-peak.pb.gz");
  EXPECT_GT(LeafTotal(peak, "inuse_space", "LeakSteadily"), 4 << 20);
  // ...and the lock profiles, with Go's sample types.
  for (const char* kind : {"mutex", "block"}) {
    Profile p = ReadProfile(api.path() + "/api-" + kind + ".pb.gz");
    ASSERT_EQ(p.sample_types.size(), 2u) << kind;
    EXPECT_EQ(p.sample_types[0].type, "contentions") << kind;
    EXPECT_EQ(p.sample_types[1].type, "delay") << kind;
  }
  // ...and the anonymous mappings (WriteAllProfiles includes them).
  Profile mmap = ReadProfile(api.path() + "/api-mmap.pb.gz");
  ASSERT_EQ(mmap.sample_types.size(), 2u);
  EXPECT_EQ(mmap.sample_types[0].type, "mappings");
  EXPECT_EQ(mmap.sample_types[1].type, "mapped_space");
}

// MEMMON_SNAPSHOT_KEEP: each period writes a set (the heap and every other
// profile that is on, under one number: heap, peak, mutex, block and mmap
// at the defaults; no thread profile -- docs/profiler.md says why); beyond
// 3 sets the oldest goes.
TEST(PreloadTest, PeriodicSetsKeepTheNewest) {
  TempDir dir;
  RunResult r = RunPreloaded(
      dir.path(), "MEMMON_SNAPSHOT_INTERVAL=0.002 MEMMON_SNAPSHOT_KEEP=3",
      std::string(MEMMON_THREADED_TARGET) + " 60 100");
  ASSERT_EQ(r.status, 0) << r.out;
  std::map<std::string, std::set<std::string>> kinds_by_number;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    std::string name = e.path().filename().string();
    std::size_t dot = name.find('.');
    std::string rest = name.substr(dot + 1);
    if (rest == "pb.gz") continue;  // the exit profiles
    kinds_by_number[rest.substr(0, rest.find('.'))].insert(name.substr(0, dot));
  }
  // More than three sets were written (the run spans many periods), so
  // the first ones were deleted and exactly three are left, each complete:
  // the exit waits for a set the writer thread is in (before it did not,
  // and about 1 run in 20 at this 2 ms period left a fourth, partial set).
  ASSERT_EQ(kinds_by_number.size(), 3u);
  EXPECT_GT(std::stoi(kinds_by_number.rbegin()->first), 3);
  const std::set<std::string> all = {"heap", "peak", "mutex", "block", "mmap"};
  for (const auto& [number, kinds] : kinds_by_number) {
    EXPECT_EQ(kinds, all) << number;
  }
}

// The library's periodic profiles (Profiler::StartPeriodicProfiles, the
// original's hourly WriteAllProfiles) under the sampler: every set has all
// six profiles -- heap, peak, mutex, block, mmap and threads -- under one
// name svc-<UTC time to the millisecond>Z-KIND.pb.gz, and of the six or
// more sets written the newest three are kept.
TEST(PreloadTest, PeriodicProfilesOfEveryTypeKeepTheNewest) {
  TempDir dir;
  RunResult r = RunPreloaded(
      "", "MEMMON_SAMPLE_RATE=4096",
      std::string(MEMMON_PERIODIC_PROFILES_TARGET) + " " + dir.path());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_GE(Field(r.out, "sets"), 6) << r.out;
  EXPECT_EQ(Field(r.out, "failures"), 0) << r.out;
  const std::regex name(
      R"re(svc-(\d{8}T\d{6}\.\d{3}Z)-(heap|peak|mutex|block|mmap|threads)\.pb\.gz)re");
  std::map<std::string, std::set<std::string>> kinds_by_set;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    const std::string file = e.path().filename().string();
    std::smatch m;
    ASSERT_TRUE(std::regex_match(file, m, name)) << file;
    kinds_by_set[m[1]].insert(m[2]);
    // Every file is a profile memmon's reader reads.
    ReadProfile(e.path().string());
  }
  ASSERT_EQ(kinds_by_set.size(), 3u);
  const std::set<std::string> all = {"heap",  "peak", "mutex",
                                     "block", "mmap", "threads"};
  for (const auto& [set, kinds] : kinds_by_set) EXPECT_EQ(kinds, all) << set;
  // The newest set's heap holds what the program kept.
  Profile heap = ReadProfile(dir.path() + "/svc-" +
                             kinds_by_set.rbegin()->first + "-heap.pb.gz");
  EXPECT_GT(LeafTotal(heap, "inuse_space", "KeepSome"), 0);
}

// MEMMON_SNAPSHOT_INTERVAL: numbered snapshots while the program runs (it
// runs for hundreds of intervals; at least one must be written).
TEST(PreloadTest, PeriodicSnapshots) {
  TempDir dir;
  RunResult r = RunPreloaded(dir.path(), "MEMMON_SNAPSHOT_INTERVAL=0.002",
                             std::string(MEMMON_THREADED_TARGET) + " 10 100");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(fs::exists(dir.path() + "/heap.0001.pb.gz"));
  EXPECT_EQ(Reason(ReadProfile(dir.path() + "/heap.0001.pb.gz")), "periodic");
  EXPECT_EQ(Reason(ReadProfile(dir.path() + "/heap.pb.gz")), "exit");
  for (const auto& e : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
  }
}

// An output directory that cannot be created: one line on stderr, the
// program runs on unharmed.
TEST(PreloadTest, UnwritableOutputDirectory) {
  RunResult r = Shell(std::string("env LD_PRELOAD=") + MEMMON_PRELOAD_PATH +
                      " MEMMON_OUTPUT=/proc/memmon-cannot-exist " +
                      MEMMON_LEAK_TARGET + " new 100 100");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("memmon: MEMMON_OUTPUT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("leaked_bytes=10000"), std::string::npos) << r.out;
}

}  // namespace
