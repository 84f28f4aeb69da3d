// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Where a process's resident memory is: one breakdown of its RSS (and PSS)
// into the heap in use, what the allocator holds free, thread stacks, the
// binary's and the libraries' mappings, other file mappings, other
// anonymous memory and what nothing explains -- each part with how it was
// found and how far off it may be (docs/explain.md).
//
// The breakdown reads /proc/<pid>/smaps (every mapping: milliseconds for a
// process with thousands of mappings), the threads' stack pointers and,
// for this process, the heap sampler's exact counters and the allocator's
// statistics. For another process the heap's figures are unknown (they are
// not in /proc): its heap mappings are reported as one part, not split.
// Samples carry the parts' totals (Sample::rss_*_bytes), read more cheaply
// under a cost budget.
//
// Thread-safety: ExplainMemory may be called from any thread. It allocates.
#ifndef MEMMON_EXPLAIN_H_
#define MEMMON_EXPLAIN_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon {

// The parts, in the order a breakdown lists them. kHeap is the resident
// heap when it cannot be split (no heap figures); otherwise kHeapInUse and
// kAllocatorFree split it and kHeap is their sum. The parts other than
// kHeap add up to the process's RSS.
enum class MemoryPart {
  kHeap = 0,       // resident heap: in use + free-held
  kHeapInUse,      // bytes handed out by malloc and not freed
  kAllocatorFree,  // resident heap pages not handed out, and metadata
  kStacks,         // thread stacks and the main [stack]
  kCode,           // the binary's and libraries' mappings, [vdso]
  kFile,           // other file mappings (data files, shared memory)
  kAnonOther,      // other anonymous mappings
  kUnexplained,    // the RSS the kernel counts beyond the mappings read
};
inline constexpr int kMemoryPartCount = 8;

// "heap", "heap_inuse", "allocator_free", "stacks", "code", "file",
// "anon_other", "unexplained" (the JSON keys and the metrics' labels).
std::string_view ToString(MemoryPart part);

struct MemoryPartFigure {
  MemoryPart part = MemoryPart::kHeap;
  // Unknown when the part could not be measured (kHeapInUse and
  // kAllocatorFree without heap figures).
  std::optional<uint64_t> rss_bytes;
  std::optional<uint64_t> pss_bytes;
  std::string method;       // how the figure was obtained
  std::string uncertainty;  // how far off it may be, and why
  // A bound on the error, when one can be stated (the figure may be off by
  // up to this many bytes either way).
  std::optional<uint64_t> uncertainty_bytes;
};

// One mapped file that holds code: the binary, a library, [vdso].
struct MappedObjectMemory {
  std::string path;
  uint64_t rss_bytes = 0;  // all of its mappings
  uint64_t pss_bytes = 0;
  uint64_t text_rss_bytes = 0;  // executable mappings: code
  uint64_t data_rss_bytes = 0;  // writable mappings: .data, .got, relro
  // The rest (rss - text - data) is read-only data: .rodata, headers.
};

// One anonymous mapping of kAnonOther.
struct AnonMappingMemory {
  // The kernel's name ("[anon:NAME]", set with PR_SET_VMA_ANON_NAME) or,
  // for an unnamed mapping, its address range "0x7f..-0x7f..".
  std::string name;
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t rss_bytes = 0;
  uint64_t pss_bytes = 0;
  // Where the heap sampler saw it mapped, when it did (a private
  // anonymous mmap of MEMMON_MMAP_MIN bytes or more through the PLT,
  // docs/profiler.md): "function (file:line)" of the call to mmap; empty
  // when unknown.
  std::string site;
};

struct MemoryBreakdown {
  int pid = 0;
  std::chrono::system_clock::time_point time{};
  uint64_t mappings = 0;
  uint64_t rss_bytes = 0;  // the sum of the mappings' Rss (smaps)
  uint64_t pss_bytes = 0;
  // The RSS /proc/<pid>/status counts, read after smaps.
  std::optional<uint64_t> kernel_rss_bytes;

  // The heap figures the split used: "sampler" (the heap sampler's exact
  // counters), "allocator" (the allocator's statistics), "status page"
  // (the sampler's counters as `memmon run` sees them) or "none".
  std::string heap_figures;
  AllocatorKind allocator = AllocatorKind::kUnknown;
  std::optional<uint64_t> heap_inuse_bytes;   // as counted: chunk sizes
  std::optional<uint64_t> heap_free_bytes;    // as the allocator counts
  std::optional<uint64_t> heap_system_bytes;  // held from the OS

  uint64_t threads = 0;
  // Threads whose stack pointer was read (/proc/<pid>/task/TID/syscall)
  // and found in a mapping.
  uint64_t threads_located = 0;

  // One per MemoryPart, in its order.
  std::vector<MemoryPartFigure> parts;
  // The kCode objects, largest RSS first.
  std::vector<MappedObjectMemory> objects;
  // The largest kAnonOther mappings, largest RSS first.
  std::vector<AnonMappingMemory> largest_anonymous;

  const MemoryPartFigure& part(MemoryPart p) const {
    return parts[static_cast<std::size_t>(p)];
  }
};

// The breakdown of process `pid` (0: this process) now. NotFound when there
// is no such process, IoError when /proc refuses (another user's process
// needs ptrace access to read smaps).
Status ExplainMemory(int pid, MemoryBreakdown* out);

// The breakdown as one JSON object (docs/cli.md, "memmon explain", shows
// its shape); unknown figures are null.
std::string ToJson(const MemoryBreakdown& breakdown);

}  // namespace memmon

#endif  // MEMMON_EXPLAIN_H_
