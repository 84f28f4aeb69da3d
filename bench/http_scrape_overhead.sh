#!/usr/bin/env bash
# What serving memmon's endpoint costs the program it is in, while a client
# fetches every endpoint ten times a second (docs/http.md; issue 16's "a
# program under 10 scrapes per second of every endpoint keeps its
# throughput within 1 %").
#
# The program: bench/alloc_workload's `service` workload (one thread,
# allocation-heavy like a cache server) under the preloaded sampler with
# MEMMON_HTTP (the endpoint in the program, served from its agent's
# threads). Three configurations, in rotating order, each run a fresh
# process:
#   quiet      the endpoint up, nobody fetching
#   scraped    a client on another CPU fetching, every 100 ms, /metrics,
#              /debug/memmon/{stats,samples,alerts,top_sites},
#              /debug/pprof/ and its heap, allocs, threads, goroutine,
#              mutex, block, peak, mmap (no ?seconds), and the live page /
#   neighbour  the endpoint up, nobody fetching from it; the same client
#              fetching the same paths as often from a stand-in server on
#              its own CPU (bench/http_floor minimal: the same 1550-byte
#              page for every path, no parsing): the client's load on the
#              machine without memmon serving it
# The program (its work and the server's threads) is pinned to one CPU, the
# client to another. Throughput is ops per second of wall time and ops per
# second of the process's CPU time (user + system, the server's threads
# included: what the program would get from a dedicated core). Prints the
# median of scraped/quiet and scraped/neighbour per round and their
# ranges. scraped/quiet also carries the clients' own load: on the
# benchmark machine a busy CPU 1 alone cuts the program's ops per CPU
# second by several per cent (its vCPUs share a core or a cache);
# scraped/neighbour has that load on both sides. It also prints the direct figure: the
# CPU time of the server's threads (listener, gate and workers, found by
# the names they give themselves; schedstat, ns) per second of the scraped
# run: the share of a core the serving took from the program.
#
# The share is also given in steady state: from the eighth argument's
# seconds (10) after the scraping began to the end of the run. The first
# profiles built read each library's DWARF (once for the life of the
# process: the symbolizer's cache), a cost a daemon pays once and a
# ten-second run pays in full; runs need ops enough to scrape 5 s more.
#
# With `metrics` as the sixth argument only /metrics is fetched (what a
# Prometheus does, at ten times its usual rate). The seventh says how the
# clients connect: `keepalive` (the default: one connection per client,
# reused, as Prometheus's and Go's HTTP clients do) or `close` (a new
# connection per fetch, as curl in a loop does).
#
#   bench/http_scrape_overhead.sh [build-dir] [rounds] [ops] [program-cpu] [client-cpu] [all|metrics] [keepalive|close] [warmup-s]
set -euo pipefail
build=${1:-build}
pairs=${2:-6}  # rounds of the three configurations
ops=${3:-1000000}
cpu=${4:-0}
client_cpu=${5:-1}
endpoints=${6:-all}
connections=${7:-keepalive}
warmup=${8:-10}
for f in "$build/bin/alloc_workload" "$build/bin/http_floor" "$build/lib/libmemmon_preload.so" "$build/lib/libmemmon_agent.so"; do
  [[ -e $f ]] || { echo "http_scrape_overhead: $f missing (cmake --build $build --target alloc_workload http_floor memmon_preload memmon_agent)" >&2; exit 1; }
done
command -v taskset >/dev/null || { echo "http_scrape_overhead: taskset (util-linux) not found" >&2; exit 1; }
exec python3 - "$build" "$pairs" "$ops" "$cpu" "$client_cpu" "$endpoints" "$connections" "$warmup" <<'PY'
import collections, http.client, os, resource, socket, statistics, subprocess, sys, threading, time

build, pairs, ops, cpu, client_cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
ENDPOINTS = ["/metrics", "/debug/memmon/stats", "/debug/memmon/samples",
             "/debug/memmon/alerts", "/debug/memmon/top_sites", "/debug/pprof/",
             "/debug/pprof/heap", "/debug/pprof/allocs", "/debug/pprof/threads",
             "/debug/pprof/goroutine", "/debug/pprof/mutex", "/debug/pprof/block",
             "/debug/pprof/peak", "/debug/pprof/mmap", "/"]
