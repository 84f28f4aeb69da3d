// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/heap_profile.h"

#include <cmath>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace memmon::profile {

bool IsAllocationApiFrame(const std::string& function) {
  std::string_view f = function;
  // glibc's internal aliases.
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (std::string_view prefix : {"__GI_", "__libc_", "__"}) {
      if (f.substr(0, prefix.size()) == prefix) {
        f.remove_prefix(prefix.size());
        stripped = true;
      }
    }
  }
  std::size_t paren = f.find('(');
  std::string_view base = f.substr(0, paren);
  if (base.substr(0, 12) == "operator new" ||
      base.substr(0, 15) == "operator delete") {
    return true;
  }
  // The C++ library's allocation wrappers, often inlined into the caller:
  // the site is whoever called them. Matched on the name without template
  // arguments (a container's name mentions std::allocator<T> as an argument
  // and is not one), anywhere in it (a template's return type comes first).
  std::string plain;
  int depth = 0;
  for (char c : base) {
    if (c == '<') ++depth;
    if (depth == 0) plain.push_back(c);
    if (c == '>' && depth > 0) --depth;
  }
  static constexpr std::string_view kCxxWrappers[] = {
      "std::make_unique",           "std::make_shared",
      "std::allocate_shared",       "std::__new_allocator::",
      "__gnu_cxx::new_allocator::", "std::allocator_traits::",
      "std::allocator::allocate"};
  for (std::string_view w : kCxxWrappers) {
    if (plain.find(w) != std::string::npos) return true;
  }
  static constexpr std::string_view kNames[] = {
      "malloc",        "calloc",      "realloc",
      "reallocarray",  "free",        "memalign",
      "valloc",        "pvalloc",     "posix_memalign",
      "aligned_alloc", "strdup",      "strndup",
      "wcsdup",        "getline",     "getdelim",
      "asprintf",      "vasprintf",   "vasprintf_internal",
      "_mid_memalign", "tcache_init", "_int_malloc"};
  for (std::string_view n : kNames) {
    if (base == n) return true;
  }
  return false;
}

void AddMappings(const std::vector<Module>& modules, Profile* p) {
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const Module& m = modules[i];
    Mapping map;
    map.id = i + 1;
    map.memory_start = m.exec_start;
    map.memory_limit = m.exec_end;
    map.file_offset = m.exec_file_offset;
    map.filename = m.path;
    map.build_id = m.build_id;
    map.has_functions = map.has_filenames = map.has_line_numbers =
        map.has_inline_frames = true;
    p->mappings.push_back(std::move(map));
  }
}

std::pair<uint64_t, bool> StackLocations::Location(uintptr_t ret) {
  auto it = ids_.find(ret);
  if (it != ids_.end()) return it->second;
  // A return address points after the call; the call is one byte back.
  uintptr_t pc = ret > 0 ? ret - 1 : 0;
  profile::Location loc;
  loc.id = p_->locations.size() + 1;
  loc.address = pc;
  if (const Module* m = FindModule(*modules_, pc)) {
    loc.mapping_id = static_cast<uint64_t>(m - modules_->data()) + 1;
  }
  // frames[0] is the innermost inline frame: API frames inlined at the
  // leaf end are cut; a location that is all API is kept whole.
  // An address in no object mapped now was in one since unloaded (dlclose):
  // "[unknown]", never the name of whatever the symbolizer finds nearby.
  std::vector<SymbolFrame> frames =
      loc.mapping_id != 0 || modules_->empty()
          ? symbolizer_->Symbolize(pc)
          : std::vector<SymbolFrame>{SymbolFrame{}};
  std::size_t first = 0;
  while (first < frames.size() && is_api_(frames[first].function)) ++first;
  bool api = !frames.empty() && first == frames.size();
  for (std::size_t i = api ? 0 : first; i < frames.size(); ++i) {
    loc.lines.push_back({functions_->Id(frames[i]), frames[i].line});
  }
  p_->locations.push_back(std::move(loc));
  auto v = std::make_pair(p_->locations.back().id, api);
  ids_.emplace(ret, v);
  return v;
}

std::vector<uint64_t> StackLocations::Of(const std::vector<uintptr_t>& frames) {
  std::vector<uint64_t> ids;
  bool leading = true;
  for (uintptr_t ret : frames) {
    auto [id, api] = Location(ret);
    if (leading && api) continue;
    leading = false;
    ids.push_back(id);
  }
  if (ids.empty()) {
    if (unknown_ == 0) {
      profile::Location loc;
      loc.id = unknown_ = p_->locations.size() + 1;
      SymbolFrame f;
      f.function = "[memmon: stack not captured]";
      loc.lines.push_back({functions_->Id(f), 0});
      p_->locations.push_back(std::move(loc));
    }
    ids.push_back(unknown_);
  }
  return ids;
}

uint64_t FunctionTable::Id(const SymbolFrame& f) {
  std::string name = f.function.empty() ? "[unknown]" : f.function;
  auto key = std::make_tuple(name, f.system_name, f.file);
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  Function fn;
  fn.id = p_->functions.size() + 1;
  fn.name = name;
  fn.system_name = f.system_name.empty() ? name : f.system_name;
  fn.filename = f.file;
  p_->functions.push_back(fn);
  ids_.emplace(std::move(key), fn.id);
  return fn.id;
}

namespace {

int64_t Round(double v) { return static_cast<int64_t>(std::llround(v)); }

}  // namespace

Profile BuildHeapProfile(const HeapSnapshot& snapshot,
                         const std::vector<Module>& modules,
                         Symbolizer* symbolizer) {
  Profile p;
  p.sample_types = {{"alloc_objects", "count"},
                    {"alloc_space", "bytes"},
                    {"inuse_objects", "count"},
                    {"inuse_space", "bytes"}};
  p.period_type = {"space", "bytes"};
  p.period = static_cast<int64_t>(snapshot.sample_rate);
  p.time_nanos = snapshot.time_nanos;
  p.duration_nanos = snapshot.duration_nanos;
  p.comments = snapshot.comments;
  p.default_sample_type = "inuse_space";

  AddMappings(modules, &p);
  FunctionTable functions(&p);

  StackLocations stacks(&p, &modules, symbolizer, &functions,
                        IsAllocationApiFrame);
  for (const HeapSite& site : snapshot.sites) {
    Sample s;
    s.values = {Round(site.alloc_objects), Round(site.alloc_bytes),
                Round(site.inuse_objects), Round(site.inuse_bytes)};
    if (s.values[0] == 0 && s.values[1] == 0 && s.values[2] == 0 &&
        s.values[3] == 0) {
      continue;
    }
    s.location_ids = stacks.Of(site.frames);
    if (site.age_samples > 0 && site.inuse_objects > 0) {
      auto ms = [](double seconds) {
        return static_cast<int64_t>(seconds * 1000 + 0.5);
      };
      s.labels.push_back(
          {kLiveAgeMedianLabel, "", ms(site.live_age_median_s), "ms"});
      s.labels.push_back(
          {kLiveAgeOldestLabel, "", ms(site.live_age_oldest_s), "ms"});
    }
    p.samples.push_back(std::move(s));
  }
  return p;
}

}  // namespace memmon::profile
