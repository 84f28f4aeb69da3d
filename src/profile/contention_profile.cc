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

  // One location per return address; `api` marks locations that are all
  // synchronisation API (skipped while they lead a stack).
  std::unordered_map<uintptr_t, std::pair<uint64_t, bool>> locations;
  auto location = [&](uintptr_t ret) -> std::pair<uint64_t, bool> {
    auto it = locations.find(ret);
    if (it != locations.end()) return it->second;
    uintptr_t pc = ret > 0 ? ret - 1 : 0;  // the call, one byte back
    Location loc;
    loc.id = p.locations.size() + 1;
    loc.address = pc;
    if (const Module* m = FindModule(modules, pc)) {
      loc.mapping_id = static_cast<uint64_t>(m - modules.data()) + 1;
    }
    std::vector<SymbolFrame> frames = symbolizer->Symbolize(pc);
    std::size_t first = 0;
    while (first < frames.size() &&
           IsSynchronizationApiFrame(frames[first].function)) {
      ++first;
    }
    bool api = !frames.empty() && first == frames.size();
    for (std::size_t i = api ? 0 : first; i < frames.size(); ++i) {
      loc.lines.push_back({functions.Id(frames[i]), frames[i].line});
    }
    p.locations.push_back(std::move(loc));
    auto v = std::make_pair(p.locations.back().id, api);
    locations.emplace(ret, v);
    return v;
  };

  uint64_t unknown_location = 0;
  for (const ContentionSite& site : snapshot.sites) {
    Sample s;
    s.values = {static_cast<int64_t>(std::llround(site.contentions)),
                static_cast<int64_t>(std::llround(site.delay_nanos))};
    if (s.values[0] == 0 && s.values[1] == 0) continue;
    bool leading = true;
    for (uintptr_t ret : site.frames) {
      auto [id, api] = location(ret);
      if (leading && api) continue;
      leading = false;
      s.location_ids.push_back(id);
    }
    if (s.location_ids.empty()) {
      if (unknown_location == 0) {
        Location loc;
        loc.id = unknown_location = p.locations.size() + 1;
        SymbolFrame f;
        f.function = "[memmon: stack not captured]";
        loc.lines.push_back({functions.Id(f), 0});
        p.locations.push_back(std::move(loc));
      }
      s.location_ids.push_back(unknown_location);
    }
    p.samples.push_back(std::move(s));
  }
  return p;
}

}  // namespace memmon::profile
