// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// What the hooks read from, and write into, glibc's blocks: the chunk
// header (the size word before a block), and the wrap that lets free() tell
// a sampled block by that header, without a lookup.
//
// Bytes in use are counted in the allocator's own unit. Under glibc that is
// the chunk size, read from the chunk header (the word before the block,
// low three bits are flags): free() reads that word next anyway, whereas
// malloc_usable_size() also inspects the following chunk, a second cache
// miss that cost 12 % of an allocation-heavy program. Under jemalloc and
// tcmalloc it is malloc_usable_size(), a size-class lookup.
//
// Under glibc, free() reads the chunk header anyway (for the bytes in use),
// so the header tells it whether a block may be sampled, without a lookup:
// a sampled block smaller than kBigChunk is handed out `offset` bytes into
// a larger glibc block, and the word before it, where glibc keeps the chunk
// size, holds kWrapMark, which is no chunk size; the word before that holds
// the offset and the block's live-table slot (see WrapWord). A header word
// of kBigChunk or more (a big block, sampled or not, a wrapped block, an
// arena block) sends free() to FreeBig, which erases a wrapped block's
// entry by its slot and looks a big one up. One block in
// MEMMON_SAMPLE_RATE bytes is sampled, so the 16 bytes (or the alignment)
// added are nothing in RSS.
// Blocks of kBigChunk or more are rare and costly to free anyway, and are
// never wrapped (glibc's in-place realloc of them stays available).
//
// Contract: header-only, inline; the functions that read a chunk header
// are only for blocks of glibc's (g_real.glibc_chunks), or of the arena.
#ifndef MEMMON_SRC_PRELOAD_GLIBC_WRAP_H_
#define MEMMON_SRC_PRELOAD_GLIBC_WRAP_H_

#include <cstddef>
#include <cstdint>

#include "preload/in_malloc.h"
#include "preload/real_allocator.h"

namespace memmon::preload {

inline constexpr uintptr_t kBigChunk = 256 * 1024;
// Header words that are no chunk size: a wrapped block's, and a bootstrap
// arena block's (BootAlloc).
inline constexpr uintptr_t kWrapMark = ~uintptr_t{0xF};
inline constexpr uintptr_t kBootMark = ~uintptr_t{0x1F};
static_assert(kBootMark >= kBigChunk && kWrapMark >= kBigChunk);

// A wrapped block's second header word: the log2 of its offset into the
// glibc block (a power of two, 16 or the alignment) in the low byte, and
// above it the block's live-table slot reference (LiveTable::Insert), 0
// until the sample is recorded or when the table had no room.
MEMMON_IN_MALLOC inline uintptr_t& WrapWord(void* p) {
  return reinterpret_cast<uintptr_t*>(p)[-2];
}
MEMMON_IN_MALLOC inline size_t WrapOffset(void* p) {
  return size_t{1} << (WrapWord(p) & 63);
}
MEMMON_IN_MALLOC inline size_t WrapSlot(void* p) { return WrapWord(p) >> 8; }
MEMMON_IN_MALLOC inline void SetWrapSlot(void* p, size_t slot) {
  WrapWord(p) = (WrapWord(p) & 0xFF) | (static_cast<uintptr_t>(slot) << 8);
}

MEMMON_IN_MALLOC inline size_t GlibcChunkSize(const void* p) {
  return reinterpret_cast<const size_t*>(p)[-1] & ~static_cast<size_t>(7);
}

MEMMON_IN_MALLOC inline size_t UsableSize(void* p) {
  if (MEMMON_LIKELY(g_real.glibc_chunks)) return GlibcChunkSize(p);
  return g_real.usable_size != nullptr ? g_real.usable_size(p) : 0;
}

MEMMON_IN_MALLOC inline uintptr_t HeaderWord(const void* p) {
  return reinterpret_cast<const uintptr_t*>(p)[-1];
}

// The glibc block a wrapped block lives in.
MEMMON_IN_MALLOC inline void* Unwrapped(void* p) {
  return static_cast<char*>(p) - WrapOffset(p);
}

// What the program may use of a wrapped block: glibc's answer for the
// block it lives in, less the offset.
MEMMON_IN_MALLOC inline size_t WrappedUsableSize(void* p) {
  return g_real.usable_size(Unwrapped(p)) - WrapOffset(p);
}

// A block of `n` bytes (aligned to `align` for kAligned, zeroed for
// kCalloc) that is to be sampled: wrapped when smaller than kBigChunk.
// `*block` receives glibc's block (counted in bytes in use).
MEMMON_IN_MALLOC inline void* AllocWrapped(AllocKind kind, size_t n,
                                           size_t align, void** block) {
  if (n >= kBigChunk) {  // its own header sends free() to FreeBig
    *block = RealAlloc(kind, n, align);
    return *block;
  }
  const size_t offset = align > 16 ? align : 16;
  void* q = RealAlloc(kind, n + offset, align);
  *block = q;
  if (q == nullptr) return nullptr;
  uintptr_t* p = reinterpret_cast<uintptr_t*>(static_cast<char*>(q) + offset);
  p[-1] = kWrapMark;
  WrapWord(p) = static_cast<uintptr_t>(__builtin_ctzll(offset));  // no slot
  return p;
}

}  // namespace memmon::preload

#endif  // MEMMON_SRC_PRELOAD_GLIBC_WRAP_H_
