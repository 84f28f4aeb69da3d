// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// An allocation-heavy two-thread workload for whole-program overhead
// (bench/overhead.sh runs it natively, under memmon and under heaptrack):
// each thread keeps a working set of 20000 blocks (16 B - 4 KiB, a few
// 64 KiB) and replaces a random one `ops` times, touching each new block,
// with std::string and std::vector churn in between.
//
//   alloc_workload [ops_per_thread]

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::size_t Work(long ops, uint32_t seed) {
  std::vector<char*> slots(20000, nullptr);
  std::size_t checksum = 0;
  uint32_t x = seed;
  for (long i = 0; i < ops; ++i) {
    x = x * 1664525u + 1013904223u;
    std::size_t slot = (x >> 8) % slots.size();
    delete[] slots[slot];
    std::size_t size = 16 + ((x >> 16) & 4095);
    if ((x & 1023) == 0) size = 64 << 10;
    slots[slot] = new char[size];
    slots[slot][0] = static_cast<char>(i);
    checksum += static_cast<unsigned char>(slots[(x >> 4) % slots.size()] ?
                                           slots[(x >> 4) % slots.size()][0] : 0);
    if ((i & 7) == 0) {
      std::string s(24 + (x & 63), 'x');
      std::vector<int> v(8 + (x & 31));
      checksum += s.size() + v.size();
    }
  }
  for (char* p : slots) delete[] p;
  return checksum;
}

}  // namespace

int main(int argc, char** argv) {
  long ops = argc > 1 ? std::atol(argv[1]) : 5000000;
  std::size_t a = 0, b = 0;
  std::thread t1([&] { a = Work(ops, 1); });
  std::thread t2([&] { b = Work(ops, 2); });
  t1.join();
  t2.join();
  std::printf("checksum=%zu\n", a + b);
  return 0;
}
