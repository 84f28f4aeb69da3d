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

# Switched off.
LD_PRELOAD=$preload MEMMON_OUTPUT=$tmp/off MEMMON_SAMPLE_RATE=64k MEMMON_PEAK=0 \
  MEMMON_LIVE_AGE=0 "$target" 0.2
[[ -s off/heap.pb.gz && ! -e off/peak.pb.gz ]] || fail "MEMMON_PEAK=0: $(ls off)"
if go tool pprof -tags off/heap.pb.gz 2>/dev/null | grep -q live_age; then
  fail "MEMMON_LIVE_AGE=0: ages in heap.pb.gz"
fi
echo "peak age test: ok"
