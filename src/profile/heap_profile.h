// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Turning the heap sampler's raw data (stacks of return addresses with
// un-biased totals) into a pprof heap profile: sample types alloc_objects,
// alloc_space, inuse_objects, inuse_space (as Go writes them), period_type
// space/bytes with period = the sampling rate, one mapping per loaded
// object with its build ID, locations symbolized with inline frames.
//
// Each stack is attributed to its first frame outside the allocation API:
// leading frames in malloc & co., operator new and libc's allocating helpers
// (strdup, getline, ...) are trimmed (IsAllocationApiFrame lists them).
//
// Thread-safety: free functions; allocates (never call inside malloc).
#ifndef MEMMON_SRC_PROFILE_HEAP_PROFILE_H_
#define MEMMON_SRC_PROFILE_HEAP_PROFILE_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "profile/modules.h"
#include "profile/profile.h"
#include "profile/symbolizer.h"

namespace memmon::profile {

struct HeapSite {
  std::vector<uintptr_t> frames;  // return addresses, innermost first
  double alloc_objects = 0;
  double alloc_bytes = 0;
  double inuse_objects = 0;
  double inuse_bytes = 0;
  // The age of the live objects (age_samples > 0 when known): written as
  // the sample's numeric labels kLiveAgeMedianLabel and kLiveAgeOldestLabel,
  // in milliseconds (num_unit "ms"), which `go tool pprof -tags` shows and
  // LiveAgeOf reads back.
  double live_age_median_s = 0;
  double live_age_oldest_s = 0;
  uint64_t age_samples = 0;
};

inline constexpr char kLiveAgeMedianLabel[] = "live_age_median";
inline constexpr char kLiveAgeOldestLabel[] = "live_age_oldest";

// A sample's live ages (seconds) from its labels; false when it has none.
struct LiveAge {
  double median_s = 0;
  double oldest_s = 0;
};
// Inline: the pprof parser's fuzz target links leak_sites without the
// symbolizer this file's builder needs.
inline bool LiveAgeOf(const Sample& sample, LiveAge* out) {
  bool median = false, oldest = false;
  for (const Label& l : sample.labels) {
    // Milliseconds as written; seconds too, should a profile use them.
    double scale = l.num_unit == "s" || l.num_unit == "seconds" ? 1 : 1e-3;
    if (l.key == kLiveAgeMedianLabel) {
      out->median_s = static_cast<double>(l.num) * scale;
      median = true;
    } else if (l.key == kLiveAgeOldestLabel) {
      out->oldest_s = static_cast<double>(l.num) * scale;
      oldest = true;
    }
  }
  return median && oldest;
}

struct HeapSnapshot {
  std::vector<HeapSite> sites;
  uint64_t sample_rate = 0;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  std::vector<std::string> comments;
};

// What every profile memmon builds shares (heap and thread profiles): one
// Mapping per loaded module, with its build ID ...
void AddMappings(const std::vector<Module>& modules, Profile* p);

// ... and one Function per (name, system name, file), created on first use.
class FunctionTable {
 public:
  explicit FunctionTable(Profile* p) : p_(p) {}
  uint64_t Id(const SymbolFrame& frame);

 private:
  Profile* p_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> ids_;
};

// ... and the stacks of its samples (heap and contention profiles): one
// Location per return address, symbolized with its inline frames. Frames
// that `is_api` matches at a location's leaf end (an allocation or locking
// wrapper inlined into its caller) are cut, so the caller becomes the
// site; a location that is all API is kept whole and skipped while it
// leads a stack. A stack left with no location gets one
// "[memmon: stack not captured]" location.
class StackLocations {
 public:
  using IsApi = bool (*)(const std::string& function);
  StackLocations(Profile* p, const std::vector<Module>* modules,
                 Symbolizer* symbolizer, FunctionTable* functions, IsApi is_api)
      : p_(p),
        modules_(modules),
        symbolizer_(symbolizer),
        functions_(functions),
        is_api_(is_api) {}
  // The location ids of a stack of return addresses, innermost first.
  std::vector<uint64_t> Of(const std::vector<uintptr_t>& frames);

 private:
  std::pair<uint64_t, bool> Location(uintptr_t ret);

  Profile* p_;
  const std::vector<Module>* modules_;
  Symbolizer* symbolizer_;
  FunctionTable* functions_;
  IsApi is_api_;
  std::unordered_map<uintptr_t, std::pair<uint64_t, bool>> ids_;
  uint64_t unknown_ = 0;
};

// True for functions that only allocate on their caller's behalf.
bool IsAllocationApiFrame(const std::string& function);

Profile BuildHeapProfile(const HeapSnapshot& snapshot,
                         const std::vector<Module>& modules,
                         Symbolizer* symbolizer);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_HEAP_PROFILE_H_
