// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The profile written at exit in `memmon leaks`' series
// (tests/leaks_exit_profile_test.sh), under libmemmon_preload.so with
// MEMMON_SNAPSHOT_INTERVAL: the program grows SteadyGrowth by 4 MiB after
// each of the first STEPS periodic snapshots it sees appear in
// MEMMON_OUTPUT (it waits for the file, not for a time), then
//
//   exit_profile_target grow [STEPS=6]      allocates 32 MiB in LateGrowth
//                                           and exits at once: the growth
//                                           is in the exit profile alone
//                                           (unless a snapshot races it);
//   exit_profile_target teardown [STEPS=6]  frees everything and exits: the
//                                           exit profile is the teardown.
//
// Prints "exit_profile: MODE snapshots=N" (the snapshots seen) and exits 0;
// exits 2 when no snapshot appears within 60 s.

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// Numbered heap snapshots (heap.NNNN.pb.gz) in `dir`.
int Snapshots(const char* dir) {
  int n = 0;
  if (DIR* d = opendir(dir)) {
    while (dirent* e = readdir(d)) {
      const char* name = e->d_name;
      size_t len = strlen(name);
      n += strncmp(name, "heap.", 5) == 0 && len == 15 &&
           strcmp(name + 9, ".pb.gz") == 0 &&
           strspn(name + 5, "0123456789") == 4;
    }
    closedir(d);
  }
  return n;
}

// Polls the directory until it holds more than `seen` snapshots.
bool WaitForSnapshot(const char* dir, int seen) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Snapshots(dir) <= seen) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::vector<void*> g_kept;

__attribute__((noinline)) void SteadyGrowth() {
  for (int i = 0; i < 4; ++i) {
    void* p = std::malloc(1 << 20);
    std::memset(p, 1, 1 << 20);
    g_kept.push_back(p);
  }
}

__attribute__((noinline)) void LateGrowth() {
  for (int i = 0; i < 32; ++i) {
    void* p = std::malloc(1 << 20);
    std::memset(p, 2, 1 << 20);
    g_kept.push_back(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const int steps = argc > 2 ? std::atoi(argv[2]) : 6;
  const char* dir = std::getenv("MEMMON_OUTPUT");
  if ((mode != "grow" && mode != "teardown") || dir == nullptr || steps < 1) {
    std::fprintf(stderr,
                 "usage: MEMMON_OUTPUT=DIR exit_profile_target "
                 "grow|teardown [STEPS]\n");
    return 2;
  }
  g_kept.reserve(1024);
  int seen = 0;
  for (int step = 0; step < steps; ++step) {
    if (!WaitForSnapshot(dir, seen)) {
      std::fprintf(stderr, "exit_profile: no snapshot in %s\n", dir);
      return 2;
    }
    seen = Snapshots(dir);
    SteadyGrowth();
  }
  // One more snapshot holds the last step's growth.
  if (!WaitForSnapshot(dir, seen)) return 2;
  seen = Snapshots(dir);
  if (mode == "grow") {
    LateGrowth();
  } else {
    for (void* p : g_kept) std::free(p);
    g_kept.clear();
  }
  std::printf("exit_profile: %s snapshots=%d\n", mode.c_str(), seen);
  return 0;
}
