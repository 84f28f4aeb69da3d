// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// memmon run [options] -- PROGRAM [ARGS...]: runs PROGRAM under the heap
// sampler (LD_PRELOAD) and watches it from outside: /proc for RSS, threads,
// descriptors and faults, the sampler's status page (memmon_preload.h) for
// the heap, memmon's detectors for alerts. Writes the run directory
// (docs/cli.md): samples.csv, alerts.jsonl, heap profiles, leaks.json,
// report.html, run.json. Exits with the program's status.
//
// The parent is single-threaded: one loop waits with sigtimedwait() for the
// next sample time, a signal to forward, or the child's exit (SIGCHLD).

#include <elf.h>
#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/format.h"
#include "base/mutex.h"
#include "cli/command.h"
#include "cli/heap_series.h"
#include "cli/http.h"
#include "cli/oom_options.h"
#include "cli/report.h"
#include "cli/units.h"
#include "detect/detection_engine.h"
#include "detect/samples_csv.h"
#include "memmon/config.h"
#include "memmon/memmon_preload.h"
#include "profile/atomic_file.h"
#include "profile/leak_sites.h"
#include "profile/raw_heap.h"
#include "source/cost_budget.h"
#include "source/memory_limit.h"
#include "source/process_source.h"
#include "source/procfs.h"
#include "source/rss_breakdown.h"

namespace memmon::cli {
namespace {

namespace fs = std::filesystem;

// memmon run's own failures before the program starts, as env(1) and
// timeout(1) report them.
constexpr int kExitNotFound = 127;
constexpr int kExitCannotExecute = 126;

struct RunOptions {
  std::string interval = "1s";
  std::string sample_rate = "512k";
  bool sample_rate_given = false;  // --sample-rate on the command line
  double threshold_pct = DefaultMonitorConfig().alert_threshold_pct;
  std::string out = "memmon-out";
  std::string snapshot_interval;  // empty: 10 x interval, at least 1 s
  std::size_t max_samples = DefaultMonitorConfig().max_samples;
  std::size_t warmup_samples = DefaultMonitorConfig().warmup_samples;
  std::string resolve_after = "5m";
  bool no_report = false;
  std::string http;         // serve the endpoint here ("HOST:PORT"); empty: no
  std::string oom_horizon;  // empty: MonitorConfig's default
  std::string oom_profile_fraction;  // empty: MonitorConfig's default
  std::vector<std::string> command;
};

// The signals memmon passes on to the program. Those a terminal sends
// (Ctrl-C, Ctrl-\, a hang-up) reach the program directly, as it is in the
// same process group; only signals sent by another process are forwarded.
constexpr int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM,
                              SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH};

// ---------------------------------------------------------------------------
// Finding things

// libmemmon_preload.so: $MEMMON_PRELOAD_LIBRARY, else beside the memmon
// binary's lib directory (build tree: bin/../lib; installed: the relative
// path from bindir to libdir, fixed at configure time).
std::optional<std::string> FindPreload() {
  if (const char* env = std::getenv("MEMMON_PRELOAD_LIBRARY"); env && *env) {
    return std::string(env);
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  for (const char* rel : {"../lib", MEMMON_BIN_TO_LIB}) {
    fs::path p = exe.parent_path() / rel / "libmemmon_preload.so";
    if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return std::nullopt;
}

// What execvp() would run for `name`: an error status (127 not found, 126
// found but not executable) with a message, or 0 and the file in *path.
int CheckProgram(const std::string& name, fs::path* path, std::string* error) {
  auto check = [&](const fs::path& p, bool* found) {
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return false;
    *found = true;
    if (fs::is_directory(st) || access(p.c_str(), X_OK) != 0) return false;
    *path = p;
    return true;
  };
  bool found = false;
  if (name.find('/') != std::string::npos) {
    if (check(name, &found)) return 0;
  } else {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/bin:/usr/bin";
    std::size_t start = 0;
    for (;;) {
      std::size_t end = dirs.find(':', start);
      std::string dir = dirs.substr(start, end - start);
      if (check(fs::path(dir.empty() ? "." : dir) / name, &found)) return 0;
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  if (!found) {
    *error = fmt::format("{}: command not found", name);
    return kExitNotFound;
  }
  *error =
      fmt::format("{}: cannot execute: permission denied or not a file", name);
  return kExitCannotExecute;
}

// True when `path` is an ELF executable without a program interpreter
// (PT_INTERP): statically linked (static-pie too). No dynamic loader runs
// in it, so LD_PRELOAD cannot load the sampler. False for anything else: a
// dynamically linked program, a script, a file that cannot be read.
template <typename Ehdr, typename Phdr>
bool HasNoInterpreter(int fd) {
  Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) != static_cast<ssize_t>(sizeof(eh)))
    return false;
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return false;
  if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum == 0) return false;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Phdr ph;
    off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof(Phdr));
    if (pread(fd, &ph, sizeof(ph), at) != static_cast<ssize_t>(sizeof(ph)))
      return false;
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

bool IsStaticElf(const fs::path& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char ident[EI_NIDENT] = {};
  bool is_static = false;
  if (pread(fd, ident, sizeof(ident), 0) == EI_NIDENT &&
      std::memcmp(ident, ELFMAG, SELFMAG) == 0) {
    if (ident[EI_CLASS] == ELFCLASS64) {
      is_static = HasNoInterpreter<Elf64_Ehdr, Elf64_Phdr>(fd);
    } else if (ident[EI_CLASS] == ELFCLASS32) {
      is_static = HasNoInterpreter<Elf32_Ehdr, Elf32_Phdr>(fd);
    }
  }
  close(fd);
  return is_static;
}

// ---------------------------------------------------------------------------
// The run directory

// Files of an earlier run that this one would otherwise mix with its own.
void RemoveEarlierRun(const fs::path& dir) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    bool ours = (name.starts_with("heap.") && name.ends_with(".pb.gz")) ||
                name == "samples.csv" || name == "alerts.jsonl" ||
                name == "leaks.json" || name == "report.html" ||
                name == "run.json" || name == ".status" ||
                name == "explain.json";
    if (ours) fs::remove(e.path(), ec);
  }
}

