// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Turns the sampler's raw heap dumps (memmon/memmon_preload.h: written at a
// fatal signal, _exit or _Exit) into heap profiles: DIR/heap.raw becomes
// DIR/heap.pb.gz, DIR/heap.pidPID.raw DIR/heap.pidPID.pb.gz, symbolized
// from the dump's copy of the process's maps (the objects must still be
// on disk), and the dump is removed. An incomplete dump (the process died
// while writing it) is removed without a profile.
//
// Thread-safety: free functions; allocate; never inside malloc.
#ifndef MEMMON_SRC_PROFILE_RAW_HEAP_H_
#define MEMMON_SRC_PROFILE_RAW_HEAP_H_

#include <string>
#include <vector>

#include "memmon/status.h"

namespace memmon::profile {

// Converts `raw_path` to `profile_path`.
Status ConvertRawHeap(const std::string& raw_path,
                      const std::string& profile_path);

// Converts every heap*.raw in `dir`; returns the profiles written. A dump
// that cannot be converted is left in place and named in `errors`.
std::vector<std::string> ConvertRawHeaps(const std::string& dir,
                                         std::vector<std::string>* errors);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_RAW_HEAP_H_
