// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A Status is the result of an operation that can fail: ok, or a code and a
// one-line message that names what was wrong ("sample_interval must be
// positive, got 0ms"). A successful Status holds an empty string and costs no
// allocation.
//
// Thread-safety: a Status is a value; distinct objects may be used from
// distinct threads freely.
#ifndef MEMMON_STATUS_H_
#define MEMMON_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace memmon {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller passed something malformed
  kFailedPrecondition,  // the object is not in a state that allows the call
  kNotFound,            // a file, process or name does not exist
  kIoError,             // the operating system refused a read or write
  kUnavailable,         // the facility is not present in this process
  kInternal,            // a bug in memmon
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status NotFound(std::string m) {
    return {StatusCode::kNotFound, std::move(m)};
  }
  static Status IoError(std::string m) {
    return {StatusCode::kIoError, std::move(m)};
  }
  static Status Unavailable(std::string m) {
    return {StatusCode::kUnavailable, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Empty when ok().
  const std::string& message() const { return message_; }

  // "ok", or "<code name>: <message>".
  std::string ToString() const;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::string_view ToString(StatusCode code);

}  // namespace memmon

#endif  // MEMMON_STATUS_H_
