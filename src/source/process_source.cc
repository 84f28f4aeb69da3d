// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/process_source.h"

#include <dlfcn.h>

#include <algorithm>

namespace memmon::internal {

std::optional<double> AllocatorCpuFraction(
    const memmon_preload_allocator_time& before,
    const memmon_preload_allocator_time& now) {
  if (now.cpu_nanos == 0 || now.allocator_nanos < before.allocator_nanos ||
      now.cpu_nanos < before.cpu_nanos + kMinAllocatorShareCpuNanos) {
    return std::nullopt;
  }
  const double share =
      static_cast<double>(now.allocator_nanos - before.allocator_nanos) /
      static_cast<double>(now.cpu_nanos - before.cpu_nanos);
  return std::clamp(share, 0.0, 1.0);
}

ProcessSource::ProcessSource(const MonitorConfig& config)
    : this_process_(config.pid == 0),
      with_pss_(config.enable_pss),
      with_allocator_(config.enable_allocator_stats && config.pid == 0),
      proc_(config.pid),
      pid_(config.pid),
      smaps_(config.pid) {}

Status ProcessSource::Open() {
  if (Status s = proc_.Open(); !s.ok()) return s;
  if (this_process_) {
    allocator_ = AllocatorStats::Detect();
    // A bypassed sampler (allocator_stats.h) times no allocation call.
    if (allocator_.sampler_serves_malloc()) {
      allocator_time_ = reinterpret_cast<memmon_preload_allocator_time_fn>(
          dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_ALLOCATOR_TIME_SYMBOL));
    }
  }
  limits_open_ = limits_.Open(pid_).ok();  // none found: fields unknown
  return Status::Ok();
}

bool ProcessSource::Read(Sample* s) {
  // Before Open (a TakeSample whose Open failed) nothing is known, and
  // nothing says the process is gone.
  if (!proc_.Read(s, with_pss_) && proc_.is_open()) return false;
  if (with_allocator_) {
    if (allocator_budget_.Due(s->monotonic)) {
      auto start = std::chrono::steady_clock::now();
      allocator_.ReadAllocator(s);
      allocator_budget_.Record(start, std::chrono::steady_clock::now());
    } else {
      s->allocator = allocator_.kind();
      s->allocator_skipped = allocator_.kind() != AllocatorKind::kUnknown;
    }
    allocator_.ReadSamplerCounters(s);  // exact and cheap: every sample
  }
  if (allocator_time_ != nullptr) {  // a few microseconds: every sample
    memmon_preload_allocator_time now{};
    allocator_time_(&now, sizeof(now));
    // The interval grows until it has enough CPU time to give a share.
    if (!last_allocator_time_ ||
        now.allocator_nanos < last_allocator_time_->allocator_nanos ||
        now.cpu_nanos < last_allocator_time_->cpu_nanos) {
      last_allocator_time_ = now;
    } else if (std::optional<double> share =
                   AllocatorCpuFraction(*last_allocator_time_, now)) {
      s->allocator_cpu_fraction = share;
      last_allocator_time_ = now;
    }
  }
  // After the allocator's figures, which split the heap.
  if (proc_.is_open() && smaps_budget_.Due(s->monotonic)) {
    auto start = std::chrono::steady_clock::now();
    smaps_.Read(s);
    smaps_budget_.Record(start, std::chrono::steady_clock::now());
  }
  if (limits_open_ && s->rss_bytes && limit_budget_.Due(s->monotonic)) {
    auto start = std::chrono::steady_clock::now();
    uint64_t limit = 0, usage = 0;
    LimitKind kind = LimitKind::kUnknown;
    if (limits_.Read(*s->rss_bytes, &limit, &usage, &kind, s->monotonic)) {
      s->memory_limit_bytes = limit;
      s->memory_limit_usage_bytes = usage;
      s->memory_limit_kind = kind;
    }
    s->memory_limit_oom_kills = limits_.OomKills();
    limit_budget_.Record(start, std::chrono::steady_clock::now());
  }
  return true;
}

void ProcessSource::ReleaseFreeMemory() {
  if (this_process_) allocator_.ReleaseFreeMemory();
}

void ProcessSource::SnapshotHeap(const char* reason) {
  if (this_process_) allocator_.SnapshotHeap(reason);
}

std::vector<AllocationSite> ProcessSource::TopAllocationSites(std::size_t n) {
  if (!this_process_) return {};
  return allocator_.TopAllocationSites(n);
}

}  // namespace memmon::internal
