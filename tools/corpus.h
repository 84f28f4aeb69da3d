// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The labelled corpus (tests/corpus/, written by gen_corpus): loading its
// manifest, and judging one series with memmon's detectors (the replay that
// `memmon analyze` runs, with its defaults) and with the Go original's
// rules. Shared by tests/corpus_test.cc and tools/corpus_eval.cc.
#ifndef MEMMON_TOOLS_CORPUS_H_
#define MEMMON_TOOLS_CORPUS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

namespace memmon::corpus {

struct Series {
  std::string name;
  std::string file;  // relative to the corpus directory
  double interval_s = 0;
  int samples = 0;
  std::set<std::string> expect;  // alert types that must fire, and no other
  double onset_s = -1;           // when the problem starts; -1: none
  std::string description;
};

// Reads DIR/manifest.json. False with *error set when it cannot.
bool LoadManifest(const std::string& dir, std::vector<Series>* out,
                  std::string* error);

struct Verdict {
  // Alert types raised, with the times of each alert (for the Go rules:
  // every sample on which a rule held -- it alerts on each).
  std::map<std::string, std::vector<double>> alert_s;
  std::vector<std::string> messages;  // "t s  type  message"
  std::set<std::string> Types() const;
};

struct Result {
  Verdict memmon;
  // The Go original: compares each sample with the first one, no trend, no
  // floor, no sustain. memory_growth: heap in use (RSS without heap columns)
  // more than 20 % above the first sample; thread_leak (goroutine_leak):
  // threads more than 50 % above; heap_fragmentation: idle (free) more than
  // 50 % of in use + free. It has no descriptor rule.
  Verdict go;
};

// Judges DIR/series.file. False with *error set when the file is unreadable
// or malformed.
bool Evaluate(const std::string& dir, const Series& series, Result* out,
              std::string* error);

// Samples from the onset to the first alert of `type` at or after it (the
// alert's sample counts as one: an alert on the onset sample is 0); -1 when
// there is none.
double SamplesToDetect(const Series& series, const Verdict& verdict,
                       const std::string& type);

}  // namespace memmon::corpus

#endif  // MEMMON_TOOLS_CORPUS_H_
