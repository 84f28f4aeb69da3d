#!/usr/bin/env bash
# The demo's claim, end to end: scripts/demo (make demo) runs
# `objectfs-sim --leak cache` under `memmon run`, and what it prints holds.
# memmon must raise memory_growth (and no thread or descriptor alert), name
# MetadataCache::RememberMissing -- the function the leak is injected in --
# with its file:line as the top leak suspect, unbounded, first in
# leaks.json; must not call the block cache (ObjectFs::CacheBlock), which
# fills to its capacity, unbounded; the workload's books must balance and
# its negative-entries counter must be the one that grew; the report must
# be written where the demo says.
#
# Usage: objectfs_demo_test.sh DEMO_SCRIPT BUILD_DIR
set -euo pipefail
demo=$1
build=$2
fail() { echo "objectfs demo test: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$demo" "$build" 20 "$tmp/run" >"$tmp/out" 2>&1 ||
  fail "the demo exited $?: $(cat "$tmp/out")"
out=$(cat "$tmp/out")
grep -q 'every accepted byte stored or reported failed: yes' <<<"$out" ||
  fail "the workload's books: $out"
# The summary: the alert, the suspect with its file:line, the counter that
# grew (and only it), the report.
sed -n '/^== the alert$/,/^== the top/p' <<<"$out" | grep -q '^memmon: ALERT memory_growth at ' ||
  fail "no memory_growth alert in the summary: $out"
sed -n '/^== the top leak suspect/,/^== the counters/p' <<<"$out" |
  grep -q '^memmon: top leak suspect: (anonymous namespace)::MetadataCache::RememberMissing (objectfs_sim.cc:[0-9]*), unbounded, ' ||
  fail "no suspect line naming MetadataCache::RememberMissing with its file:line: $out"
grew=$(sed -n '/^== the counters that grew/,/^== the HTML report$/p' <<<"$out" | grep '^objectfs: ' || true)
grep -q '^objectfs: counter negative-entries .* GREW$' <<<"$grew" ||
  fail "negative-entries not among the counters that grew: $out"
[ "$(wc -l <<<"$grew")" -eq 1 ] || fail "other counters grew too: $grew"
tail -1 <<<"$out" | grep -qx "$tmp/run/report.html" || fail "report path: $out"
[ -s "$tmp/run/report.html" ] || fail "no report at $tmp/run/report.html"
python3 - "$tmp/run" <<'PY' || fail "see above; the demo printed: $out"
import json, os, sys
run = sys.argv[1]
alerts = [json.loads(l) for l in open(os.path.join(run, "alerts.jsonl")) if l.strip()]
fired = {a["type"] for a in alerts if a["state"] == "firing"}
assert "memory_growth" in fired and not fired & {"thread_leak", "fd_leak"}, alerts
sites = json.load(open(os.path.join(run, "leaks.json")))
top = sites[0]
assert top["function"] == "(anonymous namespace)::MetadataCache::RememberMissing", top["function"]
assert top["kind"] == "unbounded", {k: top[k] for k in ("kind", "confidence", "growth_bytes_per_s")}
assert top["growth_bytes_per_s"] > 2 * 2**20, top["growth_bytes_per_s"]
cache = [s for s in sites if s["function"] == "(anonymous namespace)::ObjectFs::CacheBlock"]
assert cache, "the block cache's site is not in the ranking"
assert cache[0]["kind"] != "unbounded", cache[0]
# Whatever else is called unbounded is on the leaking path, not a component.
for s in sites:
    if s["kind"] == "unbounded":
        assert any("MetadataCache" in f for f in s["stack"]), s["stack"]
print("objectfs demo test: alert at %s s; top site %s %s, %.1f MiB/s, confidence %.4f" %
      ([round(a["time_s"], 1) for a in alerts if a["state"] == "firing"],
       top["function"], top["kind"], top["growth_bytes_per_s"] / 2**20, top["confidence"]))
PY
echo "objectfs demo test passed"
