// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/rss_breakdown.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "memmon/memmon_preload.h"
#include "source/allocator_stats.h"
#include "source/procfs.h"

namespace memmon {

std::string_view ToString(MemoryPart part) {
  switch (part) {
    case MemoryPart::kHeap:
      return "heap";
    case MemoryPart::kHeapInUse:
      return "heap_inuse";
    case MemoryPart::kAllocatorFree:
      return "allocator_free";
    case MemoryPart::kStacks:
      return "stacks";
    case MemoryPart::kCode:
      return "code";
    case MemoryPart::kFile:
      return "file";
    case MemoryPart::kAnonOther:
      return "anon_other";
    case MemoryPart::kUnexplained:
      return "unexplained";
  }
  return "unknown";
}

namespace internal {
namespace {

constexpr std::size_t Index(MemoryPart p) {
  return static_cast<std::size_t>(p);
}

std::string_view NextToken(std::string_view* s) {
  std::size_t start = s->find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    *s = {};
    return {};
  }
  std::size_t end = s->find_first_of(" \t", start);
  std::string_view tok =
      s->substr(start, end == std::string_view::npos ? std::string_view::npos
                                                     : end - start);
  *s = end == std::string_view::npos ? std::string_view{} : s->substr(end);
  return tok;
}

bool Hex(std::string_view tok, uint64_t* out) {
  if (tok.empty()) return false;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *out, 16);
  return ec == std::errc() && p == tok.data() + tok.size();
}

bool Dec(std::string_view tok, uint64_t* out) {
  if (tok.empty()) return false;
  auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *out);
  return ec == std::errc() && p == tok.data() + tok.size();
}

// "Key:   123 kB" -> bytes; false for another shape.
bool KeyedKb(std::string_view line, std::string_view* key, uint64_t* bytes) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  *key = line.substr(0, colon);
  std::string_view rest = line.substr(colon + 1);
  std::string_view number = NextToken(&rest);
  std::string_view unit = NextToken(&rest);
  uint64_t v = 0;
  if (!Dec(number, &v) || unit != "kB") return false;
  *bytes = v * 1024;
  return true;
}

bool StartsWithAny(std::string_view s,
                   std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (s.starts_with(p)) return true;
  }
  return false;
}

uint64_t Share(uint64_t total, uint64_t part, uint64_t whole) {
  if (whole == 0) return 0;
  return static_cast<uint64_t>(static_cast<long double>(total) * part / whole);
}

}  // namespace

// ---- SmapsParser -----------------------------------------------------------

bool SmapsParser::ParseHeader(std::string_view line, SmapsEntry* e,
                              char* name) {
  std::string_view rest = line;
  std::string_view range = NextToken(&rest);
  std::size_t dash = range.find('-');
  if (dash == std::string_view::npos) return false;
  SmapsEntry out;
  if (!Hex(range.substr(0, dash), &out.start) ||
      !Hex(range.substr(dash + 1), &out.end) || out.end < out.start) {
    return false;
  }
  std::string_view perms = NextToken(&rest);
  if (perms.size() != 4) return false;
  out.readable = perms[0] == 'r';
  out.writable = perms[1] == 'w';
  out.executable = perms[2] == 'x';
  out.shared = perms[3] == 's';
  if (!Hex(NextToken(&rest), &out.offset)) return false;
  std::string_view dev = NextToken(&rest);
  std::size_t colon = dev.find(':');
  uint64_t major = 0, minor = 0;
  if (colon == std::string_view::npos || !Hex(dev.substr(0, colon), &major) ||
      !Hex(dev.substr(colon + 1), &minor)) {
    return false;
  }
  out.device = major << 32 | (minor & 0xffffffffu);
  if (!Dec(NextToken(&rest), &out.inode)) return false;
  std::size_t start = rest.find_first_not_of(" \t");
  std::string_view path =
      start == std::string_view::npos ? std::string_view{} : rest.substr(start);
  std::size_t n = std::min(path.size(), kMaxName);
  if (n > 0) std::memcpy(name, path.data(), n);  // data() may be null
  out.name = std::string_view(name, n);
  *e = out;
  return true;
}

void SmapsParser::Complete() {
  done_ = cur_;
  std::memcpy(done_name_, cur_name_, cur_.name.size());
  done_.name = std::string_view(done_name_, cur_.name.size());
  have_cur_ = false;
}

bool SmapsParser::Line(std::string_view line) {
  std::string_view key;
  uint64_t bytes = 0;
  if (KeyedKb(line, &key, &bytes)) {
    if (!have_cur_) return false;
    if (key == "Rss") {
      cur_.rss = bytes;
    } else if (key == "Pss") {
      cur_.pss = bytes;
    } else if (key == "Anonymous") {
      cur_.anonymous = bytes;
    } else if (key == "Swap") {
      cur_.swap = bytes;
    }
    return false;
  }
  // A header starts with "hex-hex"; other lines (VmFlags, THPeligible) are
  // not "N kB" and are skipped.
  std::size_t dash = line.find('-');
  std::size_t space = line.find(' ');
  if (dash == std::string_view::npos || space == std::string_view::npos ||
      dash > space) {
    return false;
  }
  bool completed = false;
  if (have_cur_) {
    Complete();
    completed = true;
  }
  if (ParseHeader(line, &cur_, cur_name_)) {
    have_cur_ = true;
  } else {
    ++malformed_;
  }
  return completed;
}

