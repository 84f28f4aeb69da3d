// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/raw_heap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "memmon/memmon_preload.h"
#include "profile/heap_profile.h"
#include "profile/modules.h"
#include "profile/pprof.h"
#include "profile/symbolizer.h"

namespace memmon::profile {
namespace {

// Reads words off the dump; any read past the end sets `bad`.
struct Reader {
  const std::string& data;
  size_t at = 0;
  bool bad = false;
  uint64_t Word() {
    uint64_t v = 0;
    if (at + 8 > data.size()) {
      bad = true;
      return 0;
    }
    std::memcpy(&v, data.data() + at, 8);
    at += 8;
    return v;
  }
  std::string Padded() {
    const uint64_t n = Word();
    if (bad || n > data.size() - at) {
      bad = true;
      return {};
    }
    std::string s = data.substr(at, n);
    at += (n + 7) / 8 * 8;
    return s;
  }
};

// The sampler's weights (sampler.h): a sample of `size` bytes at rate R
// stands for size / (1 - exp(-size/R)) bytes; 0 bytes, one object.
double WeightBytes(uint64_t size, uint64_t rate) {
  if (rate <= 1 || size == 0) return static_cast<double>(size);
  const double s = static_cast<double>(size);
  return s / -std::expm1(-s / static_cast<double>(rate));
}

// The executable file mappings of a maps text, as modules (no build IDs:
// the pprof mapping is named by path).
std::vector<Module> ModulesOf(const std::string& maps) {
  std::vector<Module> modules;
  std::istringstream in(maps);
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long lo = 0, hi = 0, offset = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi,
                    perms, &offset, &path_at) < 4 ||
        path_at <= 0 || perms[2] != 'x') {
      continue;
    }
    std::string path = line.substr(static_cast<size_t>(path_at));
    if (path.empty() || path[0] != '/') continue;
    Module m;
    m.path = path;
    m.exec_start = lo;
    m.exec_end = hi;
    m.exec_file_offset = offset;
    m.bias = lo - offset;
    modules.push_back(std::move(m));
  }
  return modules;
}

}  // namespace

Status ConvertRawHeap(const std::string& raw_path,
                      const std::string& profile_path) {
  std::ifstream f(raw_path, std::ios::binary);
  if (!f) return Status(StatusCode::kNotFound, "cannot read " + raw_path);
  std::string data((std::istreambuf_iterator<char>(f)),
                   std::istreambuf_iterator<char>());
  Reader r{data};
  const uint64_t magic = r.Word(), version = r.Word();
  if (magic != MEMMON_RAW_HEAP_MAGIC || version < 1 ||
      version > MEMMON_RAW_HEAP_VERSION) {
    return Status(StatusCode::kInvalidArgument,
                  raw_path + ": not a memmon raw heap dump");
  }
  HeapSnapshot snap;
  const uint64_t pid = r.Word();
  snap.sample_rate = r.Word();
  const uint64_t object_scale = r.Word();
  snap.time_nanos = static_cast<int64_t>(r.Word());
  snap.duration_nanos = static_cast<int64_t>(r.Word());
  const std::string reason = r.Padded();
  snap.comments.push_back("memmon heap profile; reason: " + reason);
  snap.comments.push_back("written after the process ended (pid " +
                          std::to_string(pid) +
                          "), from a raw dump; counters not read");
  std::unordered_map<uint64_t, size_t> site_of;  // stack ref -> site
  // Per site, its live samples' (age, objects) when the dump has ages.
  std::unordered_map<size_t, std::vector<std::pair<double, double>>> ages;
  std::string maps;
  bool ended = false;
  while (!r.bad && !ended) {
    const uint64_t tag = r.Word();
    switch (tag) {
      case MEMMON_RAW_STACK: {
        const uint64_t ref = r.Word(), depth = r.Word();
        HeapSite site;
        site.alloc_bytes = static_cast<double>(r.Word());
        site.alloc_objects =
            static_cast<double>(r.Word()) /
            static_cast<double>(object_scale ? object_scale : 1);
        if (depth > 1024) r.bad = true;
        for (uint64_t i = 0; i < depth && !r.bad; ++i) {
          site.frames.push_back(static_cast<uintptr_t>(r.Word()));
        }
        site_of[ref] = snap.sites.size();
        snap.sites.push_back(std::move(site));
        break;
      }
      case MEMMON_RAW_LIVE:
      case MEMMON_RAW_LIVE_AGED: {
        const bool aged = tag == MEMMON_RAW_LIVE_AGED;
        const uint64_t ref = r.Word(), size = r.Word();
        const uint64_t age_nanos = aged ? r.Word() : 0;
        auto it = site_of.find(ref);
        if (it == site_of.end()) break;  // its stack was not written
        HeapSite& site = snap.sites[it->second];
        const double objects = size == 0 ? 1.0
                                         : WeightBytes(size, snap.sample_rate) /
                                               static_cast<double>(size);
        site.inuse_bytes += WeightBytes(size, snap.sample_rate);
        site.inuse_objects += objects;
        if (aged) {
          ages[it->second].emplace_back(static_cast<double>(age_nanos) / 1e9,
                                        objects);
        }
        break;
      }
      case MEMMON_RAW_MAPS:
        maps = r.Padded();
        break;
      case MEMMON_RAW_END:
        ended = true;
        break;
      default:
        r.bad = true;
    }
  }
  if (r.bad || !ended) {
    return Status(StatusCode::kInvalidArgument,
                  raw_path + ": incomplete raw heap dump");
  }
  // Each site's median live age (its samples weighted by the objects they
  // stand for) and oldest, as the sampler computes them for a profile it
  // writes itself (runtime.cc, AddLiveAges).
  for (auto& [index, aged] : ages) {
    std::sort(aged.begin(), aged.end());
    double total = 0;
    for (const auto& [age, objects] : aged) total += objects;
    HeapSite& site = snap.sites[index];
    site.live_age_median_s = aged.back().first;
    double seen = 0;
    for (const auto& [age, objects] : aged) {
      seen += objects;
      if (seen >= total / 2) {
        site.live_age_median_s = age;
        break;
      }
    }
    site.live_age_oldest_s = aged.back().first;
    site.age_samples = aged.size();
  }
  std::erase_if(snap.sites, [](const HeapSite& s) {
    return s.alloc_bytes == 0 && s.alloc_objects == 0 && s.inuse_objects == 0;
  });
  const std::vector<Module> modules = ModulesOf(maps);
  Symbolizer symbolizer(maps);
  return WriteProfileFile(BuildHeapProfile(snap, modules, &symbolizer),
                          profile_path);
}

std::vector<std::string> ConvertRawHeaps(const std::string& dir,
                                         std::vector<std::string>* errors) {
  namespace fs = std::filesystem;
  std::vector<std::string> written;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("heap", 0) != 0 || name.size() < 8 ||
        name.compare(name.size() - 4, 4, ".raw") != 0) {
      continue;
    }
    const std::string profile =
        (fs::path(dir) / (name.substr(0, name.size() - 4) + ".pb.gz")).string();
    Status s = ConvertRawHeap(entry.path().string(), profile);
    if (s.ok()) {
      fs::remove(entry.path(), ec);
      written.push_back(profile);
    } else if (errors != nullptr) {
      errors->push_back(s.message());
    }
  }
  return written;
}

}  // namespace memmon::profile
