// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Every allocation entry point, each from its own function, under
// libmemmon_preload.so with MEMMON_SAMPLE_RATE=1 (tests/profiler_e2e_test.cc):
// each UseX function keeps kCount blocks of kSize bytes (requested) live,
// so the profile must show exactly kCount objects, kCount * kSize bytes at
// each. Also checks that errno survives malloc and free, that failures
// report ENOMEM/EINVAL as the allocator would, and that realloc keeps data.
// Prints "errno_ok=1 failures_ok=1 data_ok=1".

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cstdint>
#include <new>
#include <vector>

namespace {

constexpr int kCount = 100;
constexpr std::size_t kSize = 256;
std::vector<void*> g_keep;

#define MEMMON_USE(name, expr)                               \
  __attribute__((noinline)) void name() {                    \
    for (int i = 0; i < kCount; ++i) g_keep.push_back(expr); \
  }

MEMMON_USE(UseMalloc, malloc(kSize))
MEMMON_USE(UseCalloc, calloc(kSize / 8, 8))
MEMMON_USE(UseRealloc, realloc(malloc(16), kSize))
MEMMON_USE(UseReallocarray, reallocarray(nullptr, kSize / 4, 4))
MEMMON_USE(UseMemalign, memalign(64, kSize))
MEMMON_USE(UseAlignedAlloc, aligned_alloc(128, kSize))
MEMMON_USE(UseValloc, valloc(kSize))
MEMMON_USE(UsePvalloc, pvalloc(kSize))  // rounded up to a page
MEMMON_USE(UseNew, ::operator new(kSize))
MEMMON_USE(UseNewArray, ::operator new[](kSize))
MEMMON_USE(UseNewNothrow, ::operator new(kSize, std::nothrow))
MEMMON_USE(UseNewAligned, ::operator new (kSize, std::align_val_t{256}))

__attribute__((noinline)) void UsePosixMemalign() {
  for (int i = 0; i < kCount; ++i) {
    void* p = nullptr;
    if (posix_memalign(&p, 32, kSize) != 0) abort();
    g_keep.push_back(p);
  }
}

}  // namespace

int main() {
  g_keep.reserve(16 * kCount);
  UseMalloc();
  UseCalloc();
  UseRealloc();
  UseReallocarray();
  UseMemalign();
  UseAlignedAlloc();
  UseValloc();
  UsePvalloc();
  UseNew();
  UseNewArray();
  UseNewNothrow();
  UseNewAligned();
  UsePosixMemalign();

  errno = 1234;
  void* p = malloc(100);
  free(p);
  free(nullptr);
  int errno_ok = errno == 1234;

  int failures_ok = 1;
  volatile std::size_t huge = SIZE_MAX / 2;  // hidden from the compiler
  volatile std::size_t quarter = SIZE_MAX / 4, three = 3;
  errno = 0;
  if (malloc(huge) != nullptr || errno != ENOMEM) failures_ok = 0;
  errno = 0;
  if (calloc(quarter, 8) != nullptr || errno != ENOMEM) failures_ok = 0;
  void* q = nullptr;
  if (posix_memalign(&q, three, 16) != EINVAL) failures_ok = 0;
  if (::operator new(huge, std::nothrow) != nullptr) failures_ok = 0;
  try {
    g_keep.push_back(::operator new(huge));
    failures_ok = 0;
  } catch (const std::bad_alloc&) {
  }

  char* r = static_cast<char*>(malloc(8));
  memcpy(r, "memmon!", 8);
  r = static_cast<char*>(realloc(r, 1 << 20));
  int data_ok = r != nullptr && memcmp(r, "memmon!", 8) == 0;
  free(r);
  // malloc_usable_size is the allocator's answer (glibc: 264 for 256),
  // never memmon's chunk size (272), and the whole of it is writable.
  std::size_t usable = malloc_usable_size(g_keep[0]);
  memset(g_keep[0], 9, usable);
  printf("errno_ok=%d failures_ok=%d data_ok=%d usable=%zu\n", errno_ok,
         failures_ok, data_ok, usable);
  return 0;
}