// A file memmon appends to as it goes (samples.csv, alerts.jsonl): every
// line is flushed, so a crash of memmon itself loses at most one line.
class LineFile {
 public:
  Status Open(const fs::path& path) {
    f_ = std::fopen(path.c_str(), "we");
    if (f_ == nullptr) {
      return Status::InvalidArgument(fmt::format(
          "cannot write {}: {}", path.string(), std::strerror(errno)));
    }
    path_ = path.string();
    return Status::Ok();
  }
  ~LineFile() {
    if (f_) std::fclose(f_);
  }
  // False (and one warning, once) when the line could not be written.
  bool Write(const std::string& line) {
    if (f_ == nullptr) return false;
    if (std::fputs(line.c_str(), f_) < 0 || std::fputc('\n', f_) < 0 ||
        std::fflush(f_) != 0) {
      if (!failed_) {
        std::fprintf(stderr,
                     "memmon: run: cannot write %s: %s (the program runs on)\n",
                     path_.c_str(), std::strerror(errno));
      }
      failed_ = true;
      return false;
    }
    return true;
  }
  bool failed() const { return failed_; }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  bool failed_ = false;
};

// The status page shared with the sampler (memmon_preload.h), read under
// its seqlock.
class StatusPage {
 public:
  Status Create(const fs::path& path) {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::InvalidArgument(fmt::format(
          "cannot write {}: {}", path.string(), std::strerror(errno)));
    }
    const std::size_t size = (sizeof(memmon_status_page) + 4095) / 4096 * 4096;
    void* p = MAP_FAILED;
    if (ftruncate(fd, static_cast<off_t>(size)) == 0) {
      p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    int saved = errno;
    close(fd);
    if (p == MAP_FAILED) {
      return Status::InvalidArgument(fmt::format(
          "cannot map {}: {}", path.string(), std::strerror(saved)));
    }
    page_ = static_cast<memmon_status_page*>(p);
    size_ = size;
    return Status::Ok();
  }
  ~StatusPage() {
    if (page_) munmap(page_, size_);
  }

  // A consistent copy, or nullopt before the sampler's first update.
  std::optional<memmon_status_page> Read() const {
    if (page_ == nullptr || __atomic_load_n(&page_->magic, __ATOMIC_ACQUIRE) !=
                                MEMMON_STATUS_MAGIC) {
      return std::nullopt;
    }
    for (int attempt = 0; attempt < 100; ++attempt) {
      uint64_t seq = __atomic_load_n(&page_->seq, __ATOMIC_ACQUIRE);
      if (seq & 1) continue;
      memmon_status_page copy;
      auto* dst = reinterpret_cast<uint64_t*>(&copy);
      auto* src = reinterpret_cast<uint64_t*>(page_);
      // Acquire loads, so the second look at seq cannot move before them
      // (the same as a fence, and free on x86; TSan does not model fences).
      for (std::size_t i = 0; i < sizeof(copy) / sizeof(uint64_t); ++i) {
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
      }
      if (__atomic_load_n(&page_->seq, __ATOMIC_RELAXED) != seq) continue;
      if (copy.updates == 0) return std::nullopt;
      return copy;
    }
    return std::nullopt;
  }

  // Asks the sampler for a numbered snapshot at its next status update;
  // returns the request's number (served once snapshots_served reaches it),
  // 0 without a page.
  uint64_t RequestSnapshot(const char* reason) {
    if (page_ == nullptr) return 0;
    char* r = page_->snapshot_reason;
    std::size_t n =
        std::min(std::strlen(reason), sizeof(page_->snapshot_reason) - 1);
    for (std::size_t i = 0; i < sizeof(page_->snapshot_reason); ++i) {
      __atomic_store_n(&r[i], i < n ? reason[i] : '\0', __ATOMIC_RELAXED);
    }
    return __atomic_add_fetch(&page_->snapshot_requests, 1, __ATOMIC_RELEASE);
  }

  // Asks the sampler to write its `kind` profile to the file it writes at
  // exit (DIR/KIND.pb.gz) at its next status update; returns the request's
  // number (served once profiles_served reaches it), 0 without a page. One
  // request at a time: the caller waits for it before the next.
  uint64_t RequestProfile(const std::string& kind) {
    if (page_ == nullptr) return 0;
    char* k = page_->profile_kind;
    std::size_t n = std::min(kind.size(), sizeof(page_->profile_kind) - 1);
    for (std::size_t i = 0; i < sizeof(page_->profile_kind); ++i) {
      __atomic_store_n(&k[i], i < n ? kind[i] : '\0', __ATOMIC_RELAXED);
    }
    return __atomic_add_fetch(&page_->profile_requests, 1, __ATOMIC_RELEASE);
  }

 private:
  memmon_status_page* page_ = nullptr;
  std::size_t size_ = 0;
};
static_assert(sizeof(memmon_status_page) % sizeof(uint64_t) == 0);

// ---------------------------------------------------------------------------
// The child

// Forks and execs the program with the sampler preloaded. Returns the pid,
// or -1 with the exec's errno in *exec_errno.
pid_t Spawn(const std::vector<std::string>& command,
            const std::vector<std::string>& env, const sigset_t& old_mask,
            int* exec_errno) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    *exec_errno = errno;
    return -1;
  }
  std::vector<char*> argv;
  for (const std::string& a : command)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    // The program starts as it would without memmon: default dispositions
    // for what memmon changed, the caller's signal mask.
    signal(SIGPIPE, SIG_DFL);
    for (int sig : kForwarded) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    environ = envp.data();
    execvp(argv[0], argv.data());
    int e = errno;
    ssize_t w = write(pipefd[1], &e, sizeof(e));
    (void)w;
    _exit(kExitCannotExecute);
  }
  close(pipefd[1]);
  if (pid < 0) {
    *exec_errno = errno;
    close(pipefd[0]);
    return -1;
  }
  int e = 0;
  ssize_t n;
  do {
    n = read(pipefd[0], &e, sizeof(e));
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  if (n == sizeof(e)) {  // exec failed: the child exits at once
    waitpid(pid, nullptr, 0);
    *exec_errno = e;
    return -1;
  }
  return pid;
}

