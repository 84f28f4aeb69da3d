#!/usr/bin/env bash
# What one HTTP request costs the serving process in CPU (schedstat of all
# its threads, ns), for memmon's server and for two others on the same
# machine in the same run (bench/http_floor.cc): the floor (a thread per
# connection doing one recv and two sends a request) and cpp-httplib's own
# Server as shipped. One client, on another CPU, fetches GET /debug/pprof/
# (a 1550-byte page; memmon's index) ten times a second over one kept-alive
# connection; the servers run pinned to CPU 0, otherwise idle. Rounds in
# alternating order; prints each server's median CPU per request.
#
# Why: issue 16's "every endpoint at 10 Hz within 1 %" is 150 requests a
# second, so 1 % of a core is ~67 us a request; this says what a request
# costs here before any page is built.
#
#   bench/http_request_cost.sh [build-dir] [rounds] [seconds] [server-cpu] [client-cpu]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
seconds=${3:-8}
cpu=${4:-0}
client_cpu=${5:-1}
for f in "$build/bin/http_floor" "$build/lib/libmemmon_preload.so" "$build/lib/libmemmon_agent.so"; do
  [[ -e $f ]] || { echo "http_request_cost: $f missing (cmake --build $build --target http_floor memmon_preload memmon_agent)" >&2; exit 1; }
done
exec python3 - "$build" "$rounds" "$seconds" "$cpu" "$client_cpu" <<'PY'
import http.client, os, socket, statistics, subprocess, sys, time

build, rounds, seconds, cpu, client_cpu = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
os.sched_setaffinity(0, {client_cpu})
floor = os.path.join(build, "bin/http_floor")

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def cpu_ns(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total

def measure(name, port):
    env = dict(os.environ)
    if name == "memmon":
        env.update(LD_PRELOAD=os.path.join(build, "lib/libmemmon_preload.so"),
                   MEMMON_HTTP="127.0.0.1:%d" % port, MEMMON_HTTP_INTERVAL="1000")
        argv = [floor, "idle"]
    else:
        argv = [floor, name, str(port)]
    proc = subprocess.Popen(["taskset", "-c", cpu] + argv, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        conn = None
        while conn is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.connect()
            except OSError:
                conn = None
                if time.monotonic() > deadline:
                    sys.exit("http_request_cost: %s did not listen" % name)
                time.sleep(0.05)
        def get():
            conn.request("GET", "/debug/pprof/")
            r = conn.getresponse()
            body = r.read()
            if r.status != 200 or len(body) < 1000:
                sys.exit("http_request_cost: %s answered %d" % (name, r.status))
        for _ in range(10):  # warm: the first requests build what is kept
            get()
            time.sleep(0.1)
        before, n = cpu_ns(proc.pid), 0
        tick = time.monotonic()
        end = tick + seconds
        while tick < end:
            get()
            n += 1
            tick += 0.1
            time.sleep(max(0.0, tick - time.monotonic()))
        after = cpu_ns(proc.pid)
        conn.close()
        return (after - before) / n / 1000.0
    finally:
        proc.kill()
        proc.wait()

names = ["minimal", "httplib", "memmon"]
per = {n: [] for n in names}
for i in range(rounds):
    for name in (names if i % 2 == 0 else names[::-1]):
        per[name].append(measure(name, free_port()))
print("CPU of the serving process per request, us (median over %d rounds; each round's values)" % rounds)
for name in names:
    print("  %-8s %7.1f   %s" % (name, statistics.median(per[name]),
                                  " ".join("%.1f" % v for v in per[name])))
print("memmon / minimal: %.2f, memmon / cpp-httplib: %.2f" %
      (statistics.median(per["memmon"]) / statistics.median(per["minimal"]),
       statistics.median(per["memmon"]) / statistics.median(per["httplib"])))
PY
