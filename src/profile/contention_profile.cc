// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/contention_profile.h"

#include <cmath>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "profile/heap_profile.h"

namespace memmon::profile {

bool IsSynchronizationApiFrame(const std::string& function) {
  std::string_view f = function;
  while (!f.empty() && f.front() == '_') f.remove_prefix(1);  // __pthread_...
  for (std::string_view prefix :
       {"pthread_mutex_", "pthread_rwlock_", "pthread_cond_", "pthread_join",
        "pthread_timedjoin", "pthread_clockjoin", "pthread_barrier_", "sem_",
        "gthread_", "gthrw_", "futex_", "lll_", "GI___pthread", "GI_sem"}) {
    if (f.substr(0, prefix.size()) == prefix) return true;
  }
  // The C++ library's wrappers, matched on the name without template
  // arguments, anywhere in it (a template's return type comes first).
  std::string plain;
  int depth = 0;
  for (char c : f.substr(0, f.find('('))) {
    if (c == '<') ++depth;
    if (depth == 0) plain.push_back(c);
    if (c == '>' && depth > 0) --depth;
  }
  static constexpr std::string_view kCxxWrappers[] = {
      "std::mutex::",
      "std::recursive_mutex::",
      "std::timed_mutex::",
      "std::recursive_timed_mutex::",
      "std::shared_mutex::",
      "std::shared_timed_mutex::",
      "std::__shared_mutex_pthread::",
      "std::__shared_mutex_cv::",
      "std::unique_lock::",
      "std::shared_lock::",
      "std::lock_guard::",
      "std::scoped_lock::",
      "std::condition_variable::",
      "std::_V2::condition_variable_any::",
      "std::condition_variable_any::",
      "std::__condvar::",
      "std::thread::join",
      "std::jthread::join",
      "std::counting_semaphore::",
      "std::binary_semaphore::",
      "std::__platform_semaphore::",
      "std::barrier::",
      "std::latch::"};
  for (std::string_view w : kCxxWrappers) {
    if (plain.find(w) != std::string::npos) return true;
  }
  return false;
}

Profile BuildContentionProfile(const ContentionSnapshot& snapshot,
                               const std::vector<Module>& modules,
                               Symbolizer* symbolizer) {
  Profile p;
  p.sample_types = {{"contentions", "count"}, {"delay", "nanoseconds"}};
  p.period_type = {"contentions", "count"};
  p.period = 1;
  p.time_nanos = snapshot.time_nanos;
  p.duration_nanos = snapshot.duration_nanos;
  p.comments = snapshot.comments;
  p.default_sample_type = "delay";

  AddMappings(modules, &p);
  FunctionTable functions(&p);

  StackLocations stacks(&p, &modules, symbolizer, &functions,
                        IsSynchronizationApiFrame);
  for (const ContentionSite& site : snapshot.sites) {
    Sample s;
    s.values = {static_cast<int64_t>(std::llround(site.contentions)),
                static_cast<int64_t>(std::llround(site.delay_nanos))};
    if (s.values[0] == 0 && s.values[1] == 0) continue;
    s.location_ids = stacks.Of(site.frames);
    p.samples.push_back(std::move(s));
  }
  return p;
}

}  // namespace memmon::profile
