// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/rss_breakdown.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace memmon::internal {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

// One mapping as /proc/<pid>/smaps prints it (Linux 6.x, every key).
std::string Map(uint64_t start, uint64_t end, const char* perms, uint64_t inode,
                const char* name, uint64_t rss_kb, uint64_t pss_kb,
                uint64_t anon_kb = 0) {
  return fmt::format(
      "{:x}-{:x} {} 00000000 {} {}{}{}\n"
      "Size:           {:8} kB\n"
      "KernelPageSize:        4 kB\n"
      "MMUPageSize:           4 kB\n"
      "Rss:            {:8} kB\n"
      "Pss:            {:8} kB\n"
      "Pss_Dirty:             0 kB\n"
      "Shared_Clean:          0 kB\n"
      "Private_Dirty:  {:8} kB\n"
      "Anonymous:      {:8} kB\n"
      "Swap:                  0 kB\n"
      "THPeligible:           0\n"
      "VmFlags: rd wr mr mw me ac \n",
      start, end, perms, inode != 0 ? "fe:00" : "00:00", inode,
      *name != '\0' ? "                     " : "", name, (end - start) / kKiB,
      rss_kb, pss_kb, anon_kb, anon_kb);
}

// A process with one of each part (sizes in KiB):
//   /usr/bin/prog   r--p 8  r-xp 40  r--p 12  rw-p 4           = 64 code
//   .bss (anon)     rw-p 4                                      anon
//   [heap]          rw-p 1000 of 2 MiB                          heap
//   arena heap      rw-p 3000 of 4 MiB at 0x7f0000000000 (64 MiB-aligned),
//                   ---p up to 64 MiB                           heap
//   mmap 80 MiB     rw-p 81920 (unnamed)                        anon
//   thread stack    ---p 4 guard, rw-p 8 MiB, 100 resident      stack
//   data file       r--p 32768 /data/file (no executable)       file
//   [anon:cache]    rw-p 500                                    anon (named)
//   libc            r--p 100 r-xp 900 (pss 300)                 code
//   [stack] 132, [vvar] 0, [vdso] 8, [vsyscall] 0
std::string Fixture() {
  std::string s;
  s += Map(0x555500000000, 0x555500002000, "r--p", 11, "/usr/bin/prog", 8, 8);
  s += Map(0x555500002000, 0x55550000c000, "r-xp", 11, "/usr/bin/prog", 40, 40);
  s += Map(0x55550000c000, 0x55550000f000, "r--p", 11, "/usr/bin/prog", 12, 12);
  s +=
      Map(0x55550000f000, 0x555500010000, "rw-p", 11, "/usr/bin/prog", 4, 4, 4);
  s += Map(0x555500010000, 0x555500011000, "rw-p", 0, "", 4, 4, 4);
  s += Map(0x555500100000, 0x555500300000, "rw-p", 0, "[heap]", 1000, 1000,
           1000);
  s += Map(0x7f0000000000, 0x7f0000400000, "rw-p", 0, "", 3000, 3000, 3000);
  s += Map(0x7f0000400000, 0x7f0004000000, "---p", 0, "", 0, 0);
  s += Map(0x7f1000000000, 0x7f1005000000, "rw-p", 0, "", 81920, 81920, 81920);
  s += Map(0x7f2000000000, 0x7f2000001000, "---p", 0, "", 0, 0);
  s += Map(0x7f2000001000, 0x7f2000801000, "rw-p", 0, "", 100, 100, 100);
  s += Map(0x7f3000000000, 0x7f3002000000, "r--p", 22, "/data/file", 32768,
           32768);
  s += Map(0x7f3100000000, 0x7f3100100000, "rw-p", 0, "[anon:cache]", 500, 500,
           500);
  s += Map(0x7f4000000000, 0x7f4000019000, "r--p", 33,
           "/usr/lib/x86_64-linux-gnu/libc.so.6", 100, 30);
  s += Map(0x7f4000019000, 0x7f40000f9000, "r-xp", 33,
           "/usr/lib/x86_64-linux-gnu/libc.so.6", 900, 270);
  s += Map(0x7ffc00000000, 0x7ffc00021000, "rw-p", 0, "[stack]", 132, 132, 132);
  s += Map(0x7ffc00100000, 0x7ffc00104000, "r--p", 0, "[vvar]", 0, 0);
  s += Map(0x7ffc00104000, 0x7ffc00106000, "r-xp", 0, "[vdso]", 8, 8);
  s += Map(0xffffffffff600000, 0xffffffffff601000, "--xp", 0, "[vsyscall]", 0,
           0);
  return s;
}

