// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// objectfs_workload: the data path of an S3-backed filesystem daemon, built
// from memmon's filesystem components (include/memmon/fs/), as memmon's
// built-in workload and the demo (`make demo` runs it under `memmon run`).
//
//   - reads go through the block cache (LruCache: 64 MiB, a TTL, its
//     sweeper); a miss fetches the block from the object store into a
//     BytePool buffer and caches a copy (ObjectFs::CacheBlock): the cache
//     fills to its capacity in about two seconds, then evicts -- bounded;
//   - writes go through the WriteBuffer to the object store, which is slow
//     and refuses one upload in twenty (retried with backoff): buffers fill
//     and drain -- a sawtooth;
//   - files are opened and closed, 250 a second; an open file has a
//     read-ahead window (FileHandle::FileHandle, 128 KiB).
//   --leak: OpenFileTable::Close() keeps every closed handle in a "recently
//     closed" list that nothing ever trims: 31 MiB/s of read-ahead windows
//     that memmon must call a leak, naming FileHandle::FileHandle.
//
// The object store is simulated (latency, failures, no data kept), and
// everything is deterministic for a --seed but for thread interleaving. At
// the end it checks that every accepted byte reached the store or was
// reported failed, and prints the components' statistics and counters.
//
//   objectfs_workload [--seconds S] [--seed N] [--threads N] [--leak] [--quiet]
//                     [--monitor]
//
// --monitor: an in-process MemoryMonitor as well (sampling every 100 ms),
// tracking the components' counters, with an object_threshold of 1000 on
// "open-files"; its alerts print as they fire. (Not under `memmon run`,
// which watches from outside.)

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "memmon/fs/byte_pool.h"
#include "memmon/fs/lru_cache.h"
#include "memmon/fs/write_buffer.h"
#include "memmon/monitor.h"
#include "memmon/object_counter.h"

namespace {

using namespace std::chrono_literals;
using memmon::Status;
using Steady = std::chrono::steady_clock;

constexpr std::size_t kBlock = 64 << 10;       // cache block
constexpr std::size_t kReadAhead = 128 << 10;  // per open file
constexpr int kFiles = 256;
constexpr int kBlocksPerFile = 16;  // 256 x 16 x 64 KiB: 256 MiB of data

struct Args {
  double seconds = 15;
  uint64_t seed = 1;
  int threads = 4;
  bool leak = false;
  bool quiet = false;
  bool monitor = false;
};

// A simulated object store: latency, a failure rate, no data kept (only
// how many bytes each object received, so the store itself stays flat).
class ObjectStore {
 public:
  explicit ObjectStore(uint64_t seed) : rng_(seed) {}

  // Fills `out` with the object's bytes at `offset` (a pattern).
  Status Read(std::string_view key, uint64_t offset, std::span<char> out) {
    std::this_thread::sleep_for(5ms);
    char c = static_cast<char>(std::hash<std::string_view>{}(key) + offset);
    std::memset(out.data(), c, out.size());
    return Status::Ok();
  }

  // An upload of a part; one in twenty is refused.
  Status Upload(std::string_view key, std::string_view data, uint64_t offset) {
    std::this_thread::sleep_for(2ms);
    std::lock_guard l(mu_);
    if (rng_() % 20 == 0) {
      ++refused_;
      return Status::IoError("object store: 503 slow down");
    }
    uint64_t& end = stored_[std::string(key)];
    if (offset != end) ++out_of_order_;
    end = offset + data.size();
    bytes_ += data.size();
    return Status::Ok();
  }

  uint64_t bytes() {
    std::lock_guard l(mu_);
    return bytes_;
  }
  uint64_t refused() {
    std::lock_guard l(mu_);
    return refused_;
  }
  uint64_t out_of_order() {
    std::lock_guard l(mu_);
    return out_of_order_;
  }

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, uint64_t> stored_;  // key -> next offset
  uint64_t bytes_ = 0;
  uint64_t refused_ = 0;
  uint64_t out_of_order_ = 0;
};

// An open file: its read-ahead window counts itself ("open-files").
struct FileHandle {
  explicit FileHandle(int file)
      : file(file), readahead(std::make_unique<char[]>(kReadAhead)) {
    std::memset(readahead.get(), 0, kReadAhead);
  }
  int file;
  std::unique_ptr<char[]> readahead;
  memmon::ObjectGuard counted{memmon::GetObjectCounter("open-files"),
                              kReadAhead};
};

class OpenFileTable {
 public:
  explicit OpenFileTable(bool leak) : leak_(leak) {}