if sys.argv[6] == "metrics":
    ENDPOINTS = ["/metrics"]
elif sys.argv[6] != "all":
    sys.exit("http_scrape_overhead: the endpoints are 'all' or 'metrics'")
if sys.argv[7] not in ("keepalive", "close"):
    sys.exit("http_scrape_overhead: the connections are 'keepalive' or 'close'")
KEEPALIVE = sys.argv[7] == "keepalive"
warmup = float(sys.argv[8])
os.sched_setaffinity(0, {int(client_cpu)})  # this process is the client

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

lock = threading.Lock()
# The server's threads, by the names they give themselves: the listener,
# the gate, the /metrics worker, the other workers.
SERVER_THREADS = {"memmon-http", "memmon-gate", "memmon-metrics", "memmon-worker"}

def fetch(port, path, statuses, conn):
    """One GET; conn[0] is the client's connection, kept between fetches
    when KEEPALIVE and the server keeps it."""
    try:
        if conn[0] is None:
            conn[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c = conn[0]
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        what = r.status
        if not KEEPALIVE or r.will_close:
            c.close()
            conn[0] = None
    except (OSError, http.client.HTTPException) as e:
        what = type(e).__name__
        if conn[0] is not None:
            conn[0].close()
        conn[0] = None
    with lock:
        statuses[what] += 1

per_endpoint = collections.defaultdict(list)

def run(mode):
    scraped = mode == "scraped"
    port = free_port()
    env = dict(os.environ, LD_PRELOAD=os.path.join(build, "lib/libmemmon_preload.so"),
               MEMMON_HTTP="127.0.0.1:%d" % port, MEMMON_HTTP_INTERVAL="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(["taskset", "-c", cpu, os.path.join(build, "bin/alloc_workload"),
                             str(ops), "service", "1"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    statuses = collections.Counter()
    slowest = 0.0
    # CPU time of the server's threads (listener, gate, workers: found by
    # name), from schedstat (ns), read every 50 ms until they are gone.
    side = {}
    trace = []  # (time, the server threads' CPU so far, ns)
    def watch_threads():
        task = "/proc/%d/task" % proc.pid
        while proc.poll() is None:
            if side:
                trace.append((time.monotonic(), sum(side.values())))
            try:
                for tid in os.listdir(task):
                    with open("%s/%s/comm" % (task, tid)) as f:
                        if f.read().strip() not in SERVER_THREADS:
                            continue
                    with open("%s/%s/schedstat" % (task, tid)) as f:
                        side[tid] = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.05)
    watcher = threading.Thread(target=watch_threads)
    watcher.start()
    stand_in = None
    if mode == "neighbour":
        port = free_port()  # the clients' target: the stand-in's
        stand_in = subprocess.Popen(["taskset", "-c", client_cpu, os.path.join(build, "bin/http_floor"),
                                     "minimal", str(port)], stdout=subprocess.DEVNULL)
    if mode != "quiet":
        while proc.poll() is None:  # until the endpoint is up
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.01)
        done = threading.Event()
        counts = collections.Counter()
        def client(path):
            tick = time.monotonic()
            conn = [None]
            while not done.is_set():
                fetch(port, path, statuses, conn)
                counts[path] += 1  # this thread's own key
                # Every 100 ms on average: a late answer is made up
                # for (unless a second late), so each endpoint is asked
                # ten times a second when the server keeps up.
                tick += 0.1
                if time.monotonic() - tick > 1:
                    tick = time.monotonic()
                done.wait(max(0.0, tick - time.monotonic()))
        clients = [threading.Thread(target=client, args=(p,)) for p in ENDPOINTS]
        scrape_start = time.monotonic()
        for t in clients:
            t.start()
        proc.wait()
        done.set()
        for t in clients:
            t.join()
        scrape_time = time.monotonic() - scrape_start
        if stand_in is not None:
            stand_in.kill()
            stand_in.wait()
        if scraped:
            for p in ENDPOINTS:
                per_endpoint[p].append(counts[p] / scrape_time)
        slowest = min(counts[p] for p in ENDPOINTS) / scrape_time
    out, _ = proc.communicate()
    wall = time.monotonic() - start
    watcher.join()
    side_s = sum(side.values()) / 1e9
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0 or b"checksum=" not in out:
        sys.exit("http_scrape_overhead: the workload failed (%d)" % proc.returncode)
    # Steady state: from `warmup` seconds after the scraping began (the
    # first builds read each library's DWARF once, for the life of the
    # process) to the end.
    steady = None
    if scraped:
        late = [p for p in trace if p[0] >= scrape_start + warmup]
        if len(late) >= 2 and late[-1][0] - late[0][0] >= 5:
            steady = (late[-1][1] - late[0][1]) / 1e9 / (late[-1][0] - late[0][0])
    return ops / wall, ops / cpu_s, slowest, statuses, side_s, wall, steady

