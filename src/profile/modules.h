// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The objects mapped into this process (dl_iterate_phdr), with their
// executable segments and GNU build IDs (from PT_NOTE, read in memory).
//
// Thread-safety: free functions. Allocates; not for use inside malloc.
#ifndef MEMMON_SRC_PROFILE_MODULES_H_
#define MEMMON_SRC_PROFILE_MODULES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace memmon::profile {

struct Module {
  std::string
      path;  // absolute path ("/proc/self/exe" resolved for the program)
  std::string build_id;  // lower-case hex, empty when the object has none
  uintptr_t bias = 0;    // load bias (dlpi_addr)
  // The executable PT_LOAD segment(s), as one range.
  uintptr_t exec_start = 0;
  uintptr_t exec_end = 0;
  uint64_t exec_file_offset = 0;
};

std::vector<Module> LoadedModules();

// The module whose executable range contains `address`, or nullptr.
const Module* FindModule(const std::vector<Module>& modules, uintptr_t address);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_MODULES_H_
