// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Allocation from a signal handler (tests/programs_test.sh):
//
//   prog_signal [altstack]
//
// A 1 ms SIGALRM timer; the handler allocates and frees a few blocks and
// leaks 1000 bytes in HandlerLeak, 300 times. malloc is not
// async-signal-safe, so the program makes it safe: SIGALRM is blocked
// except while the main thread waits in sigsuspend, never inside malloc.
// A worker thread (SIGALRM blocked) allocates and frees meanwhile. With
// "altstack" the handler runs on a sigaltstack. Prints the count, exits 0.
// Leak: HandlerLeak 300 x 1000 bytes.

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

enum { kSignals = 300 };

// volatile: stores the compiler must keep, so the blocks are not elided.
static void* volatile g_kept[kSignals];
static volatile sig_atomic_t g_handled;
static atomic_int g_stop;
static void* volatile g_sink;

__attribute__((noinline)) void HandlerLeak(int i) {
  char* p = malloc(1000);
  memset(p, 3, 1000);
  g_kept[i] = p;
}

static void OnAlarm(int sig) {
  (void)sig;
  if (g_handled >= kSignals) return;
  for (int i = 0; i < 8; ++i) {
    char* p = malloc(32 + (size_t)i * 100);
    p[0] = 1;
    g_sink = p;
    free(p);
  }
  HandlerLeak(g_handled);
  g_handled = g_handled + 1;
}

static void* Worker(void* arg) {
  (void)arg;
  unsigned seed = 7;
  void* held[32] = {0};
  while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
    seed = seed * 1103515245u + 12345u;
    unsigned slot = (seed >> 8) % 32;
    free(held[slot]);
    held[slot] = malloc(16 + (seed >> 16) % 2048);
  }
  for (int i = 0; i < 32; ++i) free(held[i]);
  return NULL;
}

int main(int argc, char** argv) {
  int altstack = argc > 1 && strcmp(argv[1], "altstack") == 0;
  sigset_t alarm_set, waiting;
  sigemptyset(&alarm_set);
  sigaddset(&alarm_set, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm_set, &waiting);  // the worker inherits it
  sigdelset(&waiting, SIGALRM);
  pthread_t worker;
  if (pthread_create(&worker, NULL, Worker, NULL) != 0) return 1;
  static char stack_memory[1 << 16];
  if (altstack) {
    stack_t ss = {.ss_sp = stack_memory, .ss_size = sizeof(stack_memory)};
    if (sigaltstack(&ss, NULL) != 0) return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnAlarm;
  sa.sa_flags = altstack ? SA_ONSTACK : 0;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) != 0) return 1;
  struct itimerval every_ms = {{0, 1000}, {0, 1000}};
  if (setitimer(ITIMER_REAL, &every_ms, NULL) != 0) return 1;
  while (g_handled < kSignals) sigsuspend(&waiting);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  atomic_store(&g_stop, 1);
  pthread_join(worker, NULL);
  printf("handled %d signals%s\n", (int)g_handled,
         altstack ? " on an alternate stack" : "");
  return 0;
}