bool SmapsParser::Finish() {
  if (!have_cur_) return false;
  Complete();
  return true;
}

// ---- RssClassifier ---------------------------------------------------------

RssClassifier::RssClassifier(std::span<const uint64_t> stack_pointers,
                             bool glibc, Detail* detail)
    : stack_pointers_(stack_pointers), glibc_(glibc), detail_(detail) {}

RssClassifier::Neighbour RssClassifier::NeighbourOf(const SmapsEntry& e) {
  Neighbour n;
  n.valid = true;
  n.anon_none =
      e.anonymous_mapping() && !e.readable && !e.writable && !e.executable;
  n.start = e.start;
  n.end = e.end;
  return n;
}

void RssClassifier::Add(const SmapsEntry& e) {
  if (have_pending_) {
    Classify(pending_, prev_, NeighbourOf(e));
    prev_ = NeighbourOf(pending_);
  }
  pending_ = e;
  std::memcpy(pending_name_, e.name.data(), e.name.size());
  pending_.name = std::string_view(pending_name_, e.name.size());
  have_pending_ = true;
}

void RssClassifier::Finish() {
  if (have_pending_) Classify(pending_, prev_, Neighbour{});
  have_pending_ = false;
  FlushObject();
}

void RssClassifier::Count(Kind kind, const SmapsEntry& e) {
  switch (kind) {
    case Kind::kHeap:
      totals_.heap_rss += e.rss;
      totals_.heap_pss += e.pss;
      totals_.heap_mapping_bytes += e.size();
      break;
    case Kind::kStack:
      totals_.stack_rss += e.rss;
      totals_.stack_pss += e.pss;
      ++totals_.stack_mappings;
      break;
    case Kind::kCode:
      totals_.code_rss += e.rss;
      totals_.code_pss += e.pss;
      break;
    case Kind::kFile:
      totals_.file_rss += e.rss;
      totals_.file_pss += e.pss;
      break;
    case Kind::kAnon:
      totals_.anon_rss += e.rss;
      totals_.anon_pss += e.pss;
      if (e.name.empty()) {
        totals_.anon_unnamed_rss += e.rss;
        totals_.anon_unnamed_pss += e.pss;
      }
      if (detail_ != nullptr && e.rss > 0) {
        AnonMappingMemory m;
        m.name = e.name.empty() ? fmt::format("{:#x}-{:#x}", e.start, e.end)
                                : std::string(e.name);
        m.start = e.start;
        m.end = e.end;
        m.rss_bytes = e.rss;
        m.pss_bytes = e.pss;
        detail_->anonymous.push_back(std::move(m));
      }
      break;
  }
}

void RssClassifier::FlushObject() {
  if (!run_.active) return;
  run_.active = false;
  if (!run_.executable) {
    totals_.file_rss += run_.rss;
    totals_.file_pss += run_.pss;
    return;
  }
  totals_.code_rss += run_.rss;
  totals_.code_pss += run_.pss;
  if (detail_ != nullptr) {
    MappedObjectMemory o;
    o.path.assign(run_.name, run_.name_len);
    o.rss_bytes = run_.rss;
    o.pss_bytes = run_.pss;
    o.text_rss_bytes = run_.text_rss;
    o.data_rss_bytes = run_.data_rss;
    detail_->objects.push_back(std::move(o));
  }
}

