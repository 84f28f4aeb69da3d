#!/usr/bin/env bash
# CPU time per operation of the filesystem components with memmon's object
# counters and without, and their ratio: ROUNDS rounds of Google Benchmark
# (5 interleaved repetitions each, pinned to the last CPU), the median over
# rounds of each round's median, with the range of the per-round ratios.
#
#   bench/fs_counting_time.sh [build-dir] [rounds] [filter]
set -euo pipefail
build=${1:-build}
rounds=${2:-6}
filter=${3:-'(Cache|Pool).*(Counted|Uncounted)'}
cpu=$(($(nproc) - 1))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
  taskset -c "$cpu" "$build/bin/fs_benchmark" --benchmark_filter="$filter" \
    --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.1 \
    --benchmark_out="$out/round$r.json" --benchmark_out_format=json >/dev/null
done
python3 - "$out"/round*.json <<'PY'
import json, statistics, sys
rounds = []
for path in sys.argv[1:]:
    med = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name") == "median":
            med[b["run_name"]] = b["cpu_time"]
    rounds.append(med)
names = sorted({n.rsplit("/", 1)[0] for n in rounds[0]})
print(f"{'benchmark':32} {'counted':>10} {'plain':>10} {'ratio':>7}  range")
for n in names:
    on = [r[n + "/Counted"] for r in rounds]
    off = [r[n + "/Uncounted"] for r in rounds]
    ratios = [a / b for a, b in zip(on, off)]
    print(f"{n:32} {statistics.median(on):10.1f} {statistics.median(off):10.1f} "
          f"{statistics.median(ratios):7.3f}  {min(ratios):.3f}-{max(ratios):.3f}")
PY
