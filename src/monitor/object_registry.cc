// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "monitor/object_registry.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "base/mutex.h"

namespace memmon {
namespace internal {
namespace {

// The fast path reads only `tls_block`: a trivially destructible, constant-
// initialised thread_local is a plain %fs-relative load. The owner with the
// destructor is touched only on the slow path, when the block is created.
// Initial-exec: the library is built position-independent, and the default
// model for that is a __tls_get_addr call, which made the compiler save
// registers on the fast path (a third of its instructions). The 16 bytes
// fit glibc's static TLS surplus, so a shared library that links memmon can
// still be dlopen()ed.
constinit thread_local ThreadBlock* tls_block
    [[gnu::tls_model("initial-exec")]] = nullptr;
constinit thread_local bool tls_exiting [[gnu::tls_model("initial-exec")]] =
    false;

struct BlockOwner {
  ThreadBlock* block = nullptr;
  ~BlockOwner() {
    if (block == nullptr) return;
    tls_exiting = true;
    tls_block = nullptr;
    ObjectRegistry::Get().ReleaseThread(block);
  }
};
thread_local BlockOwner tls_owner;

inline void Bump(std::atomic<uint64_t>& v, uint64_t by) {
  // Single writer: a relaxed load and store, no locked read-modify-write.
  v.store(v.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

void AddTo(CounterTotals* t, const Slot& s) {
  t->increments += s.increments.load(std::memory_order_relaxed);
  t->decrements += s.decrements.load(std::memory_order_relaxed);
  t->inc_bytes += s.inc_bytes.load(std::memory_order_relaxed);
  t->dec_bytes += s.dec_bytes.load(std::memory_order_relaxed);
}

}  // namespace

ObjectRegistry& ObjectRegistry::Get() {
  // Leaked on purpose: threads may exit (and fold their slots in) after
  // static destructors have run.
  static ObjectRegistry* registry = new ObjectRegistry();
  return *registry;
}

uint64_t ObjectRegistry::Hash(std::string_view name) {
  return std::hash<std::string_view>{}(name);
}

ObjectCounter* ObjectRegistry::Find(std::string_view name) const {
  const NameTable* table = names_.load(std::memory_order_acquire);
  if (table == nullptr) return nullptr;
  for (uint64_t i = Hash(name) & table->mask;; i = (i + 1) & table->mask) {
    ObjectCounter* c = table->entries[i];
    if (c == nullptr) return nullptr;
    if (c->name() == name) return c;
  }
}

ObjectCounter& ObjectRegistry::Track(std::string_view name,
                                     std::optional<uint64_t> threshold) {
  ObjectCounter* c = Find(name);
  if (c == nullptr) {
    MutexLock l(&mu_);
    c = Find(name);  // another thread may have added it
    if (c == nullptr) {
      auto id = static_cast<uint32_t>(counters_.size());
      Slot& overflow = overflow_.emplace_back();
      retired_.emplace_back();
      observed_.emplace_back();
      counters_.emplace_back(
          new ObjectCounter(std::string(name), id, &overflow));
      c = counters_.back().get();
      // Publish a table at most half full.
      uint64_t capacity = 16;
      while (capacity < 2 * counters_.size()) capacity *= 2;
      auto table = std::make_unique<NameTable>();
      table->mask = capacity - 1;
      table->entries = std::make_unique<ObjectCounter*[]>(capacity);
      for (const auto& counter : counters_) {
        uint64_t i = Hash(counter->name()) & table->mask;
        while (table->entries[i] != nullptr) i = (i + 1) & table->mask;
        table->entries[i] = counter.get();
      }
      names_.store(table.get(), std::memory_order_release);
      name_tables_.push_back(std::move(table));
    }
  }
  if (threshold) c->threshold_.store(*threshold, std::memory_order_relaxed);
  return *c;
}

Slot* ObjectRegistry::SlotFor(uint32_t id) {
  if (tls_exiting || id >= kSlotsPerChunk * kMaxChunks) return nullptr;
  ThreadBlock* block = tls_block;
  if (block == nullptr) {
    block = new (std::nothrow) ThreadBlock();
    if (block == nullptr) return nullptr;
    {
      MutexLock l(&mu_);
      block->next = blocks_;
      blocks_ = block;
    }
    tls_owner.block = block;  // registers the exit hook
    tls_block = block;
  }
  std::atomic<Slot*>& chunk = block->chunks[id / kSlotsPerChunk];
  Slot* slots = chunk.load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new (std::nothrow) Slot[kSlotsPerChunk];
    if (slots == nullptr) return nullptr;
    chunk.store(slots, std::memory_order_release);  // readers see zeroes
  }
  return slots + id % kSlotsPerChunk;
}

void ObjectRegistry::AddSlow(const ObjectCounter& c, uint64_t inc, uint64_t dec,
                             uint64_t inc_bytes, uint64_t dec_bytes) noexcept {
  if (Slot* s = Get().SlotFor(c.id_)) {
    Bump(s->increments, inc);
    Bump(s->decrements, dec);
    Bump(s->inc_bytes, inc_bytes);
    Bump(s->dec_bytes, dec_bytes);
    return;
  }
  c.overflow_->increments.fetch_add(inc, std::memory_order_relaxed);
  c.overflow_->decrements.fetch_add(dec, std::memory_order_relaxed);
  c.overflow_->inc_bytes.fetch_add(inc_bytes, std::memory_order_relaxed);
  c.overflow_->dec_bytes.fetch_add(dec_bytes, std::memory_order_relaxed);
}

void ObjectRegistry::ReleaseThread(ThreadBlock* block) {
  MutexLock l(&mu_);
  for (uint32_t c = 0; c < kMaxChunks; ++c) {
    Slot* slots = block->chunks[c].load(std::memory_order_relaxed);
    if (slots == nullptr) continue;
    for (uint32_t j = 0; j < kSlotsPerChunk; ++j) {
      uint32_t id = c * kSlotsPerChunk + j;
      if (id >= retired_.size()) break;
      Slot& r = retired_[id];
      const Slot& s = slots[j];
      Bump(r.increments, s.increments.load(std::memory_order_relaxed));
      Bump(r.decrements, s.decrements.load(std::memory_order_relaxed));
      Bump(r.inc_bytes, s.inc_bytes.load(std::memory_order_relaxed));
      Bump(r.dec_bytes, s.dec_bytes.load(std::memory_order_relaxed));
    }
    delete[] slots;
  }
  for (ThreadBlock** p = &blocks_; *p != nullptr; p = &(*p)->next) {
    if (*p == block) {
      *p = block->next;
      break;
    }
  }
  delete block;
}

CounterTotals ObjectRegistry::TotalsLocked(uint32_t id) const {
  CounterTotals t;
  AddTo(&t, retired_[id]);
  AddTo(&t, overflow_[id]);
  for (const ThreadBlock* b = blocks_; b != nullptr; b = b->next) {
    const Slot* slots =
        b->chunks[id / kSlotsPerChunk].load(std::memory_order_acquire);
    if (slots != nullptr) AddTo(&t, slots[id % kSlotsPerChunk]);
  }
  return t;
}

CounterTotals ObjectRegistry::Totals(uint32_t id) const {
  MutexLock l(&mu_);
  return TotalsLocked(id);
}

void ObjectRegistry::ObserveLocked(uint32_t id,
                                   std::chrono::system_clock::time_point now,
                                   double rearm_fraction,
                                   std::vector<ObjectEvent>* events) {
  CounterTotals t = TotalsLocked(id);
  Observed& o = observed_[id];
  if (t.increments != o.increments) {
    o.increments = t.increments;
    o.last_increment = now;
  }
  if (t.decrements != o.decrements) {
    o.decrements = t.decrements;
    o.last_decrement = now;
  }
  int64_t count = t.count();
  int64_t bytes = t.bytes();
  o.peak_count = std::max(o.peak_count, count);
  o.peak_bytes = std::max(o.peak_bytes, bytes);
  if (count < 0) o.tracking_error = true;
  if (events == nullptr) return;  // a read: report nothing, change no state

  const ObjectCounter* counter = counters_[id].get();
  if (count < 0 && !o.negative) {
    events->push_back({ObjectEvent::kNegativeCount, counter, count, bytes, 0});
  }
  o.negative = count < 0;
  uint64_t threshold = counter->alert_threshold();
  if (threshold == 0) return;
  double rearm_below = static_cast<double>(threshold) * (1 - rearm_fraction);
  if (o.armed && count >= static_cast<int64_t>(threshold)) {
    o.armed = false;
    o.crossed = now;
    events->push_back(
        {ObjectEvent::kThresholdCrossed, counter, count, bytes, threshold});
  } else if (!o.armed && static_cast<double>(count) < rearm_below) {
    o.armed = true;
    events->push_back({ObjectEvent::kRearmed, counter, count, bytes, threshold,
                       rearm_below, o.crossed});
  }
}

void ObjectRegistry::Observe(std::chrono::system_clock::time_point now,
                             double rearm_fraction,
                             std::vector<ObjectEvent>* events) {
  MutexLock l(&mu_);
  for (uint32_t id = 0; id < counters_.size(); ++id) {
    ObserveLocked(id, now, rearm_fraction, events);
  }
}

TrackedObject ObjectRegistry::SnapshotLocked(uint32_t id) const {
  CounterTotals t = TotalsLocked(id);
  const Observed& o = observed_[id];
  TrackedObject obj;
  obj.name = counters_[id]->name();
  obj.count = t.count();
  obj.bytes = t.bytes();
  obj.peak_count = std::max(o.peak_count, obj.count);
  obj.peak_bytes = std::max(o.peak_bytes, obj.bytes);
  obj.alert_threshold = counters_[id]->alert_threshold();
  obj.increments = t.increments;
  obj.decrements = t.decrements;
  obj.last_increment = o.last_increment;
  obj.last_decrement = o.last_decrement;
  obj.tracking_error = o.tracking_error || obj.count < 0;
  return obj;
}

std::vector<TrackedObject> ObjectRegistry::Snapshot() const {
  MutexLock l(&mu_);
  std::vector<TrackedObject> out;
  out.reserve(counters_.size());
  for (uint32_t id = 0; id < counters_.size(); ++id) {
    out.push_back(SnapshotLocked(id));
  }
  return out;
}

std::string DemangledTypeName(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  return out;
}

}  // namespace internal

ObjectCounter::ObjectCounter(std::string name, uint32_t id,
                             internal::Slot* overflow)
    : name_(std::move(name)), id_(id), overflow_(overflow) {}

namespace internal {
namespace {

// This thread's slot for counter `id`: two dependent loads on the fast
// path; the registry's slow path creates the block or chunk on first touch.
inline Slot* LocalSlot(uint32_t id) {
  ThreadBlock* block = tls_block;
  if (block != nullptr && id < kSlotsPerChunk * kMaxChunks) [[likely]] {
    Slot* slots =
        block->chunks[id / kSlotsPerChunk].load(std::memory_order_relaxed);
    if (slots != nullptr) [[likely]]
      return slots + id % kSlotsPerChunk;
  }
  return nullptr;
}

}  // namespace
}  // namespace internal

void ObjectCounter::Increment(uint64_t bytes) noexcept {
  internal::Slot* s = internal::LocalSlot(id_);
  if (s == nullptr) [[unlikely]]
    return internal::ObjectRegistry::AddSlow(*this, 1, 0, bytes, 0);
  internal::Bump(s->increments, 1);
  internal::Bump(s->inc_bytes, bytes);
}

void ObjectCounter::Decrement(uint64_t bytes) noexcept {
  internal::Slot* s = internal::LocalSlot(id_);
  if (s == nullptr) [[unlikely]]
    return internal::ObjectRegistry::AddSlow(*this, 0, 1, 0, bytes);
  internal::Bump(s->decrements, 1);
  internal::Bump(s->dec_bytes, bytes);
}

void ObjectCounter::Add(int64_t objects, int64_t bytes) noexcept {
  // Two's complement: the magnitudes of negative values, safely.
  auto up = [](int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; };
  auto down = [](int64_t v) {
    return v < 0 ? 0 - static_cast<uint64_t>(v) : 0;
  };
  if (internal::Slot* s = internal::LocalSlot(id_)) [[likely]] {
    internal::Bump(s->increments, up(objects));
    internal::Bump(s->decrements, down(objects));
    internal::Bump(s->inc_bytes, up(bytes));
    internal::Bump(s->dec_bytes, down(bytes));
    return;
  }
  internal::ObjectRegistry::AddSlow(*this, up(objects), down(objects),
                                    up(bytes), down(bytes));
}

int64_t ObjectCounter::count() const {
  return internal::ObjectRegistry::Get().Totals(id_).count();
}

int64_t ObjectCounter::bytes() const {
  return internal::ObjectRegistry::Get().Totals(id_).bytes();
}

ObjectCounter& TrackObject(std::string_view name, uint64_t alert_threshold) {
  return internal::ObjectRegistry::Get().Track(name, alert_threshold);
}

ObjectCounter& GetObjectCounter(std::string_view name) {
  return internal::ObjectRegistry::Get().Track(name, std::nullopt);
}

}  // namespace memmon
