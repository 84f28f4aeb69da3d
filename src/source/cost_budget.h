// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// CostBudget bounds the share of time a costly, optional reading may take.
//
// Some sources cost almost nothing on a tidy process and a lot on a big one
// (glibc's mallinfo2() walks every free chunk: 0.1 us on a tidy heap, 10 ms
// with 100 000 free chunks). When two readings in a row took longer than
// `free_cost`, the second is followed by a pause of cost x (1/duty_cycle - 1),
// so over time the reading uses at most about `duty_cycle` of one core; a
// cheap reading runs on every sample, and one slow reading alone (the first
// call's lazy binding, a preemption) pauses nothing. A skipped reading leaves
// its fields unknown rather than stale.
//
// Thread-safety: none (the monitor holds its sampling lock). No allocation.
#ifndef MEMMON_SRC_SOURCE_COST_BUDGET_H_
#define MEMMON_SRC_SOURCE_COST_BUDGET_H_

#include <chrono>

namespace memmon::internal {

class CostBudget {
 public:
  using Clock = std::chrono::steady_clock;

  CostBudget(Clock::duration free_cost, double duty_cycle)
      : free_cost_(free_cost), duty_cycle_(duty_cycle) {}

  // Whether the reading may run at `now`.
  bool Due(Clock::time_point now) const { return now >= next_; }

  // Records a reading that ran from `start` to `end`.
  void Record(Clock::time_point start, Clock::time_point end) {
    Clock::duration cost = end - start;
    bool costly = cost > free_cost_;
    next_ = costly && last_costly_
                ? end + std::chrono::duration_cast<Clock::duration>(
                            cost * (1.0 / duty_cycle_ - 1.0))
                : end;
    last_costly_ = costly;
  }

 private:
  Clock::duration free_cost_;
  double duty_cycle_;
  Clock::time_point next_{};
  bool last_costly_ = false;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_SOURCE_COST_BUDGET_H_
