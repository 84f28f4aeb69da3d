// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// fork, exec and spawned children from a multi-threaded parent
// (tests/programs_test.sh). Four threads allocate and free without pause
// while the main thread:
//
//   prog_fork threads   forks 16 children without exec; child i allocates,
//                       frees, leaks 1000 x 1000 bytes in ChildLeak and
//                       exit()s with status i % 5
//   prog_fork exec      forks a child that execs /bin/echo, and one that
//                       execs this program as "exec-child" (which leaks
//                       3000 x 1000 bytes in ExecLeak)
//   prog_fork spawn     posix_spawn of /bin/echo, system() with status 3,
//                       popen() read back
//
// The parent leaks 2000 x 1000 bytes in ParentLeak first. Output and exit
// status (0) are deterministic: each child is waited for before the next
// line is printed.

#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

void* volatile g_sink;
std::atomic<bool> g_stop{false};

}  // namespace

// Each leaking function allocates itself, so it is the leaf of its stacks.
__attribute__((noinline)) void ParentLeak(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[1000];
    std::memset(p, 1, 1000);
    g_sink = p;
  }
}
__attribute__((noinline)) void ChildLeak(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[1000];
    std::memset(p, 2, 1000);
    g_sink = p;
  }
}
__attribute__((noinline)) void ExecLeak(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[1000];
    std::memset(p, 3, 1000);
    g_sink = p;
  }
}

namespace {

// Allocates and frees until told to stop: some thread is inside malloc
// (and, under the sampler, inside a sample) whenever the main thread forks.
void Churn(unsigned seed) {
  std::vector<void*> held(64, nullptr);
  while (!g_stop.load(std::memory_order_relaxed)) {
    seed = seed * 1103515245u + 12345u;
    std::size_t slot = (seed >> 8) % held.size();
    std::free(held[slot]);
    held[slot] = std::malloc(16 + (seed >> 16) % 4096);
  }
  for (void* p : held) std::free(p);
}

int Wait(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ChildWork() {
  std::vector<std::string> v;
  for (int i = 0; i < 1000; ++i) v.emplace_back(100 + i % 200, 'c');
  v.clear();
}

int ForkThreads() {
  for (int i = 0; i < 16; ++i) {
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      ChildWork();
      ChildLeak(1000);
      std::exit(i % 5);
    }
    std::printf("fork child %d: status %d\n", i, Wait(pid));
  }
  return 0;
}

int ForkExec(const char* self) {
  std::fflush(stdout);
  pid_t echo = fork();
  if (echo < 0) return 1;
  if (echo == 0) {
    execl("/bin/echo", "echo", "echo from an exec'd child",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::printf("echo child: status %d\n", Wait(echo));
  std::fflush(stdout);
  pid_t again = fork();
  if (again < 0) return 1;
  if (again == 0) {
    execl(self, self, "exec-child", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::printf("exec child: status %d\n", Wait(again));
  return 0;
}

int Spawn() {
  std::fflush(stdout);
  pid_t pid = 0;
  char arg0[] = "echo", arg1[] = "posix_spawned";
  char* argv[] = {arg0, arg1, nullptr};
  if (posix_spawn(&pid, "/bin/echo", nullptr, nullptr, argv, environ) != 0)
    return 1;
  std::printf("posix_spawn: status %d\n", Wait(pid));
  std::fflush(stdout);
  int s = std::system("echo from system; exit 3");
  std::printf("system: status %d\n", WIFEXITED(s) ? WEXITSTATUS(s) : -1);
  FILE* f = popen("echo read through popen", "r");
  if (f == nullptr) return 1;
  char line[128] = {};
  if (std::fgets(line, sizeof(line), f) == nullptr) line[0] = '\0';
  int ps = pclose(f);
  std::printf("popen: %s", line);
  std::printf("pclose: status %d\n", WIFEXITED(ps) ? WEXITSTATUS(ps) : -1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "exec-child") {
    ExecLeak(3000);
    std::printf("exec-child: leaked 3000 x 1000 bytes\n");
    return 0;
  }
  if (mode != "threads" && mode != "exec" && mode != "spawn") {
    std::fprintf(stderr, "usage: prog_fork threads|exec|spawn\n");
    return 2;
  }
  ParentLeak(2000);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < 4; ++i) threads.emplace_back(Churn, i + 1);
  int rc = mode == "threads" ? ForkThreads()
           : mode == "exec"  ? ForkExec("/proc/self/exe")
                             : Spawn();
  g_stop = true;
  for (std::thread& t : threads) t.join();
  std::printf("%s: done\n", mode.c_str());
  return rc;
}
