// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// objectfs-sim: the data path of an S3-backed filesystem daemon, built from
// memmon's filesystem components (include/memmon/fs/), as memmon's built-in
// workload and the demo (`make demo` runs `objectfs-sim --leak cache` under
// `memmon run`).
//
//   - reads go through the block cache (LruCache: 64 MiB, a TTL, its
//     sweeper); a miss fetches the block from the object store into a
//     BytePool buffer and caches a copy (ObjectFs::CacheBlock): the cache
//     fills to its capacity in about two seconds, then evicts -- bounded;
//   - lookups (stat) go through the metadata cache (an LruCache of 8192
//     entries): the attributes of files that exist, and negative entries --
//     the store's 404, kept to answer the next lookup of the name -- for the
//     names editors and build tools probe (".swp", lock and temp files),
//     4800 a second, each a new name (MetadataCache::RememberMissing);
//   - writes go through the WriteBuffer to the object store, which is slow,
//     refuses one upload in twenty (503, retried with backoff) and, by
//     bucket policy, every upload under bucket/archive/ (403, an eighth of
//     the objects): those buffers fail after 4 attempts, reported to the
//     close() that flushes the object. The daemon keeps a refused upload's
//     bytes (ObjectFs::KeepFailedBuffer) until the failure is final, then
//     writes them to a spill file in its lost+found (ObjectFs::
//     SpillFailedUpload; a ring of the last 64 files) and drops them;
//   - every 250 ms it mounts a snapshot for 2 s: each mount has its own
//     attribute cache, an LruCache with a TTL and so a sweeper thread
//     (ObjectFs::MountSnapshot); unmounting destroys it;
//   - files are opened and closed, 250 a second; an open file has a
//     read-ahead window (FileHandle::FileHandle, 128 KiB).
//
// --leak injects one realistic leak, each in a named function:
//   cache    MetadataCache::RememberMissing keeps negative entries in a side
//            table, out of the LRU "so that probes do not evict the hot
//            attributes", and nothing ever evicts them: ~7 MiB/s;
//   buffers  ObjectFs::KeepFailedBuffer also queues every refused attempt's
//            bytes for a re-upload "when the bucket policy changes", and
//            nothing drains the queue: ~5 MiB/s;
//   threads  ObjectFs::MountSnapshot registers each mount's cache with the
//            daemon's stats page, which nothing unregisters: the cache, and
//            its sweeper thread, outlive the unmount: 4 threads a second;
//   fds      ObjectFs::SpillFailedUpload keeps each spill file's descriptor
//            "to append the object's next failure" and never closes it
//            (the file is rotated out of lost+found, so its disk space
//            stays held too): ~10 descriptors a second.
//
// The object store is simulated (latency, failures, no data kept), and
// everything is deterministic for a --seed but for thread interleaving. At
// the end it checks that every accepted byte reached the store or was
// reported failed, and prints the components' statistics and each counter
// after the start-up (at 5 s) and at the end, marking those that grew.
//
//   objectfs-sim [--duration S] [--leak none|cache|buffers|threads|fds]
//                [--seed N] [--threads N] [--quiet] [--monitor]
//
// --seconds S: an old spelling of --duration S. Bad arguments: one line,
// exit status 2. --monitor: an in-process MemoryMonitor as well (every
// 100 ms), tracking the counters (an object_threshold of 1000 on
// "open-files"), its alerts printed. (memmon run watches from outside.)

#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
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
constexpr int kBlocksPerFile = 16;      // 256 x 16 x 64 KiB: 256 MiB of data
constexpr int kProbesPerTick = 48;      // missing names looked up every 10 ms
constexpr std::size_t kSpillRing = 64;  // files kept in lost+found
constexpr double kCountersFrom = 5;     // s: the counters' "start"

enum class Leak { kNone, kCache, kBuffers, kThreads, kFds };

constexpr const char* kLeakNames[] = {"none", "cache", "buffers", "threads",
                                      "fds"};

struct Args {
  double seconds = 30;
  uint64_t seed = 1;
  int threads = 4;
  Leak leak = Leak::kNone;
  bool quiet = false;
  bool monitor = false;
};

// The counters the daemon's parts count themselves in, in print order.
constexpr const char* kCounters[] = {
    "cache-entries",    "write-buffers", "pool-buffers", "open-files",
    "negative-entries", "kept-buffers",  "mount-caches", "spill-files"};

