// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// DetectionEngine: memmon's live detection engine. Every front end that
// raises alerts drives one: MemoryMonitor (its thread's samples of this or
// another process, so also `memmon watch`), `memmon run` (the child's /proc
// and its sampler's status page) and `memmon analyze` (the rows of a samples
// CSV). Samples go in one at a time; it keeps the bounded history and the
// baseline, runs the detectors through the AlertGates with the config it was
// given, and returns the alert records raised: a firing record when an
// episode opens, a resolved one (with why, detect/resolution.h) when it
// ends. One engine, so every front end decides the same way on the same
// series.
//
// Time comes from the samples (`Sample::monotonic` for windows, rates and
// the cooldown; the caller's `time_s` for the alert), never from a clock,
// so a recorded series replayed through it gives the alerts the live run
// gave.
//
// Two views of the series since the baseline: the history (the last
// max_samples samples as they were taken) and the long history, the whole
// run since the baseline in at most max_samples points, each the minimum of
// a block of samples (4, 8, 16, ... of them: when it is full, neighbours
// merge and the block doubles). The trend rules (memory_growth,
// thread_leak, fd_leak) judge the history; once the run since the baseline
// is longer than the history, a rule that finds nothing there also judges
// the long history, once per completed block. Its minima are the floor of a
// sawtooth whose teeth are longer than the history could show ten of, the
// level under bursts of threads or descriptors, the floor of a leak under
// a cache that fills and flushes (docs/detection.md, "Timescales").
//
// Thread-safety: none; one engine per thread (MemoryMonitor serialises its
// calls with two locks, see Append/Judge). Allocation: the two histories
// (and the long history's per-block heap maxima) at construction; then
// only when an alert record is raised (its message), firing or resolved;
// nothing per sample. heap_fragmentation's hold is tracked here, in time
// (FragmentationTrack), so that it does not shrink with the history; so is
// the noise of heap in use and RSS over the whole run
// (NoiseCorrelationTrack, given to the detectors as
// DetectionInput::heap_noise and rss_noise).
//
// Typical use:
//   internal::DetectionEngine engine(config);
//   for (const TimedSample& s : csv.samples)
//     for (const MemoryAlert& a : engine.Push(s.time_s, s.sample)) print(a);
#ifndef MEMMON_SRC_DETECT_DETECTION_ENGINE_H_
#define MEMMON_SRC_DETECT_DETECTION_ENGINE_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "detect/alert_gate.h"
#include "detect/growth_internal.h"
#include "detect/sample_history.h"
#include "memmon/alert.h"
#include "memmon/config.h"
#include "memmon/detectors.h"

namespace memmon::internal {

class DetectionEngine {
 public:
  // `config` is used as given (callers Validate() it first).
  explicit DetectionEngine(MonitorConfig config);

  // Replaces the rule for one type; an empty Detector disables it. An
  // episode of that type that fired is resolved ("its detector was
  // replaced") on the next Judge.
  void SetDetector(AlertType type, Detector detector);

  // Feeds the next sample, taken `time_s` seconds into the series; returns
  // the alert records it raises (usually none), by type; the resolutions
  // of episodes a reset or SetDetector ended come first. The first
  // warmup_samples samples only fill the history; the next one becomes the
  // baseline. Push = Append, then Judge if Append says so.
  std::vector<MemoryAlert> Push(double time_s, const Sample& sample);

  // The two halves of Push, for a caller that guards the history with one
  // lock and the detectors with another (MemoryMonitor): Append adds the
  // sample and moves the baseline, and says whether Judge has anything to
  // do: the sample is to be judged (not while warming up, nor on the
  // sample a reset lands on), or episodes that a reset or SetDetector ended
  // are to be resolved. Judge resolves those, then runs the detectors and
  // gates over the history, reading it only (it writes the gates, the
  // episodes and the detectors' trend cache).
  bool Append(const Sample& sample);
  std::vector<MemoryAlert> Judge(double time_s, const Sample& sample);

  // Makes the next pushed sample the baseline and ends open episodes (the
  // cooldown still applies), as MemoryMonitor::ResetBaseline() does. An
  // episode that fired resolves on that sample ("the baseline was reset",
  // with what the quantity did against the old baseline).
  void ResetBaseline();

