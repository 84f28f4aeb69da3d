// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The memmon command line: a top-level App and one Subcommand per verb
// (command.h says how to add one). Errors are one line on stderr, starting
// with "memmon: "; exit status as in command.h.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <vector>

#include "cli/command.h"
#include "memmon/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "memmon: memory monitoring and leak detection for long-running native "
      "services. See docs/cli.md."};
  app.set_version_flag("--version",
                       std::string("memmon ") + MEMMON_VERSION_STRING);
  app.require_subcommand(0, 1);

  std::vector<memmon::cli::Subcommand> subcommands = {
      memmon::cli::AddRun(app),     memmon::cli::AddWatch(app),
      memmon::cli::AddLeaks(app),   memmon::cli::AddDiff(app),
      memmon::cli::AddReport(app),  memmon::cli::AddAnalyze(app),
      memmon::cli::AddExplain(app),
  };

  CLI::App* run_app = subcommands[0].app;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // "memmon run ./server --port 1" needs "--" before the program.
    const char* hint =
        run_app != nullptr && run_app->parsed() &&
                dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr
            ? "; put -- before PROGRAM: memmon run [options] -- PROGRAM "
              "[ARGS...]"
            : " (see memmon --help)";
    std::fprintf(stderr, "memmon: %s%s\n", e.what(), hint);
    return memmon::cli::kExitUsage;
  }
  for (const memmon::cli::Subcommand& sub : subcommands) {
    if (sub.app->parsed()) return sub.run();
  }
  std::fputs(app.help().c_str(), stdout);
  return memmon::cli::kExitOk;
}
