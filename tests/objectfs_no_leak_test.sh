#!/usr/bin/env bash
# objectfs-sim --leak none under `memmon run` for 60 s (the demo's settings,
# memmon's detector defaults): a busy daemon whose caches fill and evict,
# whose write buffers fill and drain, which mounts and unmounts snapshots
# (threads come and go) and spills failed uploads to files it closes -- and
# memmon raises no alert at all: alerts.jsonl has no record, and it says
# plainly that no site is a leak suspect. (A 15 min run
# is recorded in docs/components.md, "The workload and the demo".)
#
# Usage: objectfs_no_leak_test.sh MEMMON OBJECTFS_SIM [SECONDS]
set -euo pipefail
memmon=$1
sim=$2
seconds=${3:-60}
fail() { echo "objectfs no-leak test: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$memmon" run --sample-rate 64k --interval 100ms --snapshot-interval 1s \
  --out "$tmp/run" -- "$sim" --duration "$seconds" --leak none --quiet \
  >"$tmp/stdout" 2>"$tmp/stderr" ||
  fail "memmon run exited $?: $(cat "$tmp/stderr") $(cat "$tmp/stdout")"
grep -q 'every accepted byte stored or reported failed: yes' "$tmp/stdout" ||
  fail "the workload's books: $(cat "$tmp/stdout")"
grep -q "samples, 0 alerts\$" "$tmp/stderr" || fail "alerts: $(cat "$tmp/stderr")"
[ ! -s "$tmp/run/alerts.jsonl" ] || fail "alerts.jsonl: $(cat "$tmp/run/alerts.jsonl")"
! grep -q 'GREW$' "$tmp/stdout" || fail "a counter grew: $(cat "$tmp/stdout")"
grep -q '^memmon: no leak suspect: no allocation site grew without bound$' "$tmp/stderr" ||
  fail "a leak suspect: $(cat "$tmp/stderr")"
# The run directory as --out gave it (absolute here), not made relative.
grep -qxF "memmon: results in $tmp/run/ (open $tmp/run/report.html)" "$tmp/stderr" ||
  fail "the results line: $(cat "$tmp/stderr")"
echo "objectfs no-leak test passed ($(grep -o '[0-9]* samples, 0 alerts' "$tmp/stderr"))"
