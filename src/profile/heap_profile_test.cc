// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/heap_profile.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "profile/pprof.h"

namespace memmon::profile {
namespace {

TEST(HeapProfileTest, AllocationApiFrames) {
  for (const char* f :
       {"malloc", "__libc_malloc", "__GI___libc_malloc",
        "operator new(unsigned long)", "operator new[](unsigned long)",
        "__strdup", "strdup", "getdelim", "posix_memalign",
        "__vasprintf_internal",
        "std::__detail::_MakeUniq<char []>::__array "
        "std::make_unique<char []>(unsigned long)",
        "std::__new_allocator<int>::allocate(unsigned long, void const*)",
        "std::allocator_traits<std::allocator<int> >::allocate("
        "std::allocator<int>&, unsigned long)",
        "std::shared_ptr<Foo> std::make_shared<Foo>()"}) {
    EXPECT_TRUE(IsAllocationApiFrame(f)) << f;
  }
  for (const char* f :
       {"main", "LeakWithNew(int)", "std::vector<int>::push_back(int&&)",
        "Session::Session(int)", "make_unique_session()",
        "std::deque<Session, std::allocator<Session> "
        ">::emplace_back<int&>(int&)",
        "std::vector<int, std::allocator<int> >::_M_realloc_insert(int&&)",
        "mallocator", "strdup_wrapper", ""}) {
    EXPECT_FALSE(IsAllocationApiFrame(f)) << f;
  }
}

__attribute__((noinline)) uintptr_t HereAddress() {
  return reinterpret_cast<uintptr_t>(__builtin_return_address(0));
}

// The index of each unit's scopes gives what walking the unit's DWARF for
// each address gives -- the function, the chain of inline frames, files and
// lines -- at a thousand addresses spread over this test program's code
// (its own, GoogleTest's and memmon's profile code, inlined heavily).
TEST(SymbolizerTest, IndexAgreesWithWalkingTheDwarf) {
  std::vector<Module> modules = LoadedModules();
  const Module* self =
      FindModule(modules, reinterpret_cast<uintptr_t>(&HereAddress));
  ASSERT_NE(self, nullptr);
  ASSERT_GT(self->exec_end, self->exec_start);
  Symbolizer symbolizer;
  const uintptr_t span = self->exec_end - self->exec_start;
  const uintptr_t stride = std::max<uintptr_t>(1, span / 1000) | 1;
  int compared = 0, inlined = 0;
  // Passes of a thousand addresses, each shifted by an eighth of the
  // stride, until the comparison has covered inline chains, not only plain
  // functions: over 50 of a pass's addresses at -O2; 3-10 at -O0 (the
  // ASan build: only always_inline functions inline), where the passes go
  // on (at most eight).
  for (uintptr_t phase = 0; phase < 8 && (compared == 0 || inlined < 5);
       ++phase) {
    for (uintptr_t pc = self->exec_start + phase * (stride / 8);
         pc < self->exec_end; pc += stride) {
      std::vector<SymbolFrame> indexed = symbolizer.Symbolize(pc);
      std::vector<SymbolFrame> walked = symbolizer.SymbolizeByWalking(pc);
      ASSERT_EQ(indexed.size(), walked.size()) << std::hex << pc;
      for (std::size_t i = 0; i < walked.size(); ++i) {
        EXPECT_EQ(indexed[i].function, walked[i].function)
            << std::hex << pc << " frame " << i;
        EXPECT_EQ(indexed[i].file, walked[i].file) << std::hex << pc;
        EXPECT_EQ(indexed[i].line, walked[i].line) << std::hex << pc;
      }
      ++compared;
      if (walked.size() > 1) ++inlined;
    }
  }
  EXPECT_GE(compared, 900);
  EXPECT_GE(inlined, 5) << inlined << " of " << compared;
}

TEST(HeapProfileTest, BuildsSymbolizedProfile) {
  uintptr_t ret = HereAddress();  // a return address inside this test
  HeapSnapshot snap;
  snap.sample_rate = 524288;
  snap.time_nanos = 1;
  snap.comments = {"test"};
  snap.sites.push_back({{ret}, 10, 10240, 4, 4096});
  snap.sites.push_back({{}, 1, 100, 1, 100});     // no stack captured
  snap.sites.push_back({{ret + 1}, 0, 0, 0, 0});  // empty: skipped
  std::vector<Module> modules = LoadedModules();
  ASSERT_FALSE(modules.empty());
  EXPECT_NE(FindModule(modules, ret), nullptr);
  Symbolizer symbolizer;
  Profile p = BuildHeapProfile(snap, modules, &symbolizer);
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].values, (std::vector<int64_t>{10, 10240, 4, 4096}));
  EXPECT_EQ(p.period, 524288);
  EXPECT_EQ(p.mappings.size(), modules.size());
  const Location* loc = p.FindLocation(p.samples[0].location_ids[0]);
  ASSERT_NE(loc, nullptr);
  EXPECT_EQ(loc->address, ret - 1);
  EXPECT_NE(loc->mapping_id, 0u);
  const Function* f = p.FindFunction(loc->lines.back().function_id);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->name.find("BuildsSymbolizedProfile"), std::string::npos)
      << f->name;
  EXPECT_NE(f->filename.find("heap_profile_test.cc"), std::string::npos);
  const Location* unknown = p.FindLocation(p.samples[1].location_ids[0]);
  EXPECT_EQ(p.FindFunction(unknown->lines[0].function_id)->name,
            "[memmon: stack not captured]");
  // What was built is what pprof reads.
  Profile back;
  ASSERT_TRUE(DecodeProfile(EncodeProfile(p), &back).ok());
  EXPECT_EQ(back.samples.size(), 2u);
}

