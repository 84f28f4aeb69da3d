// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// The sampler's boundary: how its entry points are exported, and the
// compiler hints its hot paths are written with.
#ifndef MEMMON_SRC_PRELOAD_IN_MALLOC_H_
#define MEMMON_SRC_PRELOAD_IN_MALLOC_H_

// An exported function: visible outside the library (the build hides
// everything else, -fvisibility=hidden), and named in exports.map, which
// has the last word. MEMMON_EXPORT for C entry points, MEMMON_VISIBLE for
// the C++ ones (operator new and delete).
#define MEMMON_VISIBLE __attribute__((visibility("default")))
#define MEMMON_EXPORT extern "C" MEMMON_VISIBLE

// On the extern declaration of a global that one unit of the sampler
// defines and others use. -fvisibility=hidden covers definitions only: a
// declaration without this makes the compiler load the global's address
// from the GOT before using it, an instruction more on the fast path (the
// call through g_real). Hidden, it is addressed directly, %rip-relative.
#define MEMMON_HIDDEN __attribute__((visibility("hidden")))

#define MEMMON_LIKELY(x) __builtin_expect(!!(x), 1)
#define MEMMON_UNLIKELY(x) __builtin_expect(!!(x), 0)
// A slow path kept out of its caller, so that the fast path stays a few
// instructions with no stack frame to set up.
#define MEMMON_NOINLINE __attribute__((noinline))
// Inlined even where the compiler would not: a frame fewer to unwind on
// the sampling path, or a fast path that must not become a call.
#define MEMMON_ALWAYS_INLINE inline __attribute__((always_inline))

#endif  // MEMMON_SRC_PRELOAD_IN_MALLOC_H_
