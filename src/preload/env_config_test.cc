// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "preload/env_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace memmon::preload {
namespace {

// Sets (or, with nullptr, unsets) a variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

constexpr char kVar[] = "MEMMON_ENV_CONFIG_TEST";

TEST(EnvNumber, DecimalWithSuffix) {
  {
    ScopedEnv e(kVar, "1000");
    EXPECT_EQ(EnvNumber(kVar, 7), 1000u);
  }
  {
    ScopedEnv e(kVar, "64k");
    EXPECT_EQ(EnvNumber(kVar, 7), 64u << 10);
  }
  {
    ScopedEnv e(kVar, "3K");
    EXPECT_EQ(EnvNumber(kVar, 7), 3u << 10);
  }
  {
    ScopedEnv e(kVar, "2m");
    EXPECT_EQ(EnvNumber(kVar, 7), 2u << 20);
  }
  {
    ScopedEnv e(kVar, "5M");
    EXPECT_EQ(EnvNumber(kVar, 7), 5u << 20);
  }
}

TEST(EnvNumber, FallbackWhenUnsetEmptyOrMalformed) {
  {
    ScopedEnv e(kVar, nullptr);
    EXPECT_EQ(EnvNumber(kVar, 7), 7u);
  }
  {
    ScopedEnv e(kVar, "");
    EXPECT_EQ(EnvNumber(kVar, 7), 7u);
  }
  for (const char* bad : {"12x", "-5", " 5", "1.5", "0x10"}) {
    ScopedEnv e(kVar, bad);
    EXPECT_EQ(EnvNumber(kVar, 7), 7u) << bad;
  }
}

TEST(ReadEnvConfig, DefaultsAndOverrides) {
  {
    ScopedEnv rate("MEMMON_SAMPLE_RATE", nullptr);
    ScopedEnv seed("MEMMON_SEED", nullptr);
    ScopedEnv off("MEMMON_DISABLE", nullptr);
    ScopedEnv slots("MEMMON_LIVE_TABLE_SLOTS", nullptr);
    const EnvConfig c = ReadEnvConfig();
    EXPECT_EQ(c.sampler.rate, kDefaultSampleRate);
    EXPECT_EQ(c.sampler.seed, 0u);
    EXPECT_TRUE(c.sampler.enabled);
    EXPECT_EQ(c.live_table_slots, 4096u);
  }
  {
    ScopedEnv rate("MEMMON_SAMPLE_RATE", "16k");
    ScopedEnv seed("MEMMON_SEED", "1");
    ScopedEnv off("MEMMON_DISABLE", "1");
    ScopedEnv slots("MEMMON_LIVE_TABLE_SLOTS", "512");
    const EnvConfig c = ReadEnvConfig();
    EXPECT_EQ(c.sampler.rate, 16u << 10);
    EXPECT_EQ(c.sampler.seed, 1u);
    EXPECT_FALSE(c.sampler.enabled);
    EXPECT_EQ(c.live_table_slots, 512u);
  }
  // MEMMON_DISABLE: empty or "0" leaves sampling on.
  for (const char* on : {"", "0"}) {
    ScopedEnv off("MEMMON_DISABLE", on);
    EXPECT_TRUE(ReadEnvConfig().sampler.enabled) << '"' << on << '"';
  }
}

// The peak heap profile and the allocation times: on by default, "0"
// turns each off; the growth margin is a percentage.
TEST(ReadEnvConfig, PeakAndLiveAge) {
  {
    ScopedEnv peak("MEMMON_PEAK", nullptr);
    ScopedEnv growth("MEMMON_PEAK_GROWTH", nullptr);
    ScopedEnv age("MEMMON_LIVE_AGE", nullptr);
    const EnvConfig c = ReadEnvConfig();
    EXPECT_TRUE(c.peak);
    EXPECT_EQ(c.peak_growth_percent, 25u);
    EXPECT_TRUE(c.live_age);
  }
  {
    ScopedEnv peak("MEMMON_PEAK", "0");
    ScopedEnv growth("MEMMON_PEAK_GROWTH", "10");
    ScopedEnv age("MEMMON_LIVE_AGE", "0");
    const EnvConfig c = ReadEnvConfig();
    EXPECT_FALSE(c.peak);
    EXPECT_EQ(c.peak_growth_percent, 10u);
    EXPECT_FALSE(c.live_age);
  }
  for (const char* v : {"1", "yes", "00"}) {
    ScopedEnv peak("MEMMON_PEAK", v);
    EXPECT_TRUE(EnvFlag("MEMMON_PEAK", false)) << v;
  }
  ScopedEnv empty("MEMMON_PEAK", "");
  EXPECT_FALSE(EnvFlag("MEMMON_PEAK", false));
}

}  // namespace
}  // namespace memmon::preload
