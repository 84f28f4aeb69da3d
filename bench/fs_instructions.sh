#!/usr/bin/env bash
# Instructions per operation of the filesystem components with memmon's
# object counters and without (valgrind callgrind over build/bin/
# fs_instructions; see bench/fs_instructions.cc for the modes), and their
# ratio. Deterministic for the single-threaded modes: other load on the
# machine does not change the counts (write-buffer-write also counts its
# flusher thread, whose share varies a little with scheduling).
#
#   bench/fs_instructions.sh [build-dir] [operations]
set -euo pipefail
build=${1:-build}
ops=${2:-20000}
count() {
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \
    "$build/bin/fs_instructions" "$1" "$ops" 2>&1 | awk '/Collected :/ {print $NF}'
}
printf "%-20s %14s %14s %8s\n" operation "Ir/op counted" "Ir/op plain" ratio
for mode in cache-put-evict cache-read-through pool-allocate-free pool-get-return \
  write-buffer-write; do
  on=$(count "$mode-counted")
  off=$(count "$mode-uncounted")
  awk -v m="$mode" -v on="$on" -v off="$off" -v n="$ops" \
    'BEGIN { printf "%-20s %14.1f %14.1f %8.4f\n", m, on / n, off / n, on / off }'
done