wall_ratios, cpu_ratios, neighbour_ratios, server_shares, steady_shares = [], [], [], [], []
all_status = collections.Counter()
print("round  quiet ops/s (wall, cpu)  neighbour (wall, cpu)  scraped (wall, cpu)  scraped/quiet (wall, cpu)  scraped/neighbour wall  slowest fetches/s  server CPU share  steady")
MODES = ["quiet", "scraped", "neighbour"]
for i in range(pairs):
    res = {}
    for k in range(3):
        mode = MODES[(i + k) % 3]
        res[mode] = run(mode)
    q, n, s = res["quiet"], res["neighbour"], res["scraped"]
    wall_ratios.append(s[0] / q[0])
    cpu_ratios.append(s[1] / q[1])
    neighbour_ratios.append(s[0] / n[0])
    all_status.update(s[3])
    # What serving took: the gate's and workers' CPU per second of the
    # scraped run, as a share of one core.
    server_shares.append(s[4] / s[5])
    if s[6] is not None:
        steady_shares.append(s[6])
    print("%5d  %9.0f %9.0f  %9.0f %9.0f  %9.0f %9.0f  %8.4f %8.4f  %8.4f  %6.1f  %8.4f  %s" %
          (i, q[0], q[1], n[0], n[1], s[0], s[1], wall_ratios[-1], cpu_ratios[-1],
           neighbour_ratios[-1], s[2], server_shares[-1],
           "-" if s[6] is None else "%.4f" % s[6]))
print("throughput ratios, median over %d rounds (range):" % pairs)
print("  scraped/quiet, wall: %.4f (%.4f .. %.4f)" % (statistics.median(wall_ratios), min(wall_ratios), max(wall_ratios)))
print("  scraped/quiet, cpu:  %.4f (%.4f .. %.4f)" % (statistics.median(cpu_ratios), min(cpu_ratios), max(cpu_ratios)))
print("  scraped/neighbour, wall: %.4f (%.4f .. %.4f)" % (statistics.median(neighbour_ratios), min(neighbour_ratios), max(neighbour_ratios)))
print("CPU of the server's threads per second of the scraped run (share of one core):")
print("  %.4f (%.4f .. %.4f)" % (statistics.median(server_shares), min(server_shares), max(server_shares)))
if steady_shares:
    print("  steady state, from %g s after the scraping began: %.4f (%.4f .. %.4f)" %
          (warmup, statistics.median(steady_shares), min(steady_shares), max(steady_shares)))
else:
    print("  steady state: the runs are too short (each must scrape %g s + 5 s; more ops)" % warmup)
print("fetches per second achieved, median over pairs (each client asks for 10):")
for p in ENDPOINTS:
    print("  %-26s %5.1f" % (p, statistics.median(per_endpoint[p])))
print("responses: " + ", ".join("%s: %d" % (k, v) for k, v in sorted(all_status.items(), key=str)))
PY