void RssClassifier::Classify(const SmapsEntry& e, const Neighbour& prev,
                             const Neighbour& next) {
  ++totals_.mappings;
  totals_.rss += e.rss;
  totals_.pss += e.pss;
  std::string_view name = e.name;
  bool holds_sp = false;
  for (uint64_t sp : stack_pointers_) {
    if (sp >= e.start && sp < e.end) {
      holds_sp = true;
      ++located_;
    }
  }
  if (name == "[heap]") return Count(Kind::kHeap, e);
  if (name == "[stack]") return Count(Kind::kStack, e);
  if (StartsWithAny(name, {"[vdso]", "[vvar", "[vsyscall]", "[uprobes]"})) {
    totals_.code_rss += e.rss;
    totals_.code_pss += e.pss;
    if (detail_ != nullptr && e.rss > 0) {
      detail_->objects.push_back(MappedObjectMemory{
          std::string(name), e.rss, e.pss, e.executable ? e.rss : 0, 0});
    }
    return;
  }
  if (e.file_backed()) {
    // A shared library's or the binary's mappings come together (headers,
    // code, read-only data, relro, data); a gap between them (the .bss's
    // anonymous mapping) does not end the run, another file does.
    if (!run_.active || run_.device != e.device || run_.inode != e.inode ||
        std::string_view(run_.name, run_.name_len) != name) {
      FlushObject();
      run_.active = true;
      run_.device = e.device;
      run_.inode = e.inode;
      run_.executable = false;
      run_.rss = run_.pss = run_.text_rss = run_.data_rss = 0;
      run_.name_len = name.size();
      std::memcpy(run_.name, name.data(), name.size());
    }
    run_.rss += e.rss;
    run_.pss += e.pss;
    if (e.executable) {
      run_.executable = true;
      run_.text_rss += e.rss;
    }
    if (e.writable) run_.data_rss += e.rss;
    return;
  }
  if (!e.anonymous_mapping()) return Count(Kind::kAnon, e);  // [...] names

  if (holds_sp) return Count(Kind::kStack, e);
  if (name.find("glibc: pthread stack") != std::string_view::npos) {
    return Count(Kind::kStack, e);
  }
  if (name.find("glibc: malloc") != std::string_view::npos) {
    return Count(Kind::kHeap, e);
  }
  if (name.empty() && e.writable && !e.shared) {
    bool aligned =
        e.start % kGlibcArenaHeapSize == 0 && e.size() <= kGlibcArenaHeapSize;
    bool reserved_after = next.valid && next.anon_none && next.start == e.end &&
                          next.end >= e.start + kGlibcArenaHeapSize;
    bool full = e.size() == kGlibcArenaHeapSize && glibc_;
    if (aligned && (reserved_after || full)) return Count(Kind::kHeap, e);
    if (prev.valid && prev.anon_none && prev.end == e.start) {
      return Count(Kind::kStack, e);
    }
  }
  Count(Kind::kAnon, e);
}

RssTotals ClassifySmaps(std::string_view text,
                        std::span<const uint64_t> stack_pointers, bool glibc,
                        RssClassifier::Detail* detail, uint64_t* located) {
  SmapsParser parser;
  RssClassifier classifier(stack_pointers, glibc, detail);
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (parser.Line(line)) classifier.Add(parser.entry());
  }
  if (parser.Finish()) classifier.Add(parser.entry());
  classifier.Finish();
  if (located != nullptr) *located = classifier.located_stack_pointers();
  return classifier.totals();
}

// ---- splitting the heap ----------------------------------------------------

PartNumbers ComputeParts(const RssTotals& t, const HeapFigures& heap,
                         std::optional<uint64_t> kernel_rss) {
  PartNumbers n;
  // The allocator's bytes beyond its heap mappings are its mmapped blocks
  // (glibc: hblkhd), in unnamed anonymous mappings.
  if (heap.system) {
    if (*heap.system > t.heap_mapping_bytes) {
      n.claimed =
          std::min(*heap.system - t.heap_mapping_bytes, t.anon_unnamed_rss);
    }
  } else if (heap.inuse && *heap.inuse > t.heap_rss) {
    // No system figure: at least the bytes in use are the allocator's, and
    // what the heap mappings do not hold is in its mmapped blocks.
    n.claimed = std::min(*heap.inuse - t.heap_rss, t.anon_unnamed_rss);
    n.claimed_from_inuse = n.claimed > 0;
  }
  uint64_t claimed_pss =
      Share(t.anon_unnamed_pss, n.claimed, t.anon_unnamed_rss);
  uint64_t heap_rss = t.heap_rss + n.claimed;
  uint64_t heap_pss = t.heap_pss + claimed_pss;
  n.rss[Index(MemoryPart::kHeap)] = heap_rss;
  n.pss[Index(MemoryPart::kHeap)] = heap_pss;
  if (heap.inuse) {
    uint64_t inuse = *heap.inuse;
    if (inuse > heap_rss) {
      // Chunks counted in use but never touched: the resident pages cannot
      // be told apart, so split them as the allocator's figures stand.
      n.proportional = true;
      inuse = Share(heap_rss, *heap.inuse, *heap.inuse + heap.free.value_or(0));
    }
    n.rss[Index(MemoryPart::kHeapInUse)] = inuse;
    n.rss[Index(MemoryPart::kAllocatorFree)] = heap_rss - inuse;
    uint64_t inuse_pss = Share(heap_pss, inuse, heap_rss);
    n.pss[Index(MemoryPart::kHeapInUse)] = inuse_pss;
    n.pss[Index(MemoryPart::kAllocatorFree)] = heap_pss - inuse_pss;
  }
  n.rss[Index(MemoryPart::kStacks)] = t.stack_rss;
  n.pss[Index(MemoryPart::kStacks)] = t.stack_pss;
  n.rss[Index(MemoryPart::kCode)] = t.code_rss;
  n.pss[Index(MemoryPart::kCode)] = t.code_pss;
  n.rss[Index(MemoryPart::kFile)] = t.file_rss;
  n.pss[Index(MemoryPart::kFile)] = t.file_pss;
  n.rss[Index(MemoryPart::kAnonOther)] = t.anon_rss - n.claimed;
  n.pss[Index(MemoryPart::kAnonOther)] = t.anon_pss - claimed_pss;
  n.rss[Index(MemoryPart::kUnexplained)] =
      kernel_rss && *kernel_rss > t.rss ? *kernel_rss - t.rss : 0;
  return n;
}

