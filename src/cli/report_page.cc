// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "cli/report_page.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "base/format.h"
#include "cli/heap_series.h"
#include "memmon/version.h"
#include "profile/pprof.h"

namespace memmon::cli {
namespace {

using nlohmann::json;

// Stacks deeper than this keep their outermost frames: the flame graph's
// tree, its JSON and the browser's layout all recurse over depth, and a
// hostile profile could have any.
constexpr std::size_t kMaxFlameDepth = 512;

// The samples.csv columns the charts draw: memory, counts, and where the
// resident memory is (the stacked area; docs/explain.md).
constexpr std::string_view kChartColumns[] = {
    "rss_bytes",
    "heap_inuse_bytes",
    "heap_free_bytes",
    "threads",
    "fds",
    "rss_heap_bytes",
    "rss_heap_inuse_bytes",
    "rss_allocator_free_bytes",
    "rss_stacks_bytes",
    "rss_code_bytes",
    "rss_file_bytes",
    "rss_anon_other_bytes",
    "rss_unexplained_bytes",
};

Status ReadFile(const std::string& path, std::string* text) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(
        fmt::format("cannot open {}: {}", path,
                    errno ? std::strerror(errno) : "unknown error"));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return Status::InvalidArgument(fmt::format("cannot read {}", path));
  *text = std::move(buf).str();
  return Status::Ok();
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string JsonError(const json::exception& e) {
  std::string_view what = e.what();
  if (!what.empty() && what.front() == '[') {
    std::size_t end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  return std::string(what);
}

Status ParseJson(std::string_view text, json* out, std::string* error) {
  try {
    *out = json::parse(text);
  } catch (const json::exception& e) {
    *error = JsonError(e);
    return Status::InvalidArgument(*error);
  }
  return Status::Ok();
}

std::optional<double> Number(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string String(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Status ParseAlerts(const std::string& path, std::string_view text,
                   std::vector<ReportAlert>* out) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json j;
    std::string error;
    if (!ParseJson(line, &j, &error).ok()) {
      // The parser sees one line: its "line 1" says nothing.
      constexpr std::string_view kLineOne = "at line 1, column";
      if (std::size_t at = error.find(kLineOne); at != std::string::npos) {
        error.replace(at, kLineOne.size(), "at column");
      }
      return Status::InvalidArgument(
          fmt::format("{}: line {}: {}", path, line_no, error));
    }
    if (!j.is_object()) {
      return Status::InvalidArgument(
          fmt::format("{}: line {}: not a JSON object", path, line_no));
    }
    ReportAlert alert;
    alert.type = String(j, "type");
    std::optional<double> time_s = Number(j, "time_s");
    if (alert.type.empty() || !time_s || !std::isfinite(*time_s)) {
      return Status::InvalidArgument(
          fmt::format("{}: line {}: an alert needs a \"type\" string and a "
                      "\"time_s\" number",
                      path, line_no));
    }
    alert.time_s = *time_s;
    alert.message = String(j, "message");
    alert.resolved = String(j, "state") == "resolved";
    std::optional<double> start = Number(j, "episode_start_s");
    if (alert.resolved && start && std::isfinite(*start)) {
      alert.episode_start_s = *start;
    }
    out->push_back(std::move(alert));
  }
  return Status::Ok();
}

Status ParseLeaks(const std::string& path, std::string_view text,
                  std::vector<LeakSuspect>* out) {
  json j;
  std::string error;
  if (!ParseJson(text, &j, &error).ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", path, error));
  }
  if (!j.is_array()) {
    return Status::InvalidArgument(
        fmt::format("{}: not a JSON array of suspects", path));
  }
  for (std::size_t i = 0; i < j.size(); ++i) {
    const json& s = j[i];
    auto bad = [&](std::string_view what) {
      return Status::InvalidArgument(fmt::format("{}: suspect {} (of {}): {}",
                                                 path, i + 1, j.size(), what));
    };
    if (!s.is_object()) return bad("not a JSON object");
    LeakSuspect leak;
    auto stack = s.find("stack");
    if (stack == s.end() || !stack->is_array() || stack->empty()) {
      return bad("\"stack\" must be a non-empty array of function names");
    }
    for (const json& f : *stack) {
      if (!f.is_string())
        return bad("\"stack\" must be a non-empty array of function names");
      leak.stack.push_back(f.get<std::string>());
    }
    std::optional<double> inuse = Number(s, "inuse_bytes");
    std::optional<double> growth = Number(s, "growth_bytes_per_s");
    if (!inuse || !growth)
      return bad("\"inuse_bytes\" and \"growth_bytes_per_s\" must be numbers");
    leak.inuse_bytes = *inuse;
    leak.growth_bytes_per_s = *growth;
    // The rest is optional: shown when present and of the expected type.
    if (auto frames = s.find("frames");
        frames != s.end() && frames->is_array()) {
      for (const json& f : *frames) {
        if (!f.is_object()) continue;
        LeakFrame frame;
        frame.function = String(f, "function");
        frame.file = String(f, "file");
        frame.line = static_cast<int64_t>(Number(f, "line").value_or(0));
        leak.frames.push_back(std::move(frame));
      }
    }
    leak.confidence = Number(s, "confidence");
    leak.kind = String(s, "kind");
    leak.first_bytes = Number(s, "first_bytes");
    leak.peak_bytes = Number(s, "peak_bytes");
    leak.median_age_s = Number(s, "median_age_s");
    leak.oldest_age_s = Number(s, "oldest_age_s");
    leak.age = String(s, "age");
    if (leak.age == "unknown") leak.age.clear();
    out->push_back(std::move(leak));
  }
  return Status::Ok();
}

Status ParseRunInfo(const std::string& path, std::string_view text,
                    RunInfo* out) {
  json j;
  std::string error;
  if (!ParseJson(text, &j, &error).ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", path, error));
  }
  if (!j.is_object())
    return Status::InvalidArgument(fmt::format("{}: not a JSON object", path));
  if (auto argv = j.find("argv"); argv != j.end() && argv->is_array()) {
    for (const json& a : *argv) {
      if (a.is_string()) out->argv.push_back(a.get<std::string>());
    }
  }
  if (auto status = j.find("exit_status");
      status != j.end() && status->is_number_integer()) {
    out->exit_status = status->get<int64_t>();
  }
  out->started = String(j, "started");
  out->duration_s = Number(j, "duration_s");
  return Status::Ok();
}

// ---- the flame graph's tree
// --------------------------------------------------

struct FlameNode {
  int64_t self = 0;
  std::map<std::string, std::unique_ptr<FlameNode>> children;  // by name
};

std::string FrameName(const profile::Function* f) {
  if (f == nullptr) return "??";
  if (!f->name.empty()) return f->name;
  if (!f->system_name.empty()) return f->system_name;
  return "??";
}

json ToJson(const std::string& name, const FlameNode& node) {
  json children = json::array();
  for (const auto& [child_name, child] : node.children) {
    children.push_back(ToJson(child_name, *child));
  }
  json out = {{"name", name}, {"value", node.self}};
  if (!children.empty()) out["children"] = std::move(children);
  return out;
}

// ---- HTML
// --------------------------------------------------------------------

std::string Bytes(double b) { return internal::HumanBytes(b); }
std::string Duration(double s) { return internal::HumanDuration(s); }

std::string Plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string BaseName(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Command(const RunInfo& run) {
  std::string out;
  for (const std::string& a : run.argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() &&
                 a.find_first_of(" \t\n'\"\\$`*?&;|<>()") == std::string::npos;
    out += plain ? a : "'" + a + "'";
  }
  return out;
}

json SamplesJson(const internal::SamplesCsv& csv) {
  json series = json::object();
  json times = json::array();
  for (const internal::TimedSample& t : csv.samples) times.push_back(t.time_s);
  series["time_s"] = std::move(times);
  for (std::string_view column : kChartColumns) {
    std::optional<uint64_t> Sample::*field = internal::SamplesCsvField(column);
    if (field == nullptr || !csv.Has(column)) continue;
    json values = json::array();
    for (const internal::TimedSample& t : csv.samples) {
      const std::optional<uint64_t>& v = t.sample.*field;
      values.push_back(v ? json(*v) : json(nullptr));
    }
    series[std::string(column)] = std::move(values);
  }
  return series;
}

void AppendHeader(const RunReport& r, std::string* out) {
  std::string title = r.run && !r.run->argv.empty() ? BaseName(r.run->argv[0])
                                                    : BaseName(r.dir);
  *out += fmt::format(
      "<header>\n<h1>memmon report: {}</h1>\n<dl class=\"summary\">\n",
      HtmlEscape(title));
  auto row = [out](std::string_view term, const std::string& html) {
    *out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", term, html);
  };
  if (r.run) {
    if (!r.run->argv.empty())
      row("Command", "<code>" + HtmlEscape(Command(*r.run)) + "</code>");
    if (!r.run->started.empty()) row("Started", HtmlEscape(r.run->started));
    if (r.run->duration_s) row("Ran for", Duration(*r.run->duration_s));
    if (r.run->exit_status)
      row("Exit status", std::to_string(*r.run->exit_status));
  }
  row("Run directory", "<code>" + HtmlEscape(r.dir) + "</code>");
  if (r.samples) {
    std::size_t n = r.samples->samples.size();
    std::string span;
    if (n >= 2) {
      span = " over " + Duration(r.samples->samples.back().time_s -
                                 r.samples->samples.front().time_s);
    }
    row("Samples", Plural(n, "sample", "samples") + span);
  } else {
    row("Samples", "none (no samples.csv)");
  }
  std::size_t resolved = 0;
  for (const ReportAlert& a : r.alerts) resolved += a.resolved;
  std::string alerts = std::to_string(r.alerts.size() - resolved);
  if (resolved > 0) alerts += fmt::format(" ({} resolved)", resolved);
  row("Alerts", alerts);
  *out += "</dl>\n";
  if (!r.alerts.empty()) {
    *out += "<ol class=\"alerts\" id=\"alerts\">\n";
    for (const ReportAlert& a : r.alerts) {
      std::string state;
      if (a.resolved) {
        state = "<span class=\"state\">resolved";
        if (a.episode_start_s) {
          state += " after " + Duration(a.time_s - *a.episode_start_s);
        }
        state += "</span> ";
      }
      *out += fmt::format(
          "<li{}><span class=\"time\">{}</span> <span class=\"type "
          "type-{}\">{}</span> "
          "{}{}</li>\n",
          a.resolved ? " class=\"resolved\"" : "", Duration(a.time_s),
          HtmlEscape(a.type), HtmlEscape(a.type), state, HtmlEscape(a.message));
    }
    *out += "</ol>\n";
  }
  *out += "</header>\n";
}

void AppendMemory(const RunReport& r, std::string* out) {
  *out += "<section id=\"memory\">\n<h2>Memory over time</h2>\n";
  if (!r.samples) {
    *out += "<p class=\"note\">No samples.csv in the run directory.</p>\n";
  } else if (r.samples->samples.empty()) {
    *out += "<p class=\"note\">samples.csv holds no samples.</p>\n";
  } else {
    *out +=
        "<div id=\"memory-chart\" class=\"chart\"></div>\n"
        "<div id=\"counts-chart\" class=\"chart small\"></div>\n";
  }
  *out += "</section>\n";
}

// The resident memory by part: a stacked area over time (report.js) and
// the parts at the last sample that has them, in a table.
void AppendResident(const RunReport& r, std::string* out) {
  if (!r.samples || !r.samples->Has("rss_heap_bytes")) return;
  const Sample* last = nullptr;
  for (const internal::TimedSample& t : r.samples->samples)
    if (t.sample.rss_heap_bytes) last = &t.sample;
  *out += "<section id=\"resident\">\n<h2>Where the resident memory is</h2>\n";
  if (last == nullptr) {
    *out +=
        "<p class=\"note\">No sample read the breakdown (the cost budget "
        "skipped every read).</p>\n</section>\n";
    return;
  }
  *out += "<div id=\"rss-chart\" class=\"chart\"></div>\n";
  const bool split = last->rss_heap_inuse_bytes.has_value() &&
                     last->rss_allocator_free_bytes.has_value();
  struct Part {
    std::string_view label;
    std::optional<uint64_t> value;
  };
  const Part parts[] = {
      {"heap in use", split ? last->rss_heap_inuse_bytes : std::nullopt},
      {"allocator free-held and metadata",
       split ? last->rss_allocator_free_bytes : std::nullopt},
      {"heap (in use and free-held)",
       split ? std::nullopt : last->rss_heap_bytes},
      {"thread stacks", last->rss_stacks_bytes},
      {"code and data of the binary and libraries", last->rss_code_bytes},
      {"other file mappings", last->rss_file_bytes},
      {"other anonymous memory", last->rss_anon_other_bytes},
      {"unexplained", last->rss_unexplained_bytes},
  };
  uint64_t total = 0;
  for (const Part& p : parts) total += p.value.value_or(0);
  *out += fmt::format(
      "<table class=\"leaks parts\">\n<tr><th>At the last sample "
      "read</th><th class=\"num\">resident</th><th class=\"num\">share</th></"
      "tr>\n");
  for (const Part& p : parts) {
    if (!p.value) continue;
    *out += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{:.1f} %</td></tr>\n",
        p.label, Bytes(static_cast<double>(*p.value)),
        total
            ? 100.0 * static_cast<double>(*p.value) / static_cast<double>(total)
            : 0.0);
  }
  *out += fmt::format(
      "<tr><th>total</th><th class=\"num\">{}</th><th></th></tr>\n</"
      "table>\n<p class=\"note\">How each part is found, and its "
      "uncertainty: <code>memmon explain</code> and docs/explain.md.</p>\n",
      Bytes(static_cast<double>(total)));
  *out += "</section>\n";
}

void AppendHeap(const RunReport& r, std::string* out) {
  *out += "<section id=\"heap\">\n<h2>In-use heap by call stack</h2>\n";
  if (!r.heap) {
    *out +=
        "<p class=\"note\">No heap profile (no heap.pb.gz or heap.NNNN.pb.gz "
        "in the "
        "run directory).</p>\n</section>\n";
    return;
  }
  const profile::Profile& p = *r.heap;
  int index = p.SampleTypeIndex("inuse_space");
  int64_t total = 0;
  std::size_t stacks = 0;
  for (const profile::Sample& s : p.samples) {
    if (index >= 0 && static_cast<std::size_t>(index) < s.values.size() &&
        s.values[static_cast<std::size_t>(index)] > 0) {
      total += s.values[static_cast<std::size_t>(index)];
      ++stacks;
    }
  }
  std::string about =
      fmt::format("<code>{}</code>: {} in use in {}", HtmlEscape(r.heap_file),
                  Bytes(static_cast<double>(total)),
                  Plural(stacks, "call stack", "call stacks"));
  if (p.period == 1 && p.period_type.unit == "bytes") {
    about += ", every allocation sampled";
  } else if (p.period > 1 && p.period_type.unit == "bytes") {
    about += fmt::format(" (an estimate: one sample about every {} allocated)",
                         Bytes(static_cast<double>(p.period)));
  }
  if (!p.comments.empty()) about += "; " + HtmlEscape(p.comments.front());
  *out += fmt::format(
      "<p class=\"note\">{}. Callers at the bottom, allocation sites at the "
      "top; a "
      "frame's width is the bytes still allocated under it. Click a frame to "
      "zoom.</p>\n",
      about);
  *out +=
      "<div id=\"flame-graph\" class=\"flame\"></div>\n"
      "<p id=\"flame-details\" class=\"details\">&nbsp;</p>\n"
      "<button type=\"button\" id=\"flame-reset\">Reset zoom</button>\n"
      "</section>\n";
}

void AppendLeaks(const RunReport& r, std::string* out) {
  *out += "<section id=\"leaks\">\n<h2>Leak suspects</h2>\n";
  if (!r.leaks) {
    *out +=
        "<p class=\"note\">No leak suspects computed (no "
        "leaks.json).</p>\n</section>\n";
    return;
  }
  if (r.leaks->empty()) {
    *out += "<p class=\"note\">No leak suspects.</p>\n</section>\n";
    return;
  }
  *out +=
      "<table class=\"leaks\">\n<thead><tr><th>#</th><th>allocation site</th>"
      "<th>in use</th><th>growth</th><th>kind</th><th>confidence</th>"
      "<th>first &rarr; peak</th><th>live age (median / oldest)</th>"
      "</tr></thead>\n<tbody>\n";
  std::size_t rank = 0;
  for (const LeakSuspect& s : *r.leaks) {
    ++rank;
    std::string site = "<code>" + HtmlEscape(s.stack.front()) + "</code>";
    if (!s.frames.empty() && !s.frames.front().file.empty()) {
      const LeakFrame& f = s.frames.front();
      site +=
          fmt::format(" <span class=\"file\">{}{}</span>", HtmlEscape(f.file),
                      f.line > 0 ? fmt::format(":{}", f.line) : "");
    }
    std::string stack = "<details><summary>stack (" +
                        Plural(s.stack.size(), "frame", "frames") +
                        ")</summary><ol>";
    for (std::size_t i = 0; i < s.stack.size(); ++i) {
      stack += "<li><code>" + HtmlEscape(s.stack[i]) + "</code>";
      if (i < s.frames.size() && !s.frames[i].file.empty()) {
        stack += fmt::format(
            " <span class=\"file\">{}{}</span>", HtmlEscape(s.frames[i].file),
            s.frames[i].line > 0 ? fmt::format(":{}", s.frames[i].line) : "");
      }
      stack += "</li>";
    }
    stack += "</ol></details>";
    std::string first_peak = "&ndash;";
    if (s.first_bytes || s.peak_bytes) {
      first_peak = (s.first_bytes ? Bytes(*s.first_bytes) : "?") + " &rarr; " +
                   (s.peak_bytes ? Bytes(*s.peak_bytes) : "?");
    }
    std::string age = "&ndash;";
    if (s.median_age_s && s.oldest_age_s) {
      age = fmt::format("{} / {}", internal::HumanDuration(*s.median_age_s),
                        internal::HumanDuration(*s.oldest_age_s));
      if (!s.age.empty()) age += " (" + HtmlEscape(s.age) + ")";
    }
    *out += fmt::format(
        "<tr><td>{}</td><td>{}{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}/s</td>"
        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td></tr>\n",
        rank, site, stack, Bytes(s.inuse_bytes), Bytes(s.growth_bytes_per_s),
        s.kind.empty() ? "&ndash;" : HtmlEscape(s.kind),
        s.confidence ? fmt::format("{:.1f} %", *s.confidence * 100) : "&ndash;",
        first_peak, age);
  }
  *out += "</tbody>\n</table>\n</section>\n";
}

}  // namespace

Status LoadRunDir(const std::string& dir, RunReport* out) {
  *out = RunReport();
  out->dir = dir;
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return Status::InvalidArgument(
        fmt::format("{}: {}", dir, std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(fmt::format("{}: not a directory", dir));
  }
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    return Status::InvalidArgument(
        fmt::format("cannot list {}: {}", dir, ec.message()));
  }
  auto has = [&](std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  auto path = [&](const std::string& name) {
    return dir.ends_with('/') ? dir + name : dir + "/" + name;
  };
  // The heap profile: the last of the run's series, as `memmon leaks` judges
  // it (heap_series.h: the exit profile only without two snapshots, the
  // teardown's collapse left out).
  const bool has_profiles = !RunDirProfiles(dir).empty();
  if (!has("samples.csv") && !has("alerts.jsonl") && !has("leaks.json") &&
      !has("run.json") && !has_profiles) {
    return Status::InvalidArgument(
        fmt::format("{}: not a memmon run directory (no samples.csv, "
                    "alerts.jsonl, leaks.json, "
                    "run.json or heap profile in it)",
                    dir));
  }

  std::string text;
  if (has("samples.csv")) {
    std::string file = path("samples.csv");
    if (Status s = ReadFile(file, &text); !s.ok()) return s;
    internal::SamplesCsv csv;
    if (Status s = internal::ParseSamplesCsv(text, &csv); !s.ok()) {
      return Status::InvalidArgument(fmt::format("{}: {}", file, s.message()));
    }
    out->samples = std::move(csv);
  }
  if (has("alerts.jsonl")) {
    std::string file = path("alerts.jsonl");
    if (Status s = ReadFile(file, &text); !s.ok()) return s;
    if (Status s = ParseAlerts(file, text, &out->alerts); !s.ok()) return s;
  }
  if (has("leaks.json")) {
    std::string file = path("leaks.json");
    if (Status s = ReadFile(file, &text); !s.ok()) return s;
    std::vector<LeakSuspect> leaks;
    if (Status s = ParseLeaks(file, text, &leaks); !s.ok()) return s;
    out->leaks = std::move(leaks);
  }
  if (has("run.json")) {
    std::string file = path("run.json");
    if (Status s = ReadFile(file, &text); !s.ok()) return s;
    RunInfo run;
    if (Status s = ParseRunInfo(file, text, &run); !s.ok()) return s;
    out->run = std::move(run);
  }
  if (has_profiles) {
    HeapSeries series;
    if (Status s = LoadHeapSeries({dir}, &series); !s.ok()) {
      return Status::InvalidArgument(s.message());
    }
    out->heap_file =
        std::filesystem::path(series.paths.back()).filename().string();
    out->heap = std::move(series.profiles.back());
  }
  return Status::Ok();
}

json FlameGraphTree(const profile::Profile& p, const std::string& sample_type) {
  int index = p.SampleTypeIndex(sample_type);
  if (index < 0) return nullptr;
  const auto column = static_cast<std::size_t>(index);
  FlameNode root;
  std::vector<std::string> frames;
  for (const profile::Sample& s : p.samples) {
    if (column >= s.values.size() || s.values[column] <= 0) continue;
    frames.clear();
    // location_ids and each location's lines are innermost first: walk both
    // backwards for a root-first path.
    for (auto loc = s.location_ids.rbegin();
         loc != s.location_ids.rend() && frames.size() < kMaxFlameDepth;
         ++loc) {
      const profile::Location* location = p.FindLocation(*loc);
      if (location == nullptr) {
        frames.push_back("??");
      } else if (location->lines.empty()) {
        frames.push_back(fmt::format("{:#x}", location->address));
      } else {
        for (auto line = location->lines.rbegin();
             line != location->lines.rend() && frames.size() < kMaxFlameDepth;
             ++line) {
          frames.push_back(FrameName(p.FindFunction(line->function_id)));
        }
      }
    }
    FlameNode* node = &root;
    for (const std::string& name : frames) {
      std::unique_ptr<FlameNode>& child = node->children[name];
      if (!child) child = std::make_unique<FlameNode>();
      node = child.get();
    }
    node->self += s.values[column];
  }
  return ToJson("all", root);
}

std::string ScriptJson(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderReport(const RunReport& r,
                         std::span<const EmbeddedFile> assets) {
  auto is = [](const EmbeddedFile& f, std::string_view ext) {
    return f.name.ends_with(ext);
  };
  constexpr std::string_view kHeadScript = "memmon/errors.js";

  std::string title = r.run && !r.run->argv.empty() ? BaseName(r.run->argv[0])
                                                    : BaseName(r.dir);
  std::string out;
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n"
      // Nothing may be fetched: a reference that slipped in is blocked and
      // counted as an error by errors.js.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; "
      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src "
      "data:\">\n";
  out += fmt::format("<meta name=\"generator\" content=\"memmon {}\">\n",
                     MEMMON_VERSION_STRING);
  out += fmt::format("<title>memmon report: {}</title>\n", HtmlEscape(title));
  for (const EmbeddedFile& f : assets) {
    if (is(f, ".css"))
      out += fmt::format("<style>/* {} */\n{}\n</style>\n", f.name, f.data);
  }
  for (const EmbeddedFile& f : assets) {
    if (f.name == kHeadScript)
      out += fmt::format("<script>\n{}\n</script>\n", f.data);
  }
  out += "</head>\n<body>\n";

  AppendHeader(r, &out);
  AppendMemory(r, &out);
  AppendResident(r, &out);
  AppendHeap(r, &out);
  AppendLeaks(r, &out);
  out += fmt::format("<footer>Written by memmon {}.</footer>\n",
                     MEMMON_VERSION_STRING);

  json data = json::object();
  data["samples"] = r.samples ? SamplesJson(*r.samples) : json(nullptr);
  json alerts = json::array();
  for (const ReportAlert& a : r.alerts) {
    json alert = {{"type", a.type},
                  {"time_s", a.time_s},
                  {"message", a.message},
                  {"state", a.resolved ? "resolved" : "firing"}};
    if (a.episode_start_s) alert["episode_start_s"] = *a.episode_start_s;
    alerts.push_back(std::move(alert));
  }
  data["alerts"] = std::move(alerts);
  data["flame"] =
      r.heap ? FlameGraphTree(*r.heap, "inuse_space") : json(nullptr);
  out += "<script type=\"application/json\" id=\"memmon-data\">" +
         ScriptJson(data) + "</script>\n";

  for (const EmbeddedFile& f : assets) {
    if (is(f, ".js") && f.name != kHeadScript) {
      out += fmt::format("<script>/* {} */\n{}\n</script>\n", f.name, f.data);
    }
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace memmon::cli
