#!/usr/bin/env bash
# memmon run on a program that leaks in a memory cgroup until the OOM killer
# takes it (docs/limits.md): oom_risk fires before the kill, a heap profile
# written before the kill names the leaking function, memmon run reports the
# kill (exit 137) and keeps its data, and samples.csv carries the limit.
#
# Creates a cgroup with a 256 MiB limit: v2 where the memory controller is
# enabled on the unified hierarchy, else v1's memory controller. Exits 77
# (ctest: skipped) with the reason when the machine allows neither.
#
#   tests/oom_test.sh MEMMON RUN_TARGET
set -euo pipefail
memmon=$1
target=$2
limit=$((256 << 20))
fail() { echo "oom test: $*" >&2; exit 1; }
skip() { echo "oom test: skipped: $*"; exit 77; }

work=$(mktemp -d)
cg=
cleanup() {
  if [[ -n $cg && -d $cg ]]; then
    # Anything left in the group goes back to the parent first.
    while read -r p; do echo "$p" >"$(dirname "$cg")/cgroup.procs" 2>/dev/null || true; done \
      <"$cg/cgroup.procs" 2>/dev/null || true
    rmdir "$cg" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The oom_risk options, on every machine (before the cgroup, which may be
# skipped): bad values are one line and status 2; --oom-horizon changes
# what analyze judges (0 turns oom_risk off).
expect_usage() {
  local pattern=$1 rc=0
  shift
  "$@" >"$work/err.out" 2>"$work/err.log" || rc=$?
  [[ $rc -eq 2 ]] || fail "$*: exit $rc, want 2"
  [[ $(wc -l <"$work/err.log") -eq 1 ]] || fail "$*: not one line: $(cat "$work/err.log")"
  grep -q -- "$pattern" "$work/err.log" || fail "$*: $(cat "$work/err.log")"
}
expect_usage "memmon: run: --oom-horizon: " "$memmon" run --out "$work/x" --oom-horizon 10 -- true
expect_usage "memmon: run: --oom-profile-fraction: must be in (0, 1\], got 1.5" \
  "$memmon" run --out "$work/x" --oom-profile-fraction 1.5 -- true
expect_usage "memmon: run: --oom-profile-fraction: not a number: half" \
  "$memmon" run --out "$work/x" --oom-profile-fraction half -- true
expect_usage "memmon: watch: --oom-horizon: " "$memmon" watch $$ --oom-horizon 1x
expect_usage "memmon: watch: --oom-profile-fraction: must be in" "$memmon" watch $$ --oom-profile-fraction 0
# A leak of 1 MiB/s toward 400 MiB over two minutes: about 3 min from the
# limit at the end: within the default hour, oom_risk fires; with the
# option at 0 it never does.
python3 - >"$work/leak.csv" <<'PY'
import random
random.seed(3)
print("time_s,rss_bytes,memory_limit_bytes,memory_limit_usage_bytes")
for i in range(120):
    print("%d,%d,%d,%d" % (i, 50 << 20, 400 << 20, int((100 + i + random.gauss(0, 0.5)) * (1 << 20))))
PY
expect_usage "memmon: analyze: --oom-horizon: " "$memmon" analyze --oom-horizon x "$work/leak.csv"
# oom_records [OPTION...]: the oom_risk firing records analyze prints.
oom_records() {
  "$memmon" analyze --json "$@" "$work/leak.csv" >"$work/analyze.jsonl" || fail "analyze $* exited $?"
  python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l).get("type") == "oom_risk" and json.loads(l).get("state") == "firing"))' "$work/analyze.jsonl"
}
[[ $(oom_records) -ge 1 ]] || fail "analyze: no oom_risk at the default horizon"
[[ $(oom_records --oom-horizon 0) -eq 0 ]] || fail "analyze --oom-horizon 0: oom_risk fired"
for verb in run watch analyze; do
  "$memmon" "$verb" --help | grep -q -- --oom-horizon || fail "$verb --help has no --oom-horizon"
done
for verb in run watch; do
  "$memmon" "$verb" --help | grep -q -- --oom-profile-fraction || fail "$verb --help has no --oom-profile-fraction"
done
echo "oom test: the options' errors and --oom-horizon checked"

v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
v1=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ { print $5; exit }' /proc/self/mountinfo)
if [[ -n $v2 && -w $v2 ]] && grep -qw memory "$v2/cgroup.controllers" 2>/dev/null; then
  grep -qw memory "$v2/cgroup.subtree_control" || echo +memory >"$v2/cgroup.subtree_control" ||
    skip "cannot enable the memory controller in $v2"
  cg=$v2/memmon-oom-$$
  mkdir "$cg" || skip "cannot create $cg"
  echo "$limit" >"$cg/memory.max"
  [[ -f $cg/memory.swap.max ]] && echo 0 >"$cg/memory.swap.max"
