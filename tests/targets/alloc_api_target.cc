// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Every allocation entry point, each from its own function, under
// libmemmon_preload.so with MEMMON_SAMPLE_RATE=1 (tests/profiler_e2e_test.cc):
// each UseX function keeps kCount blocks of kSize bytes (requested) live,
// so the profile must show exactly kCount objects, kCount * kSize bytes at
// each. Also checks that errno survives malloc and free, that failures
// report ENOMEM/EINVAL as the allocator would, and that realloc keeps data.
// At rate 1 every block is sampled, so under glibc every small block is a
// wrapped one (hooks.cc, kBigChunk): alignment, zeroing, realloc in both
// directions, realloc(p, 0) and the live count after frees are checked on
// those and on big blocks.
// Prints "errno_ok=1 failures_ok=1 data_ok=1 align_ok=1 zero_ok=1 live_ok=1".

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cstdint>
#include <new>
#include <vector>

#include "memmon/memmon_preload.h"

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

bool Aligned(const void* p, std::size_t align) {
  return reinterpret_cast<uintptr_t>(p) % align == 0;
}

// The sampler's live-sample count (0 when not preloaded).
uint64_t LiveSamples() {
  auto fn = reinterpret_cast<memmon_preload_counters_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_COUNTERS_SYMBOL));
  if (fn == nullptr) return 0;
  memmon_preload_counters c{};
  fn(&c, sizeof(c));
  return c.live_samples;
}

// Fills, reallocates up and down (small and big), and checks the bytes kept.
bool ReallocKeepsData() {
  bool ok = true;
  for (std::size_t from : {24, 4000, 300000}) {
    for (std::size_t to : {8, 100, 5000, 400000}) {
      auto* p = static_cast<unsigned char*>(malloc(from));
      for (std::size_t i = 0; i < from; ++i)
        p[i] = static_cast<unsigned char>(i * 7);
      p = static_cast<unsigned char*>(realloc(p, to));
      if (p == nullptr) return false;
      for (std::size_t i = 0; i < (from < to ? from : to); ++i)
        if (p[i] != static_cast<unsigned char>(i * 7)) ok = false;
      if (malloc_usable_size(p) < to) ok = false;
      memset(p, 1, to);
      free(p);
    }
  }
  void* z = malloc(40);
  if (realloc(z, 0) != nullptr) ok = false;  // glibc frees and returns null
  return ok;
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
  // No power of two is that large: EINVAL, as glibc says (it used to hang).
  volatile std::size_t past_pow2 = SIZE_MAX / 2 + 2;
  errno = 0;
  if (memalign(past_pow2, 16) != nullptr || errno != EINVAL) failures_ok = 0;
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
  data_ok = data_ok && ReallocKeepsData();

  int align_ok = 1;
  for (int i = 0; i < kCount; ++i) {
    if (!Aligned(g_keep[4 * kCount + i], 64) ||
        !Aligned(g_keep[5 * kCount + i], 128) ||
        !Aligned(g_keep[6 * kCount + i], 4096) ||
        !Aligned(g_keep[7 * kCount + i], 4096) ||
        !Aligned(g_keep[11 * kCount + i], 256) ||
        !Aligned(g_keep[12 * kCount + i], 32) ||
        malloc_usable_size(g_keep[5 * kCount + i]) < kSize) {
      align_ok = 0;
    }
  }

  // calloc zeroes a block just freed full of ones, small or big.
  int zero_ok = 1;
  for (std::size_t size : {48, 1000, 500000}) {
    void* dirty = malloc(size);
    memset(dirty, 0xff, size);
    free(dirty);
    auto* c = static_cast<unsigned char*>(calloc(1, size));
    for (std::size_t i = 0; i < size; ++i)
      if (c[i] != 0) zero_ok = 0;
    free(c);
  }

  // Every block freed leaves the live set: small (wrapped), big, aligned,
  // from calloc and realloc.
  std::vector<void*> batch;
  batch.reserve(300);
  const uint64_t live_before = LiveSamples();
  for (int i = 0; i < 50; ++i) {
    batch.push_back(malloc(100));
    batch.push_back(malloc(300000));
    batch.push_back(calloc(10, 10));
    batch.push_back(aligned_alloc(64, 640));
    batch.push_back(realloc(malloc(10), 2000));
    batch.push_back(new char[70]);
  }
  const uint64_t live_during = LiveSamples();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i % 6 == 5) {
      delete[] static_cast<char*>(batch[i]);
    } else {
      free(batch[i]);
    }
  }
  const uint64_t live_after = LiveSamples();
  int live_ok =
      live_during >= live_before + batch.size() && live_after == live_before;
  printf(
      "errno_ok=%d failures_ok=%d data_ok=%d align_ok=%d zero_ok=%d "
      "live_ok=%d usable=%zu live=%llu/%llu/%llu\n",
      errno_ok, failures_ok, data_ok, align_ok, zero_ok, live_ok, usable,
      static_cast<unsigned long long>(live_before),
      static_cast<unsigned long long>(live_during),
      static_cast<unsigned long long>(live_after));
  return 0;
}
