// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Every way out of a program, after keeping 4 MiB live in KeptAtEnd
// (tests/failures_test.sh): each must leave a heap profile naming it, with
// the same output and exit status as without memmon.
//
//   exit_paths_target HOW
//
// HOW: return (status 3), exit (4), _exit (5), _Exit (6), abort (SIGABRT),
// segv (a null store: SIGSEGV), term (raise(SIGTERM)), handler (a SIGTERM
// handler of the program's, which ends by _exit(7)).
// Prints "exit_paths: HOW" (flushed) first.

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* volatile g_sink;
static int* volatile g_null;

__attribute__((noinline)) static void KeptAtEnd(void) {
  for (int i = 0; i < 64; ++i) {
    char* p = malloc(64 * 1024);
    memset(p, 1, 64 * 1024);
    g_sink = p;
  }
}

static void OnTerm(int sig) {
  (void)sig;
  _exit(7);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* how = argv[1];
  KeptAtEnd();
  printf("exit_paths: %s\n", how);
  fflush(stdout);
  if (strcmp(how, "return") == 0) return 3;
  if (strcmp(how, "exit") == 0) exit(4);
  if (strcmp(how, "_exit") == 0) _exit(5);
  if (strcmp(how, "_Exit") == 0) _Exit(6);
  if (strcmp(how, "abort") == 0) abort();
  if (strcmp(how, "segv") == 0) *g_null = 1;
  if (strcmp(how, "term") == 0) raise(SIGTERM);
  if (strcmp(how, "handler") == 0) {
    signal(SIGTERM, OnTerm);
    raise(SIGTERM);
  }
  return 2;
}
