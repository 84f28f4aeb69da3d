#!/usr/bin/env bash
# `memmon leaks DIR` on real run directories (docs/cli.md, memmon leaks):
# the profile written at exit is the series' last point and carries the
# growth since the last snapshot; when it is the program's teardown it is
# set aside, and the text says so. exit_profile_target runs under the bare
# preload with MEMMON_SNAPSHOT_INTERVAL (periodic snapshots), at a sampling
# rate of 4 KiB so that its 1 MiB blocks are all sampled.
#
# Usage: leaks_exit_profile_test.sh MEMMON PRELOAD EXIT_PROFILE_TARGET
set -euo pipefail
memmon=$1 preload=$2 target=$3
fail() { echo "leaks exit profile test: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

for mode in grow teardown; do
  MEMMON_OUTPUT=$mode MEMMON_SNAPSHOT_INTERVAL=0.05 MEMMON_SAMPLE_RATE=4096 \
    MEMMON_SEED=1 LD_PRELOAD=$preload "$target" "$mode" >"$mode.out" ||
    fail "$mode: the target exited $?: $(cat "$mode.out")"
  [[ -s $mode/heap.pb.gz ]] || fail "$mode: no exit profile: $(ls "$mode")"
  "$memmon" leaks "$mode" >"$mode.txt" || fail "$mode: leaks: $(cat "$mode.txt")"
  "$memmon" leaks "$mode" --json >"$mode.json" || fail "$mode: leaks --json"
done

python3 - <<'PY' || fail "see above"
import json, os, re

def snapshots(d):
    return sum(1 for f in os.listdir(d) if re.fullmatch(r"heap\.\d{4}\.pb\.gz", f))

def site(sites, name):
    found = [s for s in sites if s["function"].endswith(name)]
    assert found, (name, [s["function"] for s in sites])
    return found[0]

MiB = 1 << 20
# grow: LateGrowth's 32 MiB came after the last snapshot the program saw:
# the series counts the exit profile (one point more than the snapshots)
# and LateGrowth is a site with all of it, none at the first snapshot.
n = snapshots("grow")
head = open("grow.txt").readline()
print("grow:", head.strip())
assert n >= 7, n
assert head.startswith("%d heap profiles over" % (n + 1)), (n, head)
assert "left out" not in head, head
sites = json.load(open("grow.json"))
late = site(sites, "LateGrowth")
assert late["snapshots"] == n + 1, late
assert late["first_bytes"] == 0, late
assert 31 * MiB <= late["inuse_bytes"] <= 33 * MiB, late
steady = site(sites, "SteadyGrowth")
assert 23 * MiB <= steady["inuse_bytes"] <= 25 * MiB, steady

# teardown: everything freed before exit; the exit profile (and a snapshot
# that raced the frees, if any) is set aside and said so, and the leak
# stands as it was before the teardown: SteadyGrowth, 24 MiB, unbounded.
n = snapshots("teardown")
head = open("teardown.txt").readline()
print("teardown:", head.strip())
m = re.match(r"(\d+) heap profiles over .*; the last (\d) left out: the heap "
             r"collapsed there \(the program's teardown\)$", head.strip())
assert m, head
kept, left = int(m.group(1)), int(m.group(2))
assert left in (1, 2) and kept + left == n + 1, (kept, left, n)
sites = json.load(open("teardown.json"))
assert sites[0]["function"].endswith("SteadyGrowth"), sites[0]
assert 23 * MiB <= sites[0]["inuse_bytes"] <= 25 * MiB, sites[0]
assert sites[0]["kind"] == "unbounded", sites[0]
assert sites[0]["snapshots"] == kept, sites[0]
PY
echo "leaks exit profile test: ok"
