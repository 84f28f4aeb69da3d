#!/usr/bin/env bash
# Alerts end, end to end: a descriptor count that rises for ~9 s (longer
# than a burst) and then returns fires fd_leak and then resolves it, in
# `memmon watch` (a RESOLVED line; --json: a "state":"resolved" record) and
# in `memmon run` (a RESOLVED line on stderr; alerts.jsonl: the firing record
# and a "state":"resolved" one after it, with episode_start_s). With
# --resolve-after 0s an episode resolves on the 3rd sample without it.
# Bad --resolve-after exits 2 with one line.
set -euo pipefail
memmon=$1 wave=$2
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for cmd in "watch $$" "analyze -" "run -- true"; do
  set +e
  err=$("$memmon" ${cmd%% *} --resolve-after soon ${cmd#* } 2>&1 </dev/null >/dev/null)
  rc=$?
  set -e
  [[ $rc -eq 2 ]] || fail "${cmd%% *} --resolve-after soon: exit $rc, want 2"
  [[ $(printf '%s\n' "$err" | wc -l) -eq 1 && $err == memmon:*resolve-after* ]] ||
    fail "${cmd%% *}: want one line naming --resolve-after, got: $err"
  echo "ok: ${cmd%% *} --resolve-after soon -> $err"
done

# Both the firing and the resolved record, in that order, the resolved one
# saying the count returned.
check_records() {  # check_records FILE
  python3 - "$1" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fd = [r for r in recs if r["type"] == "fd_leak"]
states = [r.get("state") for r in fd]
assert states[:2] == ["firing", "resolved"], states
res = fd[1]
assert res["episode_start_s"] == fd[0]["time_s"], (res, fd[0])
assert res["time_s"] > fd[0]["time_s"], res
assert "returned to" in res["message"], res["message"]
print("records:", states, "-", res["message"])
PY
}

# memmon watch, --json and text.
"$wave" 450 20 2000 & pid=$!
"$memmon" watch --interval 50ms --warmup-samples 5 --resolve-after 0s --json \
  "$pid" >"$tmp/watch.jsonl"
wait "$pid" || fail "the target failed"
cat "$tmp/watch.jsonl"
grep -q '"state":"resolved"' "$tmp/watch.jsonl" || fail "watch --json: no resolved record"
check_records "$tmp/watch.jsonl" || fail "watch --json records"

"$wave" 450 20 2000 & pid=$!
out=$("$memmon" watch --interval 50ms --warmup-samples 5 --resolve-after 0s "$pid")
wait "$pid" || fail "the target failed"
echo "$out" | grep -E 'fd_leak|RESOLVED'
echo "$out" | grep -q 'RESOLVED fd_leak after' || fail "watch: no RESOLVED line"

# memmon run: stderr and alerts.jsonl.
"$memmon" run --interval 50ms --warmup-samples 5 --resolve-after 0s \
  --no-report --out "$tmp/run" -- "$wave" 450 20 2000 2>"$tmp/run.err" ||
  fail "run failed: $(cat "$tmp/run.err")"
grep -E 'fd_leak|RESOLVED' "$tmp/run.err" || true
grep -q 'memmon: RESOLVED fd_leak at ' "$tmp/run.err" || fail "run: no RESOLVED line"
cat "$tmp/run/alerts.jsonl"
check_records "$tmp/run/alerts.jsonl" || fail "run: alerts.jsonl records"
echo "cli resolve test passed"
