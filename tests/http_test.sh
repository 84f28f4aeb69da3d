#!/usr/bin/env bash
# The HTTP endpoint end to end, read by the tools it is for: a service
# (tests/targets/http_target.cc) under the heap sampler serves memmon's
# endpoint; promtool checks /metrics and docs/prometheus/; go tool pprof
# reads heap, allocs, a ?seconds delta and goroutine; a real Prometheus
# scrapes it.
#
# Then the two other ways to start it: MEMMON_HTTP in a program nobody here
# wrote (python3, only the sampler preloaded), and `memmon run --http` /
# `memmon watch PID --http`.
#
# And the endpoint at exit: stopped before the program's exit handlers and
# destructors that came after it started (tests/targets/http_exit_target.c).
#
#   tests/http_test.sh HTTP_TARGET PRELOAD_SO DOCS_PROMETHEUS_DIR MEMMON EXIT_TARGET
set -euo pipefail
target=$1
preload=$2
rules_dir=$3
memmon=$4
exit_target=$5
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
# Whether the page at URL $1 has a line matching $2. Not `curl | grep -q`:
# under pipefail, grep leaving early makes curl fail writing the rest.
page_has() {
  curl -sf "$1" >"$work/page.tmp" && grep -q "$2" "$work/page.tmp"
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
for family in memmon_heap_inuse_bytes memmon_heap_free_bytes memmon_rss_bytes memmon_threads \
  memmon_open_fds 'memmon_alerts_total{type="memory_growth"}' \
  'memmon_alert_firing{type="fd_leak"}' memmon_sampler_samples_total \
  'memmon_growth_time_to_limit_seconds{quantity="heap_inuse_bytes"}' \
  'memmon_rss_breakdown_bytes{part="heap_inuse"}' \
  'memmon_rss_breakdown_bytes{part="allocator_free"}' \
  'memmon_rss_breakdown_bytes{part="stacks"}' \
  'memmon_rss_breakdown_bytes{part="code"}' \
  memmon_http_threads memmon_http_workers \
  'memmon_http_connections{state="serving"}' 'memmon_http_responses_total{code="200"}' \
  memmon_http_shed_connections_total memmon_http_written_bytes_total; do
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
# The one-off 4 MiB at startup: in the full profile, not in the delta.
grep -q 'StartupOnly' "$work/heap.txt" || fail "heap lacks the startup allocation"
go tool pprof -top "$url/debug/pprof/allocs" >"$work/allocs.txt" 2>>"$work/pprof.log" ||
  fail "go tool pprof allocs failed"
grep -q 'Type: alloc_space' "$work/allocs.txt" || fail "allocs is not alloc_space"
grep -q 'LeakyRegistry::Remember' "$work/allocs.txt" || fail "allocs lacks the leak"
go tool pprof -top -seconds 2 -sample_index=inuse_space "$url/debug/pprof/heap" \
  >"$work/delta.txt" 2>>"$work/pprof.log" || fail "go tool pprof -seconds failed"
grep -q 'LeakyRegistry::Remember' "$work/delta.txt" || fail "the delta lacks the leak"
! grep -q 'StartupOnly' "$work/delta.txt" ||
  fail "the ?seconds=2 delta holds the startup allocation (not a delta?)"
go tool pprof -top "$url/debug/pprof/goroutine" >"$work/goroutine.txt" 2>>"$work/pprof.log" ||
  fail "go tool pprof goroutine failed"
grep -q 'Type: threads' "$work/goroutine.txt" || fail "goroutine is not a thread profile"
page_has "$url/debug/pprof/" 'href="heap"' || fail "no pprof index"

# An alert has fired by now (the leak), so the page has a marker to draw.
until_ok 30 bash -c "curl -sf $url/debug/memmon/alerts | grep -q memory_growth" ||
  fail "no memory_growth alert after 30 s"
# The live page in headless Chromium: its script fetched and drew (charts
# rendered, the leaking site listed) without an error; the DOM is read
# after 4 virtual seconds of its polling.
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || fail "no chromium (scripts/install-deps installs it)"
mkdir -p "$work/chrome"
HOME=$work/chrome timeout 120 "$chrome" --headless=new --no-sandbox --disable-gpu \
  --disable-dev-shm-usage --no-first-run --no-default-browser-check \
  --user-data-dir="$work/chrome/profile" --window-size=1280,2000 \
  --virtual-time-budget=4000 --dump-dom "$url/" >"$work/live.html" 2>"$work/chromium.log" ||
  fail "chromium failed on the live page"
html=$(grep -o '<html[^>]*>' "$work/live.html" | head -1)
[[ $html == *'data-ready="1"'* ]] || fail "the live page did not update: $html"
updates=$(sed -n 's/.*data-updates="\([0-9]*\)".*/\1/p' <<<"$html")
[ "${updates:-0}" -ge 2 ] || fail "the live page updated ${updates:-0} times, not >= 2: $html"
[[ $html == *'data-errors="0"'* ]] || fail "the live page has script errors: $html"
for id in memory-chart counts-chart; do
  grep -q "<div id=\"$id\"[^>]*data-rendered=\"1\"" "$work/live.html" ||
    fail "the live page did not draw $id"
done
grep -q 'LeakyRegistry::Remember' "$work/live.html" ||
  fail "the live page does not list the leaking site"
markers=$(grep -o '<div id="memory-chart"[^>]*' "$work/live.html" |
  sed -n 's/.*data-alert-markers="\([0-9]*\)".*/\1/p')
[ "${markers:-0}" -ge 1 ] || fail "the live page drew ${markers:-0} alert markers, not >= 1"
page_has "$url/debug/memmon/top_sites?n=1" 'LeakyRegistry::Remember' ||
  fail "top_sites lacks the leaking site"

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

# MEMMON_HTTP: python3 with the sampler preloaded serves its own endpoint
# (its address on stderr) until its stdin closes.
# Debian's python3 itself: a wrapper script (pyenv's shim) would be the
# process serving, and exec would replace it.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)
mkfifo "$work/py_stdin"
MEMMON_HTTP=127.0.0.1:0 MEMMON_HTTP_INTERVAL=0.1 LD_PRELOAD=$preload \
  "$python" -c '
import sys
kept = []
while sys.stdin.read(1):
    pass
' <"$work/py_stdin" >"$work/python.txt" 2>"$work/python.log" &
pids+=($!)
exec 4>"$work/py_stdin"
until_ok 30 grep -q 'memmon: serving http://' "$work/python.log" ||
  fail "python3 under MEMMON_HTTP printed no address"
pyurl=$(grep -o 'http://[0-9.:]*' "$work/python.log" | head -1)
until_ok 30 bash -c "curl -sf $pyurl/metrics | grep -q '^memmon_samples_total [1-9]'" ||
  fail "MEMMON_HTTP: no samples in /metrics"
curl -sf "$pyurl/metrics" | promtool check metrics >"$work/promtool-py.log" 2>&1 ||
  fail "MEMMON_HTTP: promtool check metrics failed"
page_has "$pyurl/metrics" '^memmon_sampler_samples_total' ||
  fail "MEMMON_HTTP: no sampler counters"
go tool pprof -top "$pyurl/debug/pprof/heap" >"$work/py-heap.txt" 2>>"$work/pprof.log" ||
  fail "MEMMON_HTTP: go tool pprof heap failed"
grep -q '^File: python3' "$work/py-heap.txt" || fail "MEMMON_HTTP: not python3's heap"
go tool pprof -top "$pyurl/debug/pprof/goroutine" >"$work/py-threads.txt" 2>>"$work/pprof.log" ||
  fail "MEMMON_HTTP: go tool pprof goroutine failed"
grep -q 'Type: threads' "$work/py-threads.txt" || fail "MEMMON_HTTP: no thread profile"
go tool pprof -top "$pyurl/debug/pprof/peak" >"$work/py-peak.txt" 2>>"$work/pprof.log" ||
  fail "MEMMON_HTTP: go tool pprof peak failed"
grep -q '^File: python3' "$work/py-peak.txt" || fail "MEMMON_HTTP: not python3's peak heap"
go tool pprof -top "$pyurl/debug/pprof/mmap" >"$work/py-mmap.txt" 2>>"$work/pprof.log" ||
  fail "MEMMON_HTTP: go tool pprof mmap failed"
grep -q '^Type: mapped_space' "$work/py-mmap.txt" || fail "MEMMON_HTTP: mmap is not a mapping profile: $(head -5 "$work/py-mmap.txt")"
for kind in mutex block; do
  go tool pprof -top -sample_index=delay "$pyurl/debug/pprof/$kind" >"$work/py-$kind.txt" 2>>"$work/pprof.log" ||
    fail "MEMMON_HTTP: go tool pprof $kind failed"
  grep -q '^Type: delay' "$work/py-$kind.txt" || fail "MEMMON_HTTP: $kind is not a delay profile"
  go tool pprof -top "$pyurl/debug/pprof/$kind?seconds=1" >/dev/null 2>>"$work/pprof.log" ||
    fail "MEMMON_HTTP: $kind?seconds=1 failed"
done
exec 4>&-

# MEMMON_HTTP at exit: a destructor registered after the endpoint started
# (cpp-httplib's table of methods, first used by a request) runs before the
# exit handlers registered earlier, so the endpoint must have stopped by
# then. The target's own handler, registered before its first request,
# asks for a page at exit: refused, not served (MALLOC_PERTURB_: freed
# memory read would be garbage, not the old table).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MEMMON_HTTP=127.0.0.1:$port MALLOC_PERTURB_=165 LD_PRELOAD=$preload \
  "$exit_target" "$port" >"$work/exit.txt" 2>"$work/exit.log" ||
  fail "http_exit_target failed: $(cat "$work/exit.txt")"
grep -qx 'during: 200' "$work/exit.txt" || fail "http_exit_target: no page while running"
grep -qx 'at exit: refused' "$work/exit.txt" ||
  fail "MEMMON_HTTP still served after the program's later destructors ran: $(cat "$work/exit.txt")"

# memmon run --http: the child's data and heap, served by memmon.
mkfifo "$work/run_stdin"
"$memmon" run --interval 100ms --sample-rate 16k --http 127.0.0.1:0 --out "$work/run" --no-report \
  -- "$target" 127.0.0.1:0 <"$work/run_stdin" >"$work/run.txt" 2>"$work/run.log" &
run_pid=$!
pids+=($run_pid)
exec 5>"$work/run_stdin"
until_ok 30 grep -q 'memmon: run: serving http://' "$work/run.log" ||
  fail "memmon run --http printed no address"
runurl=$(grep -o 'serving http://[0-9.:]*' "$work/run.log" | sed 's/serving //')
until_ok 30 bash -c "curl -sf $runurl/metrics | grep -q '^memmon_heap_inuse_bytes'" ||
  fail "memmon run --http: no heap in /metrics"
curl -sf "$runurl/metrics" | promtool check metrics >"$work/promtool-run.log" 2>&1 ||
  fail "memmon run --http: promtool check metrics failed"
go tool pprof -top -sample_index=inuse_space "$runurl/debug/pprof/heap" \
  >"$work/run-heap.txt" 2>>"$work/pprof.log" || fail "memmon run --http: pprof heap failed"
# The leak grows from the child's start; a profile fetched in its first
# ticks may hold no sample of it yet, so fetch until one does.
run_heap_has_leak() {
  go tool pprof -top -sample_index=inuse_space "$runurl/debug/pprof/heap" \
    >"$work/run-heap.txt" 2>>"$work/pprof.log" &&
    grep -q 'LeakyRegistry::Remember' "$work/run-heap.txt"
}
until_ok 30 run_heap_has_leak ||
  fail "memmon run --http: the child's heap lacks its leak"
# The peak, written by the child's sampler on request.
go tool pprof -top -sample_index=inuse_space "$runurl/debug/pprof/peak" \
  >"$work/run-peak.txt" 2>>"$work/pprof.log" || fail "memmon run --http: pprof peak failed"
grep -q 'LeakyRegistry::Remember' "$work/run-peak.txt" ||
  fail "memmon run --http: the child's peak lacks its leak"
go tool pprof -top -sample_index=delay "$runurl/debug/pprof/block" >"$work/run-block.txt" 2>>"$work/pprof.log" ||
  fail "memmon run --http: pprof block failed"
grep -q '^Type: delay' "$work/run-block.txt" || fail "memmon run --http: block is not a delay profile"
exec 5>&-
wait "$run_pid" || fail "memmon run exited with $?"

# A burst of concurrent and malformed requests leaves the monitored
# program's output and exit status unchanged: the same deterministic child
# (a checksum of what it computed, exit 3) under `memmon run --http`, once
# with ~200 requests fired at the endpoint while it works, once without.
cat >"$work/child.py" <<'PY'
import hashlib, sys
h = hashlib.sha256()
def work(rounds, seed):
    for i in range(rounds):
        h.update(b"".join(str(seed * i * j).encode() for j in range(300)))
work(3000, 7)          # while the burst runs
sys.stdin.read()       # until the test closes stdin
work(3000, 11)
print(h.hexdigest())
sys.exit(3)
PY
cat >"$work/burst.py" <<'PY'
# ~200 requests at once: good ones, other methods, bodies, bad parameters,
# garbage heads, raw garbage, half heads. Prints a count per outcome (the
# status line, "closed" or the socket error).
import collections, socket, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
good = [b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /debug/pprof/heap HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /debug/memmon/stats HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /debug/memmon/samples HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"]
bad = [b"GET /debug/pprof/heap?seconds=abc HTTP/1.1\r\nHost: x\r\n\r\n",
       b"GET /debug/pprof/heap?seconds=99999 HTTP/1.1\r\nHost: x\r\n\r\n",
       b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000000,
       b"PUT / HTTP/1.1\r\nHost: x\r\n\r\n",
       b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
       b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
       b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
       b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
       b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
       b"garbage\r\n\r\n",
       b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Half: "]
outcomes = collections.Counter()
lock = threading.Lock()
def one(payload):
    try:
        s = socket.create_connection((host, port), timeout=60)
        try:
            s.sendall(payload)
        except OSError:
            pass
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                data = data or b"HUNG (no answer in 60 s)"
                break
            except OSError:
                break
            if not b:
                break
            data += b
        s.close()
        what = data.split(b"\r\n", 1)[0].decode("latin-1")[:40] or "closed"
    except OSError as e:
        what = "error " + type(e).__name__
    with lock:
        outcomes[what] += 1
everything = good + bad
threads = [threading.Thread(target=one, args=(everything[i % len(everything)],))
           for i in range(204)]
for t in threads: t.start()
for t in threads: t.join()
for what, n in sorted(outcomes.items()):
    print(n, what)
PY
run_child() {  # $1: name; $2: burst or quiet
  mkfifo "$work/$1_stdin"
  "$memmon" run --interval 100ms --sample-rate 16k --http 127.0.0.1:0 --out "$work/$1" --no-report \
    -- "$python" "$work/child.py" <"$work/$1_stdin" >"$work/$1.txt" 2>"$work/$1.log" &
  local pid=$!
  pids+=($pid)
  exec 6>"$work/$1_stdin"
  until_ok 30 grep -q 'memmon: run: serving http://' "$work/$1.log" ||
    fail "$1: memmon run --http printed no address"
  local u
  u=$(grep -o 'serving http://[0-9.:]*' "$work/$1.log" | sed 's/serving //')
  if [ "$2" = burst ]; then
    python3 "$work/burst.py" "${u#http://}" >"$work/burst-outcomes.txt" 2>&1 ||
      fail "the burst script failed"
    # The endpoint serves after the burst.
    until_ok 30 bash -c "curl -sf $u/metrics | grep -q '^memmon_http_responses_total'" ||
      fail "no /metrics after the burst"
    curl -sf "$u/metrics" >"$work/burst-metrics.txt"
  fi
  exec 6>&-
  local status=0
  wait "$pid" || status=$?
  echo "$status" >"$work/$1.status"
}
run_child quiet quiet
run_child burst burst
echo "burst outcomes:"
sed 's/^/  /' "$work/burst-outcomes.txt"
grep -q 'HTTP/1.1 405' "$work/burst-outcomes.txt" || fail "the burst got no 405"
grep -q 'HTTP/1.1 200' "$work/burst-outcomes.txt" || fail "the burst got no 200"
! grep -q "HUNG" "$work/burst-outcomes.txt" || fail "a burst request hung"
[ "$(cat "$work/quiet.status")" = 3 ] ||
  fail "the quiet run exited $(cat "$work/quiet.status"), not 3"
[ "$(cat "$work/burst.status")" = "$(cat "$work/quiet.status")" ] ||
  fail "the burst changed the exit status: $(cat "$work/burst.status")"
[ -s "$work/quiet.txt" ] || fail "the child printed nothing"
cmp -s "$work/quiet.txt" "$work/burst.txt" ||
  fail "the burst changed the child's output: $(cat "$work/quiet.txt") vs $(cat "$work/burst.txt")"
grep -q '^memmon_http_responses_total{code="405"}' "$work/burst-metrics.txt" ||
  fail "the server did not count its 405s"

# memmon watch PID --http: /proc's data; no profiles, and it says why.
sleep 60 &
sleeper=$!
pids+=($sleeper)
"$memmon" watch "$sleeper" --interval 100ms --duration 30s --http 127.0.0.1:0 \
  >"$work/watch.txt" 2>"$work/watch.log" &
pids+=($!)
until_ok 30 grep -q 'memmon: watch: serving http://' "$work/watch.log" ||
  fail "memmon watch --http printed no address"
wurl=$(grep -o 'serving http://[0-9.:]*' "$work/watch.log" | sed 's/serving //')
until_ok 30 bash -c "curl -sf $wurl/metrics | grep -q '^memmon_rss_bytes'" ||
  fail "memmon watch --http: no RSS in /metrics"
code=$(curl -s -o "$work/watch-heap.txt" -w '%{http_code}' "$wurl/debug/pprof/heap")
[ "$code" = 503 ] || fail "memmon watch --http: heap answered $code, not 503"
grep -q "memmon watches PID $sleeper from /proc" "$work/watch-heap.txt" ||
  fail "memmon watch --http: the 503 does not say why"

echo "http_test: ok"