void FillSample(const PartNumbers& n, Sample* s) {
  s->rss_heap_bytes = n.rss[Index(MemoryPart::kHeap)];
  s->rss_heap_inuse_bytes = n.rss[Index(MemoryPart::kHeapInUse)];
  s->rss_allocator_free_bytes = n.rss[Index(MemoryPart::kAllocatorFree)];
  s->rss_stacks_bytes = n.rss[Index(MemoryPart::kStacks)];
  s->rss_code_bytes = n.rss[Index(MemoryPart::kCode)];
  s->rss_file_bytes = n.rss[Index(MemoryPart::kFile)];
  s->rss_anon_other_bytes = n.rss[Index(MemoryPart::kAnonOther)];
  s->rss_unexplained_bytes = n.rss[Index(MemoryPart::kUnexplained)];
}

std::vector<MemoryPartFigure> DescribeParts(
    const PartNumbers& n, const RssTotals& t, const HeapFigures& heap,
    std::string_view heap_source, uint64_t located, uint64_t threads) {
  std::vector<MemoryPartFigure> parts(kMemoryPartCount);
  for (int i = 0; i < kMemoryPartCount; ++i) {
    parts[i].part = static_cast<MemoryPart>(i);
    parts[i].rss_bytes = n.rss[i];
    parts[i].pss_bytes = n.pss[i];
  }
  auto& h = parts[Index(MemoryPart::kHeap)];
  h.method = fmt::format(
      "Rss of [heap] and of glibc's arena heaps (64 MiB-aligned anonymous "
      "mappings with their PROT_NONE reservation){}",
      n.claimed == 0 ? std::string()
      : n.claimed_from_inuse
          ? fmt::format(", plus {} bytes of unnamed anonymous mappings: the "
                        "bytes in use beyond those mappings' resident size "
                        "(the allocator's system bytes are unknown)",
                        n.claimed)
          : fmt::format(", plus {} bytes of unnamed anonymous mappings: what "
                        "the allocator holds from the OS beyond those "
                        "mappings (its mmapped blocks)",
                        n.claimed));
  if (heap.system || n.claimed_from_inuse) {
    h.uncertainty =
        n.claimed_from_inuse
            ? "the allocator's free-held mmapped blocks stay in anon_other "
              "(its system bytes are unknown); the bytes moved cannot be "
              "told from other unnamed anonymous mappings: up to all of them "
              "may belong to anon_other"
            : "the mmapped blocks are taken as wholly resident and cannot be "
              "told from other unnamed anonymous mappings: up to the bytes "
              "moved may belong to anon_other";
    h.uncertainty_bytes = n.claimed;
  } else {
    h.uncertainty =
        "the allocator's figures are unknown: its mmapped blocks (glibc "
        "above its mmap threshold, jemalloc's and tcmalloc's extents) stay in "
        "anon_other";
  }
  auto& in = parts[Index(MemoryPart::kHeapInUse)];
  auto& fr = parts[Index(MemoryPart::kAllocatorFree)];
  if (heap.inuse) {
    in.method = fmt::format(
        "the {}'s bytes in use ({} bytes: chunk sizes of the blocks not "
        "freed){}",
        heap_source, *heap.inuse,
        n.proportional
            ? ", more than the resident heap: the resident heap split in "
              "proportion to in use : free"
            : ", within the resident heap");
    fr.method =
        "the resident heap minus the heap in use: free chunks' touched "
        "pages, chunk headers, arena metadata";
    if (n.proportional) {
      in.uncertainty = fr.uncertainty =
          "blocks handed out but never touched are not resident; which "
          "resident pages are in use is not known, so the split may be off "
          "by up to the smaller side (the number given)";
      uint64_t bound = std::min(*n.rss[Index(MemoryPart::kHeapInUse)],
                                *n.rss[Index(MemoryPart::kAllocatorFree)]);
      in.uncertainty_bytes = bound;
      fr.uncertainty_bytes = bound;
    } else {
      // In use is the counter itself; allocator_free is what the heap's
      // size leaves, so the heap's uncertainty (the unnamed anonymous bytes
      // taken as the allocator's) is allocator_free's.
      in.uncertainty =
          "in use counts whole chunks, touched or not: untouched blocks "
          "make this too high and allocator_free too low, by an amount "
          "nothing measures (no number given); the sampler's per-thread "
          "batches lag by up to 255 frees and eight sample intervals a "
          "thread";
      fr.uncertainty = fmt::format(
          "the heap minus in use: the {} bytes of unnamed anonymous "
          "mappings taken as the heap's (the number given) may belong to "
          "anon_other instead, which would make this that much lower; "
          "untouched in-use blocks make this too low (not measured)",
          n.claimed);
      fr.uncertainty_bytes = n.claimed;
    }
  } else {
    in.method = fr.method =
        "unknown: no heap figures (the heap sampler's counters or the "
        "allocator's statistics are read only inside the process, or by "
        "memmon run); the heap is not split";
    in.uncertainty = fr.uncertainty = "unknown";
  }
  auto& st = parts[Index(MemoryPart::kStacks)];
  st.method = fmt::format(
      "Rss of [stack], of the mappings holding a thread's stack pointer "
      "({} of {} threads read from /proc/PID/task/TID/syscall), and of "
      "writable anonymous mappings right above a PROT_NONE guard page "
      "(pthread's layout): {} mappings",
      located, threads, t.stack_mappings);
  st.uncertainty =
      "glibc's cache of exited threads' stacks counts here; a stack "
      "allocated without a guard page whose thread's stack pointer could "
      "not be read (a running thread) counts as anon_other";
  auto& co = parts[Index(MemoryPart::kCode)];
  co.method =
      "Rss of every mapping of the files that have an executable mapping "
      "(the binary, each library: code, read-only data, data segments), "
      "and [vdso]";
  co.uncertainty =
      "exact (smaps); pages shared with other processes count whole in RSS "
      "and divided in PSS; a library's .bss is anonymous and counts in "
      "anon_other";
  co.uncertainty_bytes = 0;
  auto& fi = parts[Index(MemoryPart::kFile)];
  fi.method =
      "Rss of the other file-backed mappings: data files, shared memory "
      "(memfd, /dev/shm, SysV)";
  fi.uncertainty = "exact (smaps)";
  fi.uncertainty_bytes = 0;
  auto& an = parts[Index(MemoryPart::kAnonOther)];
  an.method =
      "Rss of the other anonymous mappings (named by PR_SET_VMA_ANON_NAME "
      "or by address range; the largest are listed), minus the bytes moved "
      "to the heap";
  an.uncertainty = h.uncertainty;
  an.uncertainty_bytes = h.uncertainty_bytes;
  auto& un = parts[Index(MemoryPart::kUnexplained)];
  un.method =
      "the RSS the kernel counts (/proc/PID/status VmRSS, read after "
      "smaps) minus the sum of smaps' Rss, when it is more";
  un.uncertainty =
      "the two reads are not one snapshot and the kernel's RSS counters "
      "are batched per CPU: a process that grows or shrinks between them "
      "moves this either way";
  return parts;
}

