// Copyright 2026 The memmon Authors.
// SPDX-License-Identifier: Apache-2.0
//
// AlertGate turns a per-sample condition into episodes: one firing record
// when an episode opens, one resolved record when it ends.
//
// An episode starts when the condition has held on `sustain` consecutive
// samples, and ends when it has been absent on `hysteresis` consecutive
// samples and for at least `resolve_after` since it last held. The gate
// fires once when an episode starts, unless the previous alert of this type
// fired less than `cooldown` ago; a suppressed start fires as soon as the
// cooldown has passed if the condition still holds. An episode that fired
// resolves when it ends; one that never fired (its start was suppressed by
// the cooldown throughout) ends silently. A condition that drops out for
// less than that and comes back continues its episode: no resolution, no
// second firing.
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

  // MonitorConfig's sustain_samples, hysteresis_samples, resolve_after and
  // alert_cooldown.
  struct Rules {
    std::size_t sustain = 3;
    std::size_t hysteresis = 3;
    Clock::duration resolve_after{};
    Clock::duration cooldown{};
  };

  enum class Event {
    kNone,
    kFire,     // an episode opened and fired: raise the alert now
    kResolve,  // an episode that fired has ended: raise its resolution now
  };

  // Feeds one evaluation; says what must be raised now.
  Event Update(bool condition, Clock::time_point now, const Rules& rules) {
    if (!condition) {
      held_ = 0;
      if (!in_episode_ || ++absent_ < rules.hysteresis ||
          now - last_held_ < rules.resolve_after) {
        return Event::kNone;
      }
      bool fired = fired_;
      in_episode_ = fired_ = false;
      absent_ = 0;
      return fired ? Event::kResolve : Event::kNone;
    }
    absent_ = 0;
    ++held_;
    last_held_ = now;
    if (!in_episode_ && held_ >= rules.sustain) in_episode_ = true;
    if (!in_episode_ || fired_) return Event::kNone;
    if (last_fire_ && now - *last_fire_ < rules.cooldown) return Event::kNone;
    fired_ = true;
    last_fire_ = now;
    return Event::kFire;
  }

  // Forgets the current episode (the cooldown still applies). Returns true
  // when that episode had fired, so the caller can raise its resolution.
  bool ResetEpisode() {
    bool fired = firing();
    held_ = absent_ = 0;
    in_episode_ = fired_ = false;
    return fired;
  }

  bool in_episode() const { return in_episode_; }
  // In an episode that has fired (and not yet resolved).
  bool firing() const { return in_episode_ && fired_; }

 private:
  std::size_t held_ = 0;
  std::size_t absent_ = 0;
  bool in_episode_ = false;
  bool fired_ = false;  // this episode has raised its alert
  Clock::time_point last_held_{};
  std::optional<Clock::time_point> last_fire_;
};

}  // namespace memmon::internal

#endif  // MEMMON_SRC_DETECT_ALERT_GATE_H_
