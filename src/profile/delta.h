// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The change between two profiles of one process, as Go's
// /debug/pprof/heap?seconds=N serves it: every value of `later` less the
// value of the same stack in `earlier`. Stacks are matched by their
// addresses (and mapping file), so the two profiles' ids need not agree;
// a stack only in `earlier` appears with negated values; a stack whose
// values all cancel is dropped.
//
// Thread-safety: a pure function. Allocation: the result.
#ifndef MEMMON_SRC_PROFILE_DELTA_H_
#define MEMMON_SRC_PROFILE_DELTA_H_

#include "memmon/status.h"
#include "profile/profile.h"

namespace memmon::profile {

// InvalidArgument when the two profiles' sample types differ.
Status Subtract(const Profile& later, const Profile& earlier, Profile* out);

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_DELTA_H_