// ---- the live reads --------------------------------------------------------

HeapFigures HeapFiguresOf(const Sample& s) {
  HeapFigures h;
  h.kind = s.allocator;
  h.inuse = s.heap_inuse_bytes;
  h.free = s.heap_free_bytes;
  h.system = s.heap_system_bytes;
  return h;
}

HeapFigures HeapFiguresOfStatusPage(const memmon_status_page& page) {
  HeapFigures h;
  h.inuse = page.counters.inuse_bytes;
  if (page.heap_stats_time_nanos <= 0) return h;
  switch (page.heap_allocator) {
    case 0:  // a sampler from before the field: glibc's only
    case MEMMON_STATUS_ALLOCATOR_GLIBC:
      h.kind = AllocatorKind::kGlibc;
      break;
    case MEMMON_STATUS_ALLOCATOR_JEMALLOC:
      h.kind = AllocatorKind::kJemalloc;
      break;
    case MEMMON_STATUS_ALLOCATOR_TCMALLOC:
      h.kind = AllocatorKind::kTcmalloc;
      break;
    default:
      return h;  // a later allocator: its figures are not understood
  }
  h.free = page.heap_free_bytes;
  h.system = page.heap_system_bytes;
  return h;
}

std::optional<uint64_t> ParseSyscallStackPointer(std::string_view text) {
  std::string_view fields[10];
  int n = 0;
  std::string_view rest = text;
  for (;;) {
    std::string_view tok = NextToken(&rest);
    if (tok.empty()) break;
    if (n == 10) return std::nullopt;
    fields[n++] = tok;
  }
  // "NR a1..a6 SP PC" (9) or "-1 SP PC" (3); "running" (1) has none.
  if (n != 9 && n != 3) return std::nullopt;
  std::string_view sp = fields[n - 2];
  if (!sp.starts_with("0x")) return std::nullopt;
  uint64_t v = 0;
  if (!Hex(sp.substr(2), &v)) return std::nullopt;
  return v;
}

SmapsTotals::SmapsTotals(pid_t pid) {
  if (pid == 0) {
    std::snprintf(path_, sizeof(path_), "/proc/self/smaps");
  } else {
    std::snprintf(path_, sizeof(path_), "/proc/%d/smaps",
                  static_cast<int>(pid));
  }
}

