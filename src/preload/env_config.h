// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The hooks' settings from the environment (docs/profiler.md,
// "Environment"), read without allocating: they are read inside the first
// allocation, by InitSlow (hooks.cc). The runtime's own variables
// (MEMMON_OUTPUT and the rest) are read by runtime.cc, outside malloc.
#ifndef MEMMON_SRC_PRELOAD_ENV_CONFIG_H_
#define MEMMON_SRC_PRELOAD_ENV_CONFIG_H_

#include <cstdint>

#include "preload/in_malloc.h"
#include "preload/sampler.h"

namespace memmon::preload {

// $name as a decimal number, times 1024 when a k or K follows the digits
// and times 1024 * 1024 for an m or M (whatever comes after that letter is
// not read); `fallback` when it is unset or empty, or when any other
// character follows the digits.
MEMMON_IN_MALLOC uint64_t EnvNumber(const char* name, uint64_t fallback);

struct EnvConfig {
  SamplerConfig sampler;  // MEMMON_SAMPLE_RATE, MEMMON_SEED, MEMMON_DISABLE
  // MEMMON_LIVE_TABLE_SLOTS: room for 4096 x (1 + 8 + 64 + 512) live
  // samples by default; pages are touched level by level as samples need
  // them.
  uint64_t live_table_slots = 4096;
  // MEMMON_PEAK=0 turns the peak heap profile off (peak_heap.h); on by
  // default. MEMMON_PEAK_GROWTH: a new peak is saved once the sampled live
  // bytes exceed the last saved peak by this many percent (default 25).
  bool peak = true;
  uint64_t peak_growth_percent = 25;
  // MEMMON_LIVE_AGE=0: samples get no allocation time (no clock read on the
  // sampled path; profiles carry no ages). On by default.
  bool live_age = true;
};

// $name as a switch: `fallback` when unset or empty, off for "0", else on.
MEMMON_IN_MALLOC bool EnvFlag(const char* name, bool fallback);

MEMMON_IN_MALLOC EnvConfig ReadEnvConfig();

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_ENV_CONFIG_H_
