// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The memmon command line. Subcommands arrive with the CLI issue; today it
// answers --help and --version.
//
// Exit status: 0 success, 2 bad usage.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "memmon/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "memmon: memory monitoring and leak detection for long-running native "
      "services.\nSubcommands (run, watch, analyze, leaks, diff, report) are "
      "not built yet; see docs/."};
  app.set_version_flag("--version", std::string("memmon ") + MEMMON_VERSION_STRING);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "memmon: %s (see memmon --help)\n", e.what());
    return 2;
  }
  std::fputs(app.help().c_str(), stdout);
  return 0;
}
