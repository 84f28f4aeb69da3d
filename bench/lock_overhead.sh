#!/usr/bin/env bash
# What the lock hooks cost, in one go:
#  1. bench/lock_benchmark.cc (uncontended lock/unlock, one thread; a
#     condition-variable ping-pong, two blocking waits a round): native,
#     under libmemmon_preload.so at the default rates, with both lock
#     profiles off (MEMMON_MUTEX_RATE=0 MEMMON_BLOCK_RATE=0: the hooks' fast
#     path alone), and recording every event (MEMMON_MUTEX_RATE=1
#     MEMMON_BLOCK_RATE=1: every ping-pong wait takes a stack and a table
#     update, so (every - off) / 2 is what one recorded event costs);
#     interleaved repetitions, medians, pinned to one CPU.
#  2. bench/lock_workload.cc (THREADS threads, one std::mutex, short
#     critical sections): wall and CPU time natively, under memmon at the
#     default rates (without and with MEMMON_OUTPUT: the second includes
#     writing the profiles at exit), under memmon recording every
#     contention (MEMMON_MUTEX_RATE=1), and under valgrind --tool=drd (the
#     alternative installed here: perf lock is unavailable and Debian 12
#     has no mutrace), interleaved, medians. drd runs the same workload in
#     the first DRD_RUNS rounds only (default 1: it is ~1000x slower).
#  3. The same workload contended for real (lock_workload ... HOLD_US: a
#     sleep of HOLD_US us, default 10, under the lock, HOLD_OPS ops a
#     thread, default 2000: the others run into the held mutex, thousands
#     of contentions, so the sampled path is on the clock): native, memmon
#     at the default rate, memmon recording every contention, drd; and the
#     contentions memmon counted.
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
  "${pin[@]}" env LD_PRELOAD="$preload" MEMMON_MUTEX_RATE=1 MEMMON_BLOCK_RATE=1 \
    "$bench" "${args[@]}" 2>/dev/null | grep '^"BM' >>"$tmp/every"
done
median() {  # median NAME FILE -> ns per iteration (real time, column 3)
  grep "^\"$1\"," "$2" | cut -d, -f3 | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
echo "pinned to CPU $cpu, $reps repetitions (median ns per iteration: lock+unlock; ping-pong: a round trip, two waits):"
printf "%-30s %9s %9s %9s %9s %11s\n" benchmark native memmon off every "memmon-nat"
for name in $(cut -d, -f1 "$tmp/native" | tr -d '"' | sort -u); do
  n=$(median "$name" "$tmp/native"); d=$(median "$name" "$tmp/default")
  o=$(median "$name" "$tmp/off"); e=$(median "$name" "$tmp/every")
  awk -v nm="$name" -v n="$n" -v d="$d" -v o="$o" -v e="$e" \
    'BEGIN {printf "%-30s %8.2fns %8.2fns %8.2fns %8.2fns %+10.2fns\n", nm, n, d, o, e, d - n}'
  if [[ $name == BM_CondVarPingPong* ]]; then
    awk -v n="$n" -v d="$d" -v o="$o" -v e="$e" 'BEGIN {
      printf "  per wait: hooks timing it (default - native) / 2 = %+.0f ns; a recorded event (every - off) / 2 = %+.0f ns\n",
        (d - n) / 2, (e - o) / 2 }'
  fi
done

want=$((ops * threads))
run() {  # run NAME COMMAND...: appends "wall cpu" to $tmp/w-NAME
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; exit 1; }
  grep -qx "counter=$want" "$tmp/out" || { echo "$name: wrong output: $(cat "$tmp/out")" >&2; exit 1; }
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
table() {  # table TITLE: the medians of the runs so far, then clears them
  echo
  echo "$1, $reps interleaved runs (medians; drd: ${DRD_RUNS:-1}):"
  printf "%-14s %9s %9s %10s %10s\n" config wall_s cpu_s "wall/nat" "cpu/nat"
  nw=$(col native 1); nc=$(col native 2)
  for name in native memmon memmon_out memmon_every drd; do
    [[ -f $tmp/w-$name ]] || continue
    w=$(col "$name" 1); c=$(col "$name" 2)
    awk -v nm="$name" -v w="$w" -v c="$c" -v nw="$nw" -v nc="$nc" \
      'BEGIN {printf "%-14s %9.3f %9.3f %9.2fx %9.2fx\n", nm, w, c, w / nw, (nc > 0 ? c / nc : 0)}'
  done
  rm -f "$tmp"/w-*
}
# What memmon saw (the last run at the default rate).
seen() {  # seen DIR
  command -v go >/dev/null && [[ -f $1/mutex.pb.gz ]] || return 0
  echo
  go tool pprof -raw "$1/mutex.pb.gz" 2>/dev/null | grep -m1 'sampled_events' | sed 's/^ *//'
  go tool pprof -top -sample_index=contentions "$1/mutex.pb.gz" 2>/dev/null | grep 'Total samples' |
    sed 's/.*Total samples = /contentions (estimated): /'
  go tool pprof -top -sample_index=delay "$1/mutex.pb.gz" 2>/dev/null | sed -n '8,11p'
}
table "lock_workload $ops ops x $threads threads"
seen "$tmp/out$((reps - 1))"

# 3. Contended for real: a sleep under the lock.
hold=${HOLD_US:-10}
hold_ops=${HOLD_OPS:-2000}
want=$((hold_ops * threads))
for ((i = 0; i < reps; i++)); do
  run native "$workload" "$hold_ops" "$threads" "$hold"
  run memmon env LD_PRELOAD="$preload" "$workload" "$hold_ops" "$threads" "$hold"
  run memmon_out env LD_PRELOAD="$preload" MEMMON_OUTPUT="$tmp/hold$i" "$workload" "$hold_ops" "$threads" "$hold"
  run memmon_every env LD_PRELOAD="$preload" MEMMON_MUTEX_RATE=1 MEMMON_OUTPUT="$tmp/every$i" \
    "$workload" "$hold_ops" "$threads" "$hold"
  if ((have_drd && i < ${DRD_RUNS:-1})); then
    run drd valgrind --tool=drd --quiet "$workload" "$hold_ops" "$threads" "$hold"
  fi
done
table "lock_workload $hold_ops ops x $threads threads, ${hold} us sleep under the lock"
seen "$tmp/hold$((reps - 1))"
echo "every contention recorded (MEMMON_MUTEX_RATE=1):"
seen "$tmp/every$((reps - 1))" | sed -n '2,3p'
