// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libmemmon_writer.so: turns the heap sampler's raw data into a pprof file,
// or into the list of the sites holding the most live heap.
// The sampler dlopens it the first time it writes a profile, so processes
// that never write one never map libdw, libelf or zlib.
//
// Runs on an ordinary thread (never inside malloc): it allocates freely;
// the sampler keeps those allocations out of the samples.

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "base/export.h"
#include "memmon/memmon_preload.h"
#include "profile/contention_profile.h"
#include "profile/heap_profile.h"
#include "profile/leak_sites.h"
#include "profile/mmap_profile.h"
#include "profile/modules.h"
#include "profile/pprof.h"
#include "profile/symbolizer.h"

namespace {

// One symbolizer for the life of the process (never destroyed: the exit
// profile is written from an exit handler). The sampler serialises calls.
memmon::profile::SymbolizerCache* g_cache = nullptr;

memmon::profile::Symbolizer* SymbolizerFor(
    const std::vector<memmon::profile::Module>& modules) {
  if (g_cache == nullptr) g_cache = new memmon::profile::SymbolizerCache();
  return g_cache->For(modules);
}

// The raw heap as a symbolized pprof profile.
memmon::profile::Profile ProfileOf(const memmon_raw_heap* heap) {
  using namespace memmon::profile;
  HeapSnapshot snap;
  snap.sample_rate = heap->sample_rate;
  snap.time_nanos = heap->time_nanos;
  snap.duration_nanos = heap->duration_nanos;
  for (size_t i = 0; i < heap->comment_count; ++i) {
    snap.comments.emplace_back(heap->comments[i]);
  }
  snap.sites.reserve(heap->site_count);
  for (size_t i = 0; i < heap->site_count; ++i) {
    const memmon_raw_site& r = heap->sites[i];
    HeapSite site;
    site.frames.assign(r.frames, r.frames + r.depth);
    site.alloc_objects = r.alloc_objects;
    site.alloc_bytes = r.alloc_bytes;
    site.inuse_objects = r.inuse_objects;
    site.inuse_bytes = r.inuse_bytes;
    site.live_age_median_s = r.live_age_median_s;
    site.live_age_oldest_s = r.live_age_oldest_s;
    site.age_samples = r.age_samples;
    snap.sites.push_back(std::move(site));
  }
  std::vector<Module> modules = LoadedModules();
  return BuildHeapProfile(snap, modules, SymbolizerFor(modules));
}

void SetError(const std::string& message, char* error, size_t error_len) {
  if (error != nullptr && error_len > 0) {
    std::snprintf(error, error_len, "%s", message.c_str());
  }
}

}  // namespace

MEMMON_EXPORT int memmon_writer_write_heap(const memmon_raw_heap* heap,
                                           const char* path, char* error,
                                           size_t error_len) {
  memmon::Status status;
  try {
    status = memmon::profile::WriteProfileFile(ProfileOf(heap), path);
  } catch (const std::exception& e) {
    status = memmon::Status(memmon::StatusCode::kInternal, e.what());
  }
  if (status.ok()) return 0;
  SetError(status.message(), error, error_len);
  return -1;
}

MEMMON_EXPORT long memmon_writer_top_sites(const memmon_raw_heap* heap,
                                           char* out, size_t size,
                                           unsigned max_sites) {
  using namespace memmon::profile;
  if (out == nullptr || size == 0) return -1;
  try {
    Profile profile = ProfileOf(heap);
    // One snapshot: no site grew, so the ranking is by bytes in use.
    TimedProfile now{0, &profile};
    std::vector<SiteGrowth> sites = RankLeakSites({&now, 1});
    size_t used = 0;
    for (const SiteGrowth& site : sites) {
      if (max_sites == 0) break;
      if (site.last_bytes <= 0) continue;
      const StackFrame* at = site.stack.empty() ? nullptr : &site.stack[0];
      std::string line = fmt::format(
          "{:.0f}\t{}\t{}\t{}\n", site.last_bytes, at ? at->line : 0,
          site.function, at && !at->file.empty() ? at->file : site.file);
      if (used + line.size() >= size) break;  // only whole lines
      std::memcpy(out + used, line.data(), line.size());
      used += line.size();
      --max_sites;
    }
    out[used] = '\0';
    return static_cast<long>(used);
  } catch (const std::exception& e) {
    SetError(e.what(), out, size);
    return -1;
  }
}

