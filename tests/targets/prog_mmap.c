// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// An mmap-heavy program (tests/programs_test.sh): 200 anonymous mappings
// of 4 MiB, touched page by page in their first MiB and unmapped (8 kept),
// and allocations above glibc's mmap threshold (128 KiB), which glibc
// serves with their own mappings:
//
//   BigLeak      40 x malloc(1 MiB), kept
//   CallocLeak   10 x calloc(1, 3 MiB), kept
//   ReallocGrow  one block grown by realloc from 300 KiB to 9600 KiB
//                (mremap), kept
//   BigChurn     200 x malloc(2 MiB) + free
//
// Prints what it did, exits 0. Live at exit: 41943040 + 31457280 + 9830400
// bytes at those three sites.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void* volatile g_sink;
// volatile: stores the compiler must keep, so the blocks are not elided.
static void* volatile g_kept[64];
static int g_kept_n;

__attribute__((noinline)) void BigLeak(int n) {
  for (int i = 0; i < n; ++i) {
    char* p = malloc(1 << 20);
    memset(p, 1, 4096);
    g_kept[g_kept_n++] = p;
  }
}

__attribute__((noinline)) void CallocLeak(int n) {
  for (int i = 0; i < n; ++i) {
    char* p = calloc(1, 3 << 20);
    p[12345] = 1;
    g_kept[g_kept_n++] = p;
  }
}

__attribute__((noinline)) void ReallocGrow(void) {
  size_t size = 300 << 10;
  char* p = malloc(size);
  memset(p, 2, size);
  while (size < (9600u << 10)) {
    size *= 2;
    p = realloc(p, size);
    p[size - 1] = 3;
  }
  g_kept[g_kept_n++] = p;
}

__attribute__((noinline)) void BigChurn(int n) {
  for (int i = 0; i < n; ++i) {
    char* p = malloc(2 << 20);
    p[i] = 1;
    g_sink = p;
    free(p);
  }
}

int main(void) {
  void* mapped[8];
  long touched = 0;
  for (int i = 0; i < 200; ++i) {
    char* m = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    for (size_t off = 0; off < (1 << 20); off += 4096, ++touched) m[off] = 1;
    if (i % 25 == 0) {
      mapped[i / 25] = m;
    } else if (munmap(m, 4 << 20) != 0) {
      return 1;
    }
  }
  BigLeak(40);
  CallocLeak(10);
  ReallocGrow();
  BigChurn(200);
  int unmapped = 0;
  for (int i = 0; i < 8; ++i) unmapped += munmap(mapped[i], 4 << 20) == 0;
  printf("mmap: 200 mappings, %ld pages touched, %d kept and unmapped\n",
         touched, unmapped);
  printf("malloc: %d blocks kept above the mmap threshold\n", g_kept_n);
  return 0;
}
