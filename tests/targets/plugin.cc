// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A plugin dlopen'ed by dlopen_target.cc: leaks in PluginLeak.

#include <cstddef>
#include <cstring>

namespace {
void* volatile g_sink;
}

extern "C" __attribute__((noinline)) void PluginLeak(int count,
                                                     std::size_t size) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[size];
    std::memset(p, 6, size);
    g_sink = p;
  }
}

extern "C" void PluginChurn(int count) {
  for (int i = 0; i < count; ++i) {
    char* p = new char[32 + i % 100];
    g_sink = p;
    delete[] p;
  }
}
