#!/usr/bin/env bash
# The heap sampler's cost in a deterministic cache model: valgrind
# cachegrind with its cache simulation (32 KiB I1, 48 KiB D1, an 8 MiB
# last level), whole program, natively and under each preload given, with a
# fixed sampling seed. Instructions alone miss what the sampler costs in
# cache lines (a filter byte on every free, cold stack lines at every
# sample), so each row also gives L1 and last-level misses and an estimate
# of cycles, Ir + 10 x L1 misses + 100 x LL misses (KCachegrind's "CEst"
# weights): a model, not a measurement. Address randomisation is turned off
# with setarch -R (with it, where the heap lands moved the native run's LL
# misses by 10 %), but the LL misses still move by up to 10 % with the
# process's layout (the same run from another directory, or with another
# environment size), about 0.4 points of est. cycles; Ir + 10 x L1 misses
# (the "core" column) repeats to 0.01 points and is the one to compare
# libraries by.
#
#   bench/cache_model.sh [build-dir] [churn-ops] [CONFIG...]
#
# A CONFIG is a preload (PRELOAD.so) or an environment (KEY=VALUE, comma
# separated: LD_PRELOAD=x.so,MEMMON_DISABLE=1 measures the counters alone).
# Without CONFIG arguments it measures build-dir's libmemmon_preload.so.
set -euo pipefail
build=${1:-build}
ops=${2:-200000}
shift $(($# < 2 ? $# : 2))
preloads=("$@")
((${#preloads[@]})) || preloads=("$build/lib/libmemmon_preload.so")
workload=$build/bin/alloc_workload
[[ -x $workload ]] || { echo "build first: make build" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "cache_model: valgrind not found" >&2; exit 1; }

measure() {  # measure [CONFIG]: prints "Ir L1misses LLmisses"
  local env=(MEMMON_SEED=1)
  if [[ ${1:-} == *=* ]]; then
    local IFS=,
    env+=($1)
  elif [[ -n ${1:-} ]]; then
    env+=(LD_PRELOAD="$1")
  fi
  env "${env[@]}" setarch -R valgrind --tool=cachegrind --cache-sim=yes \
    --I1=32768,8,64 --D1=49152,12,64 --LL=8388608,16,64 \
    --cachegrind-out-file=/dev/null "$workload" "$ops" churn 2>&1 >/dev/null |
    awk '{gsub(",", "")}
         /I +refs:/ {ir = $NF}
         /I1 +misses:/ {i1 = $NF}
         /D1 +misses:/ {d1 = $4}
         /LL misses:/ {ll = $4}
         END {printf "%s %.0f %s\n", ir, i1 + d1, ll}'
}

printf "%-40s %13s %11s %10s %13s %8s %8s\n" config instructions \
  "L1 misses" "LL misses" "est. cycles" "+%" "core +%"
read -r ir l1 ll < <(measure)
base=$(awk -v i="$ir" -v a="$l1" -v b="$ll" 'BEGIN {printf "%.0f", i + 10 * a + 100 * b}')
core=$(awk -v i="$ir" -v a="$l1" 'BEGIN {printf "%.0f", i + 10 * a}')
row() {  # row LABEL IR L1 LL
  awk -v l="$1" -v i="$2" -v a="$3" -v b="$4" -v base="$base" -v core="$core" 'BEGIN {
    c = i + 10 * a + 100 * b
    printf "%-40s %13.0f %11.0f %10.0f %13.0f %7.2f%% %7.2f%%\n", l, i, a, b, c,
      (c / base - 1) * 100, ((i + 10 * a) / core - 1) * 100
  }'
}
row "native (churn, $ops ops/thread)" "$ir" "$l1" "$ll"
for p in "${preloads[@]}"; do
  read -r ir l1 ll < <(measure "$p")
  row "$p" "$ir" "$l1" "$ll"
done
