// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A statically linked program (built -static; tests/programs_test.sh). No
// dynamic loader runs, so LD_PRELOAD cannot load the heap sampler into it.
//
//   prog_static             allocates 2000 x 1000 bytes, prints, exits 5
//   prog_static wait        the same, but reads a line from stdin first
//   prog_static run PROG    the same, then forks and execs PROG (a
//                           dynamically linked program, which the sampler
//                           can follow) and waits for it

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void* volatile g_sink;

__attribute__((noinline)) void StaticLeak(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = malloc(1000);
    memset(p, 1, 1000);
    g_sink = p;
  }
}

int main(int argc, char** argv) {
  StaticLeak(2000);
  printf("static: leaked 2000 x 1000 bytes\n");
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    fflush(stdout);
    char line[64];
    if (fgets(line, sizeof(line), stdin) == NULL) return 1;
  }
  if (argc > 2 && strcmp(argv[1], "run") == 0) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      execv(argv[2], argv + 2);
      _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 1;
    printf("static: child status %d\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return 5;
}
