#!/usr/bin/env bash
# What the lock hooks cost, in one go:
#  1. bench/lock_benchmark.cc (uncontended lock/unlock, one thread):
#     native, under libmemmon_preload.so at the default rates, and with both
#     lock profiles off (MEMMON_MUTEX_RATE=0 MEMMON_BLOCK_RATE=0: the hooks'
#     fast path alone); interleaved repetitions, medians, pinned to one CPU.
#  2. bench/lock_workload.cc (THREADS threads, one std::mutex, short
#     critical sections): wall and CPU time natively, under memmon at the
#     default rates (without and with MEMMON_OUTPUT: the second includes
#     writing the profiles at exit), under memmon recording every
#     contention (MEMMON_MUTEX_RATE=1), and under valgrind --tool=drd (the
#     alternative installed here: perf lock is unavailable and Debian 12
#     has no mutrace), interleaved, medians. drd runs the same workload in
#     the first DRD_RUNS rounds only (default 1: it is ~1000x slower).
#
#   bench/lock_overhead.sh [build-dir] [repetitions] [ops] [threads] [cpu]
set -euo pipefail
build=${1:-build}
reps=${2:-5}
ops=${3:-200000}
threads=${4:-8}
cpu=${5:-0}
bench=$build/bin/lock_benchmark
workload=$build/bin/lock_workload
preload=$build/lib/libmemmon_preload.so
[[ -x $bench && -x $workload && -f $preload ]] || { echo "build first: make build" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pin=(taskset -c "$cpu")
args=(--benchmark_min_time=0.2 --benchmark_format=csv)
for ((i = 0; i < reps; i++)); do
  "${pin[@]}" "$bench" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/native"
  "${pin[@]}" env LD_PRELOAD="$preload" "$bench" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/default"
  "${pin[@]}" env LD_PRELOAD="$preload" MEMMON_MUTEX_RATE=0 MEMMON_BLOCK_RATE=0 \
    "$bench" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/off"
done
median() {  # median NAME FILE -> cpu ns
  grep "^\"$1\"," "$2" | cut -d, -f4 | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
echo "uncontended, one thread, pinned to CPU $cpu, $reps repetitions (median ns per lock+unlock):"
printf "%-30s %9s %9s %9s %11s\n" benchmark native memmon off "memmon-nat"
for name in $(cut -d, -f1 "$tmp/native" | tr -d '"' | sort -u); do
  n=$(median "$name" "$tmp/native"); d=$(median "$name" "$tmp/default"); o=$(median "$name" "$tmp/off")
  awk -v nm="$name" -v n="$n" -v d="$d" -v o="$o" \
    'BEGIN {printf "%-30s %8.2fns %8.2fns %8.2fns %+10.2fns\n", nm, n, d, o, d - n}'
done

run() {  # run NAME COMMAND...: appends "wall cpu" to $tmp/w-NAME
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; exit 1; }
  grep -qx "counter=$((ops * threads))" "$tmp/out" || { echo "$name: wrong output: $(cat "$tmp/out")" >&2; exit 1; }
  awk '{printf "%.3f %.3f\n", $1, $2 + $3}' "$tmp/time" >>"$tmp/w-$name"
}
have_drd=0
command -v valgrind >/dev/null && have_drd=1
for ((i = 0; i < reps; i++)); do
  run native "$workload" "$ops" "$threads"
  run memmon env LD_PRELOAD="$preload" "$workload" "$ops" "$threads"
  run memmon_out env LD_PRELOAD="$preload" MEMMON_OUTPUT="$tmp/out$i" "$workload" "$ops" "$threads"
  run memmon_every env LD_PRELOAD="$preload" MEMMON_MUTEX_RATE=1 "$workload" "$ops" "$threads"
  if ((have_drd && i < ${DRD_RUNS:-1})); then
    run drd valgrind --tool=drd --quiet "$workload" "$ops" "$threads"
  fi
done
col() {  # col NAME FIELD -> median
  cut -d' ' -f"$2" "$tmp/w-$1" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
echo
echo "lock_workload $ops ops x $threads threads, $reps interleaved runs (medians; drd: ${DRD_RUNS:-1}):"
printf "%-14s %9s %9s %10s %10s\n" config wall_s cpu_s "wall/nat" "cpu/nat"
nw=$(col native 1); nc=$(col native 2)
for name in native memmon memmon_out memmon_every drd; do
  [[ -f $tmp/w-$name ]] || continue
  w=$(col "$name" 1); c=$(col "$name" 2)
  awk -v nm="$name" -v w="$w" -v c="$c" -v nw="$nw" -v nc="$nc" \
    'BEGIN {printf "%-14s %9.3f %9.3f %9.2fx %9.2fx\n", nm, w, c, w / nw, (nc > 0 ? c / nc : 0)}'
done
# What memmon saw (the last run at the default rate).
if command -v go >/dev/null && [[ -f $tmp/out$((reps - 1))/mutex.pb.gz ]]; then
  echo
  go tool pprof -top -sample_index=delay "$tmp/out$((reps - 1))/mutex.pb.gz" 2>/dev/null | sed -n '3,5p;8,11p'
fi
