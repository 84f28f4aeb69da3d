// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// A bounded, contiguous history of samples.
//
// A plain ring buffer wraps around, and detectors want one std::span. This
// keeps 2 x capacity slots instead: pushes append, and when the end is
// reached the retained samples are moved back to the front once per
// `capacity` pushes, so a push is amortised O(1), never allocates after
// construction, and view() is always one contiguous span, oldest first.
//
// Thread-safety: none; the monitor guards it with its mutex.
#ifndef MEMMON_SRC_DETECT_SAMPLE_HISTORY_H_
#define MEMMON_SRC_DETECT_SAMPLE_HISTORY_H_

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "memmon/sample.h"

namespace memmon::internal {

class SampleHistory {
 public:
  explicit SampleHistory(std::size_t capacity)
      : capacity_(capacity), slots_(2 * capacity) {}

  void Push(const Sample& s) {
    if (size() == capacity_) ++begin_;
    if (end_ == slots_.size()) {
      std::copy(slots_.begin() + static_cast<std::ptrdiff_t>(begin_),
                slots_.end(), slots_.begin());
      end_ -= begin_;
      begin_ = 0;
    }
    slots_[end_++] = s;
  }

  std::span<const Sample> view() const {
    return {slots_.data() + begin_, end_ - begin_};
  }
  std::size_t size() const { return end_ - begin_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return end_ == begin_; }

 private:
  std::size_t capacity_;
  std::vector<Sample> slots_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_SAMPLE_HISTORY_H_
