// The filesystem components (docs/components.md), built against the
// installed memmon: one of each, their counters read back.
#include <memmon/fs/byte_pool.h>
#include <memmon/fs/lru_cache.h>
#include <memmon/fs/write_buffer.h>
#include <memmon/object_counter.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>

int main() {
  memmon::fs::LruCache cache({.max_bytes = 1 << 20});
  if (!cache.Put("bucket/object#0", std::string("block")).ok()) return 1;
  bool hit = cache.Get("bucket/object#0") != nullptr;
  cache.Stats();  // the cache publishes its counter in batches; now exact

  uint64_t flushed = 0;
  int flushes = 0;
  memmon::fs::WriteBufferOptions options;
  options.flush = [&](std::string_view, std::string_view data, uint64_t) {
    flushed += data.size();
    ++flushes;
    return memmon::Status::Ok();
  };
  memmon::fs::WriteBuffer writes(options);
  if (!writes.Write("bucket/upload", 0, "hello ").ok()) return 1;
  if (!writes.Write("bucket/upload", 6, "world").ok()) return 1;

  memmon::fs::BytePool pool;
  memmon::fs::PooledBuffer buf = pool.Get(100);
  std::memset(buf.data(), 'x', buf.capacity());
  buf.Release();
  buf = pool.Get(100);
  bool zeroed = std::all_of(buf.data(), buf.data() + buf.capacity(),
                            [](char c) { return c == 0; });

  auto count = [](const char* name) {
    return memmon::GetObjectCounter(name).count();
  };
  long long entries = count("cache-entries"), buffers = count("write-buffers"),
            pooled = count("pool-buffers");
  if (!writes.FlushAll().ok()) return 1;
  std::cout << "fs: cache " << (hit ? "hit" : "miss") << ", " << flushes
            << " flush of " << flushed << " bytes, pool buffer "
            << (zeroed ? "zeroed" : "NOT zeroed") << ", counters " << entries
            << " " << buffers << " " << pooled << "\n";
  return hit && zeroed && flushed == 11 ? 0 : 1;
}
