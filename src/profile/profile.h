// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// An in-memory pprof profile (google/pprof proto/profile.proto) with its
// strings resolved: the writer interns them into the string table, the
// reader looks them up. Ids are the proto's (1-based, 0 = none).
//
// Thread-safety: a plain value.
#ifndef MEMMON_SRC_PROFILE_PROFILE_H_
#define MEMMON_SRC_PROFILE_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace memmon::profile {

struct ValueType {
  std::string type;
  std::string unit;
  bool operator==(const ValueType&) const = default;
};

struct Label {
  std::string key;
  std::string str;
  int64_t num = 0;
  std::string num_unit;
};

struct Sample {
  std::vector<uint64_t> location_ids;  // innermost (leaf) first
  std::vector<int64_t> values;         // one per sample type
  std::vector<Label> labels;
};

struct Mapping {
  uint64_t id = 0;
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  std::string filename;
  std::string build_id;
  bool has_functions = false;
  bool has_filenames = false;
  bool has_line_numbers = false;
  bool has_inline_frames = false;
};

struct Line {
  uint64_t function_id = 0;
  int64_t line = 0;
};

struct Location {
  uint64_t id = 0;
  uint64_t mapping_id = 0;
  uint64_t address = 0;
  std::vector<Line> lines;  // innermost (inlined callee) first
  bool is_folded = false;
};

struct Function {
  uint64_t id = 0;
  std::string name;         // demangled
  std::string system_name;  // as in the symbol table
  std::string filename;
  int64_t start_line = 0;
};

struct Profile {
  std::vector<ValueType> sample_types;
  std::vector<Sample> samples;
  std::vector<Mapping> mappings;
  std::vector<Location> locations;
  std::vector<Function> functions;
  std::string drop_frames;
  std::string keep_frames;
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;
  ValueType period_type;
  int64_t period = 0;
  std::vector<std::string> comments;
  std::string default_sample_type;

  // Index of the sample type named `type`, or -1.
  int SampleTypeIndex(const std::string& type) const;
  // Lookups by id; nullptr when absent. Linear for ids that are not dense.
  const Location* FindLocation(uint64_t id) const;
  const Function* FindFunction(uint64_t id) const;
};

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_PROFILE_H_
