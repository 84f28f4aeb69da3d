#!/usr/bin/env bash
# What the heap sampler adds to one allocation (bench/preload_benchmark.cc),
# four ways in one go, interleaved repetitions, medians:
#   native         no preload
#   off            LD_PRELOAD, MEMMON_DISABLE=1 (hooks and exact counters)
#   default        LD_PRELOAD, default rate (512 KiB)
#   every          LD_PRELOAD, MEMMON_SAMPLE_RATE=1 (a sample per allocation)
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
args=(--benchmark_min_time=0.2 --benchmark_format=csv --benchmark_filter=-BM_WriteHeapProfile)
for ((i = 0; i < reps; i++)); do
  "${pin[@]}" "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/native"
  "${pin[@]}" env LD_PRELOAD="$preload" MEMMON_DISABLE=1 "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/off"
  "${pin[@]}" env LD_PRELOAD="$preload" "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/default"
  "${pin[@]}" env LD_PRELOAD="$preload" MEMMON_SAMPLE_RATE=1 "$bin" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/every"
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