bool SmapsTotals::Read(Sample* sample) const {
  int fd = open(path_, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  SmapsParser parser;
  RssClassifier classifier({},
                           sample->allocator == AllocatorKind::kGlibc ||
                               sample->allocator == AllocatorKind::kUnknown,
                           nullptr);
  char buf[16384];
  std::size_t have = 0;
  bool ok = true;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof(buf) - have);
    if (r < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    if (r == 0) break;
    have += static_cast<std::size_t>(r);
    std::string_view text(buf, have);
    std::size_t used = 0;
    for (;;) {
      std::size_t nl = text.find('\n', used);
      if (nl == std::string_view::npos) break;
      if (parser.Line(text.substr(used, nl - used))) {
        classifier.Add(parser.entry());
      }
      used = nl + 1;
    }
    if (used == 0 && have == sizeof(buf)) {
      // A line longer than the buffer: drop it (a name is at most
      // PATH_MAX, far below).
      have = 0;
      continue;
    }
    std::memmove(buf, buf + used, have - used);
    have -= used;
  }
  close(fd);
  if (!ok) return false;
  if (have > 0 && parser.Line(std::string_view(buf, have))) {
    classifier.Add(parser.entry());
  }
  if (parser.Finish()) classifier.Add(parser.entry());
  classifier.Finish();
  if (classifier.totals().mappings == 0)
    return false;  // gone, or a kernel
                   // thread
  FillSample(ComputeParts(classifier.totals(), HeapFiguresOf(*sample),
                          sample->rss_bytes),
             sample);
  return true;
}

MemoryBreakdown BuildBreakdown(const ExplainInputs& in) {
  MemoryBreakdown b;
  b.pid = in.pid;
  b.time = std::chrono::system_clock::now();
  RssClassifier::Detail detail;
  uint64_t located = 0;
  bool glibc = in.heap.kind == AllocatorKind::kGlibc ||
               in.heap.kind == AllocatorKind::kUnknown;
  RssTotals t =
      ClassifySmaps(in.smaps, in.stack_pointers, glibc, &detail, &located);
  PartNumbers n = ComputeParts(t, in.heap, in.kernel_rss);
  b.mappings = t.mappings;
  b.rss_bytes = t.rss;
  b.pss_bytes = t.pss;
  b.kernel_rss_bytes = in.kernel_rss;
  b.heap_figures = in.heap_figures;
  b.allocator = in.heap.kind;
  b.heap_inuse_bytes = in.heap.inuse;
  b.heap_free_bytes = in.heap.free;
  b.heap_system_bytes = in.heap.system;
  b.threads = in.threads;
  b.threads_located = std::min<uint64_t>(located, in.threads);
  b.parts = DescribeParts(n, t, in.heap, in.heap_figures, b.threads_located,
                          in.threads);
  // One line per object, however many runs its mappings formed.
  std::map<std::string, MappedObjectMemory> objects;
  for (MappedObjectMemory& o : detail.objects) {
    MappedObjectMemory& sum = objects[o.path];
    sum.path = o.path;
    sum.rss_bytes += o.rss_bytes;
    sum.pss_bytes += o.pss_bytes;
    sum.text_rss_bytes += o.text_rss_bytes;
    sum.data_rss_bytes += o.data_rss_bytes;
  }
  for (auto& [path, o] : objects) b.objects.push_back(std::move(o));
  std::stable_sort(
      b.objects.begin(), b.objects.end(),
      [](const auto& a, const auto& c) { return a.rss_bytes > c.rss_bytes; });
  b.largest_anonymous = std::move(detail.anonymous);
  std::stable_sort(
      b.largest_anonymous.begin(), b.largest_anonymous.end(),
      [](const auto& a, const auto& c) { return a.rss_bytes > c.rss_bytes; });
  if (b.largest_anonymous.size() > in.max_anonymous) {
    b.largest_anonymous.resize(in.max_anonymous);
  }
  return b;
}

namespace {

// The whole of a /proc file; errno set on failure.
bool ReadProcFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof(buf));
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      errno = err;
      return false;
    }
    if (r == 0) break;
    out->append(buf, static_cast<std::size_t>(r));
  }
  close(fd);
  return true;
}

}  // namespace

