// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Mutex and MutexLock: std::mutex with Clang's thread-safety annotations,
// so that "guarded by" and "requires" are stated in the code and checked by
// `clang -Wthread-safety` (`make lint` runs it over the files that use
// them), not only described in comments. With other compilers the
// annotations expand to nothing and Mutex is a std::mutex.
//
// Mutex is BasicLockable (lock/unlock), so std::condition_variable_any can
// wait on it.
//
// Thread-safety: that of std::mutex. Allocation: none. Not for code that
// runs inside malloc (the sampler has its own rules: src/preload/).
//
// Typical use:
//   Mutex mu;
//   int count GUARDED_BY(mu) = 0;
//   void Add() { MutexLock l(&mu); ++count; }
#ifndef MEMMON_SRC_BASE_MUTEX_H_
#define MEMMON_SRC_BASE_MUTEX_H_

#include <mutex>

#if defined(__clang__)
#define MEMMON_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MEMMON_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(name) MEMMON_THREAD_ANNOTATION(capability(name))
#define SCOPED_CAPABILITY MEMMON_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(m) MEMMON_THREAD_ANNOTATION(guarded_by(m))
#define PT_GUARDED_BY(m) MEMMON_THREAD_ANNOTATION(pt_guarded_by(m))
#define ACQUIRED_BEFORE(...) \
  MEMMON_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define REQUIRES(...) MEMMON_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) MEMMON_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) MEMMON_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) MEMMON_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS \
  MEMMON_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace memmon::internal {

class CAPABILITY("mutex") Mutex {
 public:
  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() RELEASE() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_BASE_MUTEX_H_
