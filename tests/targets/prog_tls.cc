// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Thread-local destructors that allocate at thread exit
// (tests/programs_test.sh). 256 threads, 8 at a time; each touches
//
//   - a C++ thread_local whose destructor builds and frees a vector of
//     strings, then leaks 4096 bytes in TlsDtorLeak;
//   - a pthread key whose destructor frees the value and, the first time,
//     sets a new one (so glibc runs it a second time), leaking 2048 bytes
//     in KeyDtorLeak each time it runs with a value.
//
// Prints the destructor counts and exits 0. Leaks: TlsDtorLeak 256 x 4096
// bytes, KeyDtorLeak 512 x 2048 bytes.

#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kThreads = 256;
// volatile: stores the compiler must keep, so the blocks are not elided.
void* volatile g_kept[4 * kThreads];
std::atomic<int> g_kept_n{0};
std::atomic<int> g_tls_dtors{0}, g_key_dtors{0};
pthread_key_t g_key;

}  // namespace

__attribute__((noinline)) void TlsDtorLeak() {
  void* p = std::malloc(4096);
  std::memset(p, 1, 4096);
  g_kept[g_kept_n++] = p;
}

__attribute__((noinline)) void KeyDtorLeak() {
  void* p = std::malloc(2048);
  std::memset(p, 2, 2048);
  g_kept[g_kept_n++] = p;
}

namespace {

struct Local {
  std::vector<std::string> names;
  ~Local() {
    std::vector<std::string> scratch;
    for (int i = 0; i < 20; ++i) scratch.emplace_back(64 + i, 't');
    names.clear();
    TlsDtorLeak();
    ++g_tls_dtors;
  }
};
thread_local Local t_local;

struct KeyValue {
  int round;
  char payload[500];
};

void KeyDestructor(void* v) {
  auto* value = static_cast<KeyValue*>(v);
  int round = value->round;
  std::free(value);
  KeyDtorLeak();
  ++g_key_dtors;
  if (round == 0) {  // a new value: glibc calls the destructor again
    auto* next = static_cast<KeyValue*>(std::calloc(1, sizeof(KeyValue)));
    next->round = 1;
    pthread_setspecific(g_key, next);
  }
}

void Body(int i) {
  t_local.names.assign(10, std::string(100 + i % 50, 'n'));
  auto* value = static_cast<KeyValue*>(std::calloc(1, sizeof(KeyValue)));
  value->round = 0;
  pthread_setspecific(g_key, value);
  std::vector<char> churn;
  for (int j = 0; j < 200; ++j) churn.resize(static_cast<std::size_t>(j) * 37);
}

}  // namespace

int main() {
  if (pthread_key_create(&g_key, KeyDestructor) != 0) return 1;
  for (int wave = 0; wave < kThreads / 8; ++wave) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) threads.emplace_back(Body, wave * 8 + i);
    for (std::thread& t : threads) t.join();
  }
  std::printf("threads=%d tls_dtors=%d key_dtors=%d\n", kThreads,
              g_tls_dtors.load(), g_key_dtors.load());
  return 0;
}
