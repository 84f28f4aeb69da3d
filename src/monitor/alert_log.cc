// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "monitor/alert_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace memmon::internal {

AlertLog::~AlertLog() {
  if (owned_) close(fd_);
}

Status AlertLog::Open(const std::string& target) {
  int fd = -1;
  bool owned = false;
  if (target == "stderr") {
    fd = STDERR_FILENO;
  } else if (target != "none") {
    fd = open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Status::IoError("cannot open alert log " + target + ": " +
                             std::strerror(errno));
    }
    owned = true;
  }
  if (owned_) close(fd_);
  fd_ = fd;
  owned_ = owned;
  return Status::Ok();
}

void AlertLog::Write(std::string_view line) const {
  if (fd_ < 0) return;
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace memmon::internal
