// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// fork and exec under libmemmon_preload.so (tests/profiler_e2e_test.cc).
// The parent leaks in ParentLeak, forks a child that leaks in ChildLeak and
// exits, and forks a second child that execs this program again with
// "exec-child", which leaks in ExecLeak. Prints "fork_child=PID
// exec_child=PID"; each process writes its own profile (docs/profiler.md).

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void* volatile g_sink;

// Each leaking function allocates itself, so it is the leaf of its stacks.
#define MEMMON_LEAK(count)            \
  for (int i = 0; i < (count); ++i) { \
    char* p = new char[1000];         \
    std::memset(p, 5, 1000);          \
    g_sink = p;                       \
  }
__attribute__((noinline)) void ParentLeak() { MEMMON_LEAK(4000) }
__attribute__((noinline)) void ChildLeak() { MEMMON_LEAK(6000) }
__attribute__((noinline)) void ExecLeak() { MEMMON_LEAK(8000) }

int Wait(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "exec-child") == 0) {
    ExecLeak();
    return 0;
  }
  ParentLeak();
  std::fflush(stdout);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    ChildLeak();
    std::exit(0);  // runs the preload's exit handler in the child
  }
  pid_t exec_child = fork();
  if (exec_child < 0) return 1;
  if (exec_child == 0) {
    execl("/proc/self/exe", argv[0], "exec-child", static_cast<char*>(nullptr));
    _exit(127);
  }
  int a = Wait(child), b = Wait(exec_child);
  std::printf("fork_child=%d exec_child=%d status=%d,%d\n", child, exec_child,
              a, b);
  return a == 0 && b == 0 ? 0 : 1;
}
