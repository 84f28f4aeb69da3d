// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The oom_risk options memmon run, watch and analyze share
// (docs/limits.md): --oom-horizon DURATION (MonitorConfig::oom_horizon; 0
// turns oom_risk off) and, for run and watch, --oom-profile-fraction F
// (MonitorConfig::oom_profile_fraction, in (0, 1]).
#ifndef MEMMON_SRC_CLI_OOM_OPTIONS_H_
#define MEMMON_SRC_CLI_OOM_OPTIONS_H_

#include <CLI/CLI.hpp>
#include <string>

#include "memmon/config.h"
#include "source/memory_limit.h"

namespace memmon::cli {

// Adds --oom-horizon to `app` and, when `fraction` is not null,
// --oom-profile-fraction; both kept as text for ParseOomOptions.
void AddOomOptions(CLI::App* app, std::string* horizon, std::string* fraction);

// Sets config->oom_horizon and oom_profile_fraction from the options' text
// (empty: left as they are). On a bad value: one line
// "memmon: VERB: --oom-...: REASON" on stderr and kExitUsage; else kExitOk.
int ParseOomOptions(const char* verb, const std::string& horizon,
                    const std::string& fraction, MonitorConfig* config);

// The start line of run and watch: the binding limit and how the kernel
// counts it, then memory.high where set; each line starts with `prefix`
// ("memmon: ", "memmon: watch: ").
void PrintMemoryLimits(const char* prefix, const internal::MemoryLimits& found);

}  // namespace memmon::cli

#endif  // MEMMON_SRC_CLI_OOM_OPTIONS_H_
