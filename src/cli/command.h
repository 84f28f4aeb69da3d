// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// How a subcommand plugs into the memmon command line: a function that adds
// it (its options, its help) to the top-level CLI::App and returns what to
// run when it was chosen. main.cc lists them; adding a subcommand is one
// new file and one line there.
//
// Exit status, shared by every subcommand (docs/cli.md):
//   0  success (alerts found or not)
//   1  an operating-system failure while working (cannot write output, ...)
//   2  bad usage, or an input that cannot be read or parsed
// except `memmon run`, which exits with its program's status once the
// program started (126 and 127 when it cannot start, as env(1) does).
#ifndef MEMMON_SRC_CLI_COMMAND_H_
#define MEMMON_SRC_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

namespace memmon::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Flushes standard output at the end of a subcommand: kExitOk, or, when the
// output could not be written (a full disk, a closed pipe), one line
// "memmon: VERB: cannot write the output: REASON" and kExitFailure.
inline int FinishOutput(const char* verb) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "memmon: %s: cannot write the output: %s\n", verb,
                 std::strerror(errno));
    return kExitFailure;
  }
  return kExitOk;
}

struct Subcommand {
  CLI::App* app = nullptr;   // owned by the parent App
  std::function<int()> run;  // called after parsing when `app` was chosen
};

// memmon analyze FILE.csv [--json]: src/cli/analyze.cc
Subcommand AddAnalyze(CLI::App& parent);

// memmon report DIR [-o FILE]: src/cli/report.cc
Subcommand AddReport(CLI::App& parent);

// memmon watch PID [--interval DUR] [--duration DUR] [--json]: src/cli/watch.cc
Subcommand AddWatch(CLI::App& parent);

// memmon run [options] -- PROGRAM [ARGS...]: src/cli/run.cc
Subcommand AddRun(CLI::App& parent);

// memmon leaks DIR|PROFILE... [--top N] [--json]: src/cli/leaks.cc
Subcommand AddLeaks(CLI::App& parent);

// memmon diff BASE NEW [--json]: src/cli/diff.cc
Subcommand AddDiff(CLI::App& parent);

// memmon explain PID|DIR [--json] [--top N]: src/cli/explain.cc
Subcommand AddExplain(CLI::App& parent);

}  // namespace memmon::cli

#endif  // MEMMON_SRC_CLI_COMMAND_H_