// A statically linked program cannot load the sampler (`no_sampler`): the
// programs it execs still can, and do, but none of them is the first
// process (MEMMON_ROOT_PID is memmon's own pid): each writes
// heap.pid<pid>.pb.gz, none maps the status page.
std::vector<std::string> ChildEnvironment(const std::string& preload,
                                          const fs::path& dir,
                                          uint64_t sample_rate,
                                          double snapshot_s, double status_s,
                                          bool no_sampler) {
  std::vector<std::string> env;
  std::string ld_preload = preload;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("LD_PRELOAD=")) {
      std::string_view rest = kv.substr(11);
      if (!rest.empty())
        ld_preload += " " + std::string(rest);  // the sampler first
      continue;
    }
    // memmon's own settings come from memmon run's options.
    if (kv.starts_with("MEMMON_OUTPUT=") ||
        kv.starts_with("MEMMON_SAMPLE_RATE=") ||
        kv.starts_with("MEMMON_SNAPSHOT_INTERVAL=") ||
        kv.starts_with("MEMMON_ROOT_PID=") ||
        kv.starts_with("MEMMON_STATUS_FILE=") ||
        kv.starts_with("MEMMON_STATUS_INTERVAL=") ||
        kv.starts_with("MEMMON_DISABLE=")) {
      continue;
    }
    env.emplace_back(kv);
  }
  env.push_back("LD_PRELOAD=" + ld_preload);
  env.push_back("MEMMON_OUTPUT=" + dir.string());
  env.push_back(fmt::format("MEMMON_SAMPLE_RATE={}", sample_rate));
  env.push_back(fmt::format("MEMMON_SNAPSHOT_INTERVAL={:.3f}", snapshot_s));
  if (no_sampler) {
    env.push_back(fmt::format("MEMMON_ROOT_PID={}", getpid()));
    return env;
  }
  env.push_back("MEMMON_STATUS_FILE=" + (dir / ".status").string());
  env.push_back(fmt::format("MEMMON_STATUS_INTERVAL={:.3f}", status_s));
  return env;
}

// ---------------------------------------------------------------------------
// Output

std::string Elapsed(double s) { return internal::HumanDuration(s); }

std::string StatusLine(double elapsed_s, const Sample& s, uint64_t alerts) {
  auto bytes = [](const std::optional<uint64_t>& v) {
    return v ? internal::HumanBytes(static_cast<double>(*v)) : std::string("?");
  };
  auto count = [](const std::optional<uint64_t>& v) {
    return v ? std::to_string(*v) : std::string("?");
  };
  return fmt::format(
      "memmon: {}  rss {}  heap {}  threads {}  fds {}  alerts {}",
      Elapsed(elapsed_s), bytes(s.rss_bytes), bytes(s.heap_inuse_bytes),
      count(s.threads), count(s.open_fds), alerts);
}

std::string DescribeStatus(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return fmt::format("was killed by SIG{}{}", name ? name : "?",
                       WCOREDUMP(status) ? " (core dumped)" : "");
  }
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

