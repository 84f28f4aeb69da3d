// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the memory-limit parsers (`make fuzz`; clang only):
// /proc/<pid>/cgroup, mountinfo, cgroup limit and event files and
// /proc/<pid>/limits, as any text, parsed without a crash or sanitizer
// report; what is accepted is self-consistent. Seeds:
// tests/fuzz/memory_limit/.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "source/memory_limit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace memmon::internal;  // NOLINT(build/namespaces)
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CgroupPaths paths = ParseProcCgroup(text);
  if (paths.v2.size() > size || paths.v1_memory.size() > size) {
    __builtin_trap();
  }
  CgroupMounts mounts = ParseCgroupMounts(text);
  if (mounts.v2_mount.size() > size || mounts.v1_memory_mount.size() > size) {
    __builtin_trap();
  }
  // "unlimited" (2^62 and above) is never a limit.
  if (std::optional<uint64_t> v = ParseLimitValue(text);
      v && *v >= (uint64_t{1} << 62)) {
    __builtin_trap();
  }
  (void)ParseOomKills(text);
  (void)ParseRlimit(text, "Max address space");
  (void)ParseRlimit(text, "");
  return 0;
}
