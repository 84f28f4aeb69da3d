// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the RSS breakdown (`make fuzz`; clang only): any
// smaps text, with any heap figures, is classified without a crash or
// sanitizer report, and the parts add up (heap + stacks + code + file +
// anon_other + unexplained = the larger of the smaps sum and the kernel's
// RSS; in use + free-held = heap when split); the breakdown's JSON reads
// back; and any text given to the explain.json reader is refused or read,
// never a crash. Input: 26 bytes of figures, then the text. Seeds:
// tests/fuzz/rss_breakdown/.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "source/rss_breakdown.h"

namespace {

uint64_t Take(const uint8_t*& data, size_t& size) {
  uint64_t v = 0;
  if (size >= 8) {
    std::memcpy(&v, data, 8);
    data += 8;
    size -= 8;
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using memmon::MemoryPart;
  uint8_t flags = size > 0 ? data[0] : 0;
  if (size > 0) {
    ++data;
    --size;
  }
  // Figures up to 2^40 bytes: sums of a few of them cannot overflow.
  uint64_t inuse = Take(data, size) & ((uint64_t{1} << 40) - 1);
  uint64_t free = Take(data, size) & ((uint64_t{1} << 40) - 1);
  uint64_t kernel = Take(data, size) & ((uint64_t{1} << 40) - 1);
  std::string_view text(reinterpret_cast<const char*>(data), size);

  memmon::MemoryBreakdown parsed;
  (void)memmon::internal::ParseBreakdownJson(text, &parsed);

  memmon::internal::ExplainInputs in;
  in.pid = 1;
  in.smaps = text;
  in.threads = 1;
  in.stack_pointers = {inuse};
  if (flags & 1) {
    in.heap.kind = (flags & 2) ? memmon::AllocatorKind::kGlibc
                               : memmon::AllocatorKind::kJemalloc;
    in.heap.inuse = inuse;
    if (flags & 4) in.heap.free = free;
    if (flags & 8) in.heap.system = inuse + free + (flags >> 4) * 4096;
    in.heap_figures = "sampler";
  }
  if (flags & 0x40) in.kernel_rss = kernel;
  memmon::MemoryBreakdown b = memmon::internal::BuildBreakdown(in);
  if (b.parts.size() != static_cast<size_t>(memmon::kMemoryPartCount))
    __builtin_trap();
  auto rss = [&](MemoryPart p) { return b.part(p).rss_bytes; };
  uint64_t sum = 0;
  for (MemoryPart p :
       {MemoryPart::kHeap, MemoryPart::kStacks, MemoryPart::kCode,
        MemoryPart::kFile, MemoryPart::kAnonOther, MemoryPart::kUnexplained}) {
    sum += rss(p).value_or(0);
  }
  uint64_t want = b.rss_bytes;
  if (b.kernel_rss_bytes && *b.kernel_rss_bytes > want)
    want = *b.kernel_rss_bytes;
  if (sum != want) __builtin_trap();
  if (rss(MemoryPart::kHeapInUse) && rss(MemoryPart::kAllocatorFree) &&
      *rss(MemoryPart::kHeapInUse) + *rss(MemoryPart::kAllocatorFree) !=
          rss(MemoryPart::kHeap).value_or(0)) {
    __builtin_trap();
  }
  memmon::MemoryBreakdown back;
  if (!memmon::internal::ParseBreakdownJson(memmon::ToJson(b), &back).ok())
    __builtin_trap();
  if (back.rss_bytes != b.rss_bytes || back.parts.size() != b.parts.size())
    __builtin_trap();
  return 0;
}
