// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The sampler's mmap hooks end to end (tests/mmap_profile_test.sh), run
// under LD_PRELOAD=libmemmon_preload.so:
//
//   mmap_target check PROFILE   runs the scenarios below, reading the
//                               recorded mappings back through
//                               memmon_preload_mmap_sites after each step;
//                               exits 1 with the failed check on stderr;
//                               writes the mmap profile to PROFILE while
//                               one 8 MiB mapping of MapForTest is live
//   mmap_target off             MEMMON_MMAP_MIN=0: nothing is recorded
//
// The scenarios: an 8 MiB anonymous mapping is recorded, named by the
// function that called mmap, at its address; a 64 MiB malloc (glibc maps
// it, through its internal mmap) and a 64 KiB mapping (below
// MEMMON_MMAP_MIN) are not; a 1 MiB munmap of its head moves its start;
// of its tail shortens it; mremap moves it; munmap removes it.

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "memmon/memmon_preload.h"

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;
memmon_preload_mmap_sites_fn g_sites = nullptr;

[[noreturn]] void Fail(const char* what, const std::string& sites) {
  std::fprintf(stderr, "mmap_target: %s\nsites:\n%s", what, sites.c_str());
  std::exit(1);
}

std::string Sites() {
  static char buf[1 << 16];
  long n = g_sites(buf, sizeof(buf), 100);
  if (n < 0) Fail(buf, "");
  return std::string(buf, static_cast<std::size_t>(n));
}

// The line of the mapping at `p` ("" when none).
std::string LineAt(const std::string& sites, const void* p) {
  char key[40];
  std::snprintf(key, sizeof(key), "0x%" PRIxPTR "\t",
                reinterpret_cast<uintptr_t>(p));
  std::size_t at = 0;
  while (at < sites.size()) {
    std::size_t end = sites.find('\n', at);
    std::string line = sites.substr(at, end - at);
    if (line.rfind(key, 0) == 0) return line;
    at = end == std::string::npos ? sites.size() : end + 1;
  }
  return "";
}

void ExpectMapping(const void* p, std::size_t length, const char* function) {
  std::string sites = Sites();
  std::string line = LineAt(sites, p);
  char want[64];
  std::snprintf(want, sizeof(want), "\t%zu\t", length);
  if (line.empty()) Fail("a mapping is missing", sites);
  if (line.find(want) == std::string::npos) Fail("wrong length", sites);
  if (line.find(function) == std::string::npos) Fail("wrong site", sites);
}

int Lines(const std::string& sites) {
  int n = 0;
  for (char c : sites) n += c == '\n';
  return n;
}

__attribute__((noinline)) void* MapForTest(std::size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) Fail("mmap failed", "");
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  g_sites = reinterpret_cast<memmon_preload_mmap_sites_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_MMAP_SITES_SYMBOL));
  if (g_sites == nullptr) Fail("not under the sampler", "");
  if (argc == 2 && std::strcmp(argv[1], "off") == 0) {
    void* p = MapForTest(8 * kMiB);
    char buf[256];
    if (g_sites(buf, sizeof(buf), 10) >= 0) Fail("recorded while off", buf);
    std::printf("off: %s\n", buf);
    munmap(p, 8 * kMiB);
    return 0;
  }
  if (argc != 3 || std::strcmp(argv[1], "check") != 0) {
    std::fputs("usage: mmap_target check PROFILE | off\n", stderr);
    return 2;
  }
  const int before = Lines(Sites());

  // Recorded, at its address, named by its caller; the profile written.
  auto* p = static_cast<char*>(MapForTest(8 * kMiB));
  std::memset(p, 1, 8 * kMiB);
  ExpectMapping(p, 8 * kMiB, "MapForTest");
  char error[256];
  auto write = reinterpret_cast<memmon_preload_write_named_profile_fn>(
      dlsym(RTLD_DEFAULT, MEMMON_PRELOAD_WRITE_NAMED_PROFILE_SYMBOL));
  if (write == nullptr || write("mmap", argv[2], error, sizeof(error)) != 0) {
    Fail(error, "");
  }

  // Not recorded: a large malloc (glibc's internal mmap), a small mapping.
  void* big = std::malloc(64 * kMiB);
  void* small = MapForTest(64 * 1024);
  std::string sites = Sites();
  if (Lines(sites) != before + 1) Fail("more than one mapping recorded", sites);
  if (!LineAt(sites, small).empty()) Fail("a 64 KiB mapping recorded", sites);
  std::free(big);
  munmap(small, 64 * 1024);

  // The head unmapped: the start moves; the tail: the length shrinks.
  munmap(p, kMiB);
  ExpectMapping(p + kMiB, 7 * kMiB, "MapForTest");
  munmap(p + 7 * kMiB, kMiB);
  ExpectMapping(p + kMiB, 6 * kMiB, "MapForTest");

  // mremap: grown (and likely moved) to 16 MiB, the entry follows.
  auto* q =
      static_cast<char*>(mremap(p + kMiB, 6 * kMiB, 16 * kMiB, MREMAP_MAYMOVE));
  if (q == MAP_FAILED) Fail("mremap failed", "");
  ExpectMapping(q, 16 * kMiB, "MapForTest");
  if (q != p + kMiB && !LineAt(Sites(), p + kMiB).empty()) {
    Fail("the old address stayed after mremap moved it", Sites());
  }

  // A hole in the middle keeps the larger side (an approximation).
  munmap(q + 4 * kMiB, kMiB);
  ExpectMapping(q + 5 * kMiB, 11 * kMiB, "MapForTest");

  // Unmapped: gone.
  munmap(q, 16 * kMiB);
  sites = Sites();
  if (Lines(sites) != before) Fail("an unmapped mapping stayed", sites);
  std::printf("ok: %d mappings before, 1 recorded and removed\n", before);
  return 0;
}
