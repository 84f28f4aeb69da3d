// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Reading a process's counters from /proc without allocating.
//
// ProcReader keeps /proc/<pid>/stat and the /proc/<pid>/fd directory open
// and rereads them with pread/fstat, which costs a third of opening them each
// time (measured in src/monitor/sample_benchmark.cc). The parsers are free
// functions over text so tests feed them fixtures.
//
// Thread-safety: Read() may run concurrently with itself (pread and fstat
// keep no file offset). Open() must not race with Read().
//
// Fork: the descriptors opened for "self" keep pointing at the process that
// opened them; a child must open its own reader.
#ifndef MEMMON_SRC_SOURCE_PROCFS_H_
#define MEMMON_SRC_SOURCE_PROCFS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon::internal {

// The fields of /proc/<pid>/stat that memmon uses (proc(5) numbering).
struct ProcStat {
  char state = '?';           // (3)
  uint64_t minor_faults = 0;  // (10) minflt
  uint64_t major_faults = 0;  // (12) majflt
  uint64_t utime_ticks = 0;   // (14)
  uint64_t stime_ticks = 0;   // (15)
  uint64_t num_threads = 0;   // (20)
  uint64_t vsize_bytes = 0;   // (23)
  uint64_t rss_pages = 0;     // (24)
};

// Parses one /proc/<pid>/stat line. The command name (field 2) may hold
// spaces and parentheses; parsing starts after its last ')'. False when the
// text is truncated or a field is not a number.
bool ParseProcStat(std::string_view text, ProcStat* out);

// The value of a "Key:   123 kB" line of /proc/<pid>/status or
// smaps_rollup, in bytes ("kB" multiplied out; a bare number returned as is).
std::optional<uint64_t> ParseKeyedValue(std::string_view text,
                                        std::string_view key);

// Counts the entries of a directory buffer filled by getdents64, skipping
// "." and "..".
uint64_t CountDirents(const char* buf, long len);

class ProcReader {
 public:
  // pid 0 means this process ("/proc/self").
  explicit ProcReader(pid_t pid = 0);
  ~ProcReader();
  ProcReader(const ProcReader&) = delete;
  ProcReader& operator=(const ProcReader&) = delete;

  // NotFound when the process does not exist, IoError when /proc refuses.
  Status Open();
  bool is_open() const { return stat_fd_ >= 0; }

  // Fills rss, virtual size, threads, faults, CPU time and open descriptors
  // of `sample`; PSS too when `with_pss` (reads smaps_rollup, costly).
  // Fields it cannot read stay unknown. False when the process is gone
  // (exited, including a zombie not yet reaped).
  bool Read(Sample* sample, bool with_pss) const;

 private:
  std::optional<uint64_t> CountOpenFds() const;

  std::string dir_;  // "/proc/self" or "/proc/<pid>"
  int stat_fd_ = -1;
  int fd_dir_fd_ = -1;
  // Linux >= 6.2 reports the number of open descriptors as the st_size of
  // /proc/<pid>/fd (O(1)); older kernels report 0 and we list the directory.
  bool fd_count_by_stat_ = false;
  long page_size_ = 4096;
  long clock_ticks_ = 100;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_SOURCE_PROCFS_H_
