// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Signal dispositions as the program sees them (tests/programs_test.sh):
//
//   prog_sigdisp query|handler|default
//
// memmon's sampler puts its raw-dump handler on the fatal signals that are
// at their default; the program must still see, and be able to set, the
// default there. Prints the disposition of a few signals (sigaction) and
// what signal() returns, then:
//   query    returns 0;
//   handler  installs its own SIGTERM handler with signal() and raises it:
//            the handler prints and _exits 7;
//   default  sets SIGSEGV to SIG_DFL with sigaction and raises it: killed
//            by SIGSEGV (memmon's dump still runs first).
// Leak: DispLeak 2000 x 1000 bytes.

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* volatile keep[2000];

__attribute__((noinline)) static void DispLeak(void) {
  for (int i = 0; i < 2000; ++i) keep[i] = malloc(1000);
}

static void OnTerm(int sig) {
  (void)sig;
  static const char kMessage[] = "handler: SIGTERM\n";
  (void)!write(1, kMessage, sizeof(kMessage) - 1);
  _exit(7);
}

static const char* Name(void (*h)(int)) {
  return h == SIG_DFL ? "default" : h == SIG_IGN ? "ignore" : "a handler";
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "query";
  setvbuf(stdout, NULL, _IONBF, 0);
  DispLeak();
  static const int kSignals[] = {SIGTERM, SIGSEGV, SIGABRT, SIGINT,
                                 SIGPIPE, SIGHUP,  SIGUSR1};
  for (size_t i = 0; i < sizeof(kSignals) / sizeof(kSignals[0]); ++i) {
    struct sigaction old;
    memset(&old, 0, sizeof(old));
    if (sigaction(kSignals[i], NULL, &old) != 0) return 2;
    printf("%s: %s%s\n", strsignal(kSignals[i]), Name(old.sa_handler),
           (old.sa_flags & SA_SIGINFO) ? " (siginfo)" : "");
  }
  printf("signal(SIGHUP, SIG_IGN) was %s\n", Name(signal(SIGHUP, SIG_IGN)));
  printf("signal(SIGHUP, SIG_DFL) was %s\n", Name(signal(SIGHUP, SIG_DFL)));
  printf("signal(SIGHUP, SIG_DFL) again was %s\n",
         Name(signal(SIGHUP, SIG_DFL)));
  if (strcmp(mode, "handler") == 0) {
    printf("signal(SIGTERM, handler) was %s\n", Name(signal(SIGTERM, OnTerm)));
    struct sigaction now;
    sigaction(SIGTERM, NULL, &now);
    printf("SIGTERM is now %s\n",
           now.sa_handler == OnTerm ? "ours" : Name(now.sa_handler));
    raise(SIGTERM);
    return 3;  // not reached
  }
  if (strcmp(mode, "default") == 0) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    struct sigaction old;
    if (sigaction(SIGSEGV, &dfl, &old) != 0) return 2;
    printf("SIGSEGV was %s; raising it\n", Name(old.sa_handler));
    raise(SIGSEGV);
    return 3;  // not reached
  }
  return 0;
}
