// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The memmon command line: a top-level App and one Subcommand per verb
// (command.h says how to add one). Errors are one line on stderr, starting
// with "memmon: "; exit status as in command.h.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <vector>

#include "command.h"
#include "memmon/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "memmon: memory monitoring and leak detection for long-running native "
      "services.\nSubcommands run, leaks and diff are not built yet; see "
      "docs/cli.md."};
  app.set_version_flag("--version", std::string("memmon ") + MEMMON_VERSION_STRING);
  app.require_subcommand(0, 1);

  std::vector<memmon::cli::Subcommand> subcommands = {
      memmon::cli::AddAnalyze(app),
      memmon::cli::AddReport(app),
      memmon::cli::AddWatch(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "memmon: %s (see memmon --help)\n", e.what());
    return memmon::cli::kExitUsage;
  }
  for (const memmon::cli::Subcommand& sub : subcommands) {
    if (sub.app->parsed()) return sub.run();
  }
  std::fputs(app.help().c_str(), stdout);
  return memmon::cli::kExitOk;
}
