// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Every way out of a program (tests/programs_test.sh):
//
//   prog_exit MODE     MODE: return exit _exit _Exit abort segv sigterm exec
//
// Leaks 2000 x 1000 bytes in ExitLeak, prints "leaving by MODE" (flushed:
// _exit and a signal would lose buffered output), then leaves that way:
// status 3 for return/exit/_exit/_Exit, SIGABRT, SIGSEGV (a write through
// a null pointer), SIGTERM (raised, default action), or exec of /bin/true
// (status 0).

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* volatile g_sink;
static int* volatile g_null;

__attribute__((noinline)) void ExitLeak(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = malloc(1000);
    memset(p, 1, 1000);
    g_sink = p;
  }
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  static const char* const kModes[] = {"return", "exit", "_exit",   "_Exit",
                                       "abort",  "segv", "sigterm", "exec"};
  int known = 0;
  for (size_t i = 0; i < sizeof(kModes) / sizeof(kModes[0]); ++i)
    known |= strcmp(mode, kModes[i]) == 0;
  if (!known) {
    fprintf(stderr,
            "usage: prog_exit return|exit|_exit|_Exit|abort|segv|"
            "sigterm|exec\n");
    return 2;
  }
  ExitLeak(2000);
  printf("leaving by %s\n", mode);
  fflush(stdout);
  if (strcmp(mode, "exit") == 0) exit(3);
  if (strcmp(mode, "_exit") == 0) _exit(3);
  if (strcmp(mode, "_Exit") == 0) _Exit(3);
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "segv") == 0) *g_null = 1;
  if (strcmp(mode, "sigterm") == 0) raise(SIGTERM);
  if (strcmp(mode, "exec") == 0) {
    execl("/bin/true", "true", (char*)NULL);
    return 127;
  }
  return 3;
}
