// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/allocator_stats.h"

#include <dlfcn.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "memmon/memmon_preload.h"

namespace memmon::internal {
namespace {

// The shared object that defines `symbol` as seen from the global scope.
const void* DefiningObject(const char* symbol, void** address) {
  *address = dlsym(RTLD_DEFAULT, symbol);
  if (*address == nullptr) return nullptr;
  Dl_info info;
  if (dladdr(*address, &info) == 0) return nullptr;
  return info.dli_fbase;
}

template <typename Fn>
Fn As(void* p) {
  return reinterpret_cast<Fn>(p);
}

}  // namespace

AllocatorStats AllocatorStats::Detect() {
  AllocatorStats stats = DetectAllocator();
  // The heap sampler, looked up by name: no link-time dependency on it.
  // Its counters count only when its malloc is the process's
  // (ReadSamplerCounters); its snapshots and top sites are offered either
  // way (they show what it saw).
  stats.preload_counters_ = As<memmon_preload_counters_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_COUNTERS_SYMBOL));
  stats.preload_snapshot_ = As<memmon_preload_snapshot_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_SNAPSHOT_SYMBOL));
  stats.preload_top_sites_ = As<memmon_preload_top_sites_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_TOP_SITES_SYMBOL));
  return stats;
}

std::vector<AllocationSite> AllocatorStats::TopAllocationSites(
    std::size_t n) const {
  if (preload_top_sites_ == nullptr || n == 0) return {};
  std::string text(64 * 1024, '\0');
  long len =
      preload_top_sites_(text.data(), text.size(), static_cast<unsigned>(n));
  if (len <= 0) return {};
  text.resize(static_cast<std::size_t>(len));
  return ParseTopSites(text, n);
}

std::vector<AllocationSite> ParseTopSites(std::string_view text,
                                          std::size_t max_sites) {
  std::vector<AllocationSite> sites;
  // <inuse_bytes>\t<line>\t<function>\t<file>\n per site; a line that
  // does not parse is skipped.
  while (!text.empty() && sites.size() < max_sites) {
    std::size_t end = text.find('\n');
    if (end == std::string_view::npos) break;  // a cut last line
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string_view field[4];
    std::size_t count = 0;
    while (count < 3) {
      std::size_t tab = line.find('\t');
      if (tab == std::string_view::npos) break;
      field[count++] = line.substr(0, tab);
      line.remove_prefix(tab + 1);
    }
    if (count != 3 || field[2].empty()) continue;
    field[3] = line;
    auto number = [](std::string_view s, auto* v) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
      return ec == std::errc() && p == s.data() + s.size();
    };
    AllocationSite site;
    uint64_t bytes = 0;
    if (!number(field[0], &bytes) || !number(field[1], &site.line)) continue;
    site.inuse_bytes = static_cast<double>(bytes);
    site.function = std::string(field[2]);
    site.file = std::string(field[3]);
    sites.push_back(std::move(site));
  }
  return sites;
}

void AllocatorStats::SnapshotHeap(const char* reason) const {
  if (preload_snapshot_ != nullptr) preload_snapshot_(reason);
}

