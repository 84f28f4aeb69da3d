#!/usr/bin/env bash
# One injected leak of objectfs-sim (examples/objectfs_sim.cc) under
# `memmon run`, with the demo's settings (scripts/demo) for 20 s: memmon must
# raise the leak's alert -- memory_growth for cache and buffers, thread_leak
# for threads, fd_leak for fds -- and none it should not (below); for the
# memory leaks, rank the function the leak is injected in first and
# unbounded in leaks.json, and never call the block cache
# (ObjectFs::CacheBlock), which fills to its capacity, unbounded. The
# workload's own end-of-run lines must show its books balanced and the
# leak's counter grown.
#
# Usage: objectfs_leak_test.sh MEMMON OBJECTFS_SIM cache|buffers|threads|fds
set -euo pipefail
memmon=$1
sim=$2
leak=$3
fail() { echo "objectfs leak test ($leak): $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case $leak in
  cache) alert=memory_growth function=MetadataCache::RememberMissing
         grew='counter negative-entries' ;;
  buffers) alert=memory_growth function=ObjectFs::KeepFailedBuffer
           grew='counter kept-buffers' ;;
  threads) alert=thread_leak function= grew='threads' ;;
  fds) alert=fd_leak function= grew='file descriptors' ;;
  *) fail "unknown leak" ;;
esac

"$memmon" run --sample-rate 64k --interval 100ms --snapshot-interval 400ms \
  --out "$tmp/run" -- "$sim" --duration 20 --leak "$leak" --quiet \
  >"$tmp/stdout" 2>"$tmp/stderr" ||
  fail "memmon run exited $?: $(cat "$tmp/stderr") $(cat "$tmp/stdout")"
grep -q 'every accepted byte stored or reported failed: yes' "$tmp/stdout" ||
  fail "the workload's books: $(cat "$tmp/stdout")"
grep -q "^objectfs: $grew .* GREW\$" "$tmp/stdout" ||
  fail "the workload's '$grew' did not grow: $(cat "$tmp/stdout")"
grep -q "^memmon: ALERT $alert at " "$tmp/stderr" ||
  fail "no $alert alert printed: $(cat "$tmp/stderr")"
if [ -n "$function" ]; then
  grep -q "^memmon: top leak suspect: (anonymous namespace)::$function (objectfs_sim.cc:[0-9]*), unbounded," "$tmp/stderr" ||
    fail "no suspect line naming $function with its file:line: $(cat "$tmp/stderr")"
fi
python3 - "$tmp/run" "$alert" "$function" <<'PY' || fail "see above; stderr: $(cat "$tmp/stderr")"
import json, os, sys
run, alert, function = sys.argv[1:4]
alerts = [json.loads(l) for l in open(os.path.join(run, "alerts.jsonl")) if l.strip()]
fired = {a["type"] for a in alerts if a["state"] == "firing"}
assert alert in fired, alerts
# No alert of a kind the leak does not cause: a memory leak raises neither
# thread_leak nor fd_leak, a descriptor leak no memory_growth either. (A
# thread leak may raise memory_growth: each leaked thread keeps its stack
# pages and its cache, 4 threads, ~270 KiB of RSS, a second.)
forbidden = {"memory_growth": {"thread_leak", "fd_leak"},
             "thread_leak": {"fd_leak"},
             "fd_leak": {"memory_growth", "thread_leak"}}[alert]
assert not fired & forbidden, alerts
sites = json.load(open(os.path.join(run, "leaks.json")))
cache = [s for s in sites if s["function"] == "(anonymous namespace)::ObjectFs::CacheBlock"]
assert cache, "the block cache's site is not in the ranking"
assert cache[0]["kind"] != "unbounded", cache[0]
if function:
    top = sites[0]
    assert top["function"] == "(anonymous namespace)::" + function, top["function"]
    assert top["kind"] == "unbounded", {k: top[k] for k in ("kind", "confidence", "growth_bytes_per_s")}
    assert top["frames"][0]["file"].endswith("objectfs_sim.cc") and top["frames"][0]["line"] > 0, top["frames"][0]
    assert top["growth_bytes_per_s"] > 2 * 2**20, top["growth_bytes_per_s"]
print("objectfs leak test: alerts %s at %s s; top site %s %s, %.1f MiB/s, confidence %.4f" %
      (sorted(fired), [round(a["time_s"], 1) for a in alerts if a["state"] == "firing"],
       sites[0]["function"], sites[0]["kind"], sites[0]["growth_bytes_per_s"] / 2**20,
       sites[0]["confidence"]))
PY
echo "objectfs leak test ($leak) passed"
