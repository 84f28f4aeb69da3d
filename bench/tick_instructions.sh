#!/usr/bin/env bash
# Instructions per monitor tick (valgrind callgrind over build/bin/
# tick_instructions; see bench/tick_instructions.cc for the modes).
# Deterministic: other load on the machine does not change the counts.
#
#   bench/tick_instructions.sh [build-dir] [ticks]
set -euo pipefail
build=${1:-build}
ticks=${2:-1000}
printf "%-6s %12s\n" mode "Ir/tick"
for mode in flat noisy leak monitor; do
  total=$(valgrind --tool=callgrind --instr-atstart=no \
            --callgrind-out-file=/dev/null "$build/bin/tick_instructions" \
            "$mode" "$ticks" 2>&1 |
          awk '/Collected :/ {print $NF}')
  printf "%-6s %12d\n" "$mode" $((total / ticks))
done