Status ExplainProcess(int pid, const HeapFigures* heap,
                      std::string_view heap_source, MemoryBreakdown* out) {
  const bool self = pid == 0 || pid == getpid();
  std::string dir =
      pid == 0 ? std::string("/proc/self") : fmt::format("/proc/{}", pid);
  ExplainInputs in;
  in.pid = pid == 0 ? static_cast<int>(getpid()) : pid;
  std::string smaps;
  if (!ReadProcFile(dir + "/smaps", &smaps)) {
    int err = errno;
    if (err == ENOENT || err == ESRCH) {
      return Status::NotFound(fmt::format("no process {}", in.pid));
    }
    return Status::IoError(
        fmt::format("cannot read {}/smaps: {}", dir, std::strerror(err)));
  }
  std::string status;
  if (ReadProcFile(dir + "/status", &status)) {
    in.kernel_rss = ParseKeyedValue(status, "VmRSS");
    if (std::optional<uint64_t> threads = ParseKeyedValue(status, "Threads")) {
      in.threads = *threads;
    }
  }
  if (smaps.empty()) {
    return Status::NotFound(fmt::format(
        "process {} has no mappings (it exited, or is a kernel thread)",
        in.pid));
  }
  // Each thread's stack pointer, where the kernel shows it: a thread
  // blocked or sleeping shows its registers; a running one "running".
  if (DIR* d = opendir((dir + "/task").c_str())) {
    std::string text;
    while (dirent* de = readdir(d)) {
      if (de->d_name[0] == '.') continue;
      if (ReadProcFile(dir + "/task/" + de->d_name + "/syscall", &text)) {
        if (std::optional<uint64_t> sp = ParseSyscallStackPointer(text)) {
          in.stack_pointers.push_back(*sp);
        }
      }
    }
    closedir(d);
  }
  if (self) {
    // This thread is running: its own frame is on its stack.
    in.stack_pointers.push_back(
        reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
  }
  if (heap != nullptr) {
    in.heap = *heap;
    in.heap_figures = std::string(heap_source);
  } else if (self) {
    AllocatorStats stats = AllocatorStats::Detect();
    Sample s;
    stats.Read(&s);
    in.heap = HeapFiguresOf(s);
    in.heap_figures = s.allocations                            ? "sampler"
                      : s.allocator != AllocatorKind::kUnknown ? "allocator"
                                                               : "none";
  }
  in.smaps = smaps;
  *out = BuildBreakdown(in);
  if (self) {
    // The heap sampler's recorded mappings name the largest anonymous ones.
    auto mmap_sites = reinterpret_cast<memmon_preload_mmap_sites_fn>(
        dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_MMAP_SITES_SYMBOL));
    if (mmap_sites != nullptr && !out->largest_anonymous.empty()) {
      std::string text(64 * 1024, '\0');
      long len = mmap_sites(text.data(), text.size(), 256);
      if (len > 0) {
        text.resize(static_cast<std::size_t>(len));
        NameAnonymousMappings(ParseMmapSites(text), &out->largest_anonymous);
      }
    }
  }
  return Status::Ok();
}

std::vector<MappingSite> ParseMmapSites(std::string_view text) {
  std::vector<MappingSite> sites;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // <0xSTART>\t<LENGTH>\t<FUNCTION>\t<FILE:LINE>
    std::string_view field[4];
    std::size_t n = 0;
    while (n < 4) {
      std::size_t tab = n < 3 ? line.find('\t') : std::string_view::npos;
      field[n++] = line.substr(0, tab);
      if (tab == std::string_view::npos) break;
      line.remove_prefix(tab + 1);
    }
    if (n < 3 || field[0].substr(0, 2) != "0x") continue;
    MappingSite m;
    std::string_view hex = field[0].substr(2);
    std::string_view dec = field[1];
    if (std::from_chars(hex.data(), hex.data() + hex.size(), m.start, 16).ec !=
            std::errc() ||
        std::from_chars(dec.data(), dec.data() + dec.size(), m.length).ec !=
            std::errc() ||
        field[2].empty()) {
      continue;
    }
    m.site = std::string(field[2]);
    if (n == 4 && !field[3].empty()) {
      m.site += fmt::format(" ({})", field[3]);
    }
    sites.push_back(std::move(m));
  }
  return sites;
}

void NameAnonymousMappings(const std::vector<MappingSite>& sites,
                           std::vector<AnonMappingMemory>* anonymous) {
  for (AnonMappingMemory& a : *anonymous) {
    const MappingSite* best = nullptr;
    for (const MappingSite& m : sites) {
      if (m.start >= a.start && m.start < a.end &&
          (best == nullptr || m.length > best->length)) {
        best = &m;
      }
    }
    if (best != nullptr) a.site = best->site;
  }
}

// ---- JSON ------------------------------------------------------------------

namespace {

nlohmann::json OrNull(const std::optional<uint64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::optional<uint64_t> U64(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) {
    if (it->is_number_integer() && it->get<int64_t>() >= 0) {
      return static_cast<uint64_t>(it->get<int64_t>());
    }
    throw std::runtime_error(
        fmt::format("'{}' is not a non-negative integer", key));
  }
  return it->get<uint64_t>();
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) {
    throw std::runtime_error(fmt::format("'{}' is not a string", key));
  }
  return it->get<std::string>();
}

}  // namespace

