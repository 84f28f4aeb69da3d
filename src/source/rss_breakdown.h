// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The RSS breakdown's machinery (include/memmon/explain.h is the public
// side; docs/explain.md the method):
//
//   SmapsParser     /proc/<pid>/smaps text, line by line, into entries;
//   RssClassifier   each entry into a part: heap, stack, code (per object),
//                   file, other anonymous;
//   SplitHeap       the heap's resident bytes into in use / free-held from
//                   the heap figures (sampler or allocator), and the
//                   totals into the parts of a MemoryBreakdown or a Sample;
//   SmapsTotals     the per-sample reader: the same, streamed from the file
//                   through a fixed buffer.
//
// How a mapping is classified, first match wins:
//   [heap]                                       heap (brk)
//   [stack], or holds a thread's stack pointer   stack
//   [vdso] [vvar] [vsyscall] [uprobes]           code
//   file-backed, same file as an executable      code (of that object)
//     mapping next to it (the binary, a library)
//   other file-backed (data files, shmem)        file
//   [anon: glibc: pthread stack...]              stack (glibc's tunable
//   [anon: glibc: malloc...]                     heap glibc.mem.decorate_maps)
//   anonymous, rw, 64 MiB-aligned, followed by   heap (a glibc arena heap:
//     a PROT_NONE reservation up to 64 MiB,        HEAP_MAX_SIZE reserved,
//     or exactly 64 MiB when glibc is known        grown by mprotect)
//   anonymous, rw, right above an anonymous      stack (pthread's guard page
//     PROT_NONE mapping                            sits below its stack)
//   other anonymous                              other anonymous
// The heap's mmapped blocks (glibc's above its mmap threshold, jemalloc's
// and tcmalloc's extents) are unnamed anonymous mappings that cannot be
// told apart: SplitHeap moves from "other anonymous" to the heap the bytes
// the allocator says it holds beyond its heap mappings (its system bytes
// minus their size), at most the unnamed anonymous RSS. Without the
// allocator's system bytes (a sample whose statistics were skipped, a
// status page not yet read), it moves the bytes in use beyond the resident
// heap mappings instead, at most the unnamed anonymous RSS.
//
// Thread-safety: none per object; the functions are pure. SmapsParser,
// RssClassifier without a Detail, and SmapsTotals::Read do not allocate.
#ifndef MEMMON_SRC_SOURCE_RSS_BREAKDOWN_H_
#define MEMMON_SRC_SOURCE_RSS_BREAKDOWN_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memmon/explain.h"
#include "memmon/memmon_preload.h"
#include "memmon/sample.h"
#include "memmon/status.h"

namespace memmon::internal {

// glibc's HEAP_MAX_SIZE on 64-bit: each non-main arena heap reserves this
// much, aligned to it.
inline constexpr uint64_t kGlibcArenaHeapSize = 64ull << 20;

// One mapping of /proc/<pid>/smaps; sizes in bytes.
struct SmapsEntry {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;
  uint64_t device = 0;  // major << 32 | minor
  uint64_t inode = 0;
  bool readable = false;
  bool writable = false;
  bool executable = false;
  bool shared = false;
  std::string_view name;  // the pathname column; may be empty
  uint64_t rss = 0;
  uint64_t pss = 0;
  uint64_t anonymous = 0;
  uint64_t swap = 0;

  uint64_t size() const { return end - start; }
  bool file_backed() const { return inode != 0 || name.starts_with('/'); }
  // No file, no bracketed kernel name other than [anon:...].
  bool anonymous_mapping() const {
    return !file_backed() && (name.empty() || name.starts_with("[anon:") ||
                              name.starts_with("[anon_shmem:"));
  }
};

// Parses smaps text fed one line at a time. A line that is neither a
// mapping's header nor "Key: value" is ignored; a header that does not
// parse drops that mapping (counted in malformed()).
class SmapsParser {
 public:
  static constexpr std::size_t kMaxName = 512;  // longer names truncated

  // Feeds one line (no '\n'). True when it completed the entry before it,
  // which entry() then returns until the next call.
  bool Line(std::string_view line);
  // The end of the text: true when an entry was pending (now in entry()).
  bool Finish();
  const SmapsEntry& entry() const { return done_; }
  uint64_t malformed() const { return malformed_; }