// The live ages reach the profile as numeric labels in milliseconds, and
// come back out of the encoded file.
TEST(HeapProfileTest, LiveAgesAsLabels) {
  HeapSnapshot snap;
  snap.sample_rate = 524288;
  HeapSite aged{{}, 1, 100, 2, 200};
  aged.live_age_median_s = 1.25;
  aged.live_age_oldest_s = 30;
  aged.age_samples = 2;
  snap.sites.push_back(aged);
  snap.sites.push_back({{}, 1, 100, 1, 100});  // no ages: no labels
  std::vector<Module> modules = LoadedModules();
  Symbolizer symbolizer;
  Profile p = BuildHeapProfile(snap, modules, &symbolizer);
  Profile back;
  ASSERT_TRUE(DecodeProfile(EncodeProfile(p), &back).ok());
  ASSERT_EQ(back.samples.size(), 2u);
  ASSERT_EQ(back.samples[0].labels.size(), 2u);
  EXPECT_EQ(back.samples[0].labels[0].key, kLiveAgeMedianLabel);
  EXPECT_EQ(back.samples[0].labels[0].num, 1250);
  EXPECT_EQ(back.samples[0].labels[0].num_unit, "ms");
  LiveAge age;
  ASSERT_TRUE(LiveAgeOf(back.samples[0], &age));
  EXPECT_DOUBLE_EQ(age.median_s, 1.25);
  EXPECT_DOUBLE_EQ(age.oldest_s, 30);
  EXPECT_FALSE(LiveAgeOf(back.samples[1], &age));
}

TEST(HeapProfileTest, DemangleAndUnknownAddresses) {
  EXPECT_EQ(Demangle("_Z4Leaki"), "Leak(int)");
  EXPECT_EQ(Demangle("main"), "main");
  EXPECT_EQ(Demangle("_Znot a name"), "_Znot a name");
  Symbolizer symbolizer;
  std::vector<SymbolFrame> f = symbolizer.Symbolize(16);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(f[0].function.empty());
}

}  // namespace
}  // namespace memmon::profile
