#!/usr/bin/env bash
# The peak heap profile and the age of live memory, end to end, on
# tests/targets/peak_age_target (a 300 MiB spike freed at start, a steady
# leak, a churning ring), under LD_PRELOAD with MEMMON_OUTPUT and under
# `memmon run --out`:
#   - peak.pb.gz is written beside heap.pb.gz; go tool pprof reads both;
#     TransientSpike is on top of the peak and absent from the exit heap;
#   - memmon leaks --json gives LeakSteadily old live objects ("ageing",
#     median age >= 0.25 s of a 2 s run: a steady leak's is about half the
#     run) and Churn young ones ("young", median age < 0.2 s: its objects
#     live one 10 ms round); heap.pb.gz carries the ages as pprof labels;
#   - memmon leaks (text) gives each of them its age line;
#   - a run killed by SIGKILL gets peak.pb.gz (with the spike on top) from
#     the newest peak snapshot, and LeakSteadily is a candidate (unbounded,
#     ageing) in its leaks.json;
#   - a program that ends by abort() (heap dumped raw, converted by memmon
#     leaks) has the same ages in its converted heap.pb.gz;
#   - MEMMON_PEAK=0 writes no peak.pb.gz, MEMMON_LIVE_AGE=0 no ages.
# Tolerances are wide for a loaded machine: the ages differ by 10x or more.
set -euo pipefail
memmon=$1
target=$2
preload=$3
fail() { echo "peak age test: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# top FILE: the function with the most inuse_space (pprof -top's first row).
top() {
  go tool pprof -top -sample_index=inuse_space "$1" 2>/dev/null |
    awk '/flat%/ { getline; print $NF; exit }'
}

# check_dir DIR: the spike tops the peak, not the exit heap; the ages.
check_dir() {
  local dir=$1
  [[ -s $dir/heap.pb.gz && -s $dir/peak.pb.gz ]] || fail "$dir: missing files: $(ls "$dir")"
  [[ $(top "$dir/peak.pb.gz") == *TransientSpike* ]] ||
    fail "$dir: TransientSpike not on top of peak.pb.gz: $(go tool pprof -top -sample_index=inuse_space "$dir/peak.pb.gz" 2>&1 | head -12)"
  if go tool pprof -top -sample_index=inuse_space "$dir/heap.pb.gz" 2>/dev/null |
      grep -q TransientSpike; then
    fail "$dir: TransientSpike in the exit heap"
  fi
  # The peak's comment says when it was and how big.
  go tool pprof -raw "$dir/peak.pb.gz" 2>/dev/null | grep -q "peak: [0-9]* bytes" ||
    fail "$dir: no peak comment"
  # The ages, as pprof labels of the exit heap.
  go tool pprof -tags "$dir/heap.pb.gz" 2>/dev/null | grep -q live_age_median ||
    fail "$dir: no live_age_median label in heap.pb.gz"
  "$memmon" leaks "$dir" --json --top 50 >"$dir.json" || fail "$dir: memmon leaks failed"
  python3 - "$dir.json" <<'PY' || fail "$dir: ages: $(cat "$dir.json")"
import json, sys
sites = {s["function"]: s for s in json.load(open(sys.argv[1]))}
leak = next(s for f, s in sites.items() if "LeakSteadily" in f)
churn = next(s for f, s in sites.items() if "Churn" in f)
print("leak:", leak["age"], leak["median_age_s"], leak["oldest_age_s"],
      "churn:", churn["age"], churn["median_age_s"], churn["oldest_age_s"])
assert leak["age"] == "ageing" and leak["median_age_s"] >= 0.25, leak
assert leak["oldest_age_s"] >= 1.0, leak
assert churn["age"] == "young" and churn["median_age_s"] < 0.2, churn
assert churn["median_age_s"] < leak["median_age_s"] / 5
PY
  echo "$dir: peak and ages as expected"
}

# Under LD_PRELOAD, with MEMMON_OUTPUT: files written at exit.
LD_PRELOAD=$preload MEMMON_OUTPUT=$tmp/preload MEMMON_SAMPLE_RATE=64k \
  MEMMON_SEED=17 "$target" 2
check_dir preload

# Under memmon run.
"$memmon" run --interval 100ms --sample-rate 64k --no-report --out run -- "$target" 2 \
  >run.log 2>&1 || fail "memmon run failed: $(cat run.log)"
check_dir run

# The text report's age line: "live memory ageing: median age X, oldest Y"
# on the leak's line, "live memory young: ..." on the churn's.
"$memmon" leaks run --top 50 >run.txt || fail "memmon leaks (text) failed"
grep -Eq 'LeakSteadily.*; live memory ageing: median age [0-9.]+ ?[a-z]+, oldest [0-9.]+ ?[a-z]+' run.txt ||
  fail "no age line for LeakSteadily: $(cat run.txt)"
grep -Eq 'Churn.*; live memory young: median age [0-9.]+ ?[a-z]+, oldest [0-9.]+ ?[a-z]+' run.txt ||
  fail "no age line for Churn: $(cat run.txt)"

# Killed (SIGKILL: no exit profile, no raw dump): memmon run makes each
# profile's newest numbered snapshot its KIND.pb.gz, so the spike is on top
# of peak.pb.gz; LeakSteadily, ageing and still growing, is a candidate.
"$memmon" run --interval 100ms --snapshot-interval 200ms --sample-rate 64k \
  --no-report --out killed -- "$target" 120 >killed.log 2>&1 &
runner=$!
for _ in $(seq 1 1200); do [[ -e killed/peak.0006.pb.gz ]] && break; sleep 0.05; done
[[ -e killed/peak.0006.pb.gz ]] || fail "no sixth snapshot: $(ls killed; cat killed.log)"
child=$(pgrep -P "$runner" -x peak_age_target) || fail "no child of memmon run"
kill -KILL "$child"
set +e
wait "$runner"; rc=$?
set -e
[[ $rc -eq 137 ]] || fail "killed run exited $rc, want 137: $(cat killed.log)"
for kind in heap peak mutex block mmap; do
  grep -q "$kind.pb.gz is its last snapshot, $kind.[0-9]*.pb.gz" killed.log ||
    fail "the killed run's $kind.pb.gz is not reported: $(cat killed.log)"
  [[ -s killed/$kind.pb.gz ]] || fail "killed: no $kind.pb.gz: $(ls killed)"
done
[[ -s killed/peak.pb.gz ]] || fail "killed: no peak.pb.gz: $(ls killed)"
[[ $(top killed/peak.pb.gz) == *TransientSpike* ]] ||
  fail "killed: TransientSpike not on top of peak.pb.gz: $(go tool pprof -top -sample_index=inuse_space killed/peak.pb.gz 2>&1 | head -12)"
python3 - killed/leaks.json <<'PY' || fail "killed: leaks.json: $(head -c 2000 killed/leaks.json)"
import json, sys
leak = next(s for s in json.load(open(sys.argv[1])) if "LeakSteadily" in s["function"])
print("killed: LeakSteadily", leak["kind"], leak["age"])
assert leak["age"] == "ageing" and leak["kind"] == "unbounded", leak
PY

# abort(): no exit profile; the sampler dumps the heap raw (heap.raw) and
# memmon leaks converts it: the converted heap carries the ages too.
set +e
LD_PRELOAD=$preload MEMMON_OUTPUT=$tmp/aborted MEMMON_SAMPLE_RATE=64k \
  MEMMON_SEED=17 "$target" 2 abort 2>aborted.log
rc=$?
set -e
[[ $rc -eq 134 ]] || fail "abort: exit $rc, want 134: $(cat aborted.log)"
[[ -s aborted/heap.raw && ! -e aborted/heap.pb.gz ]] || fail "abort: no raw dump: $(ls aborted)"
"$memmon" leaks aborted --json --top 50 >aborted.json || fail "abort: memmon leaks failed"
[[ -s aborted/heap.pb.gz ]] || fail "abort: the raw dump was not converted: $(ls aborted)"
gzip -dc aborted/heap.pb.gz | grep -aq 'reason: signal 6' || fail "abort: heap.pb.gz is not the heap at SIGABRT"
go tool pprof -tags aborted/heap.pb.gz 2>/dev/null | grep -q live_age_median ||
  fail "abort: no live_age_median label in the converted heap.pb.gz"
python3 - aborted.json <<'PY' || fail "abort: ages: $(cat aborted.json)"
import json, sys
sites = {s["function"]: s for s in json.load(open(sys.argv[1]))}
leak = next(s for f, s in sites.items() if "LeakSteadily" in f)
churn = next(s for f, s in sites.items() if "Churn" in f)
print("abort: leak:", leak["age"], leak["median_age_s"], leak["oldest_age_s"],
      "churn:", churn["age"], churn["median_age_s"], churn["oldest_age_s"])
assert leak["median_age_s"] >= 0.25 and leak["oldest_age_s"] >= 1.0, leak
assert churn["age"] == "young" and churn["median_age_s"] < 0.2, churn
PY

# Switched off.
LD_PRELOAD=$preload MEMMON_OUTPUT=$tmp/off MEMMON_SAMPLE_RATE=64k MEMMON_PEAK=0 \
  MEMMON_LIVE_AGE=0 "$target" 0.2
[[ -s off/heap.pb.gz && ! -e off/peak.pb.gz ]] || fail "MEMMON_PEAK=0: $(ls off)"
if go tool pprof -tags off/heap.pb.gz 2>/dev/null | grep -q live_age; then
  fail "MEMMON_LIVE_AGE=0: ages in heap.pb.gz"
fi
echo "peak age test: ok"
