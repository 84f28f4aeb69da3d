// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// How a symbol is exported from one of memmon's shared libraries
// (libmemmon_preload.so, libmemmon_heap.so, libmemmon_writer.so,
// libmemmon_agent.so): each is built with -fvisibility=hidden, so a
// function is visible outside its library only when marked here (and, for
// the sampler, named in src/preload/exports.map, which has the last word).
//
// Macros only, no code: the one header of memmon's the sampler includes
// (scripts/check-layers allows src/preload/ this file and nothing else
// from src/base/).
#ifndef MEMMON_SRC_BASE_EXPORT_H_
#define MEMMON_SRC_BASE_EXPORT_H_

// A C++ function visible outside its library (the sampler's operator new
// and delete).
#define MEMMON_VISIBLE __attribute__((visibility("default")))
// A C entry point visible outside its library.
#define MEMMON_EXPORT extern "C" MEMMON_VISIBLE

#endif  // MEMMON_SRC_BASE_EXPORT_H_
