// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon explain PID|DIR [--json] [--top N]: where a process's resident
// memory is (memmon/explain.h, docs/explain.md). For a PID it reads /proc
// now; the heap in use and the allocator's statistics come from the heap
// sampler's status page when the process runs under `memmon run` (its
// MEMMON_STATUS_FILE, or its mapping of the run's .status file), and are
// unknown otherwise (/proc does not have them). For a run directory it shows
// the breakdown the run saved (explain.json), or the last sample's totals.

#include "memmon/explain.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "base/format.h"
#include "cli/command.h"
#include "detect/samples_csv.h"
#include "memmon/memmon_preload.h"
#include "profile/mmap_profile.h"
#include "profile/pprof.h"
#include "source/rss_breakdown.h"

namespace memmon::cli {
namespace {

namespace fs = std::filesystem;

struct ExplainOptions {
  std::string target;
  bool json = false;
  std::size_t top = 10;
};

std::string Bytes(const std::optional<uint64_t>& v) {
  return v ? internal::HumanBytes(static_cast<double>(*v)) : "?";
}

// The heap figures a `memmon run` child publishes on its status page
// (memmon_preload.h), found through its environment; nullopt when it has
// none, or it cannot be read.
// The page is found by MEMMON_STATUS_FILE in its environment or, when the
// program overwrote that (redis-server sets its process title over it), as
// the mapping of a file named ".status" (memmon run's name for it); the
// page's pid must be the process's either way.
std::string StatusPagePath(int pid) {
  std::ifstream env(fmt::format("/proc/{}/environ", pid), std::ios::binary);
  std::string var;
  std::string path;
  while (std::getline(env, var, '\0')) {
    if (var.starts_with("MEMMON_STATUS_FILE=")) {
      path = var.substr(std::strlen("MEMMON_STATUS_FILE="));
    }
  }
  if (!path.empty()) return path;
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  std::string line;
  while (std::getline(maps, line)) {
    std::size_t slash = line.find(" /");
    if (slash != std::string::npos && line.ends_with("/.status")) {
      return line.substr(slash + 1);
    }
  }
  return {};
}

std::optional<internal::HeapFigures> StatusPageFigures(int pid) {
  std::string path = StatusPagePath(pid);
  if (path.empty()) return std::nullopt;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const std::size_t size = (sizeof(memmon_status_page) + 4095) / 4096 * 4096;
  void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return std::nullopt;
  auto* page = static_cast<memmon_status_page*>(p);
  std::optional<internal::HeapFigures> out;
  for (int attempt = 0; attempt < 100 && !out; ++attempt) {
    if (__atomic_load_n(&page->magic, __ATOMIC_ACQUIRE) != MEMMON_STATUS_MAGIC)
      break;
    uint64_t seq = __atomic_load_n(&page->seq, __ATOMIC_ACQUIRE);
    if (seq & 1) continue;
    memmon_status_page copy;
    auto* dst = reinterpret_cast<uint64_t*>(&copy);
    auto* src = reinterpret_cast<uint64_t*>(page);
    for (std::size_t i = 0; i < sizeof(copy) / sizeof(uint64_t); ++i) {
      dst[i] = __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
    }
    if (__atomic_load_n(&page->seq, __ATOMIC_RELAXED) != seq) continue;
    if (copy.updates == 0 || copy.pid != static_cast<uint64_t>(pid)) break;
    out = internal::HeapFiguresOfStatusPage(copy);
  }
  munmap(p, size);
  return out;
}

void PrintText(const MemoryBreakdown& b, std::size_t top,
               const std::string& origin) {
  std::string out = fmt::format("{}\n", origin);
  out += fmt::format("RSS {} in {} mappings (the kernel counts {}), PSS {}\n",
                     internal::HumanBytes(static_cast<double>(b.rss_bytes)),
                     b.mappings, Bytes(b.kernel_rss_bytes),
                     internal::HumanBytes(static_cast<double>(b.pss_bytes)));
  if (b.heap_figures.empty() || b.heap_figures == "none") {
    out +=
        "heap figures: none (not this process, not under memmon run): the "
        "heap is not split into in use and free\n";
  } else {
    out += fmt::format(
        "heap figures: {} ({}): in use {}, free {}, from the OS {}\n",
        b.heap_figures, ToString(b.allocator), Bytes(b.heap_inuse_bytes),
        Bytes(b.heap_free_bytes), Bytes(b.heap_system_bytes));
  }
  out += fmt::format("threads: {}, stack pointer read for {}\n\n", b.threads,
                     b.threads_located);
  out +=
      fmt::format("{:<16} {:>11} {:>11} {:>11}\n", "part", "rss", "pss", "+-");
  for (const MemoryPartFigure& f : b.parts) {
    out += fmt::format("{:<16} {:>11} {:>11} {:>11}\n", ToString(f.part),
                       Bytes(f.rss_bytes), Bytes(f.pss_bytes),
                       Bytes(f.uncertainty_bytes));
  }
  out +=
      "(heap = heap_inuse + allocator_free; the parts other than heap add up "
      "to the RSS)\n";
  if (!b.objects.empty()) {
    out += "\ncode and data by object (rss: text + read-only + data):\n";
    for (std::size_t i = 0; i < b.objects.size() && i < top; ++i) {
      const MappedObjectMemory& o = b.objects[i];
      out += fmt::format(
          "  {:>11}  text {:>10}  data {:>10}  {}\n",
          internal::HumanBytes(static_cast<double>(o.rss_bytes)),
          internal::HumanBytes(static_cast<double>(o.text_rss_bytes)),
          internal::HumanBytes(static_cast<double>(o.data_rss_bytes)), o.path);
    }
    if (b.objects.size() > top) {
      out += fmt::format("  ... {} more\n", b.objects.size() - top);
    }
  }
  if (!b.largest_anonymous.empty()) {
    out += "\nlargest other anonymous mappings:\n";
    for (std::size_t i = 0; i < b.largest_anonymous.size() && i < top; ++i) {
      const AnonMappingMemory& a = b.largest_anonymous[i];
      out += fmt::format(
          "  {:>11}  of {:>11}  {}{}{}\n",
          internal::HumanBytes(static_cast<double>(a.rss_bytes)),
          internal::HumanBytes(static_cast<double>(a.end - a.start)), a.name,
          a.site.empty() ? "" : "  mapped by ", a.site);
    }
  }
  out += "\nhow each part was found:\n";
  for (const MemoryPartFigure& f : b.parts) {
    out += fmt::format("  {}: {}.\n    uncertainty: {}.\n", ToString(f.part),
                       f.method, f.uncertainty);
  }
  std::fputs(out.c_str(), stdout);
}

int ExplainPid(int pid, const ExplainOptions& o) {
  std::optional<internal::HeapFigures> heap = StatusPageFigures(pid);
  MemoryBreakdown b;
  Status s = heap ? internal::ExplainProcess(pid, &*heap, "status page", &b)
                  : internal::ExplainProcess(pid, nullptr, "", &b);
  if (!s.ok()) {
    if (s.code() == StatusCode::kNotFound) {
      std::fprintf(stderr, "memmon: explain: %s\n", s.message().c_str());
      return kExitUsage;
    }
    std::fprintf(stderr, "memmon: explain: %s\n", s.message().c_str());
    return kExitFailure;
  }
  if (o.json) {
    std::fputs((ToJson(b) + "\n").c_str(), stdout);
  } else {
    PrintText(b, o.top, fmt::format("process {}, now", pid));
  }
  return FinishOutput("explain");
}

// The last sample of a run's samples.csv as a breakdown of totals only.
Status FromLastSample(const fs::path& csv_path, MemoryBreakdown* b,
                      double* time_s) {
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) return Status::NotFound("no samples.csv");
  std::stringstream text;
  text << in.rdbuf();
  internal::SamplesCsv csv;
  if (Status s = internal::ParseSamplesCsv(text.str(), &csv); !s.ok()) {
    return Status::InvalidArgument(csv_path.string() + ": " + s.message());
  }
  for (auto it = csv.samples.rbegin(); it != csv.samples.rend(); ++it) {
    const Sample& smp = it->sample;
    if (!smp.rss_heap_bytes) continue;
    const std::optional<uint64_t> rss[kMemoryPartCount] = {
        smp.rss_heap_bytes,           smp.rss_heap_inuse_bytes,
        smp.rss_allocator_free_bytes, smp.rss_stacks_bytes,
        smp.rss_code_bytes,           smp.rss_file_bytes,
        smp.rss_anon_other_bytes,     smp.rss_unexplained_bytes};
    b->parts.resize(kMemoryPartCount);
    for (int i = 0; i < kMemoryPartCount; ++i) {
      b->parts[i].part = static_cast<MemoryPart>(i);
      b->parts[i].rss_bytes = rss[i];
      b->parts[i].method = "the run's per-sample totals (samples.csv)";
      b->parts[i].uncertainty =
          "as in docs/explain.md; thread stacks by layout only";
    }
    b->rss_bytes = smp.rss_bytes.value_or(0);
    b->kernel_rss_bytes = smp.rss_bytes;
    b->heap_inuse_bytes = smp.heap_inuse_bytes;
    b->heap_free_bytes = smp.heap_free_bytes;
    b->heap_system_bytes = smp.heap_system_bytes;
    b->heap_figures = smp.heap_inuse_bytes ? "status page" : "none";
    b->threads = smp.threads.value_or(0);
    *time_s = it->time_s;
    return Status::Ok();
  }
  return Status::NotFound("no sample in samples.csv has the breakdown");
}

// Names the anonymous mappings of `b` that explain.json left unnamed by the
// mmap profile at `path` (its samples' address labels), when it exists.
void NameFromMmapProfile(const fs::path& path, MemoryBreakdown* b,
                         std::string* origin) {
  std::error_code ec;
  if (b->largest_anonymous.empty() || !fs::exists(path, ec)) return;
  profile::Profile p;
  if (!profile::ReadProfileFile(path.string(), &p).ok()) return;
  std::vector<internal::MappingSite> sites =
      internal::ParseMmapSites(profile::MmapSiteLines(p, 4096));
  std::vector<AnonMappingMemory> unnamed = b->largest_anonymous;
  internal::NameAnonymousMappings(sites, &unnamed);
  bool named = false;
  for (std::size_t i = 0; i < unnamed.size(); ++i) {
    if (b->largest_anonymous[i].site.empty() && !unnamed[i].site.empty()) {
      b->largest_anonymous[i].site = unnamed[i].site;
      named = true;
    }
  }
  if (named) *origin += fmt::format("; mapping sites from {}", path.string());
}

int ExplainDir(const fs::path& dir, const ExplainOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::fprintf(stderr,
                 "memmon: explain: %s is neither a PID nor a directory\n",
                 dir.c_str());
    return kExitUsage;
  }
  MemoryBreakdown b;
  std::string origin;
  fs::path saved = dir / "explain.json";
  std::ifstream in(saved, std::ios::binary);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    if (Status s = internal::ParseBreakdownJson(text.str(), &b); !s.ok()) {
      std::fprintf(stderr, "memmon: explain: %s: %s\n", saved.c_str(),
                   s.message().c_str());
      return kExitUsage;
    }
    origin = fmt::format("process {}, as memmon run saved it ({})", b.pid,
                         saved.string());
    // The sites of the mappings the sampler saw mapped, from the mmap
    // profile the run's program wrote at exit (joined by address: a
    // mapping named there was still mapped at exit).
    NameFromMmapProfile(dir / "mmap.pb.gz", &b, &origin);
  } else {
    double t = 0;
    if (Status s = FromLastSample(dir / "samples.csv", &b, &t); !s.ok()) {
      std::fprintf(stderr,
                   "memmon: explain: %s is not a memmon run directory with a "
                   "breakdown (no explain.json; samples.csv: %s)\n",
                   dir.c_str(), s.message().c_str());
      return kExitUsage;
    }
    origin = fmt::format("{}: the last sample's totals, at {:.1f} s",
                         (dir / "samples.csv").string(), t);
  }
  if (o.json) {
    std::fputs((ToJson(b) + "\n").c_str(), stdout);
  } else {
    PrintText(b, o.top, origin);
  }
  return FinishOutput("explain");
}

