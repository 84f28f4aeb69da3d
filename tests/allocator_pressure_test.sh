#!/usr/bin/env bash
# The allocator clock end to end (src/preload/alloc_clock.h): under
# `memmon run`, a program that does little but allocate gets an
# allocator_cpu_fraction far above allocator_pressure's 20 % and the alert;
# the project's service workloads get the column, under the limit (under
# 10 % for objectfs-sim), and no alert:
# the filesystem service workload (the demo's, objectfs-sim) and
# redis-server serving redis-benchmark (the real server the project is
# measured on: bench/redis_throughput.sh). (Agreement with perf's
# attribution is measured by hand: docs/profiler.md, "Allocator time".)
#
# Not here: bench/alloc_workload's "service" mode. Its name says "like a
# cache server", but it is an allocation benchmark -- three allocations and
# frees per hash-map operation and nothing else (no I/O, no parsing) -- and
# perf attributes 18-21 % of its CPU to malloc, free and the sampler, at
# allocator_pressure's 20 % limit: the alert firing on it (the clock's
# median reads 17-24 % a run) is the alert doing its job, and not firing is
# no error either (docs/profiler.md, "Allocator time").
#
# Usage: allocator_pressure_test.sh MEMMON ALLOC_PRESSURE_TARGET OBJECTFS_SIM
set -euo pipefail
memmon=$1
target=$2
workload=$3
fail() { echo "allocator pressure test: $*"; exit 1; }
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
  fail "needs redis-server and redis-benchmark (scripts/install-deps)"
tmp=$(mktemp -d)
redis_pid=
cleanup() {
  [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# A history of 30 samples at 100 ms is "covered" once full (the detector's
# hold, 150 s, is not waited for when the history is full before it).
"$memmon" run --interval 100ms --max-samples 30 --warmup-samples 5 --no-report \
  --out "$tmp/alloc" -- "$target" 6 0 >"$tmp/alloc.out" 2>"$tmp/alloc.err" ||
  fail "memmon run (alloc target) exited $?: $(cat "$tmp/alloc.err")"
"$memmon" run --interval 100ms --max-samples 30 --warmup-samples 5 --no-report \
  --out "$tmp/service" -- "$workload" --duration 8 --quiet \
  >"$tmp/service.out" 2>"$tmp/service.err" ||
  fail "memmon run (objectfs) exited $?: $(cat "$tmp/service.err")"

# redis-server under memmon run, serving 50 clients (about 10 s of
# requests; the history of 30 samples is full within the first 3 s).
port=$((20000 + RANDOM % 20000))
"$memmon" run --interval 100ms --max-samples 30 --warmup-samples 5 --no-report \
  --out "$tmp/redis" -- redis-server --port "$port" --save '' --appendonly no \
  --daemonize no >"$tmp/redis.out" 2>"$tmp/redis.err" &
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
redis-cli -p "$port" ping | grep -q PONG || fail "redis did not start: $(cat "$tmp/redis.err")"
redis-benchmark -p "$port" -n 100000 -c 50 -q --csv -d 200 \
  -t set,get,lpush,lpop,sadd,hset,lrange_100 >"$tmp/redis.csv" ||
  fail "redis-benchmark failed"
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
set +e
wait "$redis_pid"; rc=$?
set -e
redis_pid=
[[ $rc -eq 0 ]] || fail "memmon run (redis-server) exited $rc: $(cat "$tmp/redis.err")"

python3 - "$tmp" <<'PY' || fail "see above"
import csv, json, statistics, sys, os
tmp = sys.argv[1]
def fractions(run):
    rows = list(csv.DictReader(open(os.path.join(tmp, run, "samples.csv"))))
    return rows, [float(r["allocator_cpu_fraction"]) for r in rows
                  if r.get("allocator_cpu_fraction")]
def alerts(run):
    path = os.path.join(tmp, run, "alerts.jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]
rows, f = fractions("alloc")
assert len(f) >= len(rows) // 2, (len(f), len(rows))
assert statistics.median(f) > 0.5, f
fired = [a for a in alerts("alloc") if a["type"] == "allocator_pressure"]
assert fired and fired[0]["state"] == "firing", alerts("alloc")
rows, f = fractions("service")
assert len(f) >= len(rows) // 2, (len(f), len(rows))
print("objectfs allocator share: median %.3f over %d samples" %
      (statistics.median(f), len(f)))
# About 4-6 % by the sampler's clock (perf attributes 5-6 % of its CPU to
# malloc and free): a quarter of allocator_cpu_pct's 20 % at most.
assert statistics.median(f) < 0.10, f
service_alerts = [a for a in alerts("service") if a["type"] == "allocator_pressure"]
assert not service_alerts, service_alerts
# redis-server: 7-8 % by the clock (median) on a quiet machine, 11 % with
# both vCPUs contended (a thread descheduled inside a timed call counts
# that time: docs/profiler.md): under the alert's 20 %, and no alert.
rows, f = fractions("redis")
assert len(f) >= len(rows) // 2, (len(f), len(rows))
print("redis-server allocator share: median %.3f over %d samples" %
      (statistics.median(f), len(f)))
assert statistics.median(f) < 0.20, f
redis_alerts = [a for a in alerts("redis") if a["type"] == "allocator_pressure"]
assert not redis_alerts, redis_alerts
PY

echo "allocator pressure test passed"