 private:
  static bool ParseHeader(std::string_view line, SmapsEntry* e, char* name);
  void Complete();

  SmapsEntry cur_;
  SmapsEntry done_;
  bool have_cur_ = false;
  uint64_t malformed_ = 0;
  char cur_name_[kMaxName];
  char done_name_[kMaxName];
};

// Per-part sums of a process's mappings, before the heap is split.
struct RssTotals {
  uint64_t mappings = 0;
  uint64_t rss = 0, pss = 0;
  uint64_t heap_rss = 0, heap_pss = 0;
  uint64_t heap_mapping_bytes = 0;  // the heap mappings' virtual size
  uint64_t stack_rss = 0, stack_pss = 0;
  uint64_t stack_mappings = 0;
  uint64_t code_rss = 0, code_pss = 0;
  uint64_t file_rss = 0, file_pss = 0;
  uint64_t anon_rss = 0, anon_pss = 0;  // other anonymous, all of it
  uint64_t anon_unnamed_rss = 0, anon_unnamed_pss = 0;  // of which unnamed
};

class RssClassifier {
 public:
  // What the full breakdown keeps beyond the totals (allocates).
  struct Detail {
    std::vector<MappedObjectMemory> objects;   // one per run of mappings
    std::vector<AnonMappingMemory> anonymous;  // every other anonymous
  };

  // `stack_pointers`: the threads' stack pointers, any order (empty: by
  // layout only). `glibc`: glibc serves malloc (a fully grown, aligned
  // 64 MiB mapping is then an arena heap). `detail`: nullptr for totals
  // only (no allocation).
  RssClassifier(std::span<const uint64_t> stack_pointers, bool glibc,
                Detail* detail);

  void Add(const SmapsEntry& e);
  void Finish();
  const RssTotals& totals() const { return totals_; }
  // Stack pointers found inside a mapping.
  uint64_t located_stack_pointers() const { return located_; }

 private:
  enum class Kind { kHeap, kStack, kCode, kFile, kAnon };
  struct Neighbour {
    bool valid = false;
    bool anon_none = false;  // anonymous, no permissions (a guard/reserve)
    uint64_t start = 0, end = 0;
  };
  static Neighbour NeighbourOf(const SmapsEntry& e);
  void Classify(const SmapsEntry& e, const Neighbour& prev,
                const Neighbour& next);
  void Count(Kind kind, const SmapsEntry& e);
  void FlushObject();

  std::span<const uint64_t> stack_pointers_;
  bool glibc_;
  Detail* detail_;
  RssTotals totals_;
  uint64_t located_ = 0;

  // The entry waiting for its successor (arena heaps are recognised by the
  // reservation after them).
  SmapsEntry pending_;
  bool have_pending_ = false;
  char pending_name_[SmapsParser::kMaxName];
  Neighbour prev_;

