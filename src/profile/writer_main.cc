// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libmemmon_writer.so: turns the heap sampler's raw data into a pprof file.
// The sampler dlopens it the first time it writes a profile, so processes
// that never write one never map libdw, libelf or zlib.
//
// Runs on an ordinary thread (never inside malloc): it allocates freely;
// the sampler keeps those allocations out of the samples.

#include <cstdio>

#include "heap_profile.h"
#include "modules.h"
#include "pprof.h"
#include "preload/memmon_preload.h"
#include "symbolizer.h"

extern "C" __attribute__((visibility("default"))) int memmon_writer_write_heap(
    const memmon_raw_heap* heap, const char* path, char* error,
    size_t error_len) {
  using namespace memmon::profile;
  memmon::Status status;
  try {
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
      snap.sites.push_back(std::move(site));
    }
    std::vector<Module> modules = LoadedModules();
    Symbolizer symbolizer;
    Profile profile = BuildHeapProfile(snap, modules, &symbolizer);
    status = WriteProfileFile(profile, path);
  } catch (const std::exception& e) {
    status = memmon::Status(memmon::StatusCode::kInternal, e.what());
  }
  if (status.ok()) return 0;
  if (error != nullptr && error_len > 0) {
    std::snprintf(error, error_len, "%s", status.message().c_str());
  }
  return -1;
}
