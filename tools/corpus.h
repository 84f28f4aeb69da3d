// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The labelled corpus (tests/corpus/, written by gen_corpus): loading its
// manifest, and judging one series with memmon's detectors (the replay that
// `memmon analyze` runs, with its defaults) and with the Go original's
// rules. Shared by tests/corpus_test.cc, tests/generated_corpus_test.cc and
// tools/corpus_eval.cc (which also judge the generated series of synth.h
// with the same two functions, JudgeMemmon and JudgeGoRules).
#ifndef MEMMON_TOOLS_CORPUS_H_
#define MEMMON_TOOLS_CORPUS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "detect/samples_csv.h"
#include "memmon/config.h"
#include "synth.h"

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

// memmon's detectors over a series, replayed as `memmon analyze` replays a
// CSV (internal::AnalyzeSamples) with `config`. Every alert counts.
// TODO: when MemoryAlert gets a state (firing / resolved), count only the
// firing ones here.
// `hindsight` as AnalyzeSamples's (false for the monitor's configuration).
Verdict JudgeMemmon(const internal::SamplesCsv& csv,
                    const MonitorConfig& config, bool hindsight = true);

// The Go original's rules (see Result::go) over a series.
Verdict JudgeGoRules(const internal::SamplesCsv& csv);

// Judges DIR/series.file. False with *error set when the file is unreadable
// or malformed.
bool Evaluate(const std::string& dir, const Series& series, Result* out,
              std::string* error);

// Samples from the onset to the first alert of `type` at or after it (the
// alert's sample counts as one: an alert on the onset sample is 0); -1 when
// there is none.
double SamplesToDetect(const Series& series, const Verdict& verdict,
                       const std::string& type);

// --- The generated corpus (synth.h) ---

// An alert detects a leak when it comes at most this many samples after
// the later of the onset and the due sample (an early warning counts).
inline constexpr int kDetectWithinSamples = 120;

// How one generated series was judged, by one set of rules.
struct Outcome {
  bool any_alert = false;
  // An alert of a type not expected, or of an expected type before the
  // onset.
  bool false_alarm = false;
  // An alert of an expected type at or after the onset (late or not).
  bool right_alert = false;
  // ... at sample onset .. max(onset, due) + kDetectWithinSamples.
  bool detected = false;
  int first_index = -1;  // of the first alert of an expected type >= onset
  // Right: it alerted, only rightly. Precision counts these.
  bool Right() const { return right_alert && !false_alarm; }
};

// Alert times are samples' times: index = time_s / interval_s. `expect`
// are the types the rules are judged on (the Go rules: without fd_leak).
Outcome Score(const synth::Synthetic& s, const Verdict& verdict,
              const std::set<std::string>& expect);

// The configurations a generated series is judged with, each with the
// series' sampling interval and no alert log: the monitor's defaults
// (DefaultMonitorConfig: 100 samples of history), or `memmon analyze`'s
// (AnalyzeDefaultConfig: 1000).
enum class ConfigKind { kMonitor, kAnalyze };
MonitorConfig ConfigFor(ConfigKind kind, double interval_s);

struct SyntheticResult {
  Verdict memmon, go;
  Outcome memmon_outcome, go_outcome;
  std::set<std::string> go_expect;  // expect without fd_leak (no Go rule)
};
SyntheticResult JudgeSynthetic(const synth::Synthetic& s, ConfigKind kind);

// Counts over a set of judged series, for one set of rules.
struct Tally {
  int series = 0;
  int alerted = 0;  // series with any alert
  int right = 0;    // ... all of them right (Outcome::Right)
  int false_alarm = 0;
  int positives = 0;  // series with a leak the rules can see
  int detected = 0;
  std::vector<double> ttd;     // alert index - onset, over the detected
  std::vector<double> vs_due;  // alert index - due, over the detected
  void Add(const synth::Synthetic& s, const Outcome& o,
           const std::set<std::string>& expect);
  double Precision() const { return alerted ? double(right) / alerted : 1; }
  double Recall() const { return positives ? double(detected) / positives : 1; }
};

// A 95 % Wilson score interval for `successes` of `n`; [0, 1] when n is 0.
struct Interval {
  double lo = 0, hi = 1;
};
Interval WilsonInterval(int successes, int n);

// The median and a distribution-free 95 % interval for it: the order
// statistics X(l) and X(n+1-l) with the largest l such that
// P(Binomial(n, 1/2) < l) <= 2.5 %. ok is false when n is too small (< 6)
// for one, or empty.
struct MedianInterval {
  double median = -1, lo = -1, hi = -1;
  bool ok = false;
};
MedianInterval MedianWithInterval(std::vector<double> values);

}  // namespace memmon::corpus

#endif  // MEMMON_TOOLS_CORPUS_H_
