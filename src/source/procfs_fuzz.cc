// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer target for the /proc parsers (`make fuzz`; clang only): any
// text is parsed without a crash or sanitizer report, and what is accepted
// is self-consistent. Seeds: tests/fuzz/procfs/.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "source/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  memmon::internal::ProcStat st;
  if (memmon::internal::ParseProcStat(text, &st)) {
    // Accepted: there was a ')' and a one-letter state after it.
    if (text.rfind(')') == std::string_view::npos) __builtin_trap();
  }
  for (std::string_view key : {"VmRSS", "Pss", "Threads", ""}) {
    (void)memmon::internal::ParseKeyedValue(text, key);
  }
  // The dirent walker must stay inside the buffer it is given.
  (void)memmon::internal::CountDirents(reinterpret_cast<const char*>(data),
                                       static_cast<long>(size));
  return 0;
}