int ExitCodeOf(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// ---------------------------------------------------------------------------

class Run {
 public:
  explicit Run(const RunOptions& o) : o_(o) {}

  int Main() {
    if (int rc = Prepare(); rc != kExitOk) return rc;
    if (int rc = Start(); rc != kExitOk) return rc;
    Loop();
    return Finish();
  }

 private:
  // Options, the program, the directory. Nothing is started yet.
  int Prepare() {
    if (Status s = ParseDuration(o_.interval, &interval_);
        !s.ok() || interval_.count() <= 0) {
      return Usage("--interval", s.ok() ? "must be positive" : s.message());
    }
    // The flag wins; without it, MEMMON_SAMPLE_RATE from the environment
    // (as the bare preload reads it), said on stderr so nothing surprises.
    const char* env_rate = std::getenv("MEMMON_SAMPLE_RATE");
    const bool from_env =
        !o_.sample_rate_given && env_rate != nullptr && *env_rate != '\0';
    const std::string rate = from_env ? env_rate : o_.sample_rate;
    if (Status s = ParseSize(rate, &sample_rate_);
        !s.ok() || sample_rate_ == 0) {
      return Usage(from_env ? "MEMMON_SAMPLE_RATE" : "--sample-rate",
                   s.ok() ? "must be at least 1 byte" : s.message());
    }
    if (from_env) {
      fmt::print(stderr,
                 "memmon: run: sample rate {} bytes from MEMMON_SAMPLE_RATE "
                 "(--sample-rate overrides it)\n",
                 sample_rate_);
    }
    if (!(o_.threshold_pct > 0))
      return Usage("--threshold", "must be a positive percentage");
    snapshot_ = std::max<std::chrono::nanoseconds>(interval_ * 10,
                                                   std::chrono::seconds(1));
    if (!o_.snapshot_interval.empty()) {
      if (Status s = ParseDuration(o_.snapshot_interval, &snapshot_);
          !s.ok() || snapshot_.count() <= 0) {
        return Usage("--snapshot-interval",
                     s.ok() ? "must be positive" : s.message());
      }
    }
    config_ = DefaultMonitorConfig();
    config_.sample_interval = interval_;
    config_.alert_threshold_pct = o_.threshold_pct;
    config_.max_samples = o_.max_samples;
    config_.warmup_samples = o_.warmup_samples;
    if (Status s = ParseDuration(o_.resolve_after, &config_.resolve_after);
        !s.ok()) {
      return Usage("--resolve-after", s.message());
    }
    config_.alert_log = "none";
    if (int rc = ParseOomOptions("run", o_.oom_horizon, o_.oom_profile_fraction,
                                 &config_);
        rc != kExitOk) {
      return rc;
    }
    if (Status s = Validate(config_); !s.ok())
      return Usage("options", s.message());
    if (o_.command.empty()) {
      std::fputs(
          "memmon: run: missing PROGRAM (memmon run [options] -- PROGRAM "
          "[ARGS...])\n",
          stderr);
      return kExitUsage;
    }
    std::string error;
    fs::path program;
    if (int rc = CheckProgram(o_.command[0], &program, &error); rc != 0) {
      std::fprintf(stderr, "memmon: run: %s\n", error.c_str());
      return rc;
    }
    static_program_ = IsStaticElf(program);
    if (static_program_) {
      std::fprintf(stderr,
                   "memmon: run: %s is statically linked: the heap sampler "
                   "cannot be loaded into it; monitoring RSS, threads and "
                   "descriptors only (no heap profile)\n",
                   o_.command[0].c_str());
    }
    std::optional<std::string> preload = FindPreload();
    if (!preload) {
#ifdef MEMMON_NO_SAMPLER_ARCH
      std::fputs(
          "memmon: run: the heap sampler is x86-64 only and was not built "
          "for this machine; memmon watch PID works without it\n",
          stderr);
#else
      std::fputs(
          "memmon: run: cannot find libmemmon_preload.so beside memmon "
          "(set MEMMON_PRELOAD_LIBRARY to its path)\n",
          stderr);
#endif
      return kExitUsage;
    }
    preload_ = *preload;
    std::error_code ec;
    dir_ = fs::absolute(o_.out, ec);
    if (Status s = profile::MakeDirectories(dir_.string()); !s.ok()) {
      std::fprintf(stderr, "memmon: run: cannot use --out %s: %s\n",
                   o_.out.c_str(), s.message().c_str());
      return kExitUsage;
    }
    if (access(dir_.c_str(), W_OK | X_OK) != 0) {
      std::fprintf(stderr, "memmon: run: cannot write to --out %s: %s\n",
                   o_.out.c_str(), std::strerror(errno));
      return kExitUsage;
    }
    RemoveEarlierRun(dir_);
    for (Status s : {samples_.Open(dir_ / "samples.csv"),
                     alerts_.Open(dir_ / "alerts.jsonl"),
                     status_.Create(dir_ / ".status")}) {
      if (!s.ok()) {
        std::fprintf(stderr, "memmon: run: %s\n", s.message().c_str());
        return kExitUsage;
      }
    }
    samples_.Write(internal::SamplesCsvHeader());
    engine_ = std::make_unique<internal::DetectionEngine>(config_);
    return kExitOk;
  }

  int Usage(const char* what, const std::string& why) {
    std::fprintf(stderr, "memmon: run: %s: %s\n", what, why.c_str());
    return kExitUsage;
  }

  int Start() {
    // Signals are taken synchronously (sigtimedwait) from now on; the child
    // gets the caller's mask back before exec.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    for (int sig : kForwarded) sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, &old_mask_);
    wait_set_ = mask;
    signal(SIGPIPE, SIG_IGN);  // a closed stderr must not kill memmon
    // The server's threads start with these signals blocked, so they reach
    // the loop's sigtimedwait only.
    if (!o_.http.empty()) {
      if (int rc = StartHttp("run", o_.http, MakeServed(), &http_);
          rc != kExitOk) {
        sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
        return rc;
      }
    }

    const double snapshot_s = std::chrono::duration<double>(snapshot_).count();
    const double status_s =
        std::max(0.05, std::chrono::duration<double>(interval_).count() / 2);
    std::vector<std::string> env = ChildEnvironment(
        preload_, dir_, sample_rate_, snapshot_s, status_s, static_program_);
    started_wall_ = std::chrono::system_clock::now();
    started_ = std::chrono::steady_clock::now();
    int exec_errno = 0;
    child_ = Spawn(o_.command, env, old_mask_, &exec_errno);
    if (child_ < 0) {
      sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
      int rc = exec_errno == ENOENT ? kExitNotFound : kExitCannotExecute;
      std::fprintf(stderr, "memmon: run: %s: %s\n", o_.command[0].c_str(),
                   std::strerror(exec_errno));
      return rc;
    }
    proc_ = std::make_unique<internal::ProcReader>(child_);
    smaps_ = std::make_unique<internal::SmapsTotals>(child_);
    limits_.Open(child_).IgnoreError();  // none found: the columns stay empty
    // The OOM kills the program's memory cgroup has counted so far (it is
    // memmon's until the program moves): a kill during the run is told
    // from a SIGKILL sent by someone else. Read by file, so still readable
    // once the program is gone.
    oom_kills_before_ = limits_.OomKills();
    PrintMemoryLimits("memmon: ", limits_.found());
    proc_->Open()
        .IgnoreError();  // a program that is already gone reads as gone
    live_ = isatty(STDERR_FILENO) != 0;
    return kExitOk;
  }

  void Loop() {
    auto next_sample = started_;  // the first sample at once
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_sample && sampling_) {
        TakeSample(now);
        next_sample += interval_;
        if (next_sample <= now) next_sample = now + interval_;  // fell behind
      }
      auto wait =
          sampling_ ? next_sample - std::chrono::steady_clock::now()
                    : std::chrono::nanoseconds(std::chrono::milliseconds(100));
      wait = std::clamp<std::chrono::nanoseconds>(
          wait, std::chrono::nanoseconds(0), std::chrono::seconds(1));
      timespec ts{static_cast<time_t>(wait.count() / 1000000000),
                  static_cast<long>(wait.count() % 1000000000)};
      siginfo_t info;
      int sig = sigtimedwait(&wait_set_, &info, &ts);
      if (sig == SIGCHLD || sig < 0) {
        if (Reap()) return;
        continue;
      }
      Forward(sig, info);
    }
  }

  // True once the child has been reaped.
  bool Reap() {
    int status = 0;
    pid_t r = waitpid(child_, &status, WNOHANG);
    if (r == child_) {
      status_code_ = status;
      ended_ = std::chrono::steady_clock::now();
      return true;
    }
    return false;
  }

  void Forward(int sig, const siginfo_t& info) {
    // A terminal's signals went to the whole foreground process group, the
    // program included; pass on only what a process sent to memmon.
    const bool from_process = info.si_code == SI_USER ||
                              info.si_code == SI_QUEUE ||
                              info.si_code == SI_TKILL;
    if (from_process && info.si_pid != child_) kill(child_, sig);
  }

  void TakeSample(std::chrono::steady_clock::time_point now) {
    Sample s;
    s.time = std::chrono::system_clock::now();
    s.monotonic = now;
    if (!proc_->Read(&s, false)) {
      sampling_ =
          false;  // exited (a zombie until reaped): nothing more to read
      sampling_done_.store(true);
      return;
    }
    if (std::optional<memmon_status_page> page = status_.Read()) {
      s.heap_inuse_bytes = page->counters.inuse_bytes;
      s.total_allocated_bytes = page->counters.allocated_bytes;
      s.allocations = page->counters.allocations;
      s.frees = page->counters.frees;
      // The allocator's share of the program's CPU since the last share
      // (process_source.h: the interval grows until it holds 1 ms of CPU).
      const memmon_preload_allocator_time& at = page->allocator_time;
      if (!last_allocator_time_ ||
          at.allocator_nanos < last_allocator_time_->allocator_nanos ||
          at.cpu_nanos < last_allocator_time_->cpu_nanos) {
        last_allocator_time_ = at;
      } else if (std::optional<double> share = internal::AllocatorCpuFraction(
                     *last_allocator_time_, at)) {
        s.allocator_cpu_fraction = share;
        last_allocator_time_ = at;
      }
      // The allocator's statistics (glibc, jemalloc, tcmalloc), once the
      // sampler has read them.
      internal::HeapFigures heap = internal::HeapFiguresOfStatusPage(*page);
      s.heap_free_bytes = heap.free;
      s.heap_system_bytes = heap.system;
      s.allocator = heap.kind;
    }
    // The RSS breakdown: its totals each sample (budgeted), the full one
    // into explain.json at most once a snapshot interval, while the
    // program lives (docs/explain.md).
    if (smaps_budget_.Due(now)) {
      auto start = std::chrono::steady_clock::now();
      smaps_->Read(&s);
      smaps_budget_.Record(start, std::chrono::steady_clock::now());
    }
    if (now >= next_explain_ && explain_budget_.Due(now)) {
      auto start = std::chrono::steady_clock::now();
      SaveExplain(s);
      explain_budget_.Record(start, std::chrono::steady_clock::now());
      next_explain_ = now + snapshot_;
    }
    if (s.rss_bytes && limit_budget_.Due(now)) {
      auto start = std::chrono::steady_clock::now();
      uint64_t limit = 0, usage = 0;
      MemoryLimitKind kind = MemoryLimitKind::kUnknown;
      if (limits_.Read(*s.rss_bytes, &limit, &usage, &kind)) {
        s.memory_limit_bytes = limit;
        s.memory_limit_usage_bytes = usage;
        s.memory_limit_kind = kind;
      }
      s.memory_limit_oom_kills = limits_.OomKills();
      limit_budget_.Record(start, std::chrono::steady_clock::now());
    }
    // Near the limit, a heap profile before a kill can take the evidence.
    if (s.memory_limit_bytes && s.memory_limit_usage_bytes) {
      bool near = static_cast<double>(*s.memory_limit_usage_bytes) >=
                  config_.oom_profile_fraction *
                      static_cast<double>(*s.memory_limit_bytes);
      if (near && !near_limit_) status_.RequestSnapshot("oom_risk");
      near_limit_ = near;
    }
    const double t = std::chrono::duration<double>(now - started_).count();
    samples_.Write(internal::SamplesCsvRow(t, s));
    bool had_baseline = engine_->baseline().has_value();
    std::vector<MemoryAlert> fired;
    {
      internal::MutexLock lock(&served_mu_);
      fired = engine_->Push(t, s);
      for (const MemoryAlert& a : fired) {
        int type = static_cast<int>(a.type);
        if (a.state == AlertState::kFiring) {
          ++fired_by_type_[type];
          ++open_by_type_[type];
        } else if (open_by_type_[type] > 0) {
          --open_by_type_[type];
        }
        recent_alerts_.push_back(a);
        if (recent_alerts_.size() > config_.max_alerts) {
          recent_alerts_.pop_front();
        }
      }
    }
    if (!had_baseline && engine_->baseline())
      status_.RequestSnapshot("baseline");
    for (const MemoryAlert& a : fired) {
      bool firing = a.state == AlertState::kFiring;
      if (firing) ++alert_count_;
      if (firing && a.type == AlertType::kMemoryGrowth)
        status_.RequestSnapshot("memory_growth");
      alerts_.Write(ToJson(a));
      ClearStatusLine();
      if (firing) {
        std::fprintf(stderr, "memmon: ALERT %s at %s: %s\n",
                     std::string(ToString(a.type)).c_str(), Elapsed(t).c_str(),
                     a.message.c_str());
      } else {
        std::fprintf(stderr, "memmon: RESOLVED %s at %s, after %s: %s\n",
                     std::string(ToString(a.type)).c_str(), Elapsed(t).c_str(),
                     Elapsed(a.time_s - a.episode_start_s).c_str(),
                     a.message.c_str());
      }
    }
    sample_count_.fetch_add(1, std::memory_order_relaxed);
    if (live_) {
      std::fprintf(stderr, "\r\033[K%s",
                   StatusLine(t, s, alert_count_).c_str());
      status_shown_ = true;
    }
  }

  // The full breakdown of the program now, with the status page's heap
  // figures, into DIR/explain.json (replaced atomically).
  void SaveExplain(const Sample& s) {
    internal::HeapFigures heap = internal::HeapFiguresOf(s);
    MemoryBreakdown b;
    Status st = internal::ExplainProcess(
        child_, s.heap_inuse_bytes ? &heap : nullptr, "status page", &b);
    if (!st.ok()) return;  // gone between the sample and now
    if (Status w = profile::WriteFileAtomically(
            (dir_ / "explain.json").string(), ToJson(b) + "\n");
        !w.ok()) {
      ClearStatusLine();
      std::fprintf(stderr, "memmon: run: %s\n", w.message().c_str());
    }
  }

  void ClearStatusLine() {
    if (status_shown_) std::fputs("\r\033[K", stderr);
    status_shown_ = false;
  }

  int Finish() {
    if (http_) http_->Stop();
    sampling_done_.store(true);
    ClearStatusLine();
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    const double duration =
        std::chrono::duration<double>(ended_ - started_).count();
    std::fprintf(stderr, "memmon: %s %s after %s: %llu samples, %llu alert%s\n",
                 o_.command[0].c_str(), DescribeStatus(status_code_).c_str(),
                 Elapsed(duration).c_str(),
                 static_cast<unsigned long long>(sample_count_.load()),
                 static_cast<unsigned long long>(alert_count_),
                 alert_count_ == 1 ? "" : "s");
    oom_kills_after_ = limits_.OomKills();
    if (WIFSIGNALED(status_code_) && WTERMSIG(status_code_) == SIGKILL &&
        oom_kills_after_ && *oom_kills_after_ > oom_kills_before_.value_or(0)) {
      const uint64_t kills = *oom_kills_after_ - oom_kills_before_.value_or(0);
      oom_killed_ = true;
      std::fprintf(stderr,
                   "memmon: the OOM killer killed it: %s counts %llu OOM "
                   "kill%s during the run; the data gathered is kept\n",
                   limits_.found().oom_events_path.c_str(),
                   static_cast<unsigned long long>(kills),
                   kills == 1 ? "" : "s");
    }
    PrintTimeToLimit();
    KeepFinalProfile();
    std::vector<profile::SiteGrowth> suspects = WriteLeaks();
    WriteRunJson(duration);
    bool report = false;
    if (!o_.no_report) {
      if (Status s =
              WriteReport(dir_.string(), (dir_ / "report.html").string());
          !s.ok()) {
        std::fprintf(stderr, "memmon: run: report: %s\n", s.message().c_str());
      } else {
        report = true;
      }
    }
    // A suspect is a site that grows without bound (or grew in too few
    // snapshots to judge); bounded and flat ones are not.
    if (!suspects.empty() &&
        (suspects[0].kind == profile::GrowthKind::kUnbounded ||
         suspects[0].kind == profile::GrowthKind::kUnknown)) {
      const profile::SiteGrowth& g = suspects[0];
      std::string where = g.stack.empty() ? "" : FrameWhere(g.stack[0]);
      std::fprintf(
          stderr,
          "memmon: top leak suspect: %s%s%s%s, %s, %s in use, growing %s/s\n",
          g.function.c_str(), where.empty() ? "" : " (", where.c_str(),
          where.empty() ? "" : ")", std::string(ToString(g.kind)).c_str(),
          internal::HumanBytes(g.last_bytes).c_str(),
          internal::HumanBytes(g.recent_slope_bytes_per_s).c_str());
    } else if (!suspects.empty()) {
      std::fputs(
          "memmon: no leak suspect: no allocation site grew without bound\n",
          stderr);
    }
    std::error_code ec;
    // The directory as it was given (--out), relative or absolute.
    std::string shown = o_.out;
    while (shown.size() > 1 && shown.back() == '/') shown.pop_back();
    std::fprintf(
        stderr, "memmon: results in %s/%s\n", shown.c_str(),
        report ? fmt::format(" (open {}/report.html)", shown).c_str() : "");
    fs::remove(dir_ / ".status", ec);
    return ExitCodeOf(status_code_);
  }

  // A program that did not reach exit() (a crash, a kill) wrote no final
  // profile: its last snapshot stands in for it, so nothing gathered is lost.
  void KeepFinalProfile() {
    std::error_code ec;
    // heap.pb.gz before any conversion: the sampler's exit writer ran, and
    // wrote every profile that is on.
    const bool exited = fs::exists(dir_ / "heap.pb.gz", ec);
    // A fatal signal, _exit or _Exit: the sampler dumped the heap raw, to
    // be made a profile now the process is gone (profile/raw_heap.h).
    std::vector<std::string> errors;
    if (!profile::ConvertRawHeaps(dir_.string(), &errors).empty() &&
        fs::exists(dir_ / "heap.pb.gz", ec)) {
      std::fputs(
          "memmon: the program did not exit normally; heap.pb.gz is its heap "
          "as it ended\n",
          stderr);
    }
    for (const std::string& e : errors) {
      std::fprintf(stderr, "memmon: %s\n", e.c_str());
    }
    // The other profiles have no raw dump: each one's newest numbered
    // snapshot (KIND.NNNN.pb.gz, written with the heap's) stands in.
    for (const char* kind : {"peak", "mutex", "block", "mmap"}) {
      if (exited) break;
      const fs::path final_profile = dir_ / (std::string(kind) + ".pb.gz");
      if (fs::exists(final_profile, ec)) continue;
      long newest = -1;
      fs::path newest_path;
      const std::string prefix = std::string(kind) + ".";
      for (const fs::directory_entry& e : fs::directory_iterator(dir_, ec)) {
        const std::string name = e.path().filename().string();
        if (!name.starts_with(prefix) || !name.ends_with(".pb.gz")) continue;
        const std::string mid =
            name.substr(prefix.size(), name.size() - prefix.size() - 6);
        if (mid.empty() || mid.size() > 9 ||
            mid.find_first_not_of("0123456789") != std::string::npos) {
          continue;  // a child's KIND.pidPID[.NNNN].pb.gz
        }
        const long n = std::strtol(mid.c_str(), nullptr, 10);
        if (n > newest) {
          newest = n;
          newest_path = e.path();
        }
      }
      if (newest < 0) continue;
      std::error_code copy_ec;
      fs::copy_file(newest_path, final_profile, copy_ec);
      if (!copy_ec) {
        std::fprintf(stderr,
                     "memmon: the program did not exit normally; %s.pb.gz is "
                     "its last snapshot, %s\n",
                     kind, newest_path.filename().c_str());
      }
    }
    if (fs::exists(dir_ / "heap.pb.gz", ec)) return;
    std::vector<std::string> profiles = RunDirProfiles(dir_.string());
    if (profiles.empty() && static_program_) return;  // said at the start
    if (profiles.empty()) {
      std::fputs(
          "memmon: no heap profile was written (the program ended before its "
          "first snapshot)\n",
          stderr);
      return;
    }
    fs::copy_file(profiles.back(), dir_ / "heap.pb.gz", ec);
    if (!ec) {
      std::fprintf(
          stderr,
          "memmon: the program did not exit normally; heap.pb.gz is its last "
          "snapshot, %s\n",
          fs::path(profiles.back()).filename().c_str());
    }
  }

  std::vector<profile::SiteGrowth> WriteLeaks() {
    std::vector<profile::SiteGrowth> ranked;
    HeapSeries series;
    if (!RunDirProfiles(dir_.string()).empty()) {
      if (Status s = LoadHeapSeries({dir_.string()}, &series); !s.ok()) {
        std::fprintf(stderr, "memmon: run: leaks: %s\n", s.message().c_str());
      } else {
        ranked = profile::RankLeakSites(series.Timed());
      }
    }
    constexpr std::size_t kKept = 50;
    if (ranked.size() > kKept) ranked.resize(kKept);
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const profile::SiteGrowth& g : ranked) out.push_back(SuspectJson(g));
    if (Status s = profile::WriteFileAtomically((dir_ / "leaks.json").string(),
                                                out.dump(2) + "\n");
        !s.ok()) {
      std::fprintf(stderr, "memmon: run: %s\n", s.message().c_str());
    }
    return ranked;
  }

  void WriteRunJson(double duration) {
    nlohmann::ordered_json j;
    j["argv"] = o_.command;
    j["pid"] = child_;
    j["started"] =
        fmt::format("{:%Y-%m-%dT%H:%M:%S}Z",
                    std::chrono::floor<std::chrono::seconds>(started_wall_));
    j["duration_s"] = duration;
    j["exit_status"] = ExitCodeOf(status_code_);
    if (WIFSIGNALED(status_code_)) {
      const char* name = sigabbrev_np(WTERMSIG(status_code_));
      j["signal"] = fmt::format("SIG{}", name ? name : "?");
    }
    j["oom_killed"] = oom_killed_;
    j["heap_sampler"] = !static_program_;
    j["samples"] = sample_count_.load();
    j["alerts"] = alert_count_;
    j["interval_s"] = std::chrono::duration<double>(interval_).count();
    j["sample_rate"] = sample_rate_;
    j["snapshot_interval_s"] = std::chrono::duration<double>(snapshot_).count();
    j["threshold_pct"] = o_.threshold_pct;
    j["oom_horizon_s"] =
        std::chrono::duration<double>(config_.oom_horizon).count();
    j["oom_profile_fraction"] = config_.oom_profile_fraction;
    j["memory_limit"] = LimitJson();
    if (Status s = profile::WriteFileAtomically((dir_ / "run.json").string(),
                                                j.dump(2) + "\n");
        !s.ok()) {
      std::fprintf(stderr, "memmon: run: %s\n", s.message().c_str());
    }
  }

  const RunOptions& o_;
  std::chrono::nanoseconds interval_{0}, snapshot_{0};
  uint64_t sample_rate_ = 0;
  MonitorConfig config_;
  std::string preload_;
  fs::path dir_;
  LineFile samples_, alerts_;
  StatusPage status_;
  sigset_t old_mask_{}, wait_set_{};
  pid_t child_ = -1;
  // The memory limits (a dozen small files): at most 1 % of a core.
  internal::CostBudget limit_budget_{std::chrono::microseconds(200), 0.01};
  // The breakdown's per-sample totals (full smaps) and the full breakdown
  // for explain.json: each at most 1 % of a core.
  std::unique_ptr<internal::SmapsTotals> smaps_;
  internal::CostBudget smaps_budget_{std::chrono::microseconds(50), 0.01};
  internal::CostBudget explain_budget_{std::chrono::microseconds(50), 0.01};
  std::chrono::steady_clock::time_point next_explain_{};
  bool near_limit_ = false;  // the "oom_risk" snapshot was asked for
  // Statically linked: no sampler in the program, no status page, no heap
  // profile of its own (IsStaticElf).
  bool static_program_ = false;
  // The sampler's allocator clock at the last allocator share.
  std::optional<memmon_preload_allocator_time> last_allocator_time_;
  internal::LimitReader limits_;
  // The program's memory cgroup's OOM kill count at the start and the end.
  std::optional<uint64_t> oom_kills_before_, oom_kills_after_;
  bool oom_killed_ = false;
  // The time to the limit at the end of the run (PrintTimeToLimit).
  std::optional<TimeToLimit> time_to_limit_;

  // The run summary's line on the limit: usage at the end and the time to
  // the limit its trend gave then (ProjectTimeToLimit).
  void PrintTimeToLimit() {
    std::span<const Sample> h = engine_->history();
    std::size_t end = h.size();
    while (end > 0 && !h[end - 1].memory_limit_bytes) --end;
    if (end == 0) return;
    const std::optional<Sample>& base = engine_->baseline();
    DetectionInput in{h.first(end), base ? &*base : nullptr, &config_};
    time_to_limit_ = ProjectTimeToLimit(in);
    if (!time_to_limit_) return;
    TimeToLimit& t = *time_to_limit_;
    if (oom_killed_) {
      // The limit was reached: the last samples show the memory the kill
      // freed, not the trend. Say so, with the peak usage measured.
      t.fitted_s = t.earliest_s = 0;
      for (const Sample& x : h.first(end)) {
        if (x.memory_limit_usage_bytes) {
          t.usage_bytes = std::max(
              t.usage_bytes, static_cast<double>(*x.memory_limit_usage_bytes));
        }
      }
      std::fprintf(stderr,
                   "memmon: memory limit (%s): reached, the OOM killer killed "
                   "the program (peak usage measured %s of %s)\n",
                   std::string(ToString(t.kind)).c_str(),
                   internal::HumanBytes(t.usage_bytes).c_str(),
                   internal::HumanBytes(t.limit_bytes).c_str());
      return;
    }
    std::string when =
        std::isinf(t.fitted_s)
            ? std::string("not rising steadily: no kill in sight")
            : fmt::format("at its trend, the limit in {} (as soon as {})",
                          Elapsed(t.fitted_s), Elapsed(t.earliest_s));
    std::fprintf(stderr, "memmon: memory limit (%s) at the end: %s of %s; %s\n",
                 std::string(ToString(t.kind)).c_str(),
                 internal::HumanBytes(t.usage_bytes).c_str(),
                 internal::HumanBytes(t.limit_bytes).c_str(), when.c_str());
  }

  nlohmann::ordered_json LimitJson() const {
    nlohmann::ordered_json m;
    const internal::MemoryLimits& found = limits_.found();
    auto number = [](double v) {
      return std::isfinite(v) ? nlohmann::ordered_json(v)
                              : nlohmann::ordered_json(nullptr);
    };
    if (const internal::MemoryLimit* b = found.Binding()) {
      m["kind"] = std::string(ToString(b->kind));
      m["source"] = b->source;
      m["usage_source"] = b->usage_source;
      m["counts"] = b->counts;
    }
    if (time_to_limit_) {
      m["kind_at_end"] = std::string(ToString(time_to_limit_->kind));
      m["limit_bytes"] = time_to_limit_->limit_bytes;
      m["usage_bytes"] = time_to_limit_->usage_bytes;
      m["seconds_to_limit"] = {
          {"fitted", number(time_to_limit_->fitted_s)},
          {"earliest", number(time_to_limit_->earliest_s)}};
    }
    m["oom_events"] = found.oom_events_path.empty()
                          ? nlohmann::ordered_json(nullptr)
                          : nlohmann::ordered_json(found.oom_events_path);
    auto count = [](const std::optional<uint64_t>& v) {
      return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
    };
    m["oom_kills_before"] = count(oom_kills_before_);
    m["oom_kills_after"] = count(oom_kills_after_);
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const internal::MemoryLimit& l : found.limits) {
      all.push_back({{"kind", std::string(ToString(l.kind))},
                     {"limit_bytes", l.limit_bytes},
                     {"source", l.source},
                     {"usage_bytes_at_start", l.usage_bytes},
                     {"usage_source", l.usage_source},
                     {"counts", l.counts},
                     {"kills", l.kills}});
    }
    m["limits"] = std::move(all);
    return m;
  }
  int status_code_ = 0;
  std::chrono::system_clock::time_point started_wall_;
  std::chrono::steady_clock::time_point started_, ended_;
  std::unique_ptr<internal::ProcReader> proc_;
  std::unique_ptr<internal::DetectionEngine> engine_;
  bool sampling_ = true;
  bool live_ = false;
  bool status_shown_ = false;
  std::atomic<uint64_t> sample_count_{0};
  uint64_t alert_count_ = 0;

  // --http: what the server reads, guarded by served_mu_ (the engine's
  // history and baseline, the alerts and their counts by type). The engine
  // is not annotated: the sampling loop, its one writer, also reads it
  // without the lock.
  class Served;
  std::unique_ptr<internal::HttpSource> MakeServed();
  std::unique_ptr<HttpServer> http_;
  mutable internal::Mutex served_mu_;
  std::deque<MemoryAlert> recent_alerts_ GUARDED_BY(served_mu_);
  std::array<uint64_t, kAlertTypeCount> fired_by_type_ GUARDED_BY(served_mu_){};
  std::array<uint64_t, kAlertTypeCount> open_by_type_ GUARDED_BY(served_mu_){};
  std::atomic<bool> sampling_done_{false};
};