TEST(SmapsParser, ReadsHeaderAndSizes) {
  SmapsParser p;
  std::string text =
      Map(0x1000, 0x3000, "r-xp", 42, "/usr/lib/my lib.so (deleted)", 8, 4);
  std::string_view rest = text;
  int completed = 0;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    if (p.Line(rest.substr(0, nl))) ++completed;
    rest.remove_prefix(nl + 1);
  }
  EXPECT_EQ(completed, 0);
  ASSERT_TRUE(p.Finish());
  const SmapsEntry& e = p.entry();
  EXPECT_EQ(e.start, 0x1000u);
  EXPECT_EQ(e.end, 0x3000u);
  EXPECT_TRUE(e.readable && e.executable && !e.writable && !e.shared);
  EXPECT_EQ(e.inode, 42u);
  EXPECT_EQ(e.device, 0xfeull << 32);
  EXPECT_EQ(e.name, "/usr/lib/my lib.so (deleted)");  // spaces kept
  EXPECT_EQ(e.rss, 8 * kKiB);
  EXPECT_EQ(e.pss, 4 * kKiB);
  EXPECT_EQ(p.malformed(), 0u);
  EXPECT_FALSE(p.Finish());
}

TEST(SmapsParser, SkipsMalformedHeaders) {
  SmapsParser p;
  EXPECT_FALSE(p.Line("zzzz-1000 r--p 0 00:00 0"));
  EXPECT_FALSE(p.Line("Rss:   4 kB"));  // belongs to nothing
  EXPECT_FALSE(p.Line("1000-2000 rw-p 0 00 0"));
  EXPECT_FALSE(p.Line("Rss:   4 kB"));
  EXPECT_EQ(p.malformed(), 2u);  // bad hex, missing dev's minor
  EXPECT_FALSE(p.Finish());
}