int RunExplain(const ExplainOptions& o) {
  const std::string& t = o.target;
  bool number = !t.empty() && t.find_first_not_of("0123456789") == t.npos;
  if (number) {
    long pid = std::strtol(t.c_str(), nullptr, 10);
    if (pid <= 0 || pid > 0x7fffffff || t.size() > 10) {
      std::fprintf(stderr,
                   "memmon: explain: PID must be a positive process id, got "
                   "%s\n",
                   t.c_str());
      return kExitUsage;
    }
    return ExplainPid(static_cast<int>(pid), o);
  }
  return ExplainDir(t, o);
}

}  // namespace

Subcommand AddExplain(CLI::App& parent) {
  auto o = std::make_shared<ExplainOptions>();
  CLI::App* app = parent.add_subcommand(
      "explain",
      "Where the resident memory is: a process's RSS (and PSS) split into "
      "heap in use, allocator free-held, thread stacks, code of the binary "
      "and each library, file mappings, other anonymous mappings and the "
      "unexplained rest, each with how it was found and its uncertainty "
      "(docs/explain.md).");
  app->add_option("target", o->target,
                  "a PID (read now), or a run directory (memmon run --out: "
                  "its explain.json); write ./123 for a directory named 123")
      ->required();
  app->add_flag("--json", o->json,
                "one JSON object: parts, objects, largest_anonymous, heap "
                "(docs/cli.md)");
  app->add_option("--top", o->top,
                  "show this many objects and anonymous mappings")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return {app, [o] { return RunExplain(*o); }};
}

}  // namespace memmon::cli
