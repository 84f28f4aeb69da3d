// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// Writes alerts as JSON lines to stderr, to a file, or nowhere.
//
// Each line goes out in a single write(2), so lines from several monitors
// (or processes appending to one file) never interleave mid-line.
//
// Thread-safety: Write() may be called concurrently; Open() may not.
#ifndef MEMMON_SRC_MONITOR_ALERT_LOG_H_
#define MEMMON_SRC_MONITOR_ALERT_LOG_H_

#include <string>
#include <string_view>

#include "memmon/status.h"

namespace memmon::internal {

class AlertLog {
 public:
  AlertLog() = default;
  ~AlertLog();
  AlertLog(const AlertLog&) = delete;
  AlertLog& operator=(const AlertLog&) = delete;

  // "stderr", "none", or a path opened for append (created 0600).
  Status Open(const std::string& target);
  // Appends `line` and a newline. Errors are dropped: an alert log must
  // never take the service down.
  void Write(std::string_view line) const;

 private:
  int fd_ = -1;
  bool owned_ = false;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_MONITOR_ALERT_LOG_H_
