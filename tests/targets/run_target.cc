// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A program for `memmon run`'s tests (tests/cli_run_test.sh):
//
//   run_target leak SECONDS     leaks 64 KiB per 2 ms in LeakSessions() for
//                               SECONDS, beside a bounded cache and freed
//                               scratch; then exits 0 (without freeing)
//   run_target crash SECONDS    the same, then abort()s
//   run_target exit CODE        exits with CODE at once
//   run_target wait FILE        writes "ready" to FILE, then waits for
//                               SIGTERM and exits 42 from its handler
//   run_target echo             copies stdin to stdout, "to stderr" to stderr
//
// Built -O2 -g without frame pointers, like a service.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<char*> g_sessions;  // never freed: the leak
volatile sig_atomic_t g_term = 0;

__attribute__((noinline)) void LeakSessions() {
  char* p = static_cast<char*>(std::malloc(64 << 10));
  std::memset(p, 7, 64 << 10);
  g_sessions.push_back(p);
}

__attribute__((noinline)) void FillCache(std::deque<std::string>* cache) {
  cache->emplace_back(16 << 10, 'c');
  if (cache->size() > 64) cache->pop_front();  // at most 1 MiB
}

void Work(double seconds) {
  std::deque<std::string> cache;
  auto end =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    std::vector<char> scratch(256 << 10, 's');  // freed each round
    FillCache(&cache);
    LeakSessions();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the work
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "leak" || mode == "crash") {
    Work(argc > 2 ? std::atof(argv[2]) : 2.0);
    if (mode == "crash") std::abort();
    std::exit(0);  // the leaked blocks are still held at exit
  }
  if (mode == "exit") return argc > 2 ? std::atoi(argv[2]) : 0;
  if (mode == "wait" && argc > 2) {
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_term = 1; };
    sigaction(SIGTERM, &sa, nullptr);
    sigset_t none, term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &none);
    if (FILE* f = std::fopen(argv[2], "w")) {
      std::fputs("ready\n", f);
      std::fclose(f);
    }
    sigdelset(&none, SIGTERM);
    while (!g_term) sigsuspend(&none);  // returns when the handler ran
    std::puts("got SIGTERM");
    return 42;
  }
  if (mode == "echo") {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0)
      std::fwrite(buf, 1, n, stdout);
    std::fputs("to stderr\n", stderr);
    return 0;
  }
  std::fprintf(
      stderr,
      "usage: run_target leak|crash SECONDS | exit CODE | wait FILE | echo\n");
  return 2;
}
