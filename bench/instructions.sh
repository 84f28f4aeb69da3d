#!/usr/bin/env bash
# Deterministic companion to bench/overhead.sh: instructions executed
# (valgrind cachegrind, whole program, every thread, start-up and the exit
# profile included) natively and under memmon. Unaffected by other load on
# the machine, unlike CPU time; valgrind serialises the threads.
#
#   bench/instructions.sh [build-dir] [churn-ops] [service-ops]
set -euo pipefail
build=${1:-build}
churn_ops=${2:-200000}
service_ops=${3:-50000}
workload=$build/bin/alloc_workload
preload=$build/lib/libmemmon_preload.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {  # count ENV... -- ARGS...: prints instructions
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" valgrind --tool=cachegrind --cache-sim=no \
    --cachegrind-out-file=/dev/null "$workload" "$@" 2>&1 >/dev/null |
    awk '/I +refs:/ {gsub(",", "", $NF); print $NF}'
}
printf "%-8s %-38s %15s %9s\n" workload config instructions "+%"
for mode in churn service; do
  ops=$churn_ops
  [[ $mode == service ]] && ops=$service_ops
  base=$(count X=1 -- "$ops" "$mode")
  off=$(count LD_PRELOAD="$preload" MEMMON_DISABLE=1 -- "$ops" "$mode")
  on=$(count LD_PRELOAD="$preload" -- "$ops" "$mode")
  exit_profile=$(count LD_PRELOAD="$preload" MEMMON_OUTPUT="$tmp/out-$mode" -- "$ops" "$mode")
  for row in "native:$base" "memmon, sampling off (counters):$off" \
             "memmon (default rate):$on" \
             "memmon (default rate) + exit profile:$exit_profile"; do
    label=${row%%:*} n=${row##*:}
    awk -v m="$mode" -v l="$label" -v n="$n" -v b="$base" \
      'BEGIN {printf "%-8s %-38s %15d %8.1f%%\n", m, l, n, (n / b - 1) * 100}'
  done
done