elif [[ -n $v1 && -w $v1 ]]; then
  cg=$v1/memmon-oom-$$
  mkdir "$cg" || skip "cannot create $cg"
  echo "$limit" >"$cg/memory.limit_in_bytes"
  [[ -f $cg/memory.memsw.limit_in_bytes ]] && echo "$limit" >"$cg/memory.memsw.limit_in_bytes"
  echo 0 >"$cg/memory.swappiness" 2>/dev/null || true
else
  skip "no writable memory cgroup (v2 with the memory controller, or v1)"
fi
echo "oom test: cgroup $cg, limit $limit bytes"

cd "$work"
set +e
bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$cg" \
  "$memmon" run --interval 100ms --out run -- "$target" leak 600 >stdout.txt 2>stderr.txt
rc=$?
set -e
[[ $rc -eq 137 ]] || fail "memmon run exited $rc, want 137 (killed): $(tail -5 stderr.txt)"
grep -q 'the OOM killer killed it' stderr.txt || fail "the kill is not reported: $(tail -5 stderr.txt)"
grep -q '^memmon: memory limit: cgroup_v[12].* limit 256.0 MiB' stderr.txt ||
  fail "no start line naming the cgroup limit: $(head -5 stderr.txt)"
python3 - run "$limit" <<'PY' || fail "run directory: $(ls run)"
import csv, json, os, sys
d, limit = sys.argv[1], int(sys.argv[2])
alerts = [json.loads(l) for l in open(os.path.join(d, "alerts.jsonl"))]
oom = [a for a in alerts if a["type"] == "oom_risk" and a.get("state", "firing") == "firing"]
assert oom, [a["type"] for a in alerts]
run = json.load(open(os.path.join(d, "run.json")))
assert run["exit_status"] == 137 and run["oom_killed"] is True, run
rows = list(csv.DictReader(open(os.path.join(d, "samples.csv"))))
# The kill came after the last sample (a sample is taken only while the
# program lives): oom_risk fired at a sample before that one, with usage
# still under the limit -- a warning ahead of the kill, not at it.
last = float(rows[-1]["time_s"])
first = float(oom[0]["time_s"])
assert first < last <= run["duration_s"], (first, last, run["duration_s"])
at = [r for r in rows if abs(float(r["time_s"]) - first) < 1e-3 and r["memory_limit_usage_bytes"]]
assert at and int(at[0]["memory_limit_usage_bytes"]) < limit, at
limits = {r["memory_limit_bytes"] for r in rows if r["memory_limit_bytes"]}
assert limits == {str(limit)}, limits
# The cgroup's OOM kill count: in every sample that read the limit, and one
# more at the end than at the start.
kills = [r["memory_limit_oom_kills"] for r in rows if r["memory_limit_bytes"]]
assert kills and all(kills), kills
m = run["memory_limit"]
assert m["kind"] in ("cgroup_v1", "cgroup_v2_max"), m
assert "page cache" in m["counts"], m
assert m["oom_kills_after"] == m["oom_kills_before"] + 1, m
assert int(kills[0]) == m["oom_kills_before"], (kills[0], m)
assert "page cache and kernel memory" in oom[0]["message"], oom[0]["message"]
print("oom_risk at %.1f s, last sample at %.1f s, killed by %.1f s" % (first, last, run["duration_s"]))
PY
# The snapshot asked for near the limit, and what it names.
snap=
for f in run/heap.[0-9]*.pb.gz; do
  if gzip -dc "$f" | grep -aq 'reason: oom_risk'; then snap=$f; fi
done
[[ -n $snap ]] || fail "no heap snapshot with reason oom_risk in: $(ls run)"
go tool pprof -top -sample_index=inuse_space "$snap" 2>/dev/null | grep -m1 -A0 -E '^ +[0-9.]+[kMG]?B' |
  grep -q LeakSessions || fail "the oom_risk snapshot's top is not LeakSessions: $(go tool pprof -top -sample_index=inuse_space "$snap" 2>/dev/null | head -8)"
# memmon analyze judges the same samples the same way: an oom_risk firing
# record, before the last sample.
"$memmon" analyze --json run/samples.csv >analyze.jsonl || fail "analyze exited $?"
python3 - analyze.jsonl run/samples.csv <<'PY' || fail "analyze does not fire oom_risk: $(cat analyze.jsonl)"
import csv, json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fired = [r for r in recs if r.get("type") == "oom_risk" and r.get("state") == "firing"]
assert fired, recs
last = float(list(csv.DictReader(open(sys.argv[2])))[-1]["time_s"])
assert fired[0]["time_s"] < last, (fired[0]["time_s"], last)
PY
echo "oom test: ok ($snap)"
