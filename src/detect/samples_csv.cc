// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "detect/samples_csv.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>

namespace memmon::internal {
namespace {

using U64Field = std::optional<uint64_t> Sample::*;

struct Column {
  std::string_view name;
  U64Field field;  // nullptr: allocator_cpu_fraction
};

constexpr std::array<Column, 20> kColumns{{
    {"rss_bytes", &Sample::rss_bytes},
    {"heap_inuse_bytes", &Sample::heap_inuse_bytes},
    {"heap_free_bytes", &Sample::heap_free_bytes},
    {"threads", &Sample::threads},
    {"fds", &Sample::open_fds},
    {"heap_system_bytes", &Sample::heap_system_bytes},
    {"virtual_bytes", &Sample::virtual_bytes},
    {"pss_bytes", &Sample::pss_bytes},
    {"allocator_cpu_fraction", nullptr},
    {"memory_limit_bytes", &Sample::memory_limit_bytes},
    {"memory_limit_usage_bytes", &Sample::memory_limit_usage_bytes},
    {"rss_heap_bytes", &Sample::rss_heap_bytes},
    {"rss_heap_inuse_bytes", &Sample::rss_heap_inuse_bytes},
    {"rss_allocator_free_bytes", &Sample::rss_allocator_free_bytes},
    {"rss_stacks_bytes", &Sample::rss_stacks_bytes},
    {"rss_code_bytes", &Sample::rss_code_bytes},
    {"rss_file_bytes", &Sample::rss_file_bytes},
    {"rss_anon_other_bytes", &Sample::rss_anon_other_bytes},
    {"rss_unexplained_bytes", &Sample::rss_unexplained_bytes},
    {"memory_limit_oom_kills", &Sample::memory_limit_oom_kills},
}};

constexpr std::array<std::string_view, kColumns.size() + 1> kColumnNames{
    "time_s",
    "rss_bytes",
    "heap_inuse_bytes",
    "heap_free_bytes",
    "threads",
    "fds",
    "heap_system_bytes",
    "virtual_bytes",
    "pss_bytes",
    "allocator_cpu_fraction",
    "memory_limit_bytes",
    "memory_limit_usage_bytes",
    "rss_heap_bytes",
    "rss_heap_inuse_bytes",
    "rss_allocator_free_bytes",
    "rss_stacks_bytes",
    "rss_code_bytes",
    "rss_file_bytes",
    "rss_anon_other_bytes",
    "rss_unexplained_bytes",
    "memory_limit_oom_kills"};

}  // namespace

std::optional<uint64_t> Sample::*SamplesCsvField(std::string_view column) {
  for (const Column& c : kColumns) {
    if (c.name == column) return c.field;
  }
  return nullptr;
}

namespace {

constexpr int kTimeColumn = -1;
constexpr std::size_t kMaxColumns = 1000;
constexpr double kMaxAbsTime = 4e9;
constexpr int kIgnored = -2;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The cell as it may be shown in a message: printable ASCII, at most 40
// characters.
std::string Shown(std::string_view cell) {
  std::string out;
  for (char c : cell.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    out +=
        u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  if (cell.size() > 40) out += "...";
  return out;
}

Status LineError(std::size_t line, std::string what) {
  return Status::InvalidArgument(fmt::format("line {}: {}", line, what));
}

std::optional<double> ParseDouble(std::string_view cell) {
  double v = 0;
  const char* end = cell.data() + cell.size();
  auto [p, ec] = std::from_chars(cell.data(), end, v);
  if (ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseCount(std::string_view cell) {
  uint64_t u = 0;
  const char* end = cell.data() + cell.size();
  auto [p, ec] = std::from_chars(cell.data(), end, u);
  if (ec == std::errc() && p == end) return u;
  // 1.5e6, 1048576.0: accepted when the value is integral and in range.
  std::optional<double> d = ParseDouble(cell);
  if (!d || *d < 0 || *d >= 18446744073709551616.0 || std::floor(*d) != *d) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(*d);
}

// Splits `line` at commas into `cells` (reusing its storage).
void Split(std::string_view line, std::vector<std::string_view>* cells) {
  cells->clear();
  while (true) {
    std::size_t comma = line.find(',');
    cells->push_back(Trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    line.remove_prefix(comma + 1);
  }
}

}  // namespace

bool SamplesCsv::Has(std::string_view column) const {
  for (const std::string& c : columns) {
    if (c == column) return true;
  }
  return false;
}

std::span<const std::string_view> SamplesCsvColumns() { return kColumnNames; }

Status ParseSamplesCsv(std::string_view text, SamplesCsv* out) {
  out->samples.clear();
  out->columns.clear();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  std::vector<int> roles;  // per header cell: index into kColumns, or above
  std::vector<std::string_view> cells;
  bool have_header = false;
  std::size_t line_no = 0;
  std::size_t header_line = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;

    Split(line, &cells);
    if (!have_header) {
      have_header = true;
      header_line = line_no;
      if (cells.size() > kMaxColumns) {
        return LineError(line_no, fmt::format("the header has {} columns, more "
                                              "than the {} allowed",
                                              cells.size(), kMaxColumns));
      }
      bool time_seen = false;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        std::string_view name = cells[i];
        if (name.empty()) {
          return LineError(line_no,
                           fmt::format("header cell {} is empty", i + 1));
        }
        for (std::size_t j = 0; j < i; ++j) {
          if (cells[j] == name) {
            return LineError(
                line_no, fmt::format("column '{}' appears twice", Shown(name)));
          }
        }
        int role = kIgnored;
        if (name == "time_s") {
          role = kTimeColumn;
          time_seen = true;
        }
        for (std::size_t k = 0; k < kColumns.size(); ++k) {
          if (kColumns[k].name == name) role = static_cast<int>(k);
        }
        if (role != kIgnored) out->columns.emplace_back(name);
        roles.push_back(role);
      }
      if (!time_seen) {
        return LineError(line_no,
                         "the header has no time_s column (expected a header "
                         "like time_s,rss_bytes,heap_inuse_bytes,"
                         "heap_free_bytes,threads,fds)");
      }
      continue;
    }

    if (cells.size() != roles.size()) {
      return LineError(line_no,
                       fmt::format("{} cells, but the header (line {}) has {}",
                                   cells.size(), header_line, roles.size()));
    }
    TimedSample ts;
    bool time_set = false;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      int role = roles[i];
      std::string_view cell = cells[i];
      if (role == kIgnored) continue;
      if (role == kTimeColumn) {
        std::optional<double> t = ParseDouble(cell);
        if (!t) {
          return LineError(
              line_no, cell.empty()
                           ? std::string("time_s is empty")
                           : fmt::format("time_s: expected a number, got '{}'",
                                         Shown(cell)));
        }
        // Within +-4e9 s (Unix times up to 2096), so that the time in
        // nanoseconds fits the clocks' 64-bit counts.
        if (std::fabs(*t) > kMaxAbsTime) {
          return LineError(
              line_no,
              fmt::format("time_s {} is out of range (|time_s| <= {:.0e})", *t,
                          kMaxAbsTime));
        }
        ts.time_s = *t;
        time_set = true;
        continue;
      }
      if (cell.empty()) continue;  // unknown
      const Column& col = kColumns[static_cast<std::size_t>(role)];
      if (col.field == nullptr) {
        std::optional<double> f = ParseDouble(cell);
        if (!f || *f < 0 || *f > 1) {
          return LineError(
              line_no,
              fmt::format("{}: expected a number from 0 to 1, got '{}'",
                          col.name, Shown(cell)));
        }
        ts.sample.allocator_cpu_fraction = *f;
        continue;
      }
      std::optional<uint64_t> v = ParseCount(cell);
      if (!v) {
        return LineError(
            line_no,
            fmt::format("{}: expected a non-negative integer, got '{}'",
                        col.name, Shown(cell)));
      }
      ts.sample.*col.field = *v;
    }
    if (!time_set) return LineError(line_no, "time_s is missing");
    if (!out->samples.empty() && !(ts.time_s > out->samples.back().time_s)) {
      return LineError(
          line_no,
          fmt::format("time_s {} is not after the previous sample's {}",
                      ts.time_s, out->samples.back().time_s));
    }
    SetSampleTimes(ts.time_s, &ts.sample);
    out->samples.push_back(ts);
  }
  if (!have_header) {
    return LineError(line_no == 0 ? 1 : line_no,
                     "no header: the file is empty (expected a header like "
                     "time_s,rss_bytes,heap_inuse_bytes,heap_free_bytes,"
                     "threads,fds)");
  }
  return Status::Ok();
}

void SetSampleTimes(double time_s, Sample* sample) {
  auto offset = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(time_s));
  sample->monotonic = std::chrono::steady_clock::time_point(offset);
  sample->time = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(offset));
}

std::string SamplesCsvHeader() {
  std::string out;
  for (std::string_view name : kColumnNames) {
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string SamplesCsvRow(double time_s, const Sample& s) {
  std::string out = fmt::format("{}", time_s);
  for (const Column& col : kColumns) {
    out += ',';
    if (col.field == nullptr) {
      if (s.allocator_cpu_fraction)
        out += fmt::format("{}", *s.allocator_cpu_fraction);
    } else if (const std::optional<uint64_t>& v = s.*col.field) {
      out += fmt::format("{}", *v);
    }
  }
  return out;
}

}  // namespace memmon::internal
