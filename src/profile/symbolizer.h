// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Symbolizer turns code addresses of this process into function names,
// source files and lines, with the chain of inlined calls at each address.
//
// It reads the ELF and DWARF of every mapped object with elfutils libdw
// (symbol tables, .debug_info and .debug_line, separate debug files found
// the standard way); where an address has no DWARF it falls back to the
// symbol table, then to dladdr(). Names are demangled with
// abi::__cxa_demangle.
//
// Thread-safety: none; one Symbolizer per thread. Allocates freely: never
// use it inside malloc (the profile writer runs it on its own thread, or at
// exit).
#ifndef MEMMON_SRC_PROFILE_SYMBOLIZER_H_
#define MEMMON_SRC_PROFILE_SYMBOLIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "profile/modules.h"

namespace memmon::profile {

struct SymbolFrame {
  std::string function;     // demangled; empty when unknown
  std::string system_name;  // mangled, as in the symbol table
  std::string file;         // empty when unknown
  int line = 0;
};

// "_ZN3foo3barEv" -> "foo::bar()"; returns the input when it is not a
// mangled name.
std::string Demangle(const std::string& name);

class Symbolizer {
 public:
  Symbolizer();
  // Another process's (or this one's at an earlier time) addresses, from
  // the text of its /proc/PID/maps: objects are read from their paths,
  // which must still hold the same files. Used for raw heap dumps
  // (raw_heap.h); no dladdr fallback.
  explicit Symbolizer(const std::string& maps_text);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Frames at `pc` (an address inside a call instruction or the
  // instruction itself), innermost inlined function first, the function
  // that contains the code last. Never empty: an unknown address gives one
  // frame with an empty function.
  // Results are cached per address for the life of the Symbolizer.
  // The scopes of each compilation unit are indexed the first time an
  // address falls in it (one walk of its DWARF), so a new address costs a
  // binary search, not a walk of its unit.
  std::vector<SymbolFrame> Symbolize(uintptr_t pc);

  // The same frames found the slow way, walking the unit's DWARF for this
  // address alone (dwarf_getscopes), uncached: the reference the index is
  // tested against.
  std::vector<SymbolFrame> SymbolizeByWalking(uintptr_t pc);

 private:
  // `walk`: SymbolizeByWalking's way, else through the unit's index.
  std::vector<SymbolFrame> Lookup(uintptr_t pc, bool walk);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One Symbolizer kept across profiles, rebuilt only when the set of loaded
// objects (path and load bias of each) changes: reading DWARF (and
// inflating compressed debug sections) is most of what a profile costs, so
// periodic and on-request profiles need not pay it again. Its memory (the
// DWARF read so far, about a megabyte for a program and libc, and the
// index of each unit touched: 1.9 MB more for 1000 addresses spread over
// every unit of bench's symbolizer_benchmark) is kept for the life of the
// cache. Thread-safety: none; callers serialise.
class SymbolizerCache {
 public:
  Symbolizer* For(const std::vector<Module>& modules);

 private:
  std::vector<std::pair<std::string, uintptr_t>> key_;
  std::unique_ptr<Symbolizer> symbolizer_;
};

}  // namespace memmon::profile

#endif  // MEMMON_SRC_PROFILE_SYMBOLIZER_H_