AllocatorStats AllocatorStats::DetectAllocator() {
  AllocatorStats stats;
  void* malloc_addr = nullptr;
  const void* malloc_object = DefiningObject("malloc", &malloc_addr);
  // Under memmon's heap sampler (preloaded or linked), malloc is the
  // sampler's: the allocator is the one it forwards to.
  void* real_fn = nullptr;
  const void* sampler_object =
      DefiningObject(MEMMON_PRELOAD_REAL_MALLOC_SYMBOL, &real_fn);
  if (sampler_object != nullptr && sampler_object == malloc_object) {
    stats.sampler_serves_malloc_ = true;
    void* real = As<memmon_preload_real_malloc_fn>(real_fn)();
    Dl_info info;
    if (real != nullptr && dladdr(real, &info) != 0) {
      malloc_object = info.dli_fbase;
    }
  }
  // A candidate must come from the object that serves malloc. When dladdr
  // cannot tell (static binaries), accept the symbol's presence.
  auto serves_malloc = [&](const char* symbol, void** addr) {
    const void* object = DefiningObject(symbol, addr);
    return *addr != nullptr &&
           (malloc_object == nullptr || object == malloc_object);
  };

  void* p = nullptr;
  if (serves_malloc("mallctl", &p)) {
    stats.kind_ = AllocatorKind::kJemalloc;
    stats.mallctl_ = As<MallctlFn>(p);
    return stats;
  }
  if (serves_malloc("MallocExtension_GetNumericProperty", &p)) {
    stats.kind_ = AllocatorKind::kTcmalloc;
    stats.tc_property_ = As<TcPropertyFn>(p);
    stats.tc_release_ = As<TcReleaseFn>(
        dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
    return stats;
  }
  if (serves_malloc("mallinfo2", &p)) {
    stats.kind_ = AllocatorKind::kGlibc;
    stats.mallinfo2_ = As<Mallinfo2Fn>(p);
    stats.malloc_trim_ = As<MallocTrimFn>(dlsym(RTLD_DEFAULT, "malloc_trim"));
    return stats;
  }
  return stats;
}

void AllocatorStats::Read(Sample* sample) const {
  ReadAllocator(sample);
  ReadSamplerCounters(sample);
}

void AllocatorStats::ReadSamplerCounters(Sample* sample) const {
  // A sampler that is loaded but bypassed (another allocator defines the
  // malloc the process calls) counts nothing: its zeros would replace the
  // allocator's bytes in use.
  if (preload_counters_ == nullptr || !sampler_serves_malloc_) return;
  memmon_preload_counters c{};
  if (preload_counters_(&c, sizeof(c)) != 0) return;
  sample->total_allocated_bytes = c.allocated_bytes;
  sample->allocations = c.allocations;
  sample->frees = c.frees;
  sample->heap_inuse_bytes = c.inuse_bytes;
}

void AllocatorStats::ReadAllocator(Sample* sample) const {
  sample->allocator = kind_;
  switch (kind_) {
    case AllocatorKind::kGlibc: {
      GlibcInfo mi = mallinfo2_();
      sample->heap_inuse_bytes = mi.uordblks + mi.hblkhd;
      sample->heap_free_bytes = mi.fordblks;
      sample->heap_system_bytes = mi.arena + mi.hblkhd;
      return;
    }
    case AllocatorKind::kJemalloc: {
      uint64_t epoch = 1;
      size_t len = sizeof(epoch);
      // Statistics are a snapshot taken at the last epoch: advance it.
      if (mallctl_("epoch", &epoch, &len, &epoch, sizeof(epoch)) != 0) return;
      size_t allocated = 0, mapped = 0, metadata = 0;
      len = sizeof(size_t);
      if (mallctl_("stats.allocated", &allocated, &len, nullptr, 0) != 0)
        return;
      len = sizeof(size_t);
      if (mallctl_("stats.mapped", &mapped, &len, nullptr, 0) != 0) return;
      // The allocator's own structures (base allocations, not in mapped).
      len = sizeof(size_t);
      if (mallctl_("stats.metadata", &metadata, &len, nullptr, 0) != 0) {
        metadata = 0;
      }
      const size_t system = mapped + metadata;
      sample->heap_inuse_bytes = allocated;
      sample->heap_system_bytes = system;
      sample->heap_free_bytes = system > allocated ? system - allocated : 0;
      return;
    }
    case AllocatorKind::kTcmalloc: {
      size_t allocated = 0, heap = 0, unmapped = 0, metadata = 0;
      if (!tc_property_("generic.current_allocated_bytes", &allocated) ||
          !tc_property_("generic.heap_size", &heap)) {
        return;
      }
      if (!tc_property_("tcmalloc.pageheap_unmapped_bytes", &unmapped)) {
        unmapped = 0;
      }
      // Its own structures (span and thread-cache records, not in the
      // page heap).
      if (!tc_property_("tcmalloc.metadata_bytes", &metadata)) metadata = 0;
      size_t system = (heap > unmapped ? heap - unmapped : 0) + metadata;
      sample->heap_inuse_bytes = allocated;
      sample->heap_system_bytes = system;
      sample->heap_free_bytes = system > allocated ? system - allocated : 0;
      return;
    }
    case AllocatorKind::kUnknown:
      return;
  }
}

bool AllocatorStats::ReleaseFreeMemory() const {
  switch (kind_) {
    case AllocatorKind::kGlibc:
      if (malloc_trim_ == nullptr) return false;
      malloc_trim_(0);
      return true;
    case AllocatorKind::kJemalloc:
      // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
      return mallctl_("arena.4096.purge", nullptr, nullptr, nullptr, 0) == 0;
    case AllocatorKind::kTcmalloc:
      if (tc_release_ == nullptr) return false;
      tc_release_();
      return true;
    case AllocatorKind::kUnknown:
      return false;
  }
  return false;
}

}  // namespace memmon::internal
