// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A library that deepbind_target loads with RTLD_DEEPBIND: its own calls
// to malloc and free bind to the C library directly (its dependencies come
// before the global scope), not to a preloaded allocator.

#include <stdlib.h>
#include <string.h>

// Frees blocks the program allocated.
void DeepbindFree(void** blocks, int count) {
  for (int i = 0; i < count; ++i) free(blocks[i]);
}

// Allocates blocks the program frees.
void DeepbindAlloc(void** blocks, int count, size_t size) {
  for (int i = 0; i < count; ++i) {
    blocks[i] = malloc(size);
    memset(blocks[i], 3, size);
  }
}

// Resizes blocks the program allocated (realloc reads the block's header).
void DeepbindRealloc(void** blocks, int count, size_t size) {
  for (int i = 0; i < count; ++i) blocks[i] = realloc(blocks[i], size);
}
