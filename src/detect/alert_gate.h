// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// AlertGate turns a per-sample condition into one alert per episode.
//
// An episode starts when the condition has held on `sustain` consecutive
// samples, and ends when it has been absent on `hysteresis` consecutive
// samples. The gate fires once when an episode starts, unless the previous
// alert of this type fired less than `cooldown` ago; a suppressed start fires
// as soon as the cooldown has passed if the condition still holds.
//
// Thread-safety: none (one gate per alert type, guarded by the monitor).
// Allocation: none.
#ifndef MEMMON_SRC_DETECT_ALERT_GATE_H_
#define MEMMON_SRC_DETECT_ALERT_GATE_H_

#include <chrono>
#include <cstddef>
#include <optional>

namespace memmon::internal {

class AlertGate {
 public:
  using Clock = std::chrono::steady_clock;

  // Feeds one evaluation; true when an alert must be raised now.
  bool Update(bool condition, Clock::time_point now, std::size_t sustain,
              std::size_t hysteresis, Clock::duration cooldown) {
    if (!condition) {
      held_ = 0;
      if (in_episode_ && ++absent_ >= hysteresis) {
        in_episode_ = false;
        fired_ = false;
      }
      return false;
    }
    absent_ = 0;
    ++held_;
    if (!in_episode_ && held_ >= sustain) in_episode_ = true;
    if (!in_episode_ || fired_) return false;
    if (last_fire_ && now - *last_fire_ < cooldown) return false;
    fired_ = true;
    last_fire_ = now;
    return true;
  }

  // Forgets the current episode (the cooldown still applies).
  void ResetEpisode() {
    held_ = absent_ = 0;
    in_episode_ = fired_ = false;
  }

  bool in_episode() const { return in_episode_; }

 private:
  std::size_t held_ = 0;
  std::size_t absent_ = 0;
  bool in_episode_ = false;
  bool fired_ = false;  // this episode has raised its alert
  std::optional<Clock::time_point> last_fire_;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_ALERT_GATE_H_