TEST(RssClassifier, AttributesEachKnownPart) {
  RssClassifier::Detail detail;
  RssTotals t = ClassifySmaps(Fixture(), {}, /*glibc=*/true, &detail);
  EXPECT_EQ(t.mappings, 19u);
  EXPECT_EQ(t.code_rss, (64 + 1000 + 8) * kKiB);
  EXPECT_EQ(t.code_pss, (64 + 300 + 8) * kKiB);
  EXPECT_EQ(t.heap_rss, (1000 + 3000) * kKiB);
  EXPECT_EQ(t.heap_mapping_bytes, 2 * kMiB + 4 * kMiB);
  EXPECT_EQ(t.stack_rss, (100 + 132) * kKiB);
  EXPECT_EQ(t.stack_mappings, 2u);
  EXPECT_EQ(t.file_rss, 32 * kMiB);
  EXPECT_EQ(t.anon_rss, (4 + 81920 + 500) * kKiB);
  EXPECT_EQ(t.anon_unnamed_rss, (4 + 81920) * kKiB);
  EXPECT_EQ(t.rss,
            t.code_rss + t.heap_rss + t.stack_rss + t.file_rss + t.anon_rss);
  ASSERT_EQ(detail.objects.size(), 3u);  // prog, [vdso], libc
  EXPECT_EQ(detail.objects[0].path, "/usr/bin/prog");
  EXPECT_EQ(detail.objects[0].rss_bytes, 64 * kKiB);
  EXPECT_EQ(detail.objects[0].text_rss_bytes, 40 * kKiB);
  EXPECT_EQ(detail.objects[0].data_rss_bytes, 4 * kKiB);
  EXPECT_EQ(detail.objects[1].path, "[vdso]");
  EXPECT_EQ(detail.objects[2].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(detail.objects[2].pss_bytes, 300 * kKiB);
  ASSERT_EQ(detail.anonymous.size(), 3u);
  EXPECT_EQ(detail.anonymous[1].name, "0x7f1000000000-0x7f1005000000");
  EXPECT_EQ(detail.anonymous[2].name, "[anon:cache]");
}

TEST(RssClassifier, StackPointerFindsAStackWithoutAGuard) {
  // The 80 MiB mapping holds a thread's stack pointer (a stack allocated
  // by hand): a stack, whatever its layout says.
  const uint64_t sps[] = {0x7f1004fff000, 0x10};  // the second in nothing
  uint64_t located = 0;
  RssTotals t = ClassifySmaps(Fixture(), sps, true, nullptr, &located);
  EXPECT_EQ(located, 1u);
  EXPECT_EQ(t.stack_rss, (100 + 132 + 81920) * kKiB);
  EXPECT_EQ(t.anon_rss, (4 + 500) * kKiB);
}

TEST(RssClassifier, FullyGrownArenaNeedsGlibc) {
  // A 64 MiB-aligned 64 MiB mapping with no reservation after it: an arena
  // heap grown to its limit when glibc serves malloc, otherwise anything.
  std::string s =
      Map(0x7f0004000000, 0x7f0008000000, "rw-p", 0, "", 65536, 65536, 65536);
  EXPECT_EQ(ClassifySmaps(s, {}, true, nullptr).heap_rss, 64 * kMiB);
  EXPECT_EQ(ClassifySmaps(s, {}, false, nullptr).anon_rss, 64 * kMiB);
  // Aligned but followed by a reservation too short: not an arena.
  s = Map(0x7f0004000000, 0x7f0004100000, "rw-p", 0, "", 1024, 1024) +
      Map(0x7f0004100000, 0x7f0004200000, "---p", 0, "", 0, 0);
  EXPECT_EQ(ClassifySmaps(s, {}, true, nullptr).anon_rss, 1 * kMiB);
}

TEST(RssClassifier, GlibcDecoratedNames) {
  std::string s =
      Map(0x1000, 0x2000, "rw-p", 0, "[anon: glibc: pthread stack: 7]", 4, 4) +
      Map(0x3000, 0x5000, "rw-p", 0, "[anon: glibc: malloc arena]", 8, 8);
  RssTotals t = ClassifySmaps(s, {}, true, nullptr);
  EXPECT_EQ(t.stack_rss, 4 * kKiB);
  EXPECT_EQ(t.heap_rss, 8 * kKiB);
}

TEST(ComputeParts, HeapFitsInResident) {
  RssTotals t = ClassifySmaps(Fixture(), {}, true, nullptr);
  HeapFigures h;
  h.kind = AllocatorKind::kGlibc;
  h.inuse = 3 * kMiB;
  h.free = 1 * kMiB;
  // arena + hblkhd: the heap mappings (6 MiB) and 2 MiB of mmapped blocks.
  h.system = 6 * kMiB + 2 * kMiB;
  PartNumbers n = ComputeParts(t, h, t.rss + 12 * kKiB);
  EXPECT_EQ(n.claimed, 2 * kMiB);
  EXPECT_FALSE(n.proportional);
  auto rss = [&](MemoryPart p) { return *n.rss[static_cast<int>(p)]; };
  EXPECT_EQ(rss(MemoryPart::kHeap), 4000 * kKiB + 2 * kMiB);
  EXPECT_EQ(rss(MemoryPart::kHeapInUse), 3 * kMiB);
  EXPECT_EQ(rss(MemoryPart::kAllocatorFree), 4000 * kKiB - 1 * kMiB);
  EXPECT_EQ(rss(MemoryPart::kAnonOther), (4 + 81920 + 500) * kKiB - 2 * kMiB);
  EXPECT_EQ(rss(MemoryPart::kUnexplained), 12 * kKiB);
  // The parts (kHeap aside) add up to the kernel's RSS.
  uint64_t sum = 0;
  for (int i = 1; i < kMemoryPartCount; ++i) sum += *n.rss[i];
  EXPECT_EQ(sum, t.rss + 12 * kKiB);
}

TEST(ComputeParts, InUseBeyondResidentIsSplitInProportion) {
  RssTotals t = ClassifySmaps(Fixture(), {}, true, nullptr);
  HeapFigures h;
  h.kind = AllocatorKind::kGlibc;
  h.inuse = 30 * kMiB;  // mostly untouched
  h.free = 10 * kMiB;
  h.system = 6 * kMiB;  // the heap mappings alone: nothing to claim
  PartNumbers n = ComputeParts(t, h, std::nullopt);
  EXPECT_TRUE(n.proportional);
  EXPECT_EQ(n.claimed, 0u);
  uint64_t heap = *n.rss[static_cast<int>(MemoryPart::kHeap)];
  EXPECT_EQ(*n.rss[static_cast<int>(MemoryPart::kHeapInUse)], heap * 3 / 4);
  EXPECT_EQ(*n.rss[static_cast<int>(MemoryPart::kHeapInUse)] +
                *n.rss[static_cast<int>(MemoryPart::kAllocatorFree)],
            heap);
  EXPECT_EQ(*n.rss[static_cast<int>(MemoryPart::kUnexplained)], 0u);
}

// jemalloc's or tcmalloc's heap under memmon run before the status page
// has their statistics (or a sample whose read the budget skipped): in use
// is known, system is not. The bytes in use beyond the resident heap
// mappings are in unnamed anonymous mappings: moved to the heap, so
// heap_inuse is the in-use figure instead of being scaled down to [heap].
TEST(ComputeParts, InUseWithoutSystemClaimsUnnamedAnonymous) {
  RssTotals t = ClassifySmaps(Fixture(), {}, false, nullptr);
  HeapFigures h;
  h.kind = AllocatorKind::kJemalloc;
  h.inuse = 30 * kMiB;
  PartNumbers n = ComputeParts(t, h, t.rss);
  EXPECT_TRUE(n.claimed_from_inuse);
  EXPECT_FALSE(n.proportional);
  EXPECT_EQ(n.claimed, 30 * kMiB - t.heap_rss);
  auto rss = [&](MemoryPart p) { return *n.rss[static_cast<int>(p)]; };
  EXPECT_EQ(rss(MemoryPart::kHeap), 30 * kMiB);
  EXPECT_EQ(rss(MemoryPart::kHeapInUse), 30 * kMiB);
  EXPECT_EQ(rss(MemoryPart::kAllocatorFree), 0u);
  EXPECT_EQ(rss(MemoryPart::kAnonOther), t.anon_rss - n.claimed);
  uint64_t sum = 0;
  for (int i = 1; i < kMemoryPartCount; ++i) sum += *n.rss[i];
  EXPECT_EQ(sum, t.rss);
  // At most the unnamed anonymous RSS: in use larger than everything.
  h.inuse = 10 * t.rss;
  n = ComputeParts(t, h, t.rss);
  EXPECT_EQ(n.claimed, t.anon_unnamed_rss);
  EXPECT_TRUE(n.proportional);  // still more in use than resident
  // The description says where the bytes came from.
  std::vector<MemoryPartFigure> parts = DescribeParts(n, t, h, "sampler", 0, 0);
  EXPECT_NE(parts[0].method.find("the bytes in use beyond"), std::string::npos)
      << parts[0].method;
  EXPECT_EQ(parts[0].uncertainty_bytes, n.claimed);
}

TEST(ComputeParts, NoHeapFiguresLeavesTheSplitUnknown) {
  RssTotals t = ClassifySmaps(Fixture(), {}, true, nullptr);
  PartNumbers n = ComputeParts(t, HeapFigures{}, t.rss - 4096);  // less
  Sample s;
  FillSample(n, &s);
  EXPECT_EQ(s.rss_heap_bytes, 4000 * kKiB);
  EXPECT_FALSE(s.rss_heap_inuse_bytes.has_value());
  EXPECT_FALSE(s.rss_allocator_free_bytes.has_value());
  EXPECT_EQ(s.rss_unexplained_bytes, 0u);  // smaps read more: nothing
  EXPECT_EQ(s.rss_stacks_bytes, (100 + 132) * kKiB);
  EXPECT_EQ(s.rss_file_bytes, 32 * kMiB);
}

TEST(ParseSyscallStackPointer, ReadsTheSecondToLastField) {
  EXPECT_EQ(ParseSyscallStackPointer("202 0x7f12 0x80 0x2 0x0 0x0 0x0 "
                                     "0x7ffd5f2a1b30 0x7f3c0e2a1d9f\n"),
            0x7ffd5f2a1b30u);
  EXPECT_EQ(ParseSyscallStackPointer("-1 0x7f3c0d7feda0 0x55d3c0a01234\n"),
            0x7f3c0d7feda0u);
  EXPECT_FALSE(ParseSyscallStackPointer("running\n").has_value());
  EXPECT_FALSE(ParseSyscallStackPointer("").has_value());
  EXPECT_FALSE(ParseSyscallStackPointer("1 2 3").has_value());
}

TEST(Breakdown, BuildsAndRoundTripsThroughJson) {
  ExplainInputs in;
  in.pid = 42;
  std::string smaps = Fixture();
  in.smaps = smaps;
  in.threads = 2;
  in.stack_pointers = {0x7f2000700000};
  in.heap.kind = AllocatorKind::kGlibc;
  in.heap.inuse = 3 * kMiB;
  in.heap.free = 1 * kMiB;
  in.heap.system = 8 * kMiB;
  in.heap_figures = "sampler";
  in.max_anonymous = 2;
  MemoryBreakdown b = BuildBreakdown(in);
  EXPECT_EQ(b.threads_located, 1u);
  ASSERT_EQ(b.parts.size(), static_cast<std::size_t>(kMemoryPartCount));
  for (const MemoryPartFigure& f : b.parts) {
    EXPECT_FALSE(f.method.empty()) << ToString(f.part);
    EXPECT_FALSE(f.uncertainty.empty()) << ToString(f.part);
  }
  ASSERT_EQ(b.largest_anonymous.size(), 2u);
  EXPECT_EQ(b.largest_anonymous[0].rss_bytes, 80 * kMiB);
  EXPECT_EQ(b.objects[0].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");

  MemoryBreakdown back;
  ASSERT_TRUE(ParseBreakdownJson(ToJson(b), &back).ok());
  EXPECT_EQ(back.pid, 42);
  EXPECT_EQ(back.rss_bytes, b.rss_bytes);
  EXPECT_EQ(back.heap_figures, "sampler");
  EXPECT_EQ(back.allocator, AllocatorKind::kGlibc);
  for (int i = 0; i < kMemoryPartCount; ++i) {
    EXPECT_EQ(back.parts[i].rss_bytes, b.parts[i].rss_bytes) << i;
    EXPECT_EQ(back.parts[i].method, b.parts[i].method) << i;
  }
  EXPECT_EQ(back.objects.size(), b.objects.size());
  EXPECT_EQ(back.largest_anonymous[0].name, b.largest_anonymous[0].name);

  EXPECT_FALSE(ParseBreakdownJson("[]", &back).ok());
  EXPECT_FALSE(ParseBreakdownJson("{\"parts\": 3}", &back).ok());
  EXPECT_FALSE(
      ParseBreakdownJson("{\"parts\": [{\"part\": \"heap\", \"rss_bytes\": "
                         "-1}]}",
                         &back)
          .ok());
}

// The streaming reader on this process: what it attributes matches the
// whole-text classifier, and the parts cover the RSS.
TEST(SmapsTotals, ReadsThisProcess) {
  // A thread whose stack is a guarded mapping, and 8 MiB of touched
  // anonymous memory.
  pthread_t thread;
  ASSERT_EQ(
      pthread_create(
          &thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr),
      0);
  pthread_join(thread, nullptr);
  void* p = mmap(nullptr, 8 * kMiB, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, 8 * kMiB);
  Sample s;
  SmapsTotals reader(0);
  ASSERT_TRUE(reader.Read(&s));
  ASSERT_TRUE(s.rss_anon_other_bytes && s.rss_stacks_bytes &&
              s.rss_code_bytes && s.rss_heap_bytes);
  EXPECT_GE(*s.rss_anon_other_bytes, 8 * kMiB);
  EXPECT_GT(*s.rss_code_bytes, 0u);
  EXPECT_GT(*s.rss_stacks_bytes, 0u);
  EXPECT_FALSE(s.rss_heap_inuse_bytes.has_value());  // no heap figures
  munmap(p, 8 * kMiB);
  SmapsTotals gone(999999999);
  EXPECT_FALSE(gone.Read(&s));
}

}  // namespace
}  // namespace memmon::internal
