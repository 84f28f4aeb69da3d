// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon report DIR [-o FILE]: one self-contained HTML page about a run
// directory -- memory over time with the alerts, a flame graph of the
// in-use heap, the leak suspects (report_page.h builds it).

#include "cli/report.h"

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/report_page.h"
#include "profile/atomic_file.h"

namespace memmon::cli {
namespace {

struct ReportOptions {
  std::string dir;
  std::string output;  // empty: DIR/report.html
};

int ReportMain(const ReportOptions& o) {
  RunReport report;
  if (Status s = LoadRunDir(o.dir, &report); !s.ok()) {
    std::fprintf(stderr, "memmon: report: %s\n", s.message().c_str());
    return kExitUsage;
  }
  std::string output = o.output;
  if (output.empty())
    output = o.dir + (o.dir.ends_with('/') ? "" : "/") + "report.html";
  std::string page = RenderReport(report, ReportAssets());
  if (Status s = profile::WriteFileAtomically(output, page); !s.ok()) {
    std::fprintf(stderr, "memmon: report: cannot write %s: %s\n",
                 output.c_str(), s.message().c_str());
    return kExitFailure;
  }
  std::printf("wrote %s\n", output.c_str());
  return FinishOutput("report");
}

}  // namespace

Status WriteReport(const std::string& dir, const std::string& out) {
  RunReport report;
  if (Status s = LoadRunDir(dir, &report); !s.ok()) return s;
  return profile::WriteFileAtomically(out,
                                      RenderReport(report, ReportAssets()));
}

Subcommand AddReport(CLI::App& parent) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* app = parent.add_subcommand(
      "report",
      "Write one self-contained HTML page about a run directory: memory over "
      "time with the alerts marked, where the resident memory is (by part, "
      "over time), a flame graph of the in-use heap, the leak suspects. The "
      "page needs no network.");
  app->add_option(
         "dir", o->dir,
         "run directory: samples.csv, alerts.jsonl, heap.pb.gz (or "
         "heap.NNNN.pb.gz snapshots), leaks.json, run.json; each optional")
      ->required();
  app->add_option("-o,--output", o->output,
                  "the HTML file to write (default DIR/report.html)");
  return {app, [o] { return ReportMain(*o); }};
}

}  // namespace memmon::cli