  [[gnu::noinline]] uint64_t Open(int file) {
    auto handle = std::make_unique<FileHandle>(file);
    std::lock_guard l(mu_);
    uint64_t fd = next_fd_++;
    open_.emplace(fd, std::move(handle));
    return fd;
  }

  [[gnu::noinline]] void Close(uint64_t fd) {
    std::lock_guard l(mu_);
    auto it = open_.find(fd);
    if (it == open_.end()) return;
    // The leak: "keep recently closed handles to answer stat() quickly",
    // and nothing ever trims the list.
    if (leak_) recently_closed_.push_back(std::move(it->second));
    open_.erase(it);
  }

 private:
  const bool leak_;
  std::mutex mu_;
  uint64_t next_fd_ = 3;
  std::unordered_map<uint64_t, std::unique_ptr<FileHandle>> open_;
  std::deque<std::unique_ptr<FileHandle>> recently_closed_;
};

class ObjectFs {
 public:
  ObjectFs(ObjectStore& store, bool leak)
      : store_(store),
        cache_({.max_bytes = 64 << 20, .ttl = 60s, .sweep_interval = 1s}),
        writes_([&] {
          memmon::fs::WriteBufferOptions o;
          o.flush = [this](std::string_view key, std::string_view data,
                           uint64_t offset) {
            return store_.Upload(key, data, offset);
          };
          o.max_buffer_bytes = 256 << 10;
          o.max_age = 250ms;
          o.max_pending_bytes = 32 << 20;
          o.flush_threads = 2;
          o.max_attempts = 5;
          o.initial_backoff = 2ms;
          return o;
        }()),
        files_(leak) {}

  // One block of a file, through the cache.
  [[gnu::noinline]] std::size_t ReadBlock(int file, int block) {
    std::string key =
        "bucket/file-" + std::to_string(file) + "#" + std::to_string(block);
    if (auto hit = cache_.Get(key)) return hit->size();
    memmon::fs::PooledBuffer buf = pool_.Get(kBlock);
    store_.Read(key, static_cast<uint64_t>(block) * kBlock, buf.span())
        .IgnoreError();
    auto value = CacheBlock(key, buf);
    return value->size();
  }

  // The cache's copy of a fetched block.
  [[gnu::noinline]] memmon::fs::LruCache::Value CacheBlock(
      const std::string& key, const memmon::fs::PooledBuffer& buf) {
    auto value = std::make_shared<const std::string>(buf.data(), buf.size());
    cache_.Put(key, value).IgnoreError();
    return value;
  }

  // Appends `size` bytes to an object being written; false when the write
  // buffer is full (the caller backs off, as a FUSE daemon returns EAGAIN).
  bool Append(int object, std::size_t size, uint64_t* offset) {
    memmon::fs::PooledBuffer buf = pool_.Get(size);
    std::memset(buf.data(), 'a' + object % 26, size);
    std::string key = "bucket/upload-" + std::to_string(object);
    Status s = writes_.Write(key, *offset, std::string_view(buf.data(), size));
    if (!s.ok()) return false;
    *offset += size;
    accepted_bytes_ += size;
    return true;
  }

  uint64_t OpenFile(int file) { return files_.Open(file); }
  void CloseFile(uint64_t fd) { files_.Close(fd); }

  memmon::fs::LruCache& cache() { return cache_; }
  memmon::fs::WriteBuffer& writes() { return writes_; }
  memmon::fs::BytePool& pool() { return pool_; }
  uint64_t accepted_bytes() const { return accepted_bytes_.load(); }

