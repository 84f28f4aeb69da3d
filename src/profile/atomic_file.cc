// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0

#include "profile/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace memmon::profile {
namespace {
std::atomic<unsigned> g_counter{0};

std::string Errno(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}
}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." +
                    std::to_string(g_counter.fetch_add(1));
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError(Errno("cannot create " + tmp, errno));
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      unlink(tmp.c_str());
      return Status::IoError(Errno("cannot write " + tmp, err));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::IoError(Errno("cannot write " + tmp, err));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::IoError(Errno("cannot rename " + tmp + " to " + path, err));
  }
  return Status::Ok();
}

Status MakeDirectories(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("empty directory name");
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::IoError(
          Errno("cannot create directory " + partial, errno));
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return Status::IoError(Errno("cannot create directory " + dir, errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status::IoError("cannot create directory " + dir +
                           ": a file of that name exists");
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return Status::IoError(
        Errno("directory " + dir + " is not writable", errno));
  }
  return Status::Ok();
}

}  // namespace memmon::profile
