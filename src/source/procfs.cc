// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "source/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace memmon::internal {
namespace {

// Splits off the next space-separated token of `s`.
std::string_view NextToken(std::string_view* s) {
  size_t start = s->find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    *s = {};
    return {};
  }
  size_t end = s->find_first_of(" \t", start);
  std::string_view tok =
      s->substr(start, end == std::string_view::npos ? std::string_view::npos
                                                     : end - start);
  *s = end == std::string_view::npos ? std::string_view{} : s->substr(end);
  return tok;
}

bool ToU64(std::string_view tok, uint64_t* out) {
  if (tok.empty()) return false;
  auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), *out);
  return ec == std::errc() && ptr == tok.data() + tok.size();
}

// Reads a /proc file from offset 0. procfs regenerates the whole text on
// every read call, so a short read is taken as the end: asking again would
// cost a second generation just to learn that it returns 0 bytes.
ssize_t PreadAll(int fd, char* buf, size_t size) {
  size_t got = 0;
  while (got < size) {
    size_t want = size - got;
    ssize_t n = pread(fd, buf + got, want, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    got += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < want) break;
  }
  return static_cast<ssize_t>(got);
}

}  // namespace

bool ParseProcStat(std::string_view text, ProcStat* out) {
  size_t close = text.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = text.substr(close + 1);
  // Field 3 onwards; index i holds field i + 3.
  std::string_view tok = NextToken(&rest);
  if (tok.size() != 1) return false;
  out->state = tok[0];
  uint64_t fields[21] = {};  // fields 4..24
  for (int i = 0; i < 21; ++i) {
    tok = NextToken(&rest);
    // tpgid (8), priority (18) and nice (19) may be negative; memmon does
    // not use them but they must still be numbers.
    if (!tok.empty() && tok[0] == '-') tok.remove_prefix(1);
    if (!ToU64(tok, &fields[i])) return false;
  }
  out->minor_faults = fields[10 - 4];
  out->major_faults = fields[12 - 4];
  out->utime_ticks = fields[14 - 4];
  out->stime_ticks = fields[15 - 4];
  out->num_threads = fields[20 - 4];
  out->vsize_bytes = fields[23 - 4];
  out->rss_pages = fields[24 - 4];
  return true;
}

std::optional<uint64_t> ParseKeyedValue(std::string_view text,
                                        std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos
                                                       : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key ||
        line[key.size()] != ':') {
      continue;
    }
    std::string_view rest = line.substr(key.size() + 1);
    std::string_view number = NextToken(&rest);
    std::string_view unit = NextToken(&rest);
    uint64_t value = 0;
    if (!ToU64(number, &value)) return std::nullopt;
    if (unit == "kB") return value * 1024;
    if (unit.empty()) return value;
    return std::nullopt;
  }
  return std::nullopt;
}

uint64_t CountDirents(const char* buf, long len) {
  // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type;
  //                         char d_name[]; }
  // Every read stays inside [buf, buf + len), whatever the buffer holds.
  constexpr long kNameOffset = 19;
  uint64_t count = 0;
  long off = 0;
  while (off + kNameOffset < len) {
    uint16_t reclen;
    std::memcpy(&reclen, buf + off + 16, sizeof(reclen));
    if (reclen <= kNameOffset || reclen > len - off) break;
    const char* name = buf + off + kNameOffset;
    long room = reclen - kNameOffset;
    bool dot =
        name[0] == '.' && ((room >= 2 && name[1] == '\0') ||
                           (room >= 3 && name[1] == '.' && name[2] == '\0'));
    if (!dot) ++count;
    off += reclen;
  }
  return count;
}

ProcReader::ProcReader(pid_t pid)
    : dir_(pid == 0 ? std::string("/proc/self")
                    : "/proc/" + std::to_string(pid)) {}

ProcReader::~ProcReader() {
  if (stat_fd_ >= 0) close(stat_fd_);
  if (fd_dir_fd_ >= 0) close(fd_dir_fd_);
}

Status ProcReader::Open() {
  std::string path = dir_ + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("no process at " + dir_);
    return Status::IoError("cannot open " + path + ": " + std::strerror(err));
  }
  if (stat_fd_ >= 0) close(stat_fd_);
  stat_fd_ = fd;
  // Descriptors may be unreadable (another user's process): leave them
  // unknown rather than failing.
  if (fd_dir_fd_ >= 0) close(fd_dir_fd_);
  fd_dir_fd_ = open((dir_ + "/fd").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  fd_count_by_stat_ =
      fd_dir_fd_ >= 0 && fstat(fd_dir_fd_, &st) == 0 && st.st_size > 0;
  long ps = sysconf(_SC_PAGESIZE);
  if (ps > 0) page_size_ = ps;
  long ticks = sysconf(_SC_CLK_TCK);
  if (ticks > 0) clock_ticks_ = ticks;
  return Status::Ok();
}

std::optional<uint64_t> ProcReader::CountOpenFds() const {
  if (fd_dir_fd_ < 0) return std::nullopt;
  if (fd_count_by_stat_) {
    struct stat st;
    if (fstat(fd_dir_fd_, &st) != 0) return std::nullopt;
    return static_cast<uint64_t>(st.st_size);
  }
  // Older kernels: list the directory through the kept-open descriptor.
  // getdents64 on a shared offset is not thread-safe, so use a private dup.
  int fd = openat(fd_dir_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  alignas(8) char buf[8192];
  uint64_t count = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    count += CountDirents(buf, n);
  }
  close(fd);
  // The private descriptor listed itself; it is not the process's.
  return count > 0 ? count - 1 : 0;
}

bool ProcReader::Read(Sample* sample, bool with_pss) const {
  if (stat_fd_ < 0) return false;
  char buf[1024];
  ssize_t n = PreadAll(stat_fd_, buf, sizeof(buf));
  if (n <= 0) return false;  // ESRCH once the process has exited
  ProcStat st;
  if (ParseProcStat(std::string_view(buf, static_cast<size_t>(n)), &st)) {
    // A zombie (exited, not yet reaped) or dead process has nothing left
    // to measure.
    if (st.state == 'Z' || st.state == 'X' || st.state == 'x') return false;
    sample->rss_bytes = st.rss_pages * static_cast<uint64_t>(page_size_);
    sample->virtual_bytes = st.vsize_bytes;
    sample->threads = st.num_threads;
    sample->minor_faults = st.minor_faults;
    sample->major_faults = st.major_faults;
    sample->cpu_seconds = static_cast<double>(st.utime_ticks + st.stime_ticks) /
                          static_cast<double>(clock_ticks_);
  }
  sample->open_fds = CountOpenFds();
  if (with_pss) {
    char path[64];
    std::memcpy(path, dir_.c_str(), dir_.size() + 1);
    std::strncat(path, "/smaps_rollup", sizeof(path) - dir_.size() - 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char rollup[4096];
      ssize_t m = PreadAll(fd, rollup, sizeof(rollup));
      close(fd);
      if (m > 0) {
        sample->pss_bytes = ParseKeyedValue(
            std::string_view(rollup, static_cast<size_t>(m)), "Pss");
      }
    }
  }
  return true;
}

}  // namespace memmon::internal