// ---- mutex and block profiles -----------------------------------------------
MEMMON_EXPORT int memmon_writer_write_contention(
    const memmon_raw_contention* raw, const char* path, char* error,
    size_t error_len) {
  using namespace memmon::profile;
  memmon::Status status;
  try {
    ContentionSnapshot snap;
    snap.time_nanos = raw->time_nanos;
    snap.duration_nanos = raw->duration_nanos;
    for (size_t i = 0; i < raw->comment_count; ++i) {
      snap.comments.emplace_back(raw->comments[i]);
    }
    snap.sites.reserve(raw->site_count);
    for (size_t i = 0; i < raw->site_count; ++i) {
      const memmon_raw_contention_site& r = raw->sites[i];
      ContentionSite site;
      site.frames.assign(r.frames, r.frames + r.depth);
      site.contentions = r.contentions;
      site.delay_nanos = r.delay_nanos;
      snap.sites.push_back(std::move(site));
    }
    std::vector<Module> modules = LoadedModules();
    status = WriteProfileFile(
        BuildContentionProfile(snap, modules, SymbolizerFor(modules)), path);
  } catch (const std::exception& e) {
    status = memmon::Status(memmon::StatusCode::kInternal, e.what());
  }
  if (status.ok()) return 0;
  SetError(status.message(), error, error_len);
  return -1;
}

// ---- the mmap profile -------------------------------------------------------
namespace {

memmon::profile::Profile MmapProfileOf(const memmon_raw_mmap* raw) {
  using namespace memmon::profile;
  MmapSnapshot snap;
  snap.time_nanos = raw->time_nanos;
  snap.duration_nanos = raw->duration_nanos;
  for (size_t i = 0; i < raw->comment_count; ++i) {
    snap.comments.emplace_back(raw->comments[i]);
  }
  snap.mappings.reserve(raw->mapping_count);
  for (size_t i = 0; i < raw->mapping_count; ++i) {
    const memmon_raw_mapping& r = raw->mappings[i];
    MappedRegion m;
    m.frames.assign(r.frames, r.frames + r.depth);
    m.start = r.start;
    m.length = r.length;
    m.age_s = r.age_s;
    snap.mappings.push_back(std::move(m));
  }
  std::vector<Module> modules = LoadedModules();
  return BuildMmapProfile(snap, modules, SymbolizerFor(modules));
}

}  // namespace

MEMMON_EXPORT int memmon_writer_write_mmap(const memmon_raw_mmap* raw,
                                           const char* path, char* error,
                                           size_t error_len) {
  memmon::Status status;
  try {
    status = memmon::profile::WriteProfileFile(MmapProfileOf(raw), path);
  } catch (const std::exception& e) {
    status = memmon::Status(memmon::StatusCode::kInternal, e.what());
  }
  if (status.ok()) return 0;
  SetError(status.message(), error, error_len);
  return -1;
}

MEMMON_EXPORT long memmon_writer_mmap_sites(const memmon_raw_mmap* raw,
                                            char* out, size_t size,
                                            unsigned max_mappings) {
  if (out == nullptr || size == 0) return -1;
  try {
    std::string text =
        memmon::profile::MmapSiteLines(MmapProfileOf(raw), max_mappings);
    // Only whole lines.
    size_t used = text.size();
    if (used >= size) {
      used = size < 2 ? std::string::npos : text.rfind('\n', size - 2);
      used = used == std::string::npos ? 0 : used + 1;
    }
    std::memcpy(out, text.data(), used);
    out[used] = '\0';
    return static_cast<long>(used);
  } catch (const std::exception& e) {
    SetError(e.what(), out, size);
    return -1;
  }
}
