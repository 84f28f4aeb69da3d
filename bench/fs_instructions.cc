// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Instructions per operation of the filesystem components with memmon's
// object counters and without (src/fs/fs_benchmark.cc's bodies), for
// valgrind's callgrind: the counting's cost without the timing noise of a
// shared machine. bench/fs_instructions.sh runs every mode.
//
//   valgrind --tool=callgrind --instr-atstart=no build/bin/fs_instructions MODE
//   N
//
// MODE: cache-put-evict, cache-read-through, pool-allocate-free,
// pool-get-return, write-buffer-write, each with the suffix -counted or
// -uncounted. Only the N operations after a warm-up are counted.

#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "memmon/fs/byte_pool.h"
#include "memmon/fs/lru_cache.h"
#include "memmon/fs/write_buffer.h"

namespace {

using memmon::fs::Counting;

constexpr int kWarmUp = 20000;

std::vector<std::string> Keys(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    keys.push_back("bucket/object-" + std::to_string(i) + "/block-" +
                   std::to_string(i % 64));
  }
  return keys;
}

// Runs op(i) kWarmUp times, then n times counted.
template <typename Op>
void Measure(long n, Op op) {
  for (long i = 0; i < kWarmUp + n; ++i) {
    if (i == kWarmUp) CALLGRIND_START_INSTRUMENTATION;
    op(i);
  }
  CALLGRIND_STOP_INSTRUMENTATION;
}

template <Counting kC>
void CachePutEvict(long n) {
  memmon::fs::BasicLruCache<kC> cache({.max_bytes = 0, .max_entries = 4096});
  std::vector<std::string> keys = Keys(16384);
  auto value = std::make_shared<const std::string>(4096, 'v');
  Measure(n, [&](long i) {
    cache.Put(keys[static_cast<std::size_t>(i) % keys.size()], value)
        .IgnoreError();
  });
}

template <Counting kC>
void CacheReadThrough(long n) {
  memmon::fs::BasicLruCache<kC> cache({.max_bytes = 0, .max_entries = 4096});
  std::vector<std::string> keys = Keys(8192);
  auto value = std::make_shared<const std::string>(4096, 'v');
  uint64_t x = 88172645463325252ull;
  Measure(n, [&](long) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::size_t i = (x & 1) ? (x >> 8) % 1024 : (x >> 8) % keys.size();
    if (cache.Get(keys[i]) == nullptr) cache.Put(keys[i], value).IgnoreError();
  });
}

template <Counting kC>
void PoolAllocateFree(long n) {
  memmon::fs::BasicBytePool<kC> pool({.max_held_bytes = 0});
  Measure(n, [&](long) { pool.Get(4096).Release(); });
}

template <Counting kC>
void PoolGetReturn(long n) {
  memmon::fs::BasicBytePool<kC> pool;
  Measure(n, [&](long) { pool.Get(64 << 10).Release(); });
}

template <Counting kC>
void WriteBufferWrite(long n) {
  memmon::fs::WriteBufferOptions o;
  o.flush = [](std::string_view, std::string_view, uint64_t) {
    return memmon::Status::Ok();
  };
  o.max_buffer_bytes = 1 << 20;
  o.max_age = std::chrono::nanoseconds(0);
  o.max_pending_bytes = uint64_t{1} << 40;
  o.flush_threads = 1;
  memmon::fs::BasicWriteBuffer<kC> wb(o);
  std::vector<std::string> keys = Keys(64);
  std::vector<uint64_t> offsets(keys.size());
  std::string data(4096, 'w');
  Measure(n, [&](long i) {
    std::size_t k = static_cast<std::size_t>(i) % keys.size();
    wb.Write(keys[k], offsets[k], data).IgnoreError();
    offsets[k] += data.size();
  });
  wb.Close().IgnoreError();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::atol(argv[2]) <= 0) {
    std::fprintf(stderr, "usage: fs_instructions MODE N\n");
    return 2;
  }
  std::string mode = argv[1];
  long n = std::atol(argv[2]);
  struct {
    const char* name;
    void (*counted)(long);
    void (*uncounted)(long);
  } modes[] = {
      {"cache-put-evict", CachePutEvict<Counting::kOn>,
       CachePutEvict<Counting::kOff>},
      {"cache-read-through", CacheReadThrough<Counting::kOn>,
       CacheReadThrough<Counting::kOff>},
      {"pool-allocate-free", PoolAllocateFree<Counting::kOn>,
       PoolAllocateFree<Counting::kOff>},
      {"pool-get-return", PoolGetReturn<Counting::kOn>,
       PoolGetReturn<Counting::kOff>},
      {"write-buffer-write", WriteBufferWrite<Counting::kOn>,
       WriteBufferWrite<Counting::kOff>},
  };
  for (const auto& m : modes) {
    if (mode == std::string(m.name) + "-counted") {
      m.counted(n);
      return 0;
    }
    if (mode == std::string(m.name) + "-uncounted") {
      m.uncounted(n);
      return 0;
    }
  }
  std::fprintf(stderr, "fs_instructions: unknown mode %s\n", mode.c_str());
  return 2;
}
