#!/usr/bin/env bash
# The HTTP endpoint end to end, read by the tools it is for: a service
# (tests/targets/http_target.cc) under the heap sampler serves memmon's
# endpoint; promtool checks /metrics and docs/prometheus/; go tool pprof
# reads heap, allocs, a ?seconds delta and goroutine; a real Prometheus
# scrapes it.
#
#   tests/http_test.sh HTTP_TARGET PRELOAD_SO DOCS_PROMETHEUS_DIR
set -euo pipefail
target=$1
preload=$2
rules_dir=$3
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "http_test: $*" >&2
  for f in "$work"/*.log "$work"/*.txt; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}
# Waits (up to $1 seconds) until the command after it succeeds.
until_ok() {
  local limit=$1
  shift
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
export PPROF_TMPDIR=$work HOME=$work

# The service: stdin is a pipe held open by this script; closing it ends it.
mkfifo "$work/stdin"
LD_PRELOAD=$preload MEMMON_SAMPLE_RATE=16384 \
  "$target" 127.0.0.1:0 <"$work/stdin" >"$work/service.txt" 2>"$work/service.log" &
pids+=($!)
exec 3>"$work/stdin"
until_ok 30 grep -q '^memmon http://' "$work/service.txt" ||
  fail "the service did not print its address"
url=$(sed -n 's/^memmon //p' "$work/service.txt")
echo "service at $url"

# /metrics: clean for promtool, with the sampler's counters and the trend.
until_ok 30 bash -c "curl -sf $url/metrics | grep -q '^memmon_growth_unbounded'" ||
  fail "no trend in /metrics after 30 s"
curl -sf "$url/metrics" >"$work/metrics.txt"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.log" 2>&1 ||
  fail "promtool check metrics failed"
for family in memmon_heap_inuse_bytes memmon_rss_bytes memmon_threads \
  memmon_open_fds 'memmon_alerts_total{type="memory_growth"}' \
  'memmon_alert_firing{type="fd_leak"}' memmon_sampler_samples_total \
  'memmon_growth_time_to_limit_seconds{quantity="heap_inuse_bytes"}'; do
  grep -qF "$family " "$work/metrics.txt" || fail "/metrics lacks $family"
done
promtool check rules "$rules_dir/memmon-rules.yml" >"$work/rules.log" 2>&1 ||
  fail "promtool check rules failed"
promtool check config "$rules_dir/prometheus.yml" >"$work/config.log" 2>&1 ||
  fail "promtool check config failed"

# /debug/pprof: go tool pprof over HTTP, as a continuous profiler would.
go tool pprof -top -sample_index=inuse_space "$url/debug/pprof/heap" \
  >"$work/heap.txt" 2>"$work/pprof.log" || fail "go tool pprof heap failed"
grep -q 'LeakyRegistry::Remember' "$work/heap.txt" || fail "heap lacks the leak"
go tool pprof -top "$url/debug/pprof/allocs" >"$work/allocs.txt" 2>>"$work/pprof.log" ||
  fail "go tool pprof allocs failed"
grep -q 'Type: alloc_space' "$work/allocs.txt" || fail "allocs is not alloc_space"
grep -q 'LeakyRegistry::Remember' "$work/allocs.txt" || fail "allocs lacks the leak"
go tool pprof -top -seconds 2 -sample_index=inuse_space "$url/debug/pprof/heap" \
  >"$work/delta.txt" 2>>"$work/pprof.log" || fail "go tool pprof -seconds failed"
grep -q 'LeakyRegistry::Remember' "$work/delta.txt" || fail "the delta lacks the leak"
go tool pprof -top "$url/debug/pprof/goroutine" >"$work/goroutine.txt" 2>>"$work/pprof.log" ||
  fail "go tool pprof goroutine failed"
grep -q 'Type: threads' "$work/goroutine.txt" || fail "goroutine is not a thread profile"
curl -sf "$url/debug/pprof/" | grep -q 'href="heap"' || fail "no pprof index"

# /debug/memmon: JSON.
curl -sf "$url/debug/memmon/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["sample_count"] > 0 and "alerts_by_type" in s, s' || fail "bad stats"
curl -sf "$url/debug/memmon/samples" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert isinstance(a, list) and a and a[-1]["rss_bytes"] > 0' || fail "bad samples"
curl -sf "$url/debug/memmon/alerts" | python3 -c '
import json, sys
assert isinstance(json.load(sys.stdin), list)' || fail "bad alerts"

# A real Prometheus scrapes it.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: memmon
    static_configs:
      - targets: ["${url#http://}"]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
query() {
  curl -sf "http://127.0.0.1:$port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and float(r[0]["value"][1]) > 0 else 1)'
}
until_ok 90 query 'up{job="memmon"}' || fail "Prometheus never scraped the endpoint"
until_ok 30 query 'memmon_rss_bytes{job="memmon"}' || fail "Prometheus has no memmon_rss_bytes"
query 'memmon_sampler_samples_total{job="memmon"}' || fail "Prometheus has no sampler counters"

exec 3>&-
echo "http_test: ok"