Status ParseBreakdownJson(std::string_view text, MemoryBreakdown* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("not a JSON object");
  }
  try {
    MemoryBreakdown b;
    b.pid = static_cast<int>(U64(j, "pid").value_or(0));
    if (auto t = j.find("time_unix_s"); t != j.end() && t->is_number()) {
      b.time = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::duration<double>(t->get<double>())));
    }
    b.mappings = U64(j, "mappings").value_or(0);
    b.rss_bytes = U64(j, "rss_bytes").value_or(0);
    b.pss_bytes = U64(j, "pss_bytes").value_or(0);
    b.kernel_rss_bytes = U64(j, "kernel_rss_bytes");
    b.threads = U64(j, "threads").value_or(0);
    b.threads_located = U64(j, "threads_located").value_or(0);
    if (auto h = j.find("heap"); h != j.end() && h->is_object()) {
      b.heap_figures = Str(*h, "figures");
      std::string kind = Str(*h, "allocator");
      for (AllocatorKind k : {AllocatorKind::kGlibc, AllocatorKind::kJemalloc,
                              AllocatorKind::kTcmalloc}) {
        if (kind == ToString(k)) b.allocator = k;
      }
      b.heap_inuse_bytes = U64(*h, "inuse_bytes");
      b.heap_free_bytes = U64(*h, "free_bytes");
      b.heap_system_bytes = U64(*h, "system_bytes");
    }
    auto parts = j.find("parts");
    if (parts == j.end() || !parts->is_array()) {
      return Status::InvalidArgument("no 'parts' array");
    }
    b.parts.resize(kMemoryPartCount);
    for (int i = 0; i < kMemoryPartCount; ++i) {
      b.parts[i].part = static_cast<MemoryPart>(i);
    }
    for (const nlohmann::json& p : *parts) {
      if (!p.is_object())
        return Status::InvalidArgument("a part is not an object");
      std::string name = Str(p, "part");
      int index = -1;
      for (int i = 0; i < kMemoryPartCount; ++i) {
        if (name == ToString(static_cast<MemoryPart>(i))) index = i;
      }
      if (index < 0) continue;  // a part from a later version
      MemoryPartFigure& f = b.parts[index];
      f.rss_bytes = U64(p, "rss_bytes");
      f.pss_bytes = U64(p, "pss_bytes");
      f.method = Str(p, "method");
      f.uncertainty = Str(p, "uncertainty");
      f.uncertainty_bytes = U64(p, "uncertainty_bytes");
    }
    if (auto os = j.find("objects"); os != j.end() && os->is_array()) {
      for (const nlohmann::json& o : *os) {
        MappedObjectMemory m;
        m.path = Str(o, "path");
        m.rss_bytes = U64(o, "rss_bytes").value_or(0);
        m.pss_bytes = U64(o, "pss_bytes").value_or(0);
        m.text_rss_bytes = U64(o, "text_rss_bytes").value_or(0);
        m.data_rss_bytes = U64(o, "data_rss_bytes").value_or(0);
        b.objects.push_back(std::move(m));
      }
    }
    if (auto as = j.find("largest_anonymous");
        as != j.end() && as->is_array()) {
      for (const nlohmann::json& a : *as) {
        AnonMappingMemory m;
        m.name = Str(a, "name");
        m.start = U64(a, "start").value_or(0);
        m.end = U64(a, "end").value_or(0);
        m.rss_bytes = U64(a, "rss_bytes").value_or(0);
        m.pss_bytes = U64(a, "pss_bytes").value_or(0);
        m.site = Str(a, "site");
        b.largest_anonymous.push_back(std::move(m));
      }
    }
    *out = std::move(b);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(e.what());
  }
  return Status::Ok();
}

}  // namespace internal

Status ExplainMemory(int pid, MemoryBreakdown* out) {
  return internal::ExplainProcess(pid, nullptr, "", out);
}

std::string ToJson(const MemoryBreakdown& b) {
  using internal::OrNull;
  nlohmann::json j;
  j["pid"] = b.pid;
  j["time_unix_s"] =
      std::chrono::duration<double>(b.time.time_since_epoch()).count();
  j["mappings"] = b.mappings;
  j["rss_bytes"] = b.rss_bytes;
  j["pss_bytes"] = b.pss_bytes;
  j["kernel_rss_bytes"] = OrNull(b.kernel_rss_bytes);
  j["heap"] = {{"figures", b.heap_figures},
               {"allocator", std::string(ToString(b.allocator))},
               {"inuse_bytes", OrNull(b.heap_inuse_bytes)},
               {"free_bytes", OrNull(b.heap_free_bytes)},
               {"system_bytes", OrNull(b.heap_system_bytes)}};
  j["threads"] = b.threads;
  j["threads_located"] = b.threads_located;
  nlohmann::json parts = nlohmann::json::array();
  for (const MemoryPartFigure& f : b.parts) {
    parts.push_back({{"part", std::string(ToString(f.part))},
                     {"rss_bytes", OrNull(f.rss_bytes)},
                     {"pss_bytes", OrNull(f.pss_bytes)},
                     {"method", f.method},
                     {"uncertainty", f.uncertainty},
                     {"uncertainty_bytes", OrNull(f.uncertainty_bytes)}});
  }
  j["parts"] = std::move(parts);
  nlohmann::json objects = nlohmann::json::array();
  for (const MappedObjectMemory& o : b.objects) {
    objects.push_back({{"path", o.path},
                       {"rss_bytes", o.rss_bytes},
                       {"pss_bytes", o.pss_bytes},
                       {"text_rss_bytes", o.text_rss_bytes},
                       {"data_rss_bytes", o.data_rss_bytes}});
  }
  j["objects"] = std::move(objects);
  nlohmann::json anon = nlohmann::json::array();
  for (const AnonMappingMemory& a : b.largest_anonymous) {
    nlohmann::json m = {{"name", a.name},
                        {"start", a.start},
                        {"end", a.end},
                        {"rss_bytes", a.rss_bytes},
                        {"pss_bytes", a.pss_bytes}};
    if (!a.site.empty()) m["site"] = a.site;
    anon.push_back(std::move(m));
  }
  j["largest_anonymous"] = std::move(anon);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace memmon
