// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "http/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>

#include "detect/growth_internal.h"
#include "memmon/growth.h"

namespace memmon::http {
namespace {

using U64Field = std::optional<uint64_t> Sample::*;

// A sample value as Prometheus writes it: shortest round-trip decimal,
// +Inf, -Inf, NaN.
std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// A label value with \, " and newline escaped.
std::string Escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Page {
 public:
  // Starts a family: its HELP and TYPE lines.
  void Family(std::string_view name, std::string_view type,
              std::string_view help) {
    name_ = name;
    fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n",
                   name, help, name, type);
  }
  void Value(double v) {
    fmt::format_to(std::back_inserter(text_), "{} {}\n", name_, Number(v));
  }
  void Value(std::string_view label, std::string_view label_value, double v) {
    fmt::format_to(std::back_inserter(text_), "{}{{{}=\"{}\"}} {}\n", name_,
                   label, Escape(label_value), Number(v));
  }
  // A one-sample family, written only when the value is known.
  void Gauge(std::string_view name, std::string_view help,
             std::optional<double> v, std::string_view type = "gauge") {
    if (!v) return;
    Family(name, type, help);
    Value(*v);
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string name_;
  std::string text_;
};

std::optional<double> Of(const std::optional<uint64_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

}  // namespace

std::vector<GrowthOutlook> Outlooks(const MemoryStats& stats,
                                    const std::vector<Sample>& samples,
                                    const MonitorConfig& config) {
  std::vector<GrowthOutlook> out;
  if (!stats.baseline_sample) return out;
  const Sample& base = *stats.baseline_sample;
  struct Quantity {
    const char* name;
    U64Field field;
    double pct;
    double floor;
  };
  const Quantity quantities[] = {
      {"heap_inuse_bytes", &Sample::heap_inuse_bytes,
       config.alert_threshold_pct,
       static_cast<double>(config.growth_floor_bytes)},
      {"rss_bytes", &Sample::rss_bytes, config.alert_threshold_pct,
       static_cast<double>(config.growth_floor_bytes)},
      {"threads", &Sample::threads, config.thread_growth_pct,
       static_cast<double>(config.thread_growth_floor)},
      {"open_fds", &Sample::open_fds, config.fd_growth_pct,
       static_cast<double>(config.fd_growth_floor)},
  };
  GrowthOptions options = internal::TrendOptions(config);
  for (const Quantity& q : quantities) {
    if (!(base.*q.field)) continue;
    // The samples since the baseline, as the detectors judge them.
    std::vector<double> t, v;
    for (const Sample& s : samples) {
      if (s.monotonic < base.monotonic || !(s.*q.field)) continue;
      t.push_back(
          std::chrono::duration<double>(s.monotonic - base.monotonic).count());
      v.push_back(static_cast<double>(*(s.*q.field)));
    }
    if (v.empty()) continue;
    GrowthOutlook o;
    o.quantity = q.name;
    o.limit = internal::GrowthLimit(static_cast<double>(*(base.*q.field)),
                                    q.pct, q.floor);
    o.time_to_limit_s = std::numeric_limits<double>::infinity();
    GrowthTrend trend = ClassifyGrowth(t, v, options);
    if (trend.kind == GrowthKind::kUnbounded) {
      o.unbounded = true;
      o.slope_per_s = trend.slope_per_s;
      o.slope_lower_per_s = trend.slope_lower_per_s;
      if (trend.level >= o.limit) {
        o.time_to_limit_s = 0;
      } else if (trend.slope_lower_per_s > 0) {
        o.time_to_limit_s = (o.limit - trend.level) / trend.slope_lower_per_s;
      }
    }
    out.push_back(o);
  }
  return out;
}

namespace {

// The memory limit's families beyond its two gauges (docs/limits.md): the
// OOM kills the process's cgroup counted, and the time to the limit at the
// fitted slope and at its upper bound (ProjectTimeToLimit). Each as of the
// last sample that read the limit (the reads are budgeted).
void MemoryLimitMetrics(const MetricsInput& in, Page* p) {
  if (in.samples == nullptr || in.config == nullptr) return;
  const std::vector<Sample>& samples = *in.samples;
  std::optional<uint64_t> kills;
  for (auto it = samples.rbegin(); it != samples.rend() && !kills; ++it) {
    kills = it->memory_limit_oom_kills;
  }
  p->Gauge("memmon_memory_limit_oom_kills_total",
           "OOM kills the process's memory cgroup has counted (v2 "
           "memory.events oom_kill, v1 memory.oom_control): kills of its "
           "processes by any OOM killer.",
           Of(kills), "counter");
  // The projection judges the samples up to the last that read the limit.
  std::size_t end = samples.size();
  while (end > 0 && !samples[end - 1].memory_limit_bytes) --end;
  if (end == 0) return;
  const MemoryStats& st = *in.stats;
  DetectionInput d{std::span<const Sample>(samples.data(), end),
                   st.baseline_sample ? &*st.baseline_sample : nullptr,
                   in.config};
  std::optional<TimeToLimit> t = ProjectTimeToLimit(d);
  if (!t) return;
  p->Family("memmon_memory_limit_seconds_to_limit", "gauge",
            "Projected seconds until the usage the binding limit counts "
            "reaches it: at the Theil-Sen slope (bound fitted) and at its "
            "upper confidence bound (bound earliest); +Inf when "
            "not rising steadily, 0 at the limit.");
  p->Value("bound", "fitted", t->fitted_s);
  p->Value("bound", "earliest", t->earliest_s);
}

}  // namespace

std::string PrometheusText(const MetricsInput& in) {
  Page p;
  const MemoryStats& st = *in.stats;
  if (st.current_sample) {
    const Sample& s = *st.current_sample;
    p.Gauge("memmon_heap_inuse_bytes",
            "Bytes the allocator has handed out to the program.",
            Of(s.heap_inuse_bytes));
    p.Gauge("memmon_heap_free_bytes", "Bytes free but held by the allocator.",
            Of(s.heap_free_bytes));
    p.Gauge("memmon_heap_system_bytes",
            "Bytes the allocator holds from the operating system.",
            Of(s.heap_system_bytes));
    p.Gauge("memmon_rss_bytes", "Resident set size.", Of(s.rss_bytes));
    p.Gauge("memmon_virtual_bytes", "Virtual address space size.",
            Of(s.virtual_bytes));
    p.Gauge("memmon_pss_bytes", "Proportional set size.", Of(s.pss_bytes));
    p.Gauge("memmon_threads", "Threads of the process.", Of(s.threads));
    p.Gauge("memmon_open_fds", "Open file descriptors of the process.",
            Of(s.open_fds));
    p.Gauge("memmon_memory_limit_bytes",
            "The memory limit that binds (least headroom: cgroup, rlimit or "
            "the machine's available memory).",
            Of(s.memory_limit_bytes));
    p.Gauge("memmon_memory_limit_usage_bytes",
            "Usage as that limit counts it (a cgroup: anonymous memory, page "
            "cache and kernel memory of all its processes).",
            Of(s.memory_limit_usage_bytes));
    p.Gauge("memmon_allocator_cpu_ratio",
            "Share of CPU time spent in the allocator over the last interval.",
            s.allocator_cpu_fraction);
    p.Gauge("memmon_heap_allocations_total",
            "Allocation calls that returned memory.", Of(s.allocations),
            "counter");
    p.Gauge("memmon_heap_frees_total", "Calls that released memory.",
            Of(s.frees), "counter");
    p.Gauge("memmon_heap_allocated_bytes_total",
            "Bytes requested by allocation calls, cumulative.",
            Of(s.total_allocated_bytes), "counter");
    if (s.minor_faults || s.major_faults) {
      p.Family("memmon_page_faults_total", "counter",
               "Page faults of the process, by kind.");
      if (s.minor_faults) {
        p.Value("kind", "minor", static_cast<double>(*s.minor_faults));
      }
      if (s.major_faults) {
        p.Value("kind", "major", static_cast<double>(*s.major_faults));
      }
    }
    p.Gauge("memmon_cpu_seconds_total",
            "CPU time of the process, user and system.", s.cpu_seconds,
            "counter");
    // The breakdown as of the last sample that read it: the cost budget
    // skips the read on some samples, and a series that comes and goes
    // between scrapes would break rate() and alert rules.
    const Sample* b = s.rss_heap_bytes ? &s : nullptr;
    if (b == nullptr && in.samples != nullptr) {
      for (auto it = in.samples->rbegin(); it != in.samples->rend(); ++it) {
        if (it->rss_heap_bytes) {
          b = &*it;
          break;
        }
      }
    }
    if (b != nullptr) {
      // The parts add up to the RSS: the heap split when it can be, whole
      // when it cannot (no heap figures).
      p.Family("memmon_rss_breakdown_bytes", "gauge",
               "Resident memory by part (docs/explain.md), as of the last "
               "sample that read it: heap_inuse and allocator_free, or heap "
               "when the heap cannot be split; stacks, code, file, "
               "anon_other, unexplained. The parts add up to the RSS.");
      const bool split =
          b->rss_heap_inuse_bytes.has_value() && b->rss_allocator_free_bytes;
      const std::pair<const char*, std::optional<uint64_t>> parts[] = {
          {"heap", split ? std::nullopt : b->rss_heap_bytes},
          {"heap_inuse", b->rss_heap_inuse_bytes},
          {"allocator_free", b->rss_allocator_free_bytes},
          {"stacks", b->rss_stacks_bytes},
          {"code", b->rss_code_bytes},
          {"file", b->rss_file_bytes},
          {"anon_other", b->rss_anon_other_bytes},
          {"unexplained", b->rss_unexplained_bytes}};
      for (const auto& [part, v] : parts) {
        if (v) p.Value("part", part, static_cast<double>(*v));
      }
    }
  }
  if (st.baseline_sample) {
    p.Gauge("memmon_baseline_heap_inuse_bytes",
            "Heap in use at the baseline growth is measured against.",
            Of(st.baseline_sample->heap_inuse_bytes));
    p.Gauge("memmon_baseline_rss_bytes",
            "Resident set size at the baseline growth is measured against.",
            Of(st.baseline_sample->rss_bytes));
  }
  if (st.growth_since_baseline_pct) {
    p.Gauge("memmon_growth_since_baseline_ratio",
            "Heap in use (RSS when the heap is unknown) now over the "
            "baseline, minus one.",
            *st.growth_since_baseline_pct / 100.0);
  }
  p.Gauge("memmon_samples_total", "Samples the monitor has taken.",
          static_cast<double>(st.sample_count), "counter");
  p.Gauge("memmon_monitor_running", "1 while the monitor's thread samples.",
          st.running ? 1.0 : 0.0);

  p.Family("memmon_alerts_total", "counter",
           "Alert episodes opened (firing records), by type.");
  for (int t = 0; t < kAlertTypeCount; ++t) {
    p.Value("type", ToString(static_cast<AlertType>(t)),
            static_cast<double>(st.alerts_fired_by_type[t]));
  }
  p.Family("memmon_alert_firing", "gauge",
           "Alert episodes open now (fired, not resolved), by type.");
  for (int t = 0; t < kAlertTypeCount; ++t) {
    p.Value("type", ToString(static_cast<AlertType>(t)),
            static_cast<double>(st.alerts_open_by_type[t]));
  }

  if (!st.tracked_objects.empty()) {
    p.Family("memmon_tracked_objects", "gauge",
             "Live objects of each tracked kind.");
    for (const auto& [name, o] : st.tracked_objects) {
      p.Value("name", name, static_cast<double>(o.count));
    }
    p.Family("memmon_tracked_object_bytes", "gauge",
             "Bytes of the live objects of each tracked kind.");
    for (const auto& [name, o] : st.tracked_objects) {
      p.Value("name", name, static_cast<double>(o.bytes));
    }
  }

  if (in.samples != nullptr && in.config != nullptr) {
    std::vector<GrowthOutlook> outlooks = Outlooks(st, *in.samples, *in.config);
    if (!outlooks.empty()) {
      p.Family("memmon_growth_unbounded", "gauge",
               "1 when the quantity rises steadily since the baseline "
               "(memmon's trend test), else 0.");
      for (const GrowthOutlook& o : outlooks) {
        p.Value("quantity", o.quantity, o.unbounded ? 1 : 0);
      }
      p.Family("memmon_growth_slope_per_second", "gauge",
               "Theil-Sen slope of the quantity's floor, units per second "
               "(0 unless rising steadily).");
      for (const GrowthOutlook& o : outlooks) {
        p.Value("quantity", o.quantity, o.slope_per_s);
      }
      p.Family("memmon_growth_slope_lower_per_second", "gauge",
               "Lower 99 % confidence bound of that slope.");
      for (const GrowthOutlook& o : outlooks) {
        p.Value("quantity", o.quantity, o.slope_lower_per_s);
      }
      p.Family("memmon_growth_limit", "gauge",
               "The level memmon's rule alerts at (bytes or count).");
      for (const GrowthOutlook& o : outlooks) {
        p.Value("quantity", o.quantity, o.limit);
      }
      p.Family("memmon_growth_time_to_limit_seconds", "gauge",
               "Projected seconds until the quantity reaches its limit at "
               "the slope's lower bound (+Inf when not rising steadily).");
      for (const GrowthOutlook& o : outlooks) {
        p.Value("quantity", o.quantity, o.time_to_limit_s);
      }
    }
  }

  MemoryLimitMetrics(in, &p);

  if (in.sampler) {
    const memmon_preload_counters& c = *in.sampler;
    p.Gauge("memmon_sampler_sample_rate_bytes",
            "Mean bytes allocated between two heap samples.",
            static_cast<double>(c.sample_rate));
    p.Gauge("memmon_sampler_samples_total", "Allocations the sampler sampled.",
            static_cast<double>(c.samples), "counter");
    p.Gauge("memmon_sampler_live_samples", "Sampled blocks not yet freed.",
            static_cast<double>(c.live_samples));
    p.Gauge("memmon_sampler_dropped_samples_total",
            "Samples not recorded (the sampler's table was full).",
            static_cast<double>(c.dropped_samples), "counter");
    p.Gauge("memmon_sampler_unwind_failures_total",
            "Sampled allocations whose stack could not be captured.",
            static_cast<double>(c.unwind_failures), "counter");
    p.Gauge("memmon_sampler_stacks", "Distinct stacks the sampler recorded.",
            static_cast<double>(c.stacks));
  }
  return p.Take();
}

std::string ServerMetricsText(const ServerCounters& c) {
  Page p;
  p.Gauge("memmon_http_threads",
          "Threads of memmon's HTTP server (listener, gate, workers).",
          static_cast<double>(c.threads));
  p.Gauge("memmon_http_workers", "Of those, the threads that serve requests.",
          static_cast<double>(c.workers));
  p.Gauge("memmon_http_connections_max",
          "Connections the server holds at most; more are refused with 503.",
          static_cast<double>(c.connections_max));
  p.Family("memmon_http_connections", "gauge",
           "Connections the server holds now, by state: reading (the head "
           "has not arrived, or a refusal is being sent), queued (waiting "
           "for a worker), serving.");
  p.Value("state", "reading", static_cast<double>(c.at_gate));
  p.Value("state", "queued", static_cast<double>(c.queued));
  p.Value("state", "serving", static_cast<double>(c.serving));
  p.Gauge("memmon_http_profile_waits",
          "Profile requests waiting out their ?seconds= now.",
          static_cast<double>(c.waits));
  p.Gauge("memmon_http_profile_waits_max",
          "?seconds= requests allowed to wait at once; more get 503.",
          static_cast<double>(c.waits_max));
  p.Gauge("memmon_http_response_bytes_held",
          "Bytes of response bodies built and not yet sent.",
          static_cast<double>(c.response_bytes_held));
  p.Gauge("memmon_http_shed_connections_total",
          "Connections refused with 503 because the server was full.",
          static_cast<double>(c.shed_total), "counter");
  p.Gauge("memmon_http_keepalive_requests_total",
          "Requests that came on a connection kept alive from an earlier "
          "one.",
          static_cast<double>(c.keepalive_requests_total), "counter");
  p.Gauge("memmon_http_gate_served_total",
          "Requests the gate answered itself: pages ready in memory, served "
          "without waking a worker.",
          static_cast<double>(c.gate_served_total), "counter");
  p.Gauge("memmon_http_gate_wakeups_total",
          "Times the gate woke to requests: with many connections, a round "
          "serves all that have arrived.",
          static_cast<double>(c.gate_wakeups_total), "counter");
  p.Gauge("memmon_http_written_bytes_total",
          "Bytes the server wrote to its clients.",
          static_cast<double>(c.bytes_written_total), "counter");
  p.Family("memmon_http_responses_total", "counter",
           "Responses sent, by HTTP status code.");
  for (const auto& [status, n] : c.responses_by_status) {
    p.Value("code", std::to_string(status), static_cast<double>(n));
  }
  return p.Take();
}

}  // namespace memmon::http
