#!/usr/bin/env bash
# What the heap sampler adds to one allocation (bench/preload_benchmark.cc),
# four ways in one go, interleaved repetitions, medians:
#   native         no preload
#   off            LD_PRELOAD, MEMMON_DISABLE=1 (hooks and exact counters)
#   default        LD_PRELOAD, default rate (512 KiB)
#   every          LD_PRELOAD, MEMMON_SAMPLE_RATE=1 (a sample per allocation)
# and then BM_ColdMallocFree, one malloc and one free with the caches
# emptied before each (native, off and every): what a sample costs when
# nothing it reads is cached, as in a program with a large working set.
#
#   bench/preload_overhead.sh [build-dir] [repetitions] [cpu]
#
# Every run is pinned to one CPU (default 0): on the 2-vCPU machine of
# docs/benchmarks.md the same binary takes 6.9 ns a malloc+free pair on
# vCPU 0 and 11.8 ns on vCPU 1 (2026-11-28, machine otherwise idle), so an
# unpinned run measures where the scheduler put it.
set -euo pipefail
build=${1:-build}
reps=${2:-5}
cpu=${3:-0}
pin=(taskset -c "$cpu")
bin=$build/bin/preload_benchmark
preload=$build/lib/libmemmon_preload.so
[[ -x $bin ]] || { echo "build first: make build" >&2; exit 1; }
command -v taskset >/dev/null || { echo "preload_overhead: taskset (util-linux) not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--benchmark_min_time=0.2 --benchmark_format=csv '--benchmark_filter=-(BM_WriteHeapProfile|BM_TopSites|BM_ColdMallocFree)')
for ((i = 0; i < reps; i++)); do
  "${pin[@]}" "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/native"
  "${pin[@]}" env LD_PRELOAD="$preload" MEMMON_DISABLE=1 "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/off"
  "${pin[@]}" env LD_PRELOAD="$preload" "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/default"
  "${pin[@]}" env LD_PRELOAD="$preload" MEMMON_SAMPLE_RATE=1 "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/every"
  # Its own runs: its counter (the median of its iterations) is not in the
  # other benchmarks' CSV columns.
  for config in native off every; do
    case $config in
      native) env=() ;;
      off) env=(LD_PRELOAD="$preload" MEMMON_DISABLE=1) ;;
      every) env=(LD_PRELOAD="$preload" MEMMON_SAMPLE_RATE=1) ;;
    esac
    "${pin[@]}" env "${env[@]}" "$bin" --benchmark_format=csv \
      --benchmark_filter=BM_ColdMallocFree 2>/dev/null | grep '^"BM' |
      awk -F, '{print $NF}' >>"$tmp/cold-$config"
  done
done
# csv: name,iterations,real_time,cpu_time,...
median() {  # median NAME FILE -> cpu ns
  grep "^\"$1\"," "$2" | cut -d, -f4 | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
printf "%-22s %9s %9s %9s %9s %10s %10s\n" benchmark native off default every "default-nat" "every-nat"
for name in $(cut -d, -f1 "$tmp/native" | tr -d '"' | sort -u); do
  n=$(median "$name" "$tmp/native"); o=$(median "$name" "$tmp/off")
  d=$(median "$name" "$tmp/default"); e=$(median "$name" "$tmp/every")
  awk -v nm="$name" -v n="$n" -v o="$o" -v d="$d" -v e="$e" \
    'BEGIN {printf "%-22s %8.1fns %8.1fns %8.1fns %8.1fns %+9.1fns %+9.1fns\n", nm, n, o, d, e, d - n, e - n}'
done
cold() {  # cold CONFIG -> the median over repetitions of the median ns
  sort -g "$tmp/cold-$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
cn=$(cold native); co=$(cold off); ce=$(cold every)
awk -v n="$cn" -v o="$co" -v e="$ce" 'BEGIN {
  printf "%-22s %8.0fns %8.0fns %9s %8.0fns %10s %+9.0fns\n", "BM_ColdMallocFree", n, o, "-", e, "-", e - n
  printf "(cold: medians of each run'"'"'s median iteration; a sample cold costs %+.0f ns over off)\n", e - o
}'
