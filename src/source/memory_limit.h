// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The memory limits that apply to a process, each with the usage the
// kernel compares against it, and the one closest to being hit.
//
// Found, for a pid:
//   - its memory cgroup and every ancestor: cgroup v2 `memory.max` and
//     `memory.high` against `memory.current`; cgroup v1 (where the memory
//     controller is mounted there) `memory.limit_in_bytes` against
//     `memory.usage_in_bytes`. A cgroup counts all its processes' anonymous
//     memory, their page cache (file pages read or written) and kernel memory
//     charged to it -- more than the process's RSS. OOM kills: v2
//     `memory.events` oom_kill, v1 `memory.oom_control` oom_kill.
//   - RLIMIT_AS against VmSize and RLIMIT_DATA against VmData
//     (/proc/<pid>/limits, /proc/<pid>/status): allocations fail, nothing is
//     killed.
//   - the machine: its RSS plus MemAvailable (/proc/meminfo), against RSS --
//     how far it can grow before the machine has no memory left.
// The binding limit is the one with the least headroom (limit - usage)
// among those that kill or make allocations fail: memory.high only
// throttles, so it is reported (memmon run's and watch's start line,
// run.json) but never binding.
//
// The parsers are free functions over text (tests feed them fixtures);
// ReadMemoryLimits does the file reading. Thread-safety: pure functions.
// Allocation: yes (strings, vectors); never called inside malloc.
#ifndef MEMMON_SRC_SOURCE_MEMORY_LIMIT_H_
#define MEMMON_SRC_SOURCE_MEMORY_LIMIT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon::internal {

// The public MemoryLimitKind (memmon/sample.h), under its old name.
using LimitKind = MemoryLimitKind;

struct MemoryLimit {
  LimitKind kind = LimitKind::kMachine;
  uint64_t limit_bytes = 0;
  uint64_t usage_bytes = 0;  // as the kernel counts it for this limit
  // Where it was read (a file, or the rlimit's name).
  std::string source;
  // Where usage was read: a cgroup file; "VmSize" or "VmData" (of
  // /proc/<pid>/status); "MemAvailable" (the machine).
  std::string usage_source;
  // How usage is counted, in words (for reports).
  std::string counts;
  // OOM kills in this cgroup so far (cgroup limits, when readable).
  std::optional<uint64_t> oom_kills;
  // True for the limits whose crossing kills (v2 max, v1, the machine).
  bool kills = false;

  uint64_t headroom() const {
    return limit_bytes > usage_bytes ? limit_bytes - usage_bytes : 0;
  }
};

struct MemoryLimits {
  std::vector<MemoryLimit> limits;
  // The OOM kills counted by the process's own (deepest) memory cgroup,
  // limited or not, and the file they were read from (v2 memory.events,
  // v1 memory.oom_control); empty when it has none.
  std::optional<uint64_t> oom_kills;
  std::string oom_events_path;
  // Index in `limits` of the binding one (see the file comment); -1 when
  // none.
  int binding = -1;
  const MemoryLimit* Binding() const {
    return binding < 0 ? nullptr : &limits[static_cast<std::size_t>(binding)];
  }
};

// One line for a person: the kind, the limit and where it was read, the
// usage and how the kernel counts it ("cgroup_v1 limit 256.0 MiB
// (/sys/fs/cgroup/memory/svc/memory.limit_in_bytes), usage 12.0 MiB
// (.../memory.usage_in_bytes: the cgroup's anonymous memory, page cache and
// kernel memory, all its processes)").
std::string DescribeLimit(const MemoryLimit& limit);

// --- parsers ---------------------------------------------------------------

// /proc/<pid>/cgroup: the v2 path ("0::/a/b") and the v1 memory controller's
// path ("4:memory:/a/b"), each empty when absent.
struct CgroupPaths {
  std::string v2;
  std::string v1_memory;
};
CgroupPaths ParseProcCgroup(std::string_view text);

// /proc/<pid>/mountinfo: where cgroup2 is mounted, and where the v1 memory
// controller is (mount point and the cgroup path at its root).
struct CgroupMounts {
  std::string v2_mount;
  std::string v1_memory_mount;
  std::string v1_memory_root;
};
CgroupMounts ParseCgroupMounts(std::string_view mountinfo);

// A cgroup limit file's value: a number, or "max" (v2) / a value at or above
// 2^62 (v1's "unlimited", 9223372036854771712) as nullopt.
std::optional<uint64_t> ParseLimitValue(std::string_view text);

// "oom_kill N" in memory.events (v2) or memory.oom_control (v1).
std::optional<uint64_t> ParseOomKills(std::string_view text);

