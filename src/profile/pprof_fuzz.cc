// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the profile reader that `memmon leaks`, `diff` and
// `report` run on files from anywhere: ParseProfile (gzip or raw
// profile.proto) must never crash, hang or read out of bounds; a profile it
// accepts must survive leak ranking and re-encode to the same profile.
// Seeds: tests/fuzz/pprof/.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "profile/leak_sites.h"
#include "profile/pprof.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memmon::profile;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Profile p;
  if (!ParseProfile(text, &p).ok()) return 0;
  TimedProfile one{0, &p};
  std::vector<TimedProfile> series = {one, {1, &p}};
  for (const char* type : {"inuse_space", "alloc_objects"}) {
    LeakRankingOptions options;
    options.sample_type = type;
    RankLeakSites(series, options);
  }
  Profile back;
  Check(DecodeProfile(EncodeProfile(p), &back).ok());
  Check(back.samples.size() == p.samples.size() &&
        back.locations.size() == p.locations.size() &&
        back.functions.size() == p.functions.size() && back.period == p.period);
  return 0;
}
