#!/usr/bin/env bash
# memmon watch: bad input exits 2 with one line; a descriptor leak in another
# process is reported (--json); the watch ends when the process exits, or at
# --duration.
set -euo pipefail
memmon=$1 leaker=$2
fail() { echo "FAIL: $*"; exit 1; }

expect_usage_error() {  # expect_usage_error WHAT ARGS...
  local what=$1; shift
  set +e; err=$("$memmon" "$@" 2>&1 >/dev/null); rc=$?; set -e
  [[ $rc -eq 2 ]] || fail "$what: exit $rc, want 2"
  [[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "$what: want one line, got: $err"
  [[ $err == memmon:* ]] || fail "$what: line must start with memmon: $err"
  echo "ok: $what -> $err"
}
expect_usage_error "missing pid" watch
expect_usage_error "no such pid" watch 4194304
expect_usage_error "bad interval" watch --interval 2x $$
expect_usage_error "interval without unit" watch --interval 10 $$
expect_usage_error "bad duration" watch --duration soon $$

# A leak of 900 descriptors over ~9 s, watched every 50 ms (a rise counts
# once it has lasted longer than a burst: 30 samples and 6 s).
"$leaker" 900 10 & pid=$!
out=$("$memmon" watch --interval 50ms --warmup-samples 5 --json "$pid")
wait "$pid" || fail "the leaker failed"
echo "$out"
echo "$out" | grep -q '"type":"fd_leak"' || fail "no fd_leak alert"
echo "$out" | python3 -c '
import json, sys
for line in sys.stdin:
    a = json.loads(line)
    assert {"type", "time_s", "message"} <= a.keys(), a
    assert a["type"] == "fd_leak", a   # nothing else leaks
'

# --duration ends the watch of a process that keeps running.
sleep 30 & pid=$!
out=$("$memmon" watch --interval 100ms --duration 500ms "$pid")
kill "$pid"
echo "$out"
[[ $out == *"--duration passed"* ]] || fail "watch did not end at --duration"
[[ $out == "watched PID $pid"* ]] || fail "no summary"
echo "cli watch test passed"
