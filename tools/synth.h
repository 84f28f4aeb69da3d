// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The generated corpus: labelled series drawn at random over wide ranges
// of sampling interval, heap size, noise and shape, from twelve classes --
// six that must raise nothing (warm-ups, flat sawtooths, steps, thread and
// descriptor bursts, noise with spikes) and six leaks (memory from the
// start, late, under a sawtooth, accelerating; thread and descriptor
// staircases). Unlike tests/corpus/, memmon's detectors were not tuned to
// these series; tools/corpus_eval --generated and
// tests/generated_corpus_test.cc measure them on it.
//
// Deterministic on every platform: the raw bits are std::mt19937_64 (fully
// specified by the standard), turned into uniforms and normals by our own
// code (not std::*_distribution, whose algorithms are implementation-
// defined). Only std::log/exp/cos/sqrt/pow may differ in the last bit
// between math libraries; every value is rounded to whole bytes or counts.
//
// Thread-safety: pure functions. Allocates (the series).
#ifndef MEMMON_TOOLS_SYNTH_H_
#define MEMMON_TOOLS_SYNTH_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "detect/samples_csv.h"

namespace memmon::synth {

// The development set: look at it, debug against it.
inline constexpr uint64_t kDevelopmentSeed = 1;
// The HELD-OUT set. Fixed on 2026-12-04, before any detector was tuned
// against it: do not tune against it, and do not change it (a new held-out
// seed would be needed once it has been looked at for tuning).
inline constexpr uint64_t kHeldOutSeed = 20261204;
inline constexpr int kDefaultCount = 400;

// The quantity a class's label is about.
enum class Quantity { kHeap, kThreads, kFds };

struct Synthetic {
  int index = 0;
  std::string class_name;        // "warmup", "leak_late", ...
  std::set<std::string> expect;  // alert types that must fire; empty: none
  int onset = -1;                // first sample of the problem; -1: none
  // The first sample at which the noise-free leak component passes its
  // limit over the baseline (the noise-free value at sample 1, where the
  // monitor's baseline is with warmup_samples 1); -1 when it never does.
  // Limits: memory max(b x 1.2, b + 16 MiB) (passed when above), threads
  // max(b x 1.5, b + 10), descriptors max(b x 1.5, b + 32) (at or above).
  int due = -1;
  double interval_s = 0;
  std::vector<internal::TimedSample> samples;  // time_s = index x interval
  // What the label is about, for positives: the noise-free series of that
  // quantity (the floor, for a leak under a sawtooth), the noise-free
  // baseline it is judged against, and the limit.
  Quantity quantity = Quantity::kHeap;
  std::vector<double> clean;
  double baseline = 0;
  double limit = 0;
  // The parameters drawn, "name=value ..." (for debugging output).
  std::string params;

  // The series as `memmon analyze` would read it from a samples CSV with
  // the columns rss_bytes, heap_inuse_bytes, heap_free_bytes, threads, fds.
  internal::SamplesCsv Csv() const;
  // The same as the text of a samples CSV, its label in '#' lines first
  // (`corpus_eval --generated --csv INDEX` prints it for `memmon analyze`).
  std::string CsvText(uint64_t seed) const;
};

// The twelve classes, in the order GenerateSeries cycles through them.
const std::vector<std::string>& ClassNames();

// Series `index` of the set `seed`: class ClassNames()[index % 12], every
// other parameter drawn from a generator seeded by (seed, index) alone.
Synthetic GenerateSeries(uint64_t seed, int index);

// Series 0 .. count-1 of the set `seed`.
std::vector<Synthetic> GenerateSet(uint64_t seed, int count);

// Whether `value` passes `limit` for the quantity (memory: above; counts:
// at or above), and the limit over `baseline`.
bool PassesLimit(Quantity q, double value, double limit);
double LimitOver(Quantity q, double baseline);

}  // namespace memmon::synth

#endif  // MEMMON_TOOLS_SYNTH_H_
