#!/usr/bin/env bash
# Whole-program overhead of the heap sampler on an allocation-heavy
# two-thread workload (bench/alloc_workload.cc), with heaptrack measured in
# the same run for scale. Runs are interleaved (native, memmon, heaptrack,
# native, ...) so load from elsewhere hits all alike; medians are reported.
#
#   bench/overhead.sh [build-dir] [ops-per-thread] [runs] [churn|service]
#
# CPU is user + system time of the whole command (heaptrack's included
# interpreter process too); memory is peak RSS (/usr/bin/time %M).
# "cpu +%" compares medians; "paired +%" is the median of each round's
# ratio to that round's native run, the steadier of the two on a VM. memmon
# runs without and with MEMMON_OUTPUT (the second includes writing
# heap.pb.gz at exit, a one-off cost that does not grow with the run).
set -euo pipefail
build=${1:-build}
ops=${2:-2000000}
runs=${3:-5}
mode=${4:-churn}
workload=$build/bin/alloc_workload
preload=$build/lib/libmemmon_preload.so
[[ -x $workload && -f $preload ]] || { echo "build first: make build" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {  # run NAME COMMAND...: appends "cpu rss" to $tmp/NAME
  local name=$1
  shift
  /usr/bin/time -f "%U %S %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; exit 1; }
  awk '{printf "%.3f %d\n", $1 + $2, $3}' "$tmp/time" >>"$tmp/$name"
}

have_heaptrack=0
command -v heaptrack >/dev/null && have_heaptrack=1
for ((i = 0; i < runs; i++)); do
  run native "$workload" "$ops" "$mode"
  run memmon env LD_PRELOAD="$preload" "$workload" "$ops" "$mode"
  run memmon_exit env LD_PRELOAD="$preload" MEMMON_OUTPUT="$tmp/out$i" "$workload" "$ops" "$mode"
  run memmon_off env LD_PRELOAD="$preload" MEMMON_DISABLE=1 "$workload" "$ops" "$mode"
  if ((have_heaptrack)); then
    run heaptrack heaptrack -o "$tmp/ht$i" "$workload" "$ops" "$mode"
  fi
done

median() {  # median COLUMN FILE
  sort -n -k"$1" "$2" | awk -v c="$1" '{v[NR] = $c} END {print v[int((NR + 1) / 2)]}'
}
base_cpu=$(median 1 "$tmp/native")
base_rss=$(median 2 "$tmp/native")
# The median over rounds of each run's CPU time over the native run of the
# same round: load that drifts between rounds cancels out of each ratio.
paired() {  # paired FILE: median of (cpu / native cpu - 1) * 100
  paste -d' ' "$1" "$tmp/native" | awk '{print ($1 / $3 - 1) * 100}' | sort -g |
    awk '{v[NR] = $1} END {printf "%.1f", v[int((NR + 1) / 2)]}'
}
echo "workload: $workload $ops $mode (2 threads), $runs interleaved runs, medians"
printf "%-38s %10s %10s %10s %12s %10s\n" config "cpu s" "cpu +%" "paired +%" "peak RSS KB" "RSS +%"
for name in native memmon_off memmon memmon_exit heaptrack; do
  [[ -f $tmp/$name ]] || continue
  cpu=$(median 1 "$tmp/$name")
  rss=$(median 2 "$tmp/$name")
  label=$name
  case $name in
    memmon) label="memmon (default rate)" ;;
    memmon_exit) label="memmon (default rate) + exit profile" ;;
    memmon_off) label="memmon, sampling off (counters)" ;;
  esac
  pc=$(paired "$tmp/$name")
  awk -v l="$label" -v c="$cpu" -v r="$rss" -v bc="$base_cpu" -v br="$base_rss" -v pc="$pc" \
    'BEGIN {printf "%-38s %10.3f %9.1f%% %9.1f%% %12d %9.2f%%\n", l, c, (c / bc - 1) * 100, pc, r, (r / br - 1) * 100}'
done
