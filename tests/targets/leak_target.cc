// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Leaks in one known function, through the allocation API named on the
// command line, while other functions churn and hold memory; run under
// libmemmon_preload.so by tests/profiler_e2e_test.cc.
//
//   leak_target new|strdup|posix_memalign [count] [size]
//
// Prints "leaked_bytes=N retained_bytes=M" (the truth the profile's
// estimate is checked against). Built -O2 -g, frame pointers omitted, so
// stacks must be unwound through DWARF CFI.

#include <stdlib.h>
#include <string.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void* volatile g_sink;
std::vector<void*> g_retained;

__attribute__((noinline)) void LeakWithNew(int count, std::size_t size) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[size];
    memset(p, 1, size);
    g_sink = p;
  }
}

__attribute__((noinline)) void LeakWithStrdup(int count, std::size_t size) {
  std::string text(size - 1, 'x');
  for (int i = 0; i < count; ++i) g_sink = strdup(text.c_str());
}

__attribute__((noinline)) void LeakWithPosixMemalign(int count,
                                                     std::size_t size) {
  for (int i = 0; i < count; ++i) {
    void* p = nullptr;
    if (posix_memalign(&p, 64, size) != 0) std::abort();
    memset(p, 2, size);
    g_sink = p;
  }
}

// Allocates and frees a lot: must not show up as in use.
__attribute__((noinline)) void Churn(int rounds) {
  for (int i = 0; i < rounds; ++i) {
    std::size_t n = 16 + static_cast<std::size_t>((i * 7919) % 4000);
    void* p = malloc(n);
    memset(p, 3, n);
    g_sink = p;
    free(p);
  }
}

// Holds a smaller amount for the whole run (a "cache").
__attribute__((noinline)) void Retain(int count, std::size_t size) {
  for (int i = 0; i < count; ++i) g_retained.push_back(malloc(size));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: leak_target new|strdup|posix_memalign [count] [size]\n");
    return 2;
  }
  std::string how = argv[1];
  int count = argc > 2 ? std::atoi(argv[2]) : 20000;
  std::size_t size = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 1000;
  g_retained.reserve(4096);
  Retain(2000, 1024);
  Churn(200000);
  if (how == "new") {
    LeakWithNew(count, size);
  } else if (how == "strdup") {
    LeakWithStrdup(count, size);
  } else if (how == "posix_memalign") {
    LeakWithPosixMemalign(count, size);
  } else {
    std::fprintf(stderr, "unknown mode %s\n", how.c_str());
    return 2;
  }
  Churn(200000);
  std::printf("leaked_bytes=%zu retained_bytes=%zu\n",
              static_cast<std::size_t>(count) * size,
              static_cast<std::size_t>(2000) * 1024);
  return 0;
}
