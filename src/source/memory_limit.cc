// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/memory_limit.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

#include "base/format.h"
#include "source/procfs.h"

namespace memmon::internal {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos
                                      ? std::string_view::npos
                                      : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ToU64(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<uint64_t> ReadNumber(const std::string& path) {
  std::optional<std::string> text = ReadText(path);
  uint64_t v = 0;
  if (!text || !ToU64(Trim(*text), &v)) return std::nullopt;
  return v;
}

// `path` and each of its ancestors up to the hierarchy's root ("/a/b",
// "/a", "/"), deepest first.
std::vector<std::string> SelfAndAncestors(std::string path) {
  std::vector<std::string> out;
  while (!path.empty() && path.back() == '/' && path.size() > 1)
    path.pop_back();
  if (path.empty()) path = "/";
  for (;;) {
    out.push_back(path);
    if (path == "/") return out;
    std::size_t slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
}

std::string Join(const std::string& dir, const std::string& cgroup) {
  return cgroup == "/" ? dir : dir + cgroup;
}

}  // namespace

// How each kind counts usage (MemoryLimit::counts, UsageCounted).
constexpr const char* kCgroupCounts =
    "the cgroup's anonymous memory, page cache and kernel memory, all its "
    "processes";
constexpr const char* kRlimitAsCounts =
    "the process's virtual size (VmSize): every mapping";
constexpr const char* kRlimitDataCounts =
    "the process's private writable mappings (VmData)";
constexpr const char* kMachineCounts =
    "the process's RSS; the limit is its RSS plus the machine's available "
    "memory";

}  // namespace memmon::internal

namespace memmon {

std::string_view ToString(MemoryLimitKind kind) {
  switch (kind) {
    case MemoryLimitKind::kUnknown:
      return "unknown";
    case MemoryLimitKind::kCgroupV2Max:
      return "cgroup_v2_max";
    case MemoryLimitKind::kCgroupV2High:
      return "cgroup_v2_high";
    case MemoryLimitKind::kCgroupV1:
      return "cgroup_v1";
    case MemoryLimitKind::kRlimitAs:
      return "rlimit_as";
    case MemoryLimitKind::kRlimitData:
      return "rlimit_data";
    case MemoryLimitKind::kMachine:
      return "machine";
  }
  return "unknown";
}

std::string_view UsageCounted(MemoryLimitKind kind) {
  switch (kind) {
    case MemoryLimitKind::kCgroupV2Max:
    case MemoryLimitKind::kCgroupV2High:
    case MemoryLimitKind::kCgroupV1:
      return internal::kCgroupCounts;
    case MemoryLimitKind::kRlimitAs:
      return internal::kRlimitAsCounts;
    case MemoryLimitKind::kRlimitData:
      return internal::kRlimitDataCounts;
    case MemoryLimitKind::kMachine:
      return internal::kMachineCounts;
    case MemoryLimitKind::kUnknown:
      break;
  }
  return "the usage the limit counts";
}

}  // namespace memmon

namespace memmon::internal {

std::string DescribeLimit(const MemoryLimit& l) {
  std::string out = std::string(ToString(l.kind)) + " limit " +
                    HumanBytes(static_cast<double>(l.limit_bytes)) + " (" +
                    l.source + "), usage " +
                    HumanBytes(static_cast<double>(l.usage_bytes)) + " (" +
                    l.usage_source + ": " + l.counts + ")";
  if (l.kind == LimitKind::kCgroupV2High) {
    out += "; memory.high throttles, it does not kill";
  }
  return out;
}

CgroupPaths ParseProcCgroup(std::string_view text) {
  CgroupPaths out;
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> f = Split(line, ':');
    if (f.size() < 3) continue;
    // The path may itself hold ':' -- rejoin what follows the second one.
    std::string_view path = line.substr(f[0].size() + f[1].size() + 2);
    if (f[0] == "0" && f[1].empty()) {
      out.v2 = std::string(path);
      continue;
    }
    for (std::string_view controller : Split(f[1], ',')) {
      if (controller == "memory") out.v1_memory = std::string(path);
    }
  }
  return out;
}

CgroupMounts ParseCgroupMounts(std::string_view mountinfo) {
  CgroupMounts out;
  for (std::string_view line : Split(mountinfo, '\n')) {
    std::size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    std::vector<std::string_view> pre = Split(line.substr(0, dash), ' ');
    std::vector<std::string_view> post = Split(line.substr(dash + 3), ' ');
    if (pre.size() < 5 || post.size() < 3) continue;
    std::string_view root = pre[3], mount = pre[4], fstype = post[0];
    if (fstype == "cgroup2" && out.v2_mount.empty()) {
      out.v2_mount = std::string(mount);
    } else if (fstype == "cgroup") {
      for (std::string_view opt : Split(post[2], ',')) {
        if (opt == "memory") {
          out.v1_memory_mount = std::string(mount);
          out.v1_memory_root = std::string(root);
        }
      }
    }
  }
  return out;
}

std::optional<uint64_t> ParseLimitValue(std::string_view text) {
  text = Trim(text);
  uint64_t v = 0;
  if (text == "max" || !ToU64(text, &v) || v >= (uint64_t{1} << 62)) {
    return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> ParseOomKills(std::string_view text) {
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> f = Split(Trim(line), ' ');
    uint64_t v = 0;
    if (f.size() == 2 && f[0] == "oom_kill" && ToU64(f[1], &v)) return v;
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseRlimit(std::string_view limits_text,
                                    std::string_view name) {
  for (std::string_view line : Split(limits_text, '\n')) {
    if (!line.starts_with(name)) continue;
    std::string_view rest = Trim(line.substr(name.size()));
    std::string_view soft = rest.substr(0, rest.find(' '));
    uint64_t v = 0;
    if (soft == "unlimited" || !ToU64(soft, &v)) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

Status ReadMemoryLimits(pid_t pid, uint64_t rss_bytes, MemoryLimits* out) {
  return ReadMemoryLimitsUnder("", pid, rss_bytes, out);
}

Status ReadMemoryLimitsUnder(const std::string& root, pid_t pid,
                             uint64_t rss_bytes, MemoryLimits* out) {
  *out = MemoryLimits{};
  const std::string proc =
      root + "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid));
  std::optional<std::string> cgroup_text = ReadText(proc + "/cgroup");
  if (!cgroup_text) {
    return Status::NotFound("no process " + std::to_string(pid) + " (" + proc +
                            "/cgroup)");
  }
  CgroupPaths paths = ParseProcCgroup(*cgroup_text);
  CgroupMounts mounts =
      ParseCgroupMounts(ReadText(proc + "/mountinfo").value_or(""));

  if (!paths.v2.empty() && !mounts.v2_mount.empty()) {
    for (const std::string& cg : SelfAndAncestors(paths.v2)) {
      std::string dir = Join(root + mounts.v2_mount, cg);
      std::optional<uint64_t> current = ReadNumber(dir + "/memory.current");
      if (!current) continue;  // no memory controller here
      std::optional<uint64_t> kills =
          ParseOomKills(ReadText(dir + "/memory.events").value_or(""));
      if (out->oom_events_path.empty() && kills) {  // the deepest one
        out->oom_events_path = dir.substr(root.size()) + "/memory.events";
        out->oom_kills = kills;
      }
      for (auto [file, kind] :
           {std::pair{"memory.max", LimitKind::kCgroupV2Max},
            std::pair{"memory.high", LimitKind::kCgroupV2High}}) {
        std::optional<std::string> text = ReadText(dir + "/" + file);
        std::optional<uint64_t> limit =
            text ? ParseLimitValue(*text) : std::nullopt;
        if (!limit) continue;
        MemoryLimit l;
        l.kind = kind;
        l.limit_bytes = *limit;
        l.usage_bytes = *current;
        l.source = dir.substr(root.size()) + "/" + file;
        l.usage_source = dir.substr(root.size()) + "/memory.current";
        l.counts = kCgroupCounts;
        l.oom_kills = kills;
        l.kills = kind == LimitKind::kCgroupV2Max;
        out->limits.push_back(std::move(l));
      }
    }
  }
  if (!paths.v1_memory.empty() && !mounts.v1_memory_mount.empty()) {
    // The process's path is relative to the hierarchy; the mount shows the
    // part under mounts.v1_memory_root (a container sees only its own).
    std::string rel = paths.v1_memory;
    const std::string& mroot = mounts.v1_memory_root;
    if (mroot != "/" && rel.starts_with(mroot)) rel = rel.substr(mroot.size());
    if (rel.empty()) rel = "/";
    for (const std::string& cg : SelfAndAncestors(rel)) {
      std::string dir = Join(root + mounts.v1_memory_mount, cg);
      if (out->oom_events_path.empty()) {  // the deepest one, limited or not
        if (std::optional<uint64_t> kills = ParseOomKills(
                ReadText(dir + "/memory.oom_control").value_or(""))) {
          out->oom_events_path =
              dir.substr(root.size()) + "/memory.oom_control";
          out->oom_kills = kills;
        }
      }
      std::optional<std::string> text =
          ReadText(dir + "/memory.limit_in_bytes");
      std::optional<uint64_t> limit =
          text ? ParseLimitValue(*text) : std::nullopt;
      std::optional<uint64_t> usage =
          ReadNumber(dir + "/memory.usage_in_bytes");
      if (!limit || !usage) continue;
      MemoryLimit l;
      l.kind = LimitKind::kCgroupV1;
      l.limit_bytes = *limit;
      l.usage_bytes = *usage;
      l.source = dir.substr(root.size()) + "/memory.limit_in_bytes";
      l.usage_source = dir.substr(root.size()) + "/memory.usage_in_bytes";
      l.counts = kCgroupCounts;
      l.oom_kills =
          ParseOomKills(ReadText(dir + "/memory.oom_control").value_or(""));
      l.kills = true;
      out->limits.push_back(std::move(l));
    }
  }
  std::string limits_text = ReadText(proc + "/limits").value_or("");
  std::string status = ReadText(proc + "/status").value_or("");
  struct Rlimit {
    const char* name;
    const char* key;
    LimitKind kind;
    const char* counts;
  };
  for (const Rlimit& r : {Rlimit{"Max address space", "VmSize",
                                 LimitKind::kRlimitAs, kRlimitAsCounts},
                          Rlimit{"Max data size", "VmData",
                                 LimitKind::kRlimitData, kRlimitDataCounts}}) {
    const char* name = r.name;
    const char* key = r.key;
    const LimitKind kind = r.kind;
    const char* counts = r.counts;
    std::optional<uint64_t> limit = ParseRlimit(limits_text, name);
    std::optional<uint64_t> usage = ParseKeyedValue(status, key);
    if (!limit || !usage) continue;
    MemoryLimit l;
    l.kind = kind;
    l.limit_bytes = *limit;
    l.usage_bytes = *usage;
    l.source = kind == LimitKind::kRlimitAs ? "RLIMIT_AS" : "RLIMIT_DATA";
    l.usage_source = key;
    l.counts = counts;
    out->limits.push_back(std::move(l));
  }
  std::string meminfo = ReadText(root + "/proc/meminfo").value_or("");
  if (std::optional<uint64_t> available =
          ParseKeyedValue(meminfo, "MemAvailable")) {
    MemoryLimit l;
    l.kind = LimitKind::kMachine;
    l.limit_bytes = rss_bytes + *available;
    l.usage_bytes = rss_bytes;
    l.source = "/proc/meminfo MemAvailable";
    l.usage_source = "MemAvailable";
    l.counts = kMachineCounts;
    l.kills = true;
    out->limits.push_back(std::move(l));
  }
  for (std::size_t i = 0; i < out->limits.size(); ++i) {
    if (out->limits[i].kind == LimitKind::kCgroupV2High) continue;
    if (out->binding < 0 ||
        out->limits[i].headroom() <
            out->limits[static_cast<std::size_t>(out->binding)].headroom()) {
      out->binding = static_cast<int>(i);
    }
  }
  return Status::Ok();
}

namespace {

// Reads a small file into `buf` (NUL-terminated) without allocating; the
// length read, or -1.
long ReadSmall(const char* path, char* buf, std::size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = '\0';
  return n;
}

}  // namespace

LimitReader::KeptFile::KeptFile(std::string path) : path_(std::move(path)) {
  fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
}

LimitReader::KeptFile::KeptFile(KeptFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

LimitReader::KeptFile& LimitReader::KeptFile::operator=(
    KeptFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

LimitReader::KeptFile::~KeptFile() {
  if (fd_ >= 0) close(fd_);
}

long LimitReader::KeptFile::Read(char* buf, std::size_t size) const {
  if (path_.empty()) return -1;
  if (fd_ >= 0) {
    ssize_t n = pread(fd_, buf, size - 1, 0);
    if (n >= 0) {
      buf[n] = '\0';
      return n;
    }
    close(fd_);  // a file that went away and came back: reopen below
    fd_ = -1;
  }
  long n = ReadSmall(path_.c_str(), buf, size);
  if (n >= 0) fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  return n;
}

namespace {

std::optional<uint64_t> ReadSmallNumber(const LimitReader::KeptFile& file) {
  char buf[64];
  long n = file.Read(buf, sizeof(buf));
  if (n <= 0) return std::nullopt;
  return ParseLimitValue(std::string_view(buf, static_cast<std::size_t>(n)));
}

}  // namespace

Status LimitReader::Open(pid_t pid, const std::string& root) {
  MemoryLimits found;
  // RSS 0: the machine's limit is recomputed from MemAvailable each Read.
  if (Status s = ReadMemoryLimitsUnder(root, pid, 0, &found); !s.ok()) {
    return s;
  }
  entries_.clear();
  events_file_ = found.oom_events_path.empty()
                     ? KeptFile()
                     : KeptFile(root + found.oom_events_path);
  for (const MemoryLimit& l : found.limits) {
    if (l.kind == LimitKind::kCgroupV2High) continue;  // never binding
    Entry e{l.kind, KeptFile(), KeptFile(), nullptr, l.limit_bytes};
    switch (l.kind) {
      case LimitKind::kCgroupV2Max:
      case LimitKind::kCgroupV1:
      case LimitKind::kCgroupV2High:
        e.limit_file = KeptFile(root + l.source);
        e.usage_file = KeptFile(root + l.usage_source);
        break;
      case LimitKind::kRlimitAs:
        e.status_key = "VmSize";
        break;
      case LimitKind::kRlimitData:
        e.status_key = "VmData";
        break;
      case LimitKind::kMachine:
      case LimitKind::kUnknown:
        break;
    }
    entries_.push_back(std::move(e));
  }
  const std::string proc =
      root + "/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid));
  status_file_ = KeptFile(proc + "/status");
  meminfo_file_ = KeptFile(root + "/proc/meminfo");
  available_.reset();
  available_at_.reset();
  found_ = std::move(found);
  return Status::Ok();
}

std::optional<uint64_t> LimitReader::OomKills() const {
  if (events_file_.empty()) return std::nullopt;
  char buf[1024];
  long n = events_file_.Read(buf, sizeof(buf));
  if (n <= 0) return std::nullopt;
  // As ParseOomKills, without allocating: the line "oom_kill N".
  std::string_view text(buf, static_cast<std::size_t>(n));
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    constexpr std::string_view kKey = "oom_kill ";
    uint64_t v = 0;
    if (line.starts_with(kKey) && ToU64(Trim(line.substr(kKey.size())), &v)) {
      return v;
    }
  }
  return std::nullopt;
}

bool LimitReader::Read(uint64_t rss_bytes, uint64_t* limit, uint64_t* usage,
                       LimitKind* kind,
                       std::chrono::steady_clock::time_point now) {
  char status[4096];
  bool status_read = false, meminfo_read = false;
  bool found = false;
  uint64_t best_headroom = 0;
  for (const Entry& e : entries_) {
    std::optional<uint64_t> l, u;
    if (!e.limit_file.empty()) {
      l = ReadSmallNumber(e.limit_file);
      u = ReadSmallNumber(e.usage_file);
    } else if (e.status_key != nullptr) {
      if (!status_read) {
        status_read = status_file_.Read(status, sizeof(status)) > 0;
        if (!status_read) status[0] = '\0';
      }
      l = e.limit_bytes;
      u = ParseKeyedValue(status, e.status_key);
    } else {  // the machine
      if (!meminfo_read) {
        meminfo_read = true;
        if (!available_at_ || now - *available_at_ >= kMeminfoMaxAge ||
            now < *available_at_) {
          char meminfo[4096];
          if (meminfo_file_.Read(meminfo, sizeof(meminfo)) <= 0) {
            meminfo[0] = '\0';
          }
          available_ = ParseKeyedValue(meminfo, "MemAvailable");
          available_at_ = now;
        }
      }
      if (available_) {
        l = rss_bytes + *available_;
        u = rss_bytes;
      }
    }
    if (!l || !u) continue;
    uint64_t headroom = *l > *u ? *l - *u : 0;
    if (!found || headroom < best_headroom) {
      found = true;
      best_headroom = headroom;
      *limit = *l;
      *usage = *u;
      if (kind != nullptr) *kind = e.kind;
    }
  }
  return found;
}

}  // namespace memmon::internal