// The soft limit of "Max address space" / "Max data size" in
// /proc/<pid>/limits; nullopt when "unlimited" or absent.
std::optional<uint64_t> ParseRlimit(std::string_view limits_text,
                                    std::string_view name);

// --- reading ---------------------------------------------------------------

// Every limit that applies to `pid` (0: this process). `rss_bytes` is the
// process's RSS (the machine limit's usage). NotFound when the process does
// not exist.
Status ReadMemoryLimits(pid_t pid, uint64_t rss_bytes, MemoryLimits* out);

// Under `root` instead of "/" (tests point it at a fixture tree):
// root/proc/<pid>/..., root/sys/fs/cgroup/... as mountinfo names them.
Status ReadMemoryLimitsUnder(const std::string& root, pid_t pid,
                             uint64_t rss_bytes, MemoryLimits* out);

// The binding limit of one process, sample after sample, without
// allocating: Open() finds the limits (allocates; 23 us of CPU on a cgroup
// v1 fixture); Read() rereads their values and usage from the files found
// then, through descriptors kept open since Open (pread at offset 0;
// OomKills() 0.2 us: docs/benchmarks.md, "Memory limit reader"). Rereading
// /proc/meminfo was most of it (1.8 us of this process's 1.8 us); kept
// for up to kMeminfoMaxAge (below), a Read is 0.02 us here and 0.36 us on
// the cgroup v1 fixture (was 0.61).
// A cgroup the process moves to later is seen at the next Open(); a limit
// raised or lowered in place is seen at once. Reading by file, not by the
// process's current cgroup, also keeps an exiting process (which the
// kernel moves to the root cgroup) from reading as unlimited.
//
// The machine's MemAvailable changes slowly and /proc/meminfo is the
// dearest file here (the kernel formats every line of it): Read() rereads
// it at most once per kMeminfoMaxAge of the `now` it is given and uses the
// value read then in between, so the machine limit's headroom can be up to
// that old (its usage, the RSS passed in, is always current). The cgroup
// and rlimit files are reread every call.
//
// Thread-safety: none; one thread (the sampling thread) calls Read() and
// OomKills() (they reopen descriptors and Read() keeps the MemAvailable
// it read), and Open() must not race with them.
class LimitReader {
 public:
  // A file kept open from Open and reread with pread at offset 0 (a third
  // of the cost of opening it each sample, as ProcReader does); reopened by
  // path when the descriptor fails. Move-only.
  class KeptFile {
   public:
    KeptFile() = default;
    explicit KeptFile(std::string path);
    KeptFile(KeptFile&& other) noexcept;
    KeptFile& operator=(KeptFile&& other) noexcept;
    ~KeptFile();
    bool empty() const { return path_.empty(); }
    // Into `buf`, NUL-terminated, without allocating: the length, or -1.
    // Const, but it may reopen the descriptor (mutable fd_): not
    // thread-safe; only the sampling thread calls it.
    long Read(char* buf, std::size_t size) const;

   private:
    std::string path_;
    mutable int fd_ = -1;
  };
  Status Open(pid_t pid, const std::string& root = "");
  // The binding limit and the usage it counts; false when none could be
  // read. `rss_bytes` is the process's RSS now (the machine limit's usage).
  // `kind`, when given, is set to the binding limit's kind.
  // `now` decides whether /proc/meminfo is reread (see above).
  bool Read(uint64_t rss_bytes, uint64_t* limit, uint64_t* usage,
            LimitKind* kind = nullptr,
            std::chrono::steady_clock::time_point now =
                std::chrono::steady_clock::now());
  // How long a MemAvailable read from /proc/meminfo is used.
  static constexpr std::chrono::seconds kMeminfoMaxAge{1};
  // The OOM kills the process's memory cgroup (as found at Open) counts
  // now; nullopt without one. Reads by file: still works once the process
  // is gone, as long as its cgroup is.
  std::optional<uint64_t> OomKills() const;
  // What Open found: every limit, the binding one, the OOM kill count.
  const MemoryLimits& found() const { return found_; }

 private:
  struct Entry {
    LimitKind kind;
    KeptFile limit_file;     // empty: rlimit (limit_bytes fixed at Open)
    KeptFile usage_file;     // a cgroup file; empty: status or meminfo
    const char* status_key;  // "VmSize" / "VmData" for rlimits
    uint64_t limit_bytes;
  };
  std::vector<Entry> entries_;
  MemoryLimits found_;
  KeptFile events_file_;  // root-prefixed oom_events_path; empty: none
  KeptFile status_file_;
  KeptFile meminfo_file_;
  // The last MemAvailable read (nullopt: unreadable) and when.
  std::optional<uint64_t> available_;
  std::optional<std::chrono::steady_clock::time_point> available_at_;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_SOURCE_MEMORY_LIMIT_H_
