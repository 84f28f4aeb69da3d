// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Memory freed on another thread than the one that allocated it
// (tests/programs_test.sh): two producers allocate 20000 blocks of 1000
// bytes each in Produce and queue them; two consumers free them, except
// every 20th (by sequence number), which they keep. Prints the counts and
// exits 0. Live at exit: Produce 2000 x 1000 bytes; a sampler that missed
// the cross-thread frees would show 40000 x 1000.

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Item {
  int seq;
  char* block;
};

std::mutex g_mu;
std::condition_variable g_cv;
std::deque<Item> g_queue;
int g_producers_left = 2;

}  // namespace

__attribute__((noinline)) char* Produce(int seq) {
  char* p = static_cast<char*>(std::malloc(1000));
  std::memset(p, seq & 0xff, 1000);
  return p;
}

namespace {

void Producer(int first) {
  for (int i = 0; i < 20000; ++i) {
    int seq = first + i;
    Item item{seq, Produce(seq)};
    std::lock_guard lock(g_mu);
    g_queue.push_back(item);
    g_cv.notify_one();
  }
  std::lock_guard lock(g_mu);
  --g_producers_left;
  g_cv.notify_all();
}

void Consumer(std::vector<char*>* kept, long* freed) {
  for (;;) {
    std::unique_lock lock(g_mu);
    g_cv.wait(lock, [] { return !g_queue.empty() || g_producers_left == 0; });
    if (g_queue.empty()) return;
    Item item = g_queue.front();
    g_queue.pop_front();
    lock.unlock();
    if (item.seq % 20 == 0) {
      kept->push_back(item.block);
    } else {
      std::free(item.block);
      ++*freed;
    }
  }
}

}  // namespace

int main() {
  std::vector<char*> kept[2];
  long freed[2] = {0, 0};
  std::thread c0(Consumer, &kept[0], &freed[0]);
  std::thread c1(Consumer, &kept[1], &freed[1]);
  std::thread p0(Producer, 0), p1(Producer, 20000);
  p0.join();
  p1.join();
  c0.join();
  c1.join();
  std::printf("freed on another thread: %ld; kept: %zu\n", freed[0] + freed[1],
              kept[0].size() + kept[1].size());
  return 0;
}
