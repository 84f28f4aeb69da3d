// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A library that allocates, for prog_dlopen.cc: its constructor allocates
// and frees, PluginKeep hands out blocks that outlive the library, and
// PluginChurn allocates and frees.

#include <stdlib.h>
#include <string.h>

static void* volatile g_sink;

__attribute__((constructor)) static void PluginInit(void) {
  for (int i = 0; i < 100; ++i) {
    void* p = malloc(64 + (size_t)i);
    g_sink = p;
    free(p);
  }
}

// Allocates n blocks of `size` bytes into out[]: the leaf of their stacks.
__attribute__((noinline)) void PluginKeep(void** out, int n, size_t size) {
  for (int i = 0; i < n; ++i) {
    out[i] = malloc(size);
    memset(out[i], 9, size);
  }
}

void PluginChurn(int n) {
  for (int i = 0; i < n; ++i) {
    void* p = malloc(32 + (size_t)(i % 100));
    g_sink = p;
    free(p);
  }
}