  // The run of file-backed mappings of one file being gathered: code if
  // any of them is executable, file otherwise.
  struct ObjectRun {
    bool active = false;
    uint64_t device = 0, inode = 0;
    bool executable = false;
    uint64_t rss = 0, pss = 0, text_rss = 0, data_rss = 0;
    char name[SmapsParser::kMaxName];
    std::size_t name_len = 0;
  } run_;
};

// What is known of the heap: a Sample's allocator fields, or the status
// page's.
struct HeapFigures {
  AllocatorKind kind = AllocatorKind::kUnknown;
  std::optional<uint64_t> inuse;   // bytes handed out (chunk sizes)
  std::optional<uint64_t> free;    // free bytes the allocator holds
  std::optional<uint64_t> system;  // bytes it holds from the OS
};

// The parts' figures from the totals and the heap figures, without their
// descriptions (no allocation). Index: MemoryPart.
struct PartNumbers {
  std::optional<uint64_t> rss[kMemoryPartCount];
  std::optional<uint64_t> pss[kMemoryPartCount];
  // Unnamed anonymous RSS moved to the heap: its mmapped blocks.
  uint64_t claimed = 0;
  // The allocator's system bytes were unknown: `claimed` is the bytes in
  // use beyond the resident heap mappings instead (at most the unnamed
  // anonymous RSS), so in use is not lost to anon_other.
  bool claimed_from_inuse = false;
  // The heap in use exceeded the resident heap: split in proportion to in
  // use : free instead.
  bool proportional = false;
};
// `kernel_rss`: the RSS the kernel counts (stat or status), for the
// unexplained part.
PartNumbers ComputeParts(const RssTotals& totals, const HeapFigures& heap,
                         std::optional<uint64_t> kernel_rss);

// The parts with how each was found and its uncertainty. `located` /
// `threads`: stack pointers found / threads (threads 0: not read);
// `heap_source`: where the heap figures came from.
std::vector<MemoryPartFigure> DescribeParts(const PartNumbers& numbers,
                                            const RssTotals& totals,
                                            const HeapFigures& heap,
                                            std::string_view heap_source,
                                            uint64_t located, uint64_t threads);

// The Sample fields (rss_*_bytes) from the parts.
void FillSample(const PartNumbers& numbers, Sample* sample);

// Parses a whole smaps text into the totals (and the detail).
RssTotals ClassifySmaps(std::string_view text,
                        std::span<const uint64_t> stack_pointers, bool glibc,
                        RssClassifier::Detail* detail,
                        uint64_t* located = nullptr);

// The stack pointer in a /proc/<pid>/task/<tid>/syscall line: the
// second-to-last field ("NR args... SP PC", or "-1 SP PC" outside a
// system call); nullopt for "running" or anything else.
std::optional<uint64_t> ParseSyscallStackPointer(std::string_view text);

// The full breakdown from smaps text and what else was read.
struct ExplainInputs {
  int pid = 0;
  std::string_view smaps;
  std::vector<uint64_t> stack_pointers;
  uint64_t threads = 0;
  HeapFigures heap;
  std::string heap_figures = "none";
  std::optional<uint64_t> kernel_rss;
  std::size_t max_anonymous = 10;
};
MemoryBreakdown BuildBreakdown(const ExplainInputs& in);

// Reads process `pid` (0: this process) live: smaps, the threads' stack
// pointers, status. `heap`: the heap figures when the caller has them
// (`memmon run` from the status page), else nullptr (for this process:
// read from the sampler and the allocator; another: none).
Status ExplainProcess(int pid, const HeapFigures* heap,
                      std::string_view heap_source, MemoryBreakdown* out);

// A mapping the heap sampler recorded, with the site that mapped it:
// memmon_preload_mmap_sites's lines (include/memmon/memmon_preload.h), or
// the mmap profile's samples.
struct MappingSite {
  uint64_t start = 0;
  uint64_t length = 0;
  std::string site;  // "function (file:line)", or "function"
};
// memmon_preload_mmap_sites's text; lines that do not parse are skipped.
std::vector<MappingSite> ParseMmapSites(std::string_view text);
// Sets the site of each mapping of `anonymous` that holds a recorded
// mapping's start (the kernel merges adjacent anonymous mappings, so a
// recorded one may start inside it): the largest such recorded mapping's.
void NameAnonymousMappings(const std::vector<MappingSite>& sites,
                           std::vector<AnonMappingMemory>* anonymous);

// A breakdown read back from ToJson's text (memmon explain DIR).
Status ParseBreakdownJson(std::string_view text, MemoryBreakdown* out);

// The per-sample totals: /proc/<pid>/smaps streamed through a fixed
// buffer, classified by layout (no stack pointers), split with the
// sample's own heap figures. No allocation after construction.
class SmapsTotals {
 public:
  explicit SmapsTotals(pid_t pid);  // 0: this process
  // Fills sample->rss_*_bytes; false (fields untouched) when smaps cannot
  // be read.
  bool Read(Sample* sample) const;

 private:
  char path_[64];
};

HeapFigures HeapFiguresOf(const Sample& sample);

// The heap figures a `memmon run` child's sampler publishes on its status
// page: in use (its counters) and, once read, the allocator's free and
// system bytes and which allocator (glibc, jemalloc, tcmalloc).
HeapFigures HeapFiguresOfStatusPage(const memmon_status_page& page);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_SOURCE_RSS_BREAKDOWN_H_
