// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
#include "preload/exit_dump.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "memmon/memmon_preload.h"
#include "preload/alloc_clock.h"
#include "preload/sampler.h"
#include "preload/stack_table.h"

namespace memmon::preload {
namespace {

// The signals whose default action ends the process: those that dump core,
// then those that only terminate. SIGKILL and SIGSTOP cannot be caught;
// SIGUSR1/2, SIGPROF, SIGVTALRM and the real-time signals are left alone
// (profilers and runtimes claim them).
constexpr int kFatalSignals[] = {SIGABRT, SIGSEGV, SIGBUS,  SIGFPE,  SIGILL,
                                 SIGTRAP, SIGSYS,  SIGQUIT, SIGXCPU, SIGXFSZ,
                                 SIGTERM, SIGINT,  SIGHUP,  SIGPIPE, SIGALRM};

char g_path[PATH_MAX];
pid_t g_dump_pid = 0;  // the process the target is for (not a vfork child)
char g_tmp_path[PATH_MAX + 8];
long long g_start_nanos = 0;
// 0: no dump yet; 1: a dump being written; 2: done, or not wanted.
std::atomic<int> g_state{2};

// The signals whose handler is ours, not the program's: the program sees
// SIG_DFL there (sigaction and signal are interposed below), so a runtime
// that installs its own handler only where the default is (Python's
// SIGINT), or reports the disposition, behaves as without memmon.
std::atomic<bool> g_ours[NSIG];

using SigactionFn = int (*)(int, const struct sigaction*, struct sigaction*);
// libc's sigaction: the next definition after ours. Resolved at start,
// before any handler is installed (never from a handler).
SigactionFn g_real_sigaction = nullptr;

int RealSigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (g_real_sigaction == nullptr) {
    g_real_sigaction =
        reinterpret_cast<SigactionFn>(dlsym(RTLD_NEXT, "sigaction"));
  }
  if (g_real_sigaction == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return g_real_sigaction(sig, act, old);
}

// A buffer of whole words, written out with write(2) when full.
struct Out {
  int fd;
  bool ok;
  size_t used;
  alignas(8) char buf[64 * 1024];

  void Flush() {
    size_t off = 0;
    while (ok && off < used) {
      ssize_t n = write(fd, buf + off, used - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok = false;
        break;
      }
      off += static_cast<size_t>(n);
    }
    used = 0;
  }
  void Bytes(const void* p, size_t n) {
    const char* s = static_cast<const char*>(p);
    while (n > 0) {
      if (used == sizeof(buf)) Flush();
      size_t take = sizeof(buf) - used < n ? sizeof(buf) - used : n;
      memcpy(buf + used, s, take);
      used += take;
      s += take;
      n -= take;
    }
  }
  void Word(uint64_t v) { Bytes(&v, sizeof(v)); }
  void Padded(const char* s, size_t n) {
    Word(n);
    Bytes(s, n);
    static const char kZeros[8] = {};
    if (n % 8 != 0) Bytes(kZeros, 8 - n % 8);
  }
};
Out g_out;  // one dump per process: static, never on the (maybe small) stack

void WriteStack(Out& out, StackRecord* r, uint32_t ref) {
  const uint64_t objects =
      r->alloc_objects_scaled.load(std::memory_order_relaxed);
  const uint64_t bytes = r->alloc_bytes.load(std::memory_order_relaxed);
  out.Word(MEMMON_RAW_STACK);
  out.Word(ref);
  const uint32_t depth =
      r->depth <= static_cast<uint32_t>(kMaxStackDepth) ? r->depth : 0;
  out.Word(depth);
  out.Word(bytes);
  out.Word(objects);
  for (uint32_t i = 0; i < depth; ++i) out.Word(r->frames[i]);
}

// /proc/self/maps, read twice: once for its length, once into the dump.
void WriteMaps(Out& out) {
  char chunk[4096];
  uint64_t length = 0;
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    length += static_cast<uint64_t>(n);
  }
  close(fd);
  fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  out.Word(MEMMON_RAW_MAPS);
  out.Word(length);
  uint64_t copied = 0;
  while (copied < length) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t take = static_cast<size_t>(n);
    if (take > length - copied) take = static_cast<size_t>(length - copied);
    out.Bytes(chunk, take);
    copied += take;
  }
  close(fd);
  // The maps changed between the reads: pad (or the dump is unreadable).
  for (; copied < length; ++copied) out.Bytes("\n", 1);
  static const char kZeros[8] = {};
  if (length % 8 != 0) out.Bytes(kZeros, 8 - length % 8);
}

void OnFatalSignal(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  char reason[32] = "signal ";
  char digits[12];
  int n = 0;
  for (int v = sig; v > 0 && n < 11; v /= 10) digits[n++] = '0' + v % 10;
  size_t len = strlen(reason);
  while (n > 0) reason[len++] = digits[--n];
  reason[len] = '\0';
  DumpRawHeap(reason);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  g_ours[sig].store(false);
  RealSigaction(sig, &dfl, nullptr);
  // A fault raised by an instruction happens again when the handler
  // returns, now at the default disposition: the core shows the faulting
  // stack as it would have. Everything else (abort's raise, kill, SIGTERM)
  // is raised again, delivered when the handler returns.
  const bool refaults =
      info != nullptr && info->si_code > 0 &&
      (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
  if (!refaults) raise(sig);
  errno = saved_errno;
}

}  // namespace

void SetRawDumpTarget(const char* dir, const char* name,
                      long long start_nanos) {
  snprintf(g_path, sizeof(g_path), "%s/%s.raw", dir, name);
  snprintf(g_tmp_path, sizeof(g_tmp_path), "%s.tmp", g_path);
  g_start_nanos = start_nanos;
  g_dump_pid = getpid();
  g_state.store(0);
}

