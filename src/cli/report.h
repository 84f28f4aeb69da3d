// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The HTML report of a run directory (memmon report, and memmon run at the
// end of a run): src/cli/report.cc.
#ifndef MEMMON_SRC_CLI_REPORT_H_
#define MEMMON_SRC_CLI_REPORT_H_

#include <string>

#include "memmon/status.h"

namespace memmon::cli {

// Writes one self-contained HTML file for run directory `dir` to `out`.
Status WriteReport(const std::string& dir, const std::string& out);

}  // namespace memmon::cli

#endif  // MEMMON_SRC_CLI_REPORT_H_