// The run's data for --http: the engine's samples and alerts, the child's
// sampler counters from its status page, and its heap profile by asking
// the sampler for a snapshot (written into --out like the periodic ones).
class Run::Served : public internal::HttpSource {
 public:
  explicit Served(Run* run) : run_(run) {}

  MemoryStats Stats() const override {
    MemoryStats st;
    st.sample_count = run_->sample_count_.load();
    st.running = !run_->sampling_done_.load();
    internal::MutexLock lock(&run_->served_mu_);
    std::span<const Sample> h = run_->engine_->history();
    st.retained_samples = h.size();
    if (!h.empty()) st.current_sample = h.back();
    st.baseline_sample = run_->engine_->baseline();
    st.alerts_fired_by_type = run_->fired_by_type_;
    st.alerts_open_by_type = run_->open_by_type_;
    for (uint64_t n : st.alerts_fired_by_type) st.alert_count += n;
    if (st.current_sample && st.baseline_sample) {
      st.growth_since_baseline_pct = internal::GrowthSinceBaselinePct(
          *st.baseline_sample, *st.current_sample);
    }
    return st;
  }
  std::vector<Sample> Samples() const override {
    internal::MutexLock lock(&run_->served_mu_);
    std::span<const Sample> h = run_->engine_->history();
    return {h.begin(), h.end()};
  }
  std::vector<MemoryAlert> Alerts() const override {
    internal::MutexLock lock(&run_->served_mu_);
    return {run_->recent_alerts_.begin(), run_->recent_alerts_.end()};
  }
  const MonitorConfig& Config() const override { return run_->config_; }
  std::optional<memmon_preload_counters> SamplerCounters() const override {
    std::optional<memmon_status_page> page = run_->status_.Read();
    if (!page) return std::nullopt;
    return page->counters;
  }
  Status SamplerProfile(const std::string& kind, const std::string&,
                        std::string* gz) override {
    if (run_->sampling_done_.load()) {
      return Status::Unavailable("the program has exited");
    }
    if (kind != "heap") return OtherProfile(kind, gz);
    uint64_t n = run_->status_.RequestSnapshot("http");
    // The sampler serves requests at each status update (half the
    // interval): wait for this one, or give up.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      std::optional<memmon_status_page> page = run_->status_.Read();
      if (page && page->snapshots_served >= n && page->last_snapshot > 0) {
        fs::path path =
            run_->dir_ / fmt::format("heap.{:04d}.pb.gz", page->last_snapshot);
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) return Status::IoError("cannot read " + path.string());
        *gz = text.str();
        return Status::Ok();
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Unavailable(
            "the program's heap sampler did not answer within 10 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  Status ThreadProfile(const std::string&, std::string*) override {
    return Status::Unavailable(
        "memmon run cannot read the stacks of its program's threads; set "
        "MEMMON_HTTP in the program for /debug/pprof/threads (docs/http.md)");
  }
  std::vector<AllocationSite> TopSites(std::size_t) override { return {}; }
  void ReleaseFreeMemory() override {}  // another process's allocator

 private:
  // peak, mutex, block: written by the sampler on request to the file it
  // writes at exit (replaced then by the final one).
  Status OtherProfile(const std::string& kind, std::string* gz) {
    std::lock_guard lock(profile_mu_);
    uint64_t n = run_->status_.RequestProfile(kind);
    if (n == 0) return Status::Unavailable("the program has no heap sampler");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      std::optional<memmon_status_page> page = run_->status_.Read();
      if (page && page->profiles_served >= n) {
        if (page->profile_result == MEMMON_PRELOAD_PROFILE_OFF) {
          return Status::Unavailable(
              kind + " profile: off in the program, or unknown (" +
              "docs/profiler.md)");
        }
        fs::path path = run_->dir_ / (kind + ".pb.gz");
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (page->profile_result != 0 || !in) {
          return Status::IoError("the program's sampler could not write " +
                                 path.string());
        }
        *gz = text.str();
        return Status::Ok();
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Unavailable(
            "the program's heap sampler did not answer within 10 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  Run* run_;
  std::mutex profile_mu_;  // one profile request on the page at a time
};

std::unique_ptr<internal::HttpSource> Run::MakeServed() {
  return std::make_unique<Served>(this);
}

}  // namespace

Subcommand AddRun(CLI::App& parent) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* app = parent.add_subcommand(
      "run",
      "Run PROGRAM under memmon's heap sampler and watch it: alerts print as "
      "they fire; samples, alerts, heap profiles, leak suspects and an HTML "
      "report go to --out. memmon exits with the program's status (128+N if "
      "killed by signal N; 127 if PROGRAM is not found, 126 if it cannot be "
      "executed).");
  app->add_option("--interval", o->interval,
                  "time between samples (100ms, 2s, 5m)")
      ->capture_default_str();
  CLI::Option* rate = app->add_option(
      "--sample-rate", o->sample_rate,
      "mean bytes between heap samples (512k, 2M; 1 = every allocation); "
      "without it, MEMMON_SAMPLE_RATE from the environment if set");
  rate->capture_default_str();
  app->add_option("--threshold", o->threshold_pct,
                  "memory_growth threshold over the baseline, percent")
      ->capture_default_str();
  app->add_option("--out", o->out,
                  "directory for the results (created; an earlier "
                  "run's files in it are replaced)")
      ->capture_default_str();
  app->add_option(
      "--snapshot-interval", o->snapshot_interval,
      "time between numbered heap snapshots (default: 10 x --interval, "
      "at least 1 s)");
  app->add_option("--max-samples", o->max_samples, "history the detectors see")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app->add_option("--warmup-samples", o->warmup_samples,
                  "start-up samples before the baseline, not judged "
                  "(MonitorConfig::warmup_samples)")
      ->capture_default_str();
  app->add_option(
         "--resolve-after", o->resolve_after,
         "an episode that fired resolves once its condition has been absent on "
         "3 consecutive samples and for this long (0s: the 3 samples "
         "alone; MonitorConfig::resolve_after)")
      ->capture_default_str();
  app->add_flag("--no-report", o->no_report, "do not write report.html");
  AddOomOptions(app, &o->oom_horizon, &o->oom_profile_fraction);
  app->add_option("--http", o->http,
                  "serve the program's /metrics, /debug/pprof and "
                  "/debug/memmon at HOST:PORT while it runs (port 0: a free "
                  "one, printed); token from MEMMON_HTTP_TOKEN_FILE or "
                  "MEMMON_HTTP_TOKEN (docs/http.md)");
  // After "--", everything is the program's, options included.
  app->add_option("command", o->command, "PROGRAM [ARGS...], after --");
  app->footer(
      "Example: memmon run --interval 2s --out /tmp/run -- ./server --port "
      "8080");
  return {app, [o, rate] {
            o->sample_rate_given = rate->count() > 0;
            return Run(*o).Main();
          }};
}

}  // namespace memmon::cli
