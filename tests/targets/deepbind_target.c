// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Memory crossing into and out of a library loaded with RTLD_DEEPBIND
// (tests/failures_test.sh): the library's malloc, realloc and free are the
// C library's own, whatever allocator the program has been given. Every
// block the program allocates is freed (or resized) by the library, and
// every block the library allocates is freed by the program; at any
// sampling rate some of them are sampled.
//
//   deepbind_target LIBRARY [rounds]
//
// LIBRARY may be a bare name found along the program's RUNPATH ($ORIGIN):
// memmon's dlopen must look it up as the loader does for the program. It is
// opened once without RTLD_DEEPBIND first (a plain dlopen must keep its
// caller too).
// Prints "deepbind: ok N" and exits 0.

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kBlocks = 1000 };

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int rounds = argc > 2 ? atoi(argv[2]) : 20;
  void* plain = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL);
  if (plain == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  dlclose(plain);
  void* h = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL | RTLD_DEEPBIND);
  if (h == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  void (*lib_free)(void**, int) =
      (void (*)(void**, int))dlsym(h, "DeepbindFree");
  void (*lib_alloc)(void**, int, size_t) =
      (void (*)(void**, int, size_t))dlsym(h, "DeepbindAlloc");
  void (*lib_realloc)(void**, int, size_t) =
      (void (*)(void**, int, size_t))dlsym(h, "DeepbindRealloc");
  if (!lib_free || !lib_alloc || !lib_realloc) return 1;
  static void* blocks[kBlocks];
  long crossed = 0;
  for (int r = 0; r < rounds; ++r) {
    // Program allocates (small, large, aligned, zeroed), library frees.
    for (int i = 0; i < kBlocks; ++i) {
      size_t size = (size_t)(16 + (i * 37) % 4000);
      switch (i % 4) {
        case 0:
          blocks[i] = malloc(size);
          break;
        case 1:
          blocks[i] = calloc(1, size);
          break;
        case 2:
          blocks[i] = aligned_alloc(64, (size + 63) & ~(size_t)63);
          break;
        default:
          blocks[i] = malloc(size * 100);
          break;
      }
      memset(blocks[i], 1, size);
    }
    lib_free(blocks, kBlocks);
    // Program allocates, library resizes, program frees.
    for (int i = 0; i < kBlocks; ++i) blocks[i] = malloc(64 + i);
    lib_realloc(blocks, kBlocks, 3000);
    for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
    // Library allocates, program resizes and frees.
    lib_alloc(blocks, kBlocks, 200);
    for (int i = 0; i < kBlocks; i += 2) blocks[i] = realloc(blocks[i], 5000);
    for (int i = 0; i < kBlocks; ++i) free(blocks[i]);
    crossed += 4 * kBlocks;
  }
  dlclose(h);
  printf("deepbind: ok %ld\n", crossed);
  return 0;
}
