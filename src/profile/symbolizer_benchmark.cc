// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What symbolizing addresses a Symbolizer has not seen costs: the unit
// index (Symbolize: one walk of each compilation unit's DWARF, then a
// binary search an address) against walking the unit's DWARF for each
// address (SymbolizeByWalking, what every new address cost before). A
// fresh Symbolizer each iteration, so every address is new; the addresses
// are spread evenly over this program's own code (Google Benchmark and
// memmon's profile library: templated C++, inlined heavily).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "profile/modules.h"
#include "profile/symbolizer.h"

namespace {

using memmon::profile::FindModule;
using memmon::profile::LoadedModules;
using memmon::profile::Module;
using memmon::profile::Symbolizer;

// `n` code addresses spread over this program's executable segment.
std::vector<uintptr_t> Addresses(std::size_t n) {
  std::vector<Module> modules = LoadedModules();
  const Module* self =
      FindModule(modules, reinterpret_cast<uintptr_t>(&Addresses));
  std::vector<uintptr_t> out;
  if (self == nullptr || self->exec_end <= self->exec_start) return out;
  const uintptr_t stride =
      std::max<uintptr_t>(1, (self->exec_end - self->exec_start) / n);
  for (uintptr_t pc = self->exec_start; pc < self->exec_end && out.size() < n;
       pc += stride) {
    out.push_back(pc);
  }
  return out;
}

template <bool kWalk>
void BM_SymbolizeNewAddresses(benchmark::State& state) {
  const std::vector<uintptr_t> pcs =
      Addresses(static_cast<std::size_t>(state.range(0)));
  if (pcs.empty()) {
    state.SkipWithError("no executable segment found for this program");
    return;
  }
  // The objects' ELF and DWARF opened once (both ways pay it alike).
  Symbolizer warm;
  warm.Symbolize(pcs.front());
  for (auto _ : state) {
    Symbolizer symbolizer;
    for (uintptr_t pc : pcs) {
      benchmark::DoNotOptimize(kWalk ? symbolizer.SymbolizeByWalking(pc)
                                     : symbolizer.Symbolize(pc));
    }
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(pcs.size()));
}

void BM_Symbolize_UnitIndex(benchmark::State& state) {
  BM_SymbolizeNewAddresses<false>(state);
}
void BM_Symbolize_WalkEachAddress(benchmark::State& state) {
  BM_SymbolizeNewAddresses<true>(state);
}

BENCHMARK(BM_Symbolize_UnitIndex)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Symbolize_WalkEachAddress)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