// A simulated object store: latency, failures, no data kept (only how many
// bytes each object received, so the store itself stays flat).
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

  // A HEAD request: true when the object exists; `response` gets what the
  // store answered (for a missing object, a 404 with its XML error body).
  bool Head(const std::string& key, std::string* response) {
    bool found = key.find(".swp.") == std::string::npos;
    std::size_t h = std::hash<std::string>{}(key);
    char id[17];
    std::snprintf(id, sizeof id, "%016zx", h);
    response->reserve(2048);
    if (found) {
      *response = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nETag: \"";
      *response += id;
      *response += "\"\r\n\r\n";
      return true;
    }
    *response =
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\n"
        "Server: objectfs-sim-store\r\nx-amz-request-id: ";
    *response += id;
    *response += "\r\nx-amz-id-2: ";
    for (int i = 0; i < 6; ++i) *response += id;
    *response +=
        "\r\n\r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
        "NoSuchKey</Code><Message>The specified key does not exist."
        "</Message><Key>";
    *response += key;
    *response += "</Key><RequestId>";
    *response += id;
    *response += "</RequestId><HostId>";
    for (int i = 0; i < 64; ++i) *response += id;
    *response += "</HostId></Error>\n";
    return false;
  }

  // An upload of a part: refused when the bucket policy denies the key
  // (403, every time), and one in twenty times besides (503).
  Status Upload(std::string_view key, std::string_view data, uint64_t offset) {
    std::this_thread::sleep_for(2ms);
    if (key.starts_with("bucket/archive/")) {
      return Status::FailedPrecondition("object store: 403 AccessDenied");
    }
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

// The metadata cache: attributes of the objects that exist and negative
// entries for the names that do not, in one LruCache of 8192 entries with
// a TTL.
class MetadataCache {
 public:
  MetadataCache(ObjectStore& store, Leak leak)
      : store_(store),
        leak_(leak),
        cache_({.max_bytes = 0,
                .max_entries = 8192,
                .ttl = 30s,
                .sweep_interval = 1s}) {}

  // stat(): true when `name` exists.
  bool Lookup(const std::string& name) {
    if (auto hit = cache_.Get(name)) return !hit->starts_with("HTTP/1.1 404");
    if (leak_ == Leak::kCache) {
      std::lock_guard l(mu_);
      if (negative_.contains(name)) return false;
    }
    std::string response;
    if (store_.Head(name, &response)) {
      cache_.Put(name, response.substr(0, 64)).IgnoreError();
      return true;
    }
    RememberMissing(name, response);
    return false;
  }

  // A negative entry: the store's 404, kept to answer the next lookup of
  // the name as the store did.
  [[gnu::noinline]] void RememberMissing(const std::string& name,
                                         const std::string& response) {
    auto entry = std::make_shared<NegativeEntry>();
    entry->response.assign(response);
    entry->counted.Resize(name.size() + entry->response.size());
    if (leak_ == Leak::kCache) {
      // The leak: negative entries are kept out of the LRU "so that probes
      // do not evict the hot attributes" -- and nothing evicts them.
      std::lock_guard l(mu_);
      negative_.emplace(name, std::move(entry));
      return;
    }
    memmon::fs::LruCache::Value value(entry, &entry->response);
    cache_.Put(name, std::move(value)).IgnoreError();
  }

  memmon::fs::LruCache& cache() { return cache_; }

 private:
  struct NegativeEntry {
    std::string response;
    memmon::ObjectGuard counted{memmon::GetObjectCounter("negative-entries")};
  };

  ObjectStore& store_;
  const Leak leak_;
  memmon::fs::LruCache cache_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const NegativeEntry>>
      negative_;
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
  [[gnu::noinline]] uint64_t Open(int file) {
    auto handle = std::make_unique<FileHandle>(file);
    std::lock_guard l(mu_);
    uint64_t fd = next_fd_++;
    open_.emplace(fd, std::move(handle));
    return fd;
  }

  [[gnu::noinline]] void Close(uint64_t fd) {
    std::lock_guard l(mu_);
    open_.erase(fd);
  }

 private:
  std::mutex mu_;
  uint64_t next_fd_ = 3;
  std::unordered_map<uint64_t, std::unique_ptr<FileHandle>> open_;
};

// A mounted snapshot: its own attribute cache, whose TTL gives it a sweeper
// thread.
struct MountCache {
  memmon::fs::LruCache attrs{
      {.max_entries = 1024, .ttl = 2s, .sweep_interval = 100ms}};
  memmon::ObjectGuard counted{memmon::GetObjectCounter("mount-caches")};
};
struct Mount {
  int id = 0;
  std::shared_ptr<MountCache> cache;
};

// The bytes of an upload the store refused for good, kept until the
// failure is final.
struct KeptBuffer {
  std::string key;
  uint64_t offset = 0;
  std::string data;
  memmon::ObjectGuard counted{memmon::GetObjectCounter("kept-buffers")};
};

class ObjectFs {
 public:
  ObjectFs(ObjectStore& store, Leak leak, std::filesystem::path spill_dir)
      : store_(store),
        leak_(leak),
        spill_dir_(std::move(spill_dir)),
        cache_({.max_bytes = 64 << 20, .ttl = 60s, .sweep_interval = 1s}),
        meta_(store, leak),
        writes_([&] {
          memmon::fs::WriteBufferOptions o;
          o.flush = [this](std::string_view key, std::string_view data,
                           uint64_t offset) {
            return Upload(key, data, offset);
          };
          o.on_failure = [this](const memmon::fs::FailedFlush& f) {
            OnFlushFailed(f);
          };
          o.max_buffer_bytes = 256 << 10;
          o.max_age = 250ms;
          o.max_pending_bytes = 32 << 20;
          o.flush_threads = 2;
          o.max_attempts = 4;
          o.initial_backoff = 2ms;
          return o;
        }()) {}

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

  bool Lookup(const std::string& name) { return meta_.Lookup(name); }

  // Appends `size` bytes to an object being written; false when the write
  // buffer is full (the caller backs off, as a FUSE daemon returns EAGAIN).
  bool Append(int object, std::size_t size, uint64_t* offset) {
    memmon::fs::PooledBuffer buf = pool_.Get(size);
    std::memset(buf.data(), 'a' + object % 26, size);
    Status s = writes_.Write(ObjectKey(object), *offset,
                             std::string_view(buf.data(), size));
    if (!s.ok()) return false;
    *offset += size;
    accepted_bytes_ += size;
    return true;
  }

  // close() of an object being written: flushes it and returns what failed
  // (EIO for the application). True when everything written was stored.
  bool CloseObject(int object) {
    if (writes_.Flush(ObjectKey(object)).ok()) return true;
    ++close_errors_;
    return false;
  }

  uint64_t OpenFile(int file) { return files_.Open(file); }
  void CloseFile(uint64_t fd) { files_.Close(fd); }

  // Mounts snapshot `id`: its own attribute cache, with a sweeper.
  [[gnu::noinline]] Mount MountSnapshot(int id) {
    Mount m{.id = id, .cache = std::make_shared<MountCache>()};
    for (int i = 0; i < 16; ++i) {
      m.cache->attrs
          .Put("snap-" + std::to_string(id) + "/file-" + std::to_string(i),
               std::string(64, 'a'))
          .IgnoreError();
    }
    if (leak_ == Leak::kThreads) {
      // The leak: the mount's cache is registered with the stats page, and
      // nothing unregisters it at unmount: the cache and its sweeper
      // thread outlive the mount.
      std::lock_guard l(mu_);
      stats_sources_.push_back(m.cache);
    }
    return m;
  }

  // Unmounting drops the mount's cache: its destructor stops the sweeper.
  void Unmount(Mount m) { m.cache.reset(); }

  memmon::fs::LruCache& cache() { return cache_; }
  MetadataCache& meta() { return meta_; }
  memmon::fs::WriteBuffer& writes() { return writes_; }
  memmon::fs::BytePool& pool() { return pool_; }
  uint64_t accepted_bytes() const { return accepted_bytes_.load(); }
  uint64_t spills() const { return spills_.load(); }
  uint64_t close_errors() const { return close_errors_.load(); }

 private:
  // The write buffer's flush callback.
  Status Upload(std::string_view key, std::string_view data, uint64_t offset) {
    Status s = store_.Upload(key, data, offset);
    if (s.code() == memmon::StatusCode::kFailedPrecondition) {
      KeepFailedBuffer(key, data, offset);
    }
    return s;
  }

  // An eighth of the objects go under archive/, which the bucket's policy
  // does not let this daemon write.
  static std::string ObjectKey(int object) {
    return (object % 8 == 7 ? "bucket/archive/upload-" : "bucket/upload-") +
           std::to_string(object);
  }

  static std::string Id(std::string_view key, uint64_t offset) {
    return std::string(key) + "@" + std::to_string(offset);
  }

  // A refused upload's bytes, kept until its failure is final
  // (OnFlushFailed): the write buffer retries it, and a failed buffer's
  // bytes go to lost+found rather than nowhere.
  [[gnu::noinline]] void KeepFailedBuffer(std::string_view key,
                                          std::string_view data,
                                          uint64_t offset) {
    std::lock_guard l(mu_);
    auto [it, inserted] = failed_.try_emplace(Id(key, offset));
    if (!inserted && leak_ != Leak::kBuffers) return;  // a retry: kept
    auto kept = std::make_shared<KeptBuffer>();
    kept->key.assign(key);
    kept->offset = offset;
    kept->data.assign(data);
    kept->counted.Resize(data.size());
    if (inserted) it->second = kept;
    if (leak_ == Leak::kBuffers) {
      // The leak: every refused attempt's bytes are also queued "to
      // re-upload when the bucket policy changes", and nothing ever drains
      // the queue.
      retry_later_.push_back(std::move(kept));
    }
  }

  // The write buffer gave up on a flush: its bytes go to lost+found.
  void OnFlushFailed(const memmon::fs::FailedFlush& f) {
    std::shared_ptr<KeptBuffer> kept;
    {
      std::lock_guard l(mu_);
      auto it = failed_.find(Id(f.key, f.offset));
      if (it == failed_.end()) return;  // a 503 four times: nothing kept
      kept = std::move(it->second);
      failed_.erase(it);
    }
    SpillFailedUpload(*kept);
  }

  // Writes a failed upload's bytes to a spill file in lost+found (a ring of
  // the last kSpillRing files).
  [[gnu::noinline]] void SpillFailedUpload(const KeptBuffer& kept) {
    uint64_t n = spills_.fetch_add(1);
    std::filesystem::path path =
        spill_dir_ / ("lost+found-" + std::to_string(n));
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    memmon::ObjectCounter& open_spills =
        memmon::GetObjectCounter("spill-files");
    open_spills.Increment(kept.data.size());
    for (std::size_t done = 0; done < kept.data.size();) {
      ssize_t w = ::write(fd, kept.data.data() + done, kept.data.size() - done);
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    std::lock_guard l(mu_);
    spill_ring_.push_back(path);
    if (spill_ring_.size() > kSpillRing) {
      std::error_code ec;
      std::filesystem::remove(spill_ring_.front(), ec);
      spill_ring_.pop_front();
    }
    if (leak_ == Leak::kFds) {
      // The leak: the descriptor is kept "to append the object's next
      // failure", never used again, and never closed (and once the file is
      // rotated out of lost+found its disk space stays held too).
      leaked_fds_.push_back(fd);
      return;
    }
    ::close(fd);
    open_spills.Decrement(kept.data.size());
  }

  ObjectStore& store_;
  const Leak leak_;
  const std::filesystem::path spill_dir_;
  memmon::fs::BytePool pool_;
  memmon::fs::LruCache cache_;
  MetadataCache meta_;
  OpenFileTable files_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<KeptBuffer>> failed_;
  std::deque<std::shared_ptr<KeptBuffer>> retry_later_;
  std::vector<std::shared_ptr<MountCache>> stats_sources_;
  std::deque<std::filesystem::path> spill_ring_;
  std::vector<int> leaked_fds_;
  std::atomic<uint64_t> accepted_bytes_{0};
  std::atomic<uint64_t> spills_{0};
  std::atomic<uint64_t> close_errors_{0};
  // Last: its flushers call Upload and OnFlushFailed until it is closed.
  memmon::fs::WriteBuffer writes_;
};

// One client thread: reads (skewed to a hot set) and appends to its eight
// objects, closing each (a flush) every 16 appends.
void Client(ObjectFs& fs, uint64_t seed, int id, Steady::time_point end) {
  std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(id));
  std::vector<uint64_t> offsets(8);
  std::vector<int> appends(8);
  while (Steady::now() < end) {
    for (int i = 0; i < 4; ++i) {
      // Half the reads on a hot eighth of the files.
      int file = rng() % 2 ? static_cast<int>(rng() % (kFiles / 8))
                           : static_cast<int>(rng() % kFiles);
      fs.ReadBlock(file, static_cast<int>(rng() % kBlocksPerFile));
    }
    int object = id * 8 + static_cast<int>(rng() % 8);
    auto mine = static_cast<std::size_t>(object - id * 8);
    if (!fs.Append(object, 4096 + rng() % (60 << 10), &offsets[mine])) {
      std::this_thread::sleep_for(5ms);
    } else if (++appends[mine] % 16 == 0) {
      fs.CloseObject(object);
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

// stat() calls, every 10 ms: kProbesPerTick of files that exist (their
// attributes cached) and as many of names editors and build tools probe
// for, each a new name that does not exist (a negative entry each).
void Prober(ObjectFs& fs, uint64_t seed, Steady::time_point end) {
  std::mt19937_64 rng(seed ^ 0x5eed);
  uint64_t probe = 0;
  for (auto next = Steady::now(); next < end;) {
    for (int i = 0; i < kProbesPerTick; ++i) {
      std::string name = "bucket/file-" + std::to_string(rng() % kFiles);
      fs.Lookup(name);
      fs.Lookup(name + ".swp." + std::to_string(++probe));
    }
    next += 10ms;
    std::this_thread::sleep_until(next);
  }
}

// Mounts a snapshot every 250 ms, each for 2 s.
void Mounter(ObjectFs& fs, Steady::time_point end) {
  std::deque<std::pair<Steady::time_point, Mount>> mounted;
  int id = 0;
  for (auto next = Steady::now(); next < end;) {
    mounted.emplace_back(next + 2s, fs.MountSnapshot(id++));
    while (!mounted.empty() && mounted.front().first <= next) {
      fs.Unmount(std::move(mounted.front().second));
      mounted.pop_front();
    }
    next += 250ms;
    std::this_thread::sleep_until(next);
  }
  while (!mounted.empty()) {
    fs.Unmount(std::move(mounted.front().second));
    mounted.pop_front();
  }
}

double MiB(double b) { return b / (1 << 20); }

int CountEntries(const char* dir) {
  DIR* d = opendir(dir);
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

// What the end-of-run lines compare: each counter, the threads and the
// descriptors.
struct Levels {
  double t = 0;
  int64_t count[std::size(kCounters)] = {};
  int64_t bytes[std::size(kCounters)] = {};
  int threads = 0;
  int fds = 0;
};

Levels Measure(double t) {
  Levels l;
  l.t = t;
  for (std::size_t i = 0; i < std::size(kCounters); ++i) {
    memmon::ObjectCounter& c = memmon::GetObjectCounter(kCounters[i]);
    l.count[i] = c.count();
    l.bytes[i] = c.bytes();
  }
  l.threads = CountEntries("/proc/self/task");
  l.fds = CountEntries("/proc/self/fd");
  return l;
}

// Grew: by half and by more than 8 since the start (objects, threads,
// descriptors).
bool Grew(int64_t from, int64_t to) { return to >= from + from / 2 + 8; }

void Progress(ObjectFs& fs, const Levels& l) {
  memmon::fs::LruCacheStats c = fs.cache().Stats();
  memmon::fs::WriteBufferStats w = fs.writes().Stats();
  std::printf(
      "objectfs: t=%4.1f s  cache %5.1f MiB (hit rate %2.0f %%)  metadata "
      "%5llu entries  write buffer %4.1f MiB pending  negative-entries %lld  "
      "kept-buffers %lld  threads %d  fds %d\n",
      l.t, MiB(static_cast<double>(c.bytes)), 100 * c.hit_rate,
      static_cast<unsigned long long>(fs.meta().cache().Stats().entries),
      MiB(static_cast<double>(w.pending_bytes)),
      static_cast<long long>(l.count[4]), static_cast<long long>(l.count[5]),
      l.threads, l.fds);
  std::fflush(stdout);
}

// Empty when the arguments are good; else what is wrong with them.
std::string ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quiet") {
      a->quiet = true;
      continue;
    }
    if (arg == "--monitor") {
      a->monitor = true;
      continue;
    }
    if (arg != "--leak" && arg != "--duration" && arg != "--seconds" &&
        arg != "--seed" && arg != "--threads") {
      return "unknown argument " + arg;
    }
    if (i + 1 >= argc) return arg + " needs a value";
    const char* v = argv[++i];
    if (arg == "--leak") {
      bool known = false;
      for (std::size_t k = 0; k < std::size(kLeakNames); ++k) {
        if (std::strcmp(v, kLeakNames[k]) == 0) {
          a->leak = static_cast<Leak>(k);
          known = true;
        }
      }
      if (!known) return "--leak " + std::string(v) + ": not a leak";
    } else if (arg == "--duration" || arg == "--seconds") {
      a->seconds = std::atof(v);
      if (!(a->seconds > 0)) return arg + " " + v + ": not a positive number";
    } else if (arg == "--seed") {
      a->seed = std::strtoull(v, nullptr, 10);
    } else {
      a->threads = std::atoi(v);
      if (a->threads < 1) return arg + " " + v + ": not a positive number";
    }
  }
  return "";
}

const char* Describe(Leak leak) {
  switch (leak) {
    case Leak::kNone:
      return "";
    case Leak::kCache:
      return "; LEAK cache: MetadataCache::RememberMissing keeps negative "
             "entries out of the LRU, never evicted";
    case Leak::kBuffers:
      return "; LEAK buffers: ObjectFs::KeepFailedBuffer queues refused "
             "uploads' bytes that nothing drains";
    case Leak::kThreads:
      return "; LEAK threads: ObjectFs::MountSnapshot keeps each mount's "
             "cache, and its sweeper thread, after unmount";
    case Leak::kFds:
      return "; LEAK fds: ObjectFs::SpillFailedUpload never closes a spill "
             "file";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (std::string error = ParseArgs(argc, argv, &args); !error.empty()) {
    std::fprintf(stderr,
                 "objectfs-sim: %s (usage: objectfs-sim [--duration S] "
                 "[--leak none|cache|buffers|threads|fds] [--seed N] "
                 "[--threads N] [--quiet] [--monitor])\n",
                 error.c_str());
    return 2;
  }
  // As a long-running daemon with large, short-lived buffers tunes glibc:
  // buffers from 32 KiB up (blocks, write buffers, upload copies) are
  // mapped and unmapped, not carved from the arenas (where, freed, they
  // fragment them), and an arena per core. Without it the resident size
  // crept up by 2 MiB in the first minute and 8 MiB over minutes while the
  // heap in use stayed level (docs/components.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 10);
  mallopt(M_ARENA_MAX, 2);
  std::printf(
      "objectfs: %d clients for %.0f s, seed %llu; block cache 64 MiB, "
      "metadata cache 8192 entries, a snapshot mounted every 250 ms, writes "
      "to a store that refuses 1 upload in 20 and denies archive/%s\n",
      args.threads, args.seconds, static_cast<unsigned long long>(args.seed),
      Describe(args.leak));
  std::fflush(stdout);
  std::error_code ec;
  std::filesystem::path spill_dir =
      std::filesystem::temp_directory_path(ec) /
      ("objectfs-sim-" + std::to_string(getpid()));
  std::filesystem::create_directories(spill_dir, ec);
  if (ec) {
    std::fprintf(stderr, "objectfs: cannot create %s: %s\n", spill_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  std::unique_ptr<memmon::MemoryMonitor> monitor;
  if (args.monitor) {
    memmon::MonitorConfig config = memmon::DefaultMonitorConfig();
    config.sample_interval = std::chrono::milliseconds(100);
    config.warmup_samples = 40;  // past the start-up: cache fill, mounts
    config.alert_log = "none";   // printed below instead
    monitor = std::make_unique<memmon::MemoryMonitor>(config);
    for (const char* name : kCounters) {
      monitor->TrackObject(name,
                           std::strcmp(name, "open-files") == 0 ? 1000 : 0);
    }
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
  auto fs = std::make_unique<ObjectFs>(store, args.leak, spill_dir);
  auto start = Steady::now();
  auto end = start + std::chrono::duration_cast<Steady::duration>(
                         std::chrono::duration<double>(args.seconds));
  std::vector<std::thread> workers;
  for (int i = 0; i < args.threads; ++i) {
    workers.emplace_back(Client, std::ref(*fs), args.seed, i, end);
  }
  workers.emplace_back(Opener, std::ref(*fs), args.seed, end);
  workers.emplace_back(Prober, std::ref(*fs), args.seed, end);
  workers.emplace_back(Mounter, std::ref(*fs), end);
  Levels first = Measure(0), last = first;
  bool have_first = false;
  for (auto next = start + 1s; next < end; next += 1s) {
    std::this_thread::sleep_until(next);
    last =
        Measure(std::chrono::duration<double>(Steady::now() - start).count());
    if (!have_first && last.t >= kCountersFrom - 0.5) {
      first = last;
      have_first = true;
    }
    if (!args.quiet) Progress(*fs, last);
  }
  for (auto& w : workers) w.join();
  if (monitor != nullptr) monitor->Stop();

  // Shut down as a daemon would: everything written reaches the store or is
  // reported.
  Status closed = fs->writes().Close();
  memmon::fs::WriteBufferStats w = fs->writes().Stats();
  memmon::fs::LruCacheStats c = fs->cache().Stats();
  memmon::fs::LruCacheStats m = fs->meta().cache().Stats();
  memmon::fs::BytePoolStats p = fs->pool().Stats();
  std::printf(
      "objectfs: block cache: %llu hits, %llu misses (%.0f %%), %llu "
      "evictions, %llu entries, %.1f MiB\n",
      static_cast<unsigned long long>(c.hits),
      static_cast<unsigned long long>(c.misses), 100 * c.hit_rate,
      static_cast<unsigned long long>(c.evictions),
      static_cast<unsigned long long>(c.entries),
      MiB(static_cast<double>(c.bytes)));
  std::printf(
      "objectfs: metadata cache: %llu hits, %llu misses, %llu evictions, "
      "%llu entries, %.1f MiB\n",
      static_cast<unsigned long long>(m.hits),
      static_cast<unsigned long long>(m.misses),
      static_cast<unsigned long long>(m.evictions),
      static_cast<unsigned long long>(m.entries),
      MiB(static_cast<double>(m.bytes)));
  std::printf(
      "objectfs: write buffer: %llu writes (%.1f MiB), %llu rejected; %llu "
      "flushes, %llu retried, %llu failed (%.1f MiB, spilled to "
      "lost+found); close: %s\n",
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
      "accepted, %.1f MiB stored, %.1f MiB failed and reported to %llu "
      "close() calls; %llu uploads refused (503), %llu spill files)\n",
      books ? "yes" : "NO", MiB(static_cast<double>(fs->accepted_bytes())),
      MiB(static_cast<double>(store.bytes())),
      MiB(static_cast<double>(w.bytes_failed)),
      static_cast<unsigned long long>(fs->close_errors()),
      static_cast<unsigned long long>(store.refused()),
      static_cast<unsigned long long>(fs->spills()));
  // Each counter, the threads and the descriptors after the start-up and
  // at the last whole second of the work.
  const Levels& from = first;
  const Levels& to = last;
  for (std::size_t i = 0; i < std::size(kCounters); ++i) {
    std::printf(
        "objectfs: counter %-16s %7lld -> %7lld objects, %7.1f -> %7.1f MiB "
        "(%.0f s -> %.0f s)%s\n",
        kCounters[i], static_cast<long long>(from.count[i]),
        static_cast<long long>(to.count[i]),
        MiB(static_cast<double>(from.bytes[i])),
        MiB(static_cast<double>(to.bytes[i])), from.t, to.t,
        Grew(from.count[i], to.count[i]) ? "  GREW" : "");
  }
  std::printf("objectfs: threads %27d -> %7d (%.0f s -> %.0f s)%s\n",
              from.threads, to.threads, from.t, to.t,
              Grew(from.threads, to.threads) ? "  GREW" : "");
  std::printf("objectfs: file descriptors %18d -> %7d (%.0f s -> %.0f s)%s\n",
              from.fds, to.fds, from.t, to.t,
              Grew(from.fds, to.fds) ? "  GREW" : "");
  std::fflush(stdout);
  // Exit as many daemons do, without tearing down the caches (the
  // operating system reclaims the heap and stops the sweepers): the heap
  // profile memmon takes at exit shows what the daemon held at the end.
  (void)fs.release();
  std::filesystem::remove_all(spill_dir, ec);
  return books ? 0 : 1;
}