  uint64_t sample_count() const { return sample_count_; }
  // Retained samples, oldest first (at most config.max_samples).
  std::span<const Sample> history() const { return history_.view(); }
  // The long history since the baseline, oldest first: points of
  // long_block() samples each, the trend quantities (heap in use, RSS,
  // threads, descriptors) their block's minimum, the rest (times
  // included) its last sample's. Empty until a baseline, and after a reset
  // until the next.
  std::span<const Sample> long_history() const { return long_; }
  std::size_t long_block() const { return long_block_; }
  const std::optional<Sample>& baseline() const { return baseline_; }

  // The noise of heap in use (`field` &Sample::heap_inuse_bytes) or RSS
  // (&Sample::rss_bytes) that the detectors are given
  // (DetectionInput::heap_noise, rss_noise): the one set by SetNoise, else
  // the engine's estimate over every sample pushed so far
  // (NoiseCorrelationTrack; the start-up's and those before a reset too:
  // the noise is the process's). Unknown (NaN) for other fields.
  NoiseEstimate noise(std::optional<uint64_t> Sample::*field) const;
  // Fixes the estimates the detectors are given from here on, in place of
  // the engine's own (rho NaN: its own again) -- `memmon analyze`'s
  // estimate over the whole series, with hindsight.
  void SetNoise(const NoiseEstimate& heap, const NoiseEstimate& rss);
  const MonitorConfig& config() const { return config_; }

 private:
  MonitorConfig config_;
  SampleHistory history_;
  std::optional<Sample> baseline_;
  uint64_t baseline_seq_ = 0;
  uint64_t sample_count_ = 0;
  bool reset_pending_ = false;
  // A type runs its built-in rule (with trend_cache_) until SetDetector
  // replaces it with detectors_[type], or disables it (an empty Detector).
  std::array<bool, kAlertTypeCount> builtin_;
  std::array<Detector, kAlertTypeCount> detectors_;
  std::array<AlertGate, kAlertTypeCount> gates_;
  // The episode each gate has open and fired: the Finding that opened it
  // and when, for its resolved record.
  struct Episode {
    Finding opened;
    std::chrono::system_clock::time_point time{};
    double time_s = 0;
  };
  std::array<Episode, kAlertTypeCount> episodes_;
  // Resolved records of episodes a reset or SetDetector ended, for the next
  // Judge (empty, not allocated, unless that happened while one fired).
  std::vector<MemoryAlert> ended_;
  bool judge_ = false;  // Append's verdict on the latest sample
  // The noise's serial correlation, heap in use and RSS, over the run; and
  // the estimates set in their place (NaN: none).
  std::array<NoiseCorrelationTrack, 2> noise_;
  std::array<NoiseEstimate, 2> noise_set_;
  // The built-in detectors' trend statistics, carried from one Judge to
  // the next (results never depend on it).
  TrendCache trend_cache_;

  // The long history (long_history()): completed points, the block being
  // filled (pending_n_ of long_block_ samples), and whether a point was
  // completed since the last Judge. Capacity max_samples (even, >= 16).
  void StartLongHistory();
  void AppendLong(const Sample& s);
  std::vector<Sample> long_;
  std::size_t long_capacity_ = 0;
  std::size_t long_block_ = 4;
  Sample pending_;
  std::size_t pending_n_ = 0;
  bool long_changed_ = false;
  // The highest heap in use of each long-history point's block (parallel
  // to long_, same capacity) and of the block being filled: the look-back
  // past a peak of heap_fragmentation beyond the history.
  std::vector<uint64_t> long_heap_max_;
  uint64_t pending_heap_max_ = 0;
  // heap_fragmentation's run of fragmented samples since the baseline
  // (growth_internal.h), so that its hold is time at every interval.
  void TrackFragmentation(const Sample& s);
  double HeapPeakWithin(std::chrono::nanoseconds span) const;
  FragmentationTrack fragmentation_;
  // What each trend rule found on the long history when it was last
  // judged (held until the next completed point), with its own cache.
  std::array<std::optional<Finding>, kAlertTypeCount> long_found_;
  TrendCache long_cache_;
};

// Heap in use now over the baseline, in percent (RSS when either lacks
// the heap, or its baseline is 0); nullopt when neither is known in both.
// MemoryStats::growth_since_baseline_pct, for every front end.
std::optional<double> GrowthSinceBaselinePct(const Sample& baseline,
                                             const Sample& current);

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_DETECTION_ENGINE_H_
