// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/env_config.h"

#include <stdlib.h>

namespace memmon::preload {

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* s = getenv(name);
  if (s == nullptr || *s == '\0') return fallback;
  uint64_t v = 0;
  for (; *s >= '0' && *s <= '9'; ++s)
    v = v * 10 + static_cast<uint64_t>(*s - '0');
  if (*s == 'k' || *s == 'K')
    v <<= 10;
  else if (*s == 'm' || *s == 'M')
    v <<= 20;
  else if (*s != '\0')
    return fallback;
  return v;
}

bool EnvFlag(const char* name, bool fallback) {
  const char* s = getenv(name);
  if (s == nullptr || *s == '\0') return fallback;
  return !(s[0] == '0' && s[1] == '\0');
}

EnvConfig ReadEnvConfig() {
  EnvConfig c;
  c.sampler.rate = EnvNumber("MEMMON_SAMPLE_RATE", kDefaultSampleRate);
  c.sampler.seed = EnvNumber("MEMMON_SEED", 0);
  const char* off = getenv("MEMMON_DISABLE");
  c.sampler.enabled = !(off != nullptr && *off != '\0' && *off != '0');
  c.live_table_slots = EnvNumber("MEMMON_LIVE_TABLE_SLOTS", 4096);
  c.peak = EnvFlag("MEMMON_PEAK", true);
  c.peak_growth_percent = EnvNumber("MEMMON_PEAK_GROWTH", 25);
  c.live_age = EnvFlag("MEMMON_LIVE_AGE", true);
  return c;
}

}  // namespace memmon::preload
