#!/usr/bin/env bash
# redis-server's throughput under redis-benchmark, native against memmon's
# heap sampler (LD_PRELOAD at the default rate; and under `memmon run`,
# which adds sampling the process every second) and heaptrack, in the same
# run. Rounds are interleaved (native, memmon, memmon run, heaptrack,
# native, ...) so load from elsewhere hits all alike; for each command the
# median over rounds of each round's requests/s, and the median of the
# per-round ratios to native. The server is pinned to the first CPU and
# redis-benchmark to the last (on a 2-CPU machine, one each).
#
#   bench/redis_throughput.sh [build-dir] [requests] [rounds]
set -euo pipefail
build=${1:-build}
requests=${2:-200000}
rounds=${3:-5}
preload=$(cd "$build" && pwd)/lib/libmemmon_preload.so
memmon=$(cd "$build" && pwd)/bin/memmon
[[ -f $preload && -x $memmon ]] || { echo "build first: make build" >&2; exit 1; }
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
  { echo "needs redis-server and redis-benchmark (scripts/install-deps)" >&2; exit 1; }
last=$(($(nproc) - 1))
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
server=(redis-server --port "$port" --save '' --appendonly no --daemonize no)

# bench NAME PREFIX...: starts the server under PREFIX, runs the benchmark,
# appends "test rps" lines to $tmp/NAME, stops the server.
bench() {
  local name=$1
  shift
  taskset -c 0 "$@" "${server[@]}" >"$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.05
  done
  taskset -c "$last" redis-benchmark -p "$port" -n "$requests" -c 50 -q --csv \
    -t set,get,incr,lpush,lpop,sadd,hset,lrange_100 >"$tmp/out.csv"
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  # "test","rps",... (the header line has no number)
  awk -F'","' -v r="$round" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print r, $1, $2 }' \
    "$tmp/out.csv" >>"$tmp/$name"
}

have_heaptrack=0
command -v heaptrack >/dev/null && have_heaptrack=1
for ((round = 0; round < rounds; round++)); do
  bench native env
  bench memmon env LD_PRELOAD="$preload"
  bench memmon_run "$memmon" run --out "$tmp/run$round" --no-report --
  [[ $have_heaptrack == 1 ]] && bench heaptrack heaptrack -o "$tmp/ht$round"
done

python3 - "$tmp" <<'PY'
import collections, os, statistics, sys
tmp = sys.argv[1]
def load(name):
    d = collections.defaultdict(dict)  # test -> round -> rps
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        return None
    for line in open(path):
        parts = line.split()
        r, rps = parts[0], float(parts[-1])
        test = " ".join(parts[1:-1])
        d[test][r] = rps
    return d
native = load("native")
others = [(n, load(n)) for n in ("memmon", "memmon_run", "heaptrack")]
others = [(n, d) for n, d in others if d]
head = f"{'test':24} {'native rps':>11}"
for n, _ in others:
    head += f" {n + ' rps':>16} {'ratio':>6}"
print(head)
all_ratios = collections.defaultdict(list)
for test in native:
    row = f"{test:24} {statistics.median(native[test].values()):11.0f}"
    for n, d in others:
        ratios = [d[test][r] / native[test][r] for r in native[test] if r in d.get(test, {})]
        all_ratios[n] += ratios
        row += f" {statistics.median(d[test].values()):16.0f} {statistics.median(ratios):6.3f}"
    print(row)
print("median of all ratios: " + ", ".join(
    f"{n} {statistics.median(v):.3f}" for n, v in all_ratios.items()))
PY