 private:
  ObjectStore& store_;
  memmon::fs::BytePool pool_;
  memmon::fs::LruCache cache_;
  memmon::fs::WriteBuffer writes_;
  OpenFileTable files_;
  std::atomic<uint64_t> accepted_bytes_{0};
};

// One client thread: reads (skewed to a hot set) and appends.
void Client(ObjectFs& fs, uint64_t seed, int id, Steady::time_point end) {
  std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(id));
  std::vector<uint64_t> offsets(8);
  while (Steady::now() < end) {
    for (int i = 0; i < 4; ++i) {
      // Half the reads on a hot eighth of the files.
      int file = rng() % 2 ? static_cast<int>(rng() % (kFiles / 8))
                           : static_cast<int>(rng() % kFiles);
      fs.ReadBlock(file, static_cast<int>(rng() % kBlocksPerFile));
    }
    int object = id * 8 + static_cast<int>(rng() % 8);
    if (!fs.Append(object, 4096 + rng() % (60 << 10),
                   &offsets[static_cast<std::size_t>(object - id * 8)])) {
      std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(2ms);  // the FUSE round trip
  }
}

// Opens and closes files at a steady 250 a second (as `ls -l` and editors
// do), each open for 4 ms.
void Opener(ObjectFs& fs, uint64_t seed, Steady::time_point end) {
  std::mt19937_64 rng(seed);
  for (auto next = Steady::now(); next < end;) {
    uint64_t fd = fs.OpenFile(static_cast<int>(rng() % kFiles));
    next += 4ms;
    std::this_thread::sleep_until(next);
    fs.CloseFile(fd);
  }
}

double MiB(double b) { return b / (1 << 20); }

void Progress(ObjectFs& fs, double t) {
  memmon::fs::LruCacheStats c = fs.cache().Stats();
  memmon::fs::WriteBufferStats w = fs.writes().Stats();
  memmon::ObjectCounter& files = memmon::GetObjectCounter("open-files");
  std::printf(
      "objectfs: t=%4.1f s  cache %5.1f MiB %4llu entries (hit rate %2.0f %%)  "
      "write buffer %4.1f MiB pending  open-files %lld (%.0f MiB)\n",
      t, MiB(static_cast<double>(c.bytes)),
      static_cast<unsigned long long>(c.entries), 100 * c.hit_rate,
      MiB(static_cast<double>(w.pending_bytes)),
      static_cast<long long>(files.count()),
      MiB(static_cast<double>(files.bytes())));
  std::fflush(stdout);
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (arg == "--leak") {
      a->leak = true;
    } else if (arg == "--quiet") {
      a->quiet = true;
    } else if (arg == "--monitor") {
      a->monitor = true;
    } else if (arg == "--seconds") {
      const char* v = value();
      if (v == nullptr || !(std::atof(v) > 0)) return false;
      a->seconds = std::atof(v);
    } else if (arg == "--seed") {
      const char* v = value();
      if (v == nullptr) return false;
      a->seed = std::strtoull(v, nullptr, 10);
    } else if (arg == "--threads") {
      const char* v = value();
      if (v == nullptr || std::atoi(v) < 1) return false;
      a->threads = std::atoi(v);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: objectfs_workload [--seconds S] [--seed N] "
                 "[--threads N] [--leak] [--quiet] [--monitor]\n");
    return 2;
  }
  std::printf(
      "objectfs: %d clients for %.0f s, seed %llu; block cache 64 MiB, write "
      "buffer to a store that refuses 1 upload in 20%s\n",
      args.threads, args.seconds, static_cast<unsigned long long>(args.seed),
      args.leak ? "; LEAK: OpenFileTable::Close keeps every closed handle"
                : "");
  std::fflush(stdout);
  std::unique_ptr<memmon::MemoryMonitor> monitor;
  if (args.monitor) {
    memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
    config.sample_interval = std::chrono::milliseconds(100);
    config.warmup_samples = 10;
    config.alert_log = "none";  // printed below instead
    monitor = std::make_unique<memmon::MemoryMonitor>(config);
    monitor->TrackObject("cache-entries");
    monitor->TrackObject("write-buffers");
    monitor->TrackObject("pool-buffers");
    monitor->TrackObject("open-files", /*alert_threshold=*/1000);
    monitor->OnAlert([](const memmon::MemoryAlert& a) {
      std::printf("objectfs: ALERT at %5.1f s  %s: %s\n", a.time_s,
                  std::string(memmon::ToString(a.type)).c_str(),
                  a.message.c_str());
      std::fflush(stdout);
    });
    if (Status s = monitor->Start(); !s.ok()) {
      std::fprintf(stderr, "objectfs: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  ObjectStore store(args.seed);
  auto fs = std::make_unique<ObjectFs>(store, args.leak);
  auto start = Steady::now();
  auto end = start + std::chrono::duration_cast<Steady::duration>(
                         std::chrono::duration<double>(args.seconds));
  std::vector<std::thread> clients;
  for (int i = 0; i < args.threads; ++i) {
    clients.emplace_back(Client, std::ref(*fs), args.seed, i, end);
  }
  clients.emplace_back(Opener, std::ref(*fs), args.seed, end);
  for (auto next = start + 1s; next < end; next += 1s) {
    std::this_thread::sleep_until(next);
    if (!args.quiet) {
      Progress(*fs,
               std::chrono::duration<double>(Steady::now() - start).count());
    }
  }
  for (auto& c : clients) c.join();
  if (monitor != nullptr) monitor->Stop();

  // Shut down as a daemon would: everything written reaches the store or is
  // reported.
  Status closed = fs->writes().Close();
  memmon::fs::WriteBufferStats w = fs->writes().Stats();
  memmon::fs::LruCacheStats c = fs->cache().Stats();
  memmon::fs::BytePoolStats p = fs->pool().Stats();
  std::printf(
      "objectfs: cache: %llu hits, %llu misses (%.0f %%), %llu evictions, "
      "%llu entries, %.1f MiB\n",
      static_cast<unsigned long long>(c.hits),
      static_cast<unsigned long long>(c.misses), 100 * c.hit_rate,
      static_cast<unsigned long long>(c.evictions),
      static_cast<unsigned long long>(c.entries),
      MiB(static_cast<double>(c.bytes)));
  std::printf(
      "objectfs: write buffer: %llu writes (%.1f MiB), %llu rejected; %llu "
      "flushes, %llu retried, %llu failed (%.1f MiB); close: %s\n",
      static_cast<unsigned long long>(w.writes),
      MiB(static_cast<double>(w.bytes_written)),
      static_cast<unsigned long long>(w.writes_rejected),
      static_cast<unsigned long long>(w.flushes),
      static_cast<unsigned long long>(w.flush_retries),
      static_cast<unsigned long long>(w.flushes_failed),
      MiB(static_cast<double>(w.bytes_failed)),
      closed.ok() ? "ok" : closed.ToString().c_str());
  std::printf(
      "objectfs: byte pool: %llu gets, %llu hits, %llu misses, %.1f MiB held\n",
      static_cast<unsigned long long>(p.gets),
      static_cast<unsigned long long>(p.hits),
      static_cast<unsigned long long>(p.misses),
      MiB(static_cast<double>(p.bytes_held)));
  bool books = store.bytes() + w.bytes_failed == fs->accepted_bytes() &&
               w.bytes_flushed == store.bytes() && store.out_of_order() == 0;
  std::printf(
      "objectfs: every accepted byte stored or reported failed: %s (%.1f MiB "
      "accepted, %.1f MiB stored, %llu uploads refused by the store)\n",
      books ? "yes" : "NO", MiB(static_cast<double>(fs->accepted_bytes())),
      MiB(static_cast<double>(store.bytes())),
      static_cast<unsigned long long>(store.refused()));
  for (const char* name :
       {"cache-entries", "write-buffers", "pool-buffers", "open-files"}) {
    memmon::ObjectCounter& counter = memmon::GetObjectCounter(name);
    std::printf("objectfs: counter %-13s %6lld objects %8.1f MiB\n", name,
                static_cast<long long>(counter.count()),
                MiB(static_cast<double>(counter.bytes())));
  }
  return books ? 0 : 1;
}