void InstallFatalSignalDumps(int skip_signal) {
  struct sigaction sa {};
  sa.sa_sigaction = OnFatalSignal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int s : kFatalSignals) sigaddset(&sa.sa_mask, s);
  for (int s : kFatalSignals) {
    if (s == skip_signal) continue;
    struct sigaction old {};
    if (RealSigaction(s, nullptr, &old) != 0) continue;
    if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == SIG_DFL &&
        RealSigaction(s, &sa, nullptr) == 0) {
      g_ours[s].store(true);
    }
  }
}

void RawDumpNotNeeded() { g_state.store(2); }

void DumpRawHeap(const char* reason) {
  int expected = 0;
  if (!g_state.compare_exchange_strong(expected, 1)) {
    // Another thread is dumping: let it finish before this one ends the
    // process (5 s at most).
    for (int i = 0; i < 5000 && g_state.load() == 1; ++i) {
      timespec ms{0, 1000000};
      nanosleep(&ms, nullptr);
    }
    return;
  }
  const int saved_errno = errno;
  Out& out = g_out;
  out.fd = open(g_tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  out.ok = out.fd >= 0;
  out.used = 0;
  if (out.ok) {
    out.Word(MEMMON_RAW_HEAP_MAGIC);
    out.Word(MEMMON_RAW_HEAP_VERSION);
    out.Word(static_cast<uint64_t>(getpid()));
    out.Word(Config().rate);
    out.Word(kObjectScale);
    out.Word(static_cast<uint64_t>(ClockNanos(CLOCK_REALTIME)));
    out.Word(
        static_cast<uint64_t>(ClockNanos(CLOCK_MONOTONIC) - g_start_nanos));
    out.Padded(reason, strlen(reason));
    StackTable& stacks = Stacks();
    WriteStack(out, stacks.FromRef(0), 0);
    stacks.ForEach([&](StackRecord* r) { WriteStack(out, r, stacks.Ref(r)); });
    // Each live sample, with its age when it carries one (the tick is a
    // coarse-clock read: clock_gettime is async-signal-safe).
    const bool ages = Config().live_age;
    const uint32_t now = LiveTable::NowTick();
    Live().ForEachTimed(
        [&](uintptr_t, size_t size, uint32_t ref, uint32_t tick) {
          out.Word(ages ? MEMMON_RAW_LIVE_AGED : MEMMON_RAW_LIVE);
          out.Word(ref);
          out.Word(size);
          if (ages) {
            out.Word(static_cast<uint64_t>(static_cast<uint32_t>(now - tick))
                     << LiveTable::kTickShift);
          }
        });
    WriteMaps(out);
    out.Word(MEMMON_RAW_END);
    out.Flush();
    close(out.fd);
    if (out.ok) rename(g_tmp_path, g_path);
    if (!out.ok) unlink(g_tmp_path);
  }
  errno = saved_errno;
  g_state.store(2);
}

}  // namespace memmon::preload

// _exit and _Exit run no exit handlers: the heap is dumped raw first (they
// are async-signal-safe, and so is the dump; a program's signal handler
// may well be the caller). Not in a vfork child, which shares the parent's
// memory and must do nothing but exec or _exit.
namespace {
[[noreturn]] void ExitNow(int status, const char* reason) {
  if (memmon::preload::g_dump_pid == getpid()) {
    memmon::preload::DumpRawHeap(reason);
  }
  for (;;) syscall(SYS_exit_group, status);
}
}  // namespace

MEMMON_EXPORT void _exit(int status) { ExitNow(status, "_exit"); }
MEMMON_EXPORT void _Exit(int status) noexcept { ExitNow(status, "_Exit"); }

// sigaction and signal: where the handler is ours, the program sees (and
// may set) SIG_DFL. Setting SIG_DFL keeps ours (the default is what the
// program asked for, and ours ends the process as the default does);
// setting anything else installs it for real, and ours is gone. Every
// other signal passes straight through. (glibc's sysv_signal and
// bsd_signal, and the raw rt_sigaction system call, are not interposed:
// a program that sets a handler through them replaces ours while a query
// through sigaction still says SIG_DFL -- docs/profiler.md.)
namespace {
bool Ours(int sig) {
  return sig > 0 && sig < NSIG && memmon::preload::g_ours[sig].load();
}
void DefaultView(struct sigaction* out) {
  *out = {};
  out->sa_handler = SIG_DFL;
  sigemptyset(&out->sa_mask);
}
}  // namespace

MEMMON_EXPORT int sigaction(int sig, const struct sigaction* act,
                            struct sigaction* old) noexcept {
  if (!Ours(sig)) return memmon::preload::RealSigaction(sig, act, old);
  const bool to_default = act != nullptr && (act->sa_flags & SA_SIGINFO) == 0 &&
                          act->sa_handler == SIG_DFL;
  if (act != nullptr && !to_default) {
    memmon::preload::g_ours[sig].store(false);
    int rc = memmon::preload::RealSigaction(sig, act, nullptr);
    if (rc != 0) {
      memmon::preload::g_ours[sig].store(true);
      return rc;
    }
  }
  if (old != nullptr) DefaultView(old);
  return 0;
}

// glibc's signal(): BSD semantics (SA_RESTART, the signal blocked in its
// handler), through the sigaction above.
MEMMON_EXPORT sighandler_t signal(int sig, sighandler_t handler) noexcept {
  if (handler == SIG_ERR || sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return SIG_ERR;
  }
  struct sigaction act {
  }, old{};
  act.sa_handler = handler;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, sig);
  act.sa_flags = SA_RESTART;
  if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
  return old.sa_handler;
}
