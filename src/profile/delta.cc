// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/delta.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace memmon::profile {
namespace {

// A location as both profiles know it: its address and its mapping's file.
using Place = std::pair<uint64_t, std::string>;

Place PlaceOf(const Profile& p, const Location& loc) {
  std::string file;
  for (const Mapping& m : p.mappings) {
    if (m.id == loc.mapping_id) {
      file = m.filename;
      break;
    }
  }
  return {loc.address, std::move(file)};
}

// A sample's identity: its stack's places and its labels.
std::string KeyOf(const Profile& p, const Sample& s) {
  std::string key;
  for (uint64_t id : s.location_ids) {
    const Location* loc = p.FindLocation(id);
    Place place = loc ? PlaceOf(p, *loc) : Place{0, "?"};
    key += std::to_string(place.first) + "@" + place.second + ";";
  }
  for (const Label& l : s.labels) {
    key += "|" + l.key + "=" + l.str + ":" + std::to_string(l.num) + l.num_unit;
  }
  return key;
}

}  // namespace

Status Subtract(const Profile& later, const Profile& earlier, Profile* out) {
  if (later.sample_types != earlier.sample_types) {
    return Status::InvalidArgument(
        "the two profiles have different sample types");
  }
  Profile p = later;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < p.samples.size(); ++i) {
    index.emplace(KeyOf(p, p.samples[i]), i);
  }
  // Where `earlier`'s locations, functions and mappings are in `p`,
  // added on first use when `later` lacks them.
  std::map<Place, uint64_t> places;
  for (const Location& loc : p.locations)
    places.emplace(PlaceOf(p, loc), loc.id);
  std::map<uint64_t, uint64_t> location_ids, function_ids, mapping_ids;
  // The next free id of each table, found once.
  auto max_id = [](const auto& items) {
    uint64_t id = 0;
    for (const auto& x : items) id = std::max(id, x.id);
    return id;
  };
  uint64_t last_mapping = max_id(p.mappings);
  uint64_t last_function = max_id(p.functions);
  uint64_t last_location = max_id(p.locations);
  auto map_mapping = [&](uint64_t id) -> uint64_t {
    if (id == 0) return 0;
    if (auto it = mapping_ids.find(id); it != mapping_ids.end()) {
      return it->second;
    }
    uint64_t to = 0;
    for (const Mapping& m : earlier.mappings) {
      if (m.id != id) continue;
      for (const Mapping& n : p.mappings) {
        if (n.filename == m.filename && n.memory_start == m.memory_start) {
          to = n.id;
        }
      }
      if (to == 0) {
        Mapping copy = m;
        copy.id = to = ++last_mapping;
        p.mappings.push_back(std::move(copy));
      }
    }
    mapping_ids[id] = to;
    return to;
  };
  auto map_function = [&](uint64_t id) -> uint64_t {
    if (auto it = function_ids.find(id); it != function_ids.end()) {
      return it->second;
    }
    uint64_t to = 0;
    if (const Function* f = earlier.FindFunction(id)) {
      for (const Function& g : p.functions) {
        if (g.system_name == f->system_name && g.filename == f->filename) {
          to = g.id;
          break;
        }
      }
      if (to == 0) {
        Function copy = *f;
        copy.id = to = ++last_function;
        p.functions.push_back(std::move(copy));
      }
    }
    function_ids[id] = to;
    return to;
  };
  auto map_location = [&](uint64_t id) -> uint64_t {
    if (auto it = location_ids.find(id); it != location_ids.end()) {
      return it->second;
    }
    uint64_t to = 0;
    if (const Location* loc = earlier.FindLocation(id)) {
      Place place = PlaceOf(earlier, *loc);
      if (auto it = places.find(place); it != places.end()) {
        to = it->second;
      } else {
        Location copy = *loc;
        copy.id = to = ++last_location;
        copy.mapping_id = map_mapping(loc->mapping_id);
        for (Line& line : copy.lines) {
          line.function_id = map_function(line.function_id);
        }
        p.locations.push_back(std::move(copy));
        places.emplace(std::move(place), to);
      }
    }
    location_ids[id] = to;
    return to;
  };
  for (const Sample& s : earlier.samples) {
    std::string key = KeyOf(earlier, s);
    if (auto it = index.find(key); it != index.end()) {
      Sample& t = p.samples[it->second];
      for (std::size_t v = 0; v < t.values.size() && v < s.values.size(); ++v) {
        t.values[v] -= s.values[v];
      }
      continue;
    }
    Sample neg = s;
    for (uint64_t& id : neg.location_ids) id = map_location(id);
    for (int64_t& v : neg.values) v = -v;
    index.emplace(std::move(key), p.samples.size());
    p.samples.push_back(std::move(neg));
  }
  std::erase_if(p.samples, [](const Sample& s) {
    return std::all_of(s.values.begin(), s.values.end(),
                       [](int64_t v) { return v == 0; });
  });
  if (later.time_nanos > earlier.time_nanos && earlier.time_nanos > 0) {
    p.duration_nanos = later.time_nanos - earlier.time_nanos;
  }
  *out = std::move(p);
  return Status::Ok();
}

}  // namespace memmon::profile
