// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The mutex and block profiles as the runtime (runtime.cc) sees them: the
// tables the lock hooks (lock_hooks.cc) fill and the rates they sample at.
//
// Mutex profile: where threads waited for a pthread mutex or rwlock that
// another thread held, weighted by the delay, attributed to the waiter's
// stack (Go attributes it to the unlocker's). Block profile: where threads
// waited on condition variables, semaphores, pthread_join and barriers.
// Sampling and scaling as Go's (contention_math.h); docs/profiler.md
// lists the functions intercepted and the variables.
//
// Thread-safety: any thread, outside malloc.
#ifndef MEMMON_SRC_PRELOAD_LOCK_PROFILE_H_
#define MEMMON_SRC_PRELOAD_LOCK_PROFILE_H_

#include <cstdint>

#include "preload/contention_table.h"

namespace memmon::preload {

// MEMMON_MUTEX_RATE: one contention in N is sampled; 0 turns it off.
inline constexpr uint64_t kDefaultMutexRate = 100;
// MEMMON_BLOCK_RATE: nanoseconds; Go's SetBlockProfileRate rule; 0: off.
inline constexpr uint64_t kDefaultBlockRate = 100000;
// Stacks each table holds; more are dropped and counted.
inline constexpr uint64_t kContentionTableSlots = 4096;

struct LockProfileState {
  const ContentionTable* table;
  uint64_t rate;  // 0: off
};

LockProfileState MutexProfile();
LockProfileState BlockProfile();

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_LOCK_PROFILE_H_
