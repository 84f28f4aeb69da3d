// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A program whose memory has one known part, for the RSS breakdown's end-to-
// end test (tests/explain_test.sh):
//
//   explain_target READY mmap MIB             MIB of anonymous memory, touched
//   explain_target READY threads N MIB TOUCH  N threads with MIB-byte stacks,
//                                             each touching TOUCH KiB of it
//   explain_target READY fragment N SIZE      N blocks of SIZE bytes, every
//                                             other one freed
//   explain_target READY file PATH            PATH mapped and read through
//
// When its part is in place it writes one line to READY (a FIFO the test
// reads: "ready PID ADDRESS"), then, with MEMMON_EXPLAIN_SELF=FILE, the
// breakdown MemoryMonitor::Explain() reads from inside (the heap sampler's
// exact counters when preloaded) as JSON into FILE; then waits for its
// standard input to close and exits 0.

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "memmon/explain.h"
#include "memmon/monitor.h"

namespace {

// The mmap mode's mapping, made here so that the heap sampler (which sees
// the program's mmap calls) names it by this function. The result is
// used here, so the call to mmap is not a tail call that leaves no frame.
__attribute__((noinline)) void* MapAnonymousForExplain(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) std::memset(p, 1, bytes);
  return p;
}

int Usage() {
  std::fputs(
      "usage: explain_target READY mmap MIB | threads N MIB TOUCH_KIB | "
      "fragment N SIZE | file PATH\n",
      stderr);
  return 2;
}

pthread_barrier_t g_ready;
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
bool g_stop = false;
std::size_t g_touch = 0;

// Touches g_touch bytes of this thread's stack, then waits for the end.
void* StackToucher(void*) {
  auto* area = static_cast<volatile char*>(alloca(g_touch));
  for (std::size_t i = 0; i < g_touch; i += 512) area[i] = 1;
  pthread_barrier_wait(&g_ready);
  pthread_mutex_lock(&g_mu);
  while (!g_stop) pthread_cond_wait(&g_cv, &g_mu);
  pthread_mutex_unlock(&g_mu);
  // Read after the wait, so the touched area stays part of the frame.
  return reinterpret_cast<void*>(static_cast<uintptr_t>(area[0]));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string mode = argv[2];
  uintptr_t address = 0;
  std::vector<pthread_t> threads;
  std::vector<void*> blocks;
  if (mode == "mmap" && argc == 4) {
    std::size_t bytes = std::strtoull(argv[3], nullptr, 10) << 20;
    void* p = MapAnonymousForExplain(bytes);
    if (p == MAP_FAILED) return 1;
    address = reinterpret_cast<uintptr_t>(p);
  } else if (mode == "threads" && argc == 6) {
    std::size_t n = std::strtoull(argv[3], nullptr, 10);
    std::size_t stack = std::strtoull(argv[4], nullptr, 10) << 20;
    g_touch = std::strtoull(argv[5], nullptr, 10) << 10;
    pthread_barrier_init(&g_ready, nullptr, static_cast<unsigned>(n + 1));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    threads.resize(n);
    for (pthread_t& t : threads) {
      if (pthread_create(&t, &attr, StackToucher, nullptr) != 0) return 1;
    }
    pthread_barrier_wait(&g_ready);
  } else if (mode == "fragment" && argc == 5) {
    std::size_t n = std::strtoull(argv[3], nullptr, 10);
    std::size_t size = std::strtoull(argv[4], nullptr, 10);
    blocks.resize(n);
    for (void*& b : blocks) {
      b = std::malloc(size);
      std::memset(b, 1, size);
    }
    // Every other block freed: the holes cannot merge, glibc keeps them.
    for (std::size_t i = 0; i < n; i += 2) {
      std::free(blocks[i]);
      blocks[i] = nullptr;
    }
  } else if (mode == "file" && argc == 4) {
    int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return 1;
    auto size = static_cast<std::size_t>(st.st_size);
    void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return 1;
    volatile unsigned sum = 0;
    for (std::size_t i = 0; i < size; i += 4096) {
      sum = sum + static_cast<const unsigned char*>(p)[i];
    }
    address = reinterpret_cast<uintptr_t>(p);
  } else {
    return Usage();
  }

  if (const char* self = std::getenv("MEMMON_EXPLAIN_SELF")) {
    memmon::MemoryMonitor monitor;
    memmon::MemoryBreakdown b;
    if (memmon::Status s = monitor.Explain(&b); !s.ok()) {
      std::fprintf(stderr, "explain_target: %s\n", s.message().c_str());
      return 1;
    }
    std::ofstream(self) << memmon::ToJson(b) << "\n";
  }
  FILE* ready = std::fopen(argv[1], "w");
  if (ready == nullptr) return 1;
  std::fprintf(ready, "ready %d %#lx\n", static_cast<int>(getpid()),
               static_cast<unsigned long>(address));
  std::fclose(ready);

  char c;
  while (read(STDIN_FILENO, &c, 1) > 0) {
  }
  pthread_mutex_lock(&g_mu);
  g_stop = true;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  for (pthread_t t : threads) pthread_join(t, nullptr);
  for (void* b : blocks) std::free(b);
  return 0;
}
