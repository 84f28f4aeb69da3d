// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A Sample is one reading of a process's memory, threads and descriptors.
//
// Every measured quantity is a std::optional: a value memmon could not read
// (no allocator statistics, a field missing from /proc, PSS not requested) is
// std::nullopt, never 0, so a detector can tell "unknown" from "none".
//
// A Sample is a plain value with no heap-owning members: copying it never
// allocates, which keeps the monitor's per-tick path allocation-free.
#ifndef MEMMON_SAMPLE_H_
#define MEMMON_SAMPLE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace memmon {

// Which allocator's statistics filled the heap fields of a sample.
enum class AllocatorKind {
  kUnknown = 0,  // none detected (or statistics disabled): heap fields unknown
  kGlibc,        // glibc ptmalloc, read through mallinfo2()
  kJemalloc,  // jemalloc, read through mallctl("stats.*") after an epoch bump
  kTcmalloc,  // gperftools tcmalloc, read through numeric properties
};

// "unknown", "glibc", "jemalloc" or "tcmalloc".
std::string_view ToString(AllocatorKind kind);

// Which memory limit is the binding one (docs/limits.md).
enum class MemoryLimitKind {
  kUnknown = 0,   // none read
  kCgroupV2Max,   // cgroup v2 memory.max: reclaim, then the OOM killer
  kCgroupV2High,  // cgroup v2 memory.high: throttling, no kill (never binding)
  kCgroupV1,      // cgroup v1 memory.limit_in_bytes: the OOM killer
  kRlimitAs,      // RLIMIT_AS: mmap/brk fail
  kRlimitData,    // RLIMIT_DATA: mmap/brk of data fail
  kMachine,       // the machine runs out: the global OOM killer
};

// "unknown", "cgroup_v2_max", "cgroup_v2_high", "cgroup_v1", "rlimit_as",
// "rlimit_data", "machine".
std::string_view ToString(MemoryLimitKind kind);
// How the kernel counts usage against a limit of this kind, in words: for
// a cgroup, "the cgroup's anonymous memory, page cache and kernel memory,
// all its processes".
std::string_view UsageCounted(MemoryLimitKind kind);

struct Sample {
  // Wall-clock time, for display and logs.
  std::chrono::system_clock::time_point time{};
  // Monotonic time, for rates and windows (immune to clock steps).
  std::chrono::steady_clock::time_point monotonic{};

  // --- allocator (AllocatorKind says which) ---
  std::optional<uint64_t> heap_inuse_bytes;  // bytes handed out to the program
  std::optional<uint64_t> heap_free_bytes;   // free but held by the allocator
  std::optional<uint64_t>
      heap_system_bytes;  // bytes the allocator holds from the OS
  std::optional<uint64_t> total_allocated_bytes;  // cumulative, when known
  std::optional<uint64_t> allocations;  // cumulative calls, when known
  std::optional<uint64_t> frees;        // cumulative calls, when known
  // Share of CPU time spent inside the allocator over the last interval
  // (0..1), when something measures it.
  std::optional<double> allocator_cpu_fraction;
  AllocatorKind allocator = AllocatorKind::kUnknown;
  // The allocator is known but its statistics were not read for this
  // sample: the cost budget skipped the read (glibc's walks every free
  // chunk; src/source/cost_budget.h). heap_free_bytes and
  // heap_system_bytes are unknown for this sample only ("skipped", not
  // "unknown", in JSON).
  bool allocator_skipped = false;

  // --- the memory limit that applies (the binding one: least headroom
  // among cgroup memory.max / v1 limit, RLIMIT_AS/DATA and the machine's
  // available memory; src/source/memory_limit.h) ---
  std::optional<uint64_t> memory_limit_bytes;
  // The usage that limit is compared with, as the kernel counts it (for a
  // cgroup: all its processes' anonymous memory, page cache and kernel
  // memory -- more than this process's RSS).
  std::optional<uint64_t> memory_limit_usage_bytes;
  // Which limit that is (kUnknown when none was read).
  MemoryLimitKind memory_limit_kind = MemoryLimitKind::kUnknown;
  // OOM kills the process's memory cgroup has counted so far (v2
  // memory.events oom_kill, v1 memory.oom_control oom_kill: kills of its
  // processes by any OOM killer), when it has one.
  std::optional<uint64_t> memory_limit_oom_kills;

  // --- process (procfs) ---
  std::optional<uint64_t> rss_bytes;      // resident set size
  std::optional<uint64_t> virtual_bytes;  // virtual address space size
  std::optional<uint64_t> pss_bytes;  // proportional set size (costly; opt-in)
  std::optional<uint64_t> threads;
  std::optional<uint64_t> open_fds;
  std::optional<uint64_t> minor_faults;  // cumulative
  std::optional<uint64_t> major_faults;  // cumulative
  // Process CPU time (user + system), cumulative seconds.
  std::optional<double> cpu_seconds;

  // --- where the resident memory is (include/memmon/explain.h has the full
  // breakdown; docs/explain.md how each part is found). Read from
  // /proc/<pid>/smaps under a cost budget (src/source/rss_breakdown.h): all
  // unknown for a sample the budget skipped. When read, heap + stacks +
  // code + file + anon_other + unexplained = max(rss_bytes, the smaps sum).
  // Resident heap: [heap], glibc's arena heaps and the mmapped blocks the
  // allocator says it holds (in use + free-held).
  std::optional<uint64_t> rss_heap_bytes;
  // The resident heap split into the bytes handed out and what the
  // allocator holds free (with its metadata): known only with heap figures
  // (the heap sampler's counters or the allocator's statistics).
  std::optional<uint64_t> rss_heap_inuse_bytes;
  std::optional<uint64_t> rss_allocator_free_bytes;
  std::optional<uint64_t> rss_stacks_bytes;  // thread stacks, [stack]
  // The binary's and the libraries' mappings (code, read-only data, their
  // data segments), and [vdso].
  std::optional<uint64_t> rss_code_bytes;
  std::optional<uint64_t> rss_file_bytes;         // other file mappings, shmem
  std::optional<uint64_t> rss_anon_other_bytes;   // other anonymous memory
  std::optional<uint64_t> rss_unexplained_bytes;  // rss_bytes beyond smaps
};

}  // namespace memmon

#endif  // MEMMON_SAMPLE_H_
