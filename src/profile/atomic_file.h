// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Writing a file so that readers see either the old content or the whole
// new content: write "<path>.tmp.<pid>.<n>" (mode 0600), fsync-free, then
// rename over `path`. A failed write removes the temporary file.
//
// Thread-safety: concurrent calls for distinct paths are fine; for one path
// the last rename wins.
#ifndef MEMMON_SRC_PROFILE_ATOMIC_FILE_H_
#define MEMMON_SRC_PROFILE_ATOMIC_FILE_H_

#include <string>
#include <string_view>

#include "memmon/status.h"

namespace memmon::profile {

Status WriteFileAtomically(const std::string& path, std::string_view data);

// Creates `dir` and its parents (mode 0700 for the ones created). Ok when it
// exists already as a directory.
Status MakeDirectories(const std::string& dir);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_ATOMIC_FILE_H_
