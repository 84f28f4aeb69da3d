// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/mmap_profile.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string_view>

#include "profile/heap_profile.h"

namespace memmon::profile {

bool IsMmapApiFrame(const std::string& function) {
  std::string_view f = function;
  while (!f.empty() && f.front() == '_') f.remove_prefix(1);  // __mmap64
  return f == "mmap" || f == "mmap64" || f == "GI___mmap64" || f == "GI___mmap";
}

Profile BuildMmapProfile(const MmapSnapshot& snapshot,
                         const std::vector<Module>& modules,
                         Symbolizer* symbolizer) {
  Profile p;
  p.sample_types = {{"mappings", "count"}, {"mapped_space", "bytes"}};
  p.period_type = {"mapped_space", "bytes"};
  p.period = 1;
  p.time_nanos = snapshot.time_nanos;
  p.duration_nanos = snapshot.duration_nanos;
  p.comments = snapshot.comments;
  p.default_sample_type = "mapped_space";

  AddMappings(modules, &p);
  FunctionTable functions(&p);
  StackLocations stacks(&p, &modules, symbolizer, &functions, IsMmapApiFrame);
  for (const MappedRegion& m : snapshot.mappings) {
    Sample s;
    s.values = {1, static_cast<int64_t>(m.length)};
    s.location_ids = stacks.Of(m.frames);
    Label address;
    address.key = "address";
    char hex[32];
    std::snprintf(hex, sizeof(hex), "0x%" PRIx64, m.start);
    address.str = hex;
    s.labels.push_back(std::move(address));
    Label age;
    age.key = "age";
    age.num = static_cast<int64_t>(m.age_s);
    age.num_unit = "seconds";
    s.labels.push_back(std::move(age));
    p.samples.push_back(std::move(s));
  }
  return p;
}

std::string MmapSiteLines(const Profile& profile, unsigned max) {
  const int bytes_index = profile.SampleTypeIndex("mapped_space");
  std::vector<const Sample*> order;
  for (const Sample& s : profile.samples) order.push_back(&s);
  auto bytes = [&](const Sample* s) -> int64_t {
    return bytes_index >= 0 &&
                   static_cast<std::size_t>(bytes_index) < s->values.size()
               ? s->values[bytes_index]
               : 0;
  };
  std::stable_sort(
      order.begin(), order.end(),
      [&](const Sample* a, const Sample* b) { return bytes(a) > bytes(b); });
  std::string out;
  for (const Sample* s : order) {
    if (max == 0) break;
    --max;
    std::string address;
    for (const Label& l : s->labels) {
      if (l.key == "address") address = l.str;
    }
    std::string function = "[unknown]", where;
    if (!s->location_ids.empty()) {
      const Location* loc = profile.FindLocation(s->location_ids[0]);
      if (loc != nullptr && !loc->lines.empty()) {
        // The innermost of the leaf location's inline frames, as pprof
        // names the leaf: the line that called mmap.
        const Line& line = loc->lines.front();
        if (const Function* fn = profile.FindFunction(line.function_id)) {
          function = fn->name;
          if (!fn->filename.empty()) {
            where = fn->filename + ":" + std::to_string(line.line);
          }
        }
      }
    }
    out += address + "\t" + std::to_string(bytes(s)) + "\t" + function + "\t" +
           where + "\n";
  }
  return out;
}

}  // namespace memmon::profile
