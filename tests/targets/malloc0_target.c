// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// malloc(0) under the sampler (tests/failures_test.sh): ZeroLeak keeps
// `count` blocks of malloc(0) and calloc(0, n) live
// at exit, OneByteLeak as many of malloc(1). At MEMMON_SAMPLE_RATE=1
// every one of them is in the heap profile: ZeroLeak with `count` objects
// in use and 0 bytes.
//
//   malloc0_target [count]
//
// Prints "malloc0: ok N" and exits 0.

#include <stdio.h>
#include <stdlib.h>

static void* volatile g_sink;

__attribute__((noinline)) static void** ZeroLeak(int count) {
  void** kept = malloc(sizeof(void*) * (size_t)count);
  for (int i = 0; i < count; ++i) {
    kept[i] = (i % 2) == 0 ? malloc(0) : calloc(0, 8);
    g_sink = kept[i];
  }
  return kept;
}

__attribute__((noinline)) static void** OneByteLeak(int count) {
  void** kept = malloc(sizeof(void*) * (size_t)count);
  for (int i = 0; i < count; ++i) kept[i] = malloc(1);
  return kept;
}

int main(int argc, char** argv) {
  int count = argc > 1 ? atoi(argv[1]) : 1000;
  void** zero = ZeroLeak(count);
  void** one = OneByteLeak(count);
  int distinct = zero[0] != zero[1] && one[0] != one[1];
  printf("malloc0: ok %d\n", distinct ? count : -1);
  return 0;
}
