#!/usr/bin/env bash
# memmon report on a fixture run directory (tests/testdata/report_run): the
# page is self-contained (nothing it could fetch) and carries the run's
# data; a heap snapshot stands in for heap.pb.gz; a directory with only
# samples.csv still makes a page; bad input exits 2 with one line naming the
# file (and line); an unwritable -o exits 1; a resolved alert record is
# listed and charted as one. The page's scripts are run by
# cli_report_chromium_test.sh.
#
# The fixture's samples.csv, alerts.jsonl, leaks.json and run.json are
# handmade; its heap.pb.gz is a real profile, from
#   LD_PRELOAD=build/lib/libmemmon_preload.so MEMMON_OUTPUT=DIR \
#     MEMMON_SAMPLE_RATE=1 MEMMON_SEED=1 build/bin/leak_target new 200 1000
set -euo pipefail
memmon=$1
fixture=$2
fail() { echo "cli_report test: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_report ARGS...: sets rc, out (stdout) and err (stderr).
run_report() {
  set +e
  out=$("$memmon" report "$@" 2>"$work/stderr"); rc=$?
  set -e
  err=$(<"$work/stderr")
}
# expect_error STATUS PATTERN ARGS...: exit STATUS, one stderr line matching
# the glob PATTERN, nothing on stdout.
expect_error() {
  local status=$1 pattern=$2; shift 2
  run_report "$@"
  [[ $rc -eq $status ]] || fail "report $*: exited $rc, want $status (stderr: $err)"
  [[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "report $*: want one line, got: $err"
  # shellcheck disable=SC2053
  [[ $err == $pattern ]] || fail "report $*: unexpected message: $err (want $pattern)"
  [[ -z $out ]] || fail "report $*: wrote to stdout: $out"
}

"$memmon" --help | grep -q 'report' || fail "report not in --help"
"$memmon" report --help | grep -q -- '--output' || fail "no --output in report --help"

# ---- the fixture: default output DIR/report.html (on a copy) ----------------
cp -r "$fixture" "$work/run"
run_report "$work/run"
[[ $rc -eq 0 ]] || fail "report exited $rc: $err"
[[ $out == "wrote $work/run/report.html" ]] || fail "unexpected stdout: $out"
[[ -z $err ]] || fail "stderr not empty: $err"
page=$work/run/report.html
[[ -s $page ]] || fail "no $page"
ls "$work/run" | grep -q '\.tmp\.' && fail "temporary file left behind"

# Self-contained: no element or rule that loads anything ...
grep -Eiq '<(link|iframe|img|object|embed|frame|audio|video|source|base)[[:space:]>]' "$page" &&
  fail "an element that loads a resource: $(grep -Eio '<(link|iframe|img|object|embed|frame|audio|video|source|base)[^>]*' "$page" | head -3)"
grep -Eiq '<script[^>]*[[:space:]]src[[:space:]]*=' "$page" && fail "a <script src=...>"
grep -Eiq '(src|href|action|poster|srcset)[[:space:]]*=[[:space:]]*["'\'']?[[:space:]]*(https?:)?//' "$page" &&
  fail "an external src/href: $(grep -Eio '(src|href|action|poster|srcset)[[:space:]]*=[[:space:]]*["'\'']?[[:space:]]*(https?:)?//[^ >]*' "$page" | head -3)"
grep -Eiq 'url\([[:space:]]*["'\'']?[[:space:]]*(https?:)?//' "$page" && fail "a CSS url() to the network"
grep -Eiq '@import' "$page" && fail "a CSS @import"
grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$page" || fail "no CSP meta"
# ... and every http(s) URL left is in a licence banner comment of a vendored
# library (a line "// https://..." or "/*! https://... */") or an XML
# namespace name (http://www.w3.org/...), which no browser fetches.
leftover=$(grep -E 'https?://' "$page" |
  grep -Ev '^(// |/\*! )https?://' |
  sed -E 's#http://www\.w3\.org/[A-Za-z0-9/.]*##g' | grep -E 'https?://' || true)
[[ -z $leftover ]] || fail "URLs outside banners and namespaces: $(grep -Eo '.{0,40}https?://[^ ]{0,40}' <<<"$leftover" | head -3)"

# The data is in: header, alerts, leak table, chart series, flame tree.
for want in \
    '<code>leak_target new 200 1000</code>' \
    '<dt>Samples</dt><dd>40 samples over 9.8 min</dd>' \
    '<dt>Alerts</dt><dd>2</dd>' \
    '<dt>Exit status</dt><dd>0</dd>' \
    '<span class="type type-memory_growth">memory_growth</span>' \
    '<span class="type type-fd_leak">fd_leak</span> open descriptors are rising steadily' \
    '<code>(anonymous namespace)::LeakWithNew(int, unsigned long)</code> <span class="file">tests/targets/leak_target.cc:28</span>' \
    '<code>std::vector&lt;void*, std::allocator&lt;void*&gt; &gt;::reserve(unsigned long)</code>' \
    '<td class="num">17.2 MiB</td><td class="num">39.1 KiB/s</td><td>unbounded</td><td class="num">99.9 %</td>' \
    '<code>heap.pb.gz</code>: 2.2 MiB in use in 4 call stacks, every allocation sampled' \
    '"time_s":[0.0,15.0,30.0,' \
    '"rss_bytes":[86000000,' \
    '"heap_free_bytes":[6000000,' \
    '"fds":[20,20,20,21,' \
    '{"message":"open descriptors are rising steadily from 20 to 55, at 1.33/min over the last 9.0 min","state":"firing","time_s":525.0,"type":"fd_leak"}' \
    '"name":"(anonymous namespace)::LeakWithNew(int, unsigned long)","value":200000}' \
    '"name":"_start"' \
    'var uPlot=' \
    'd3-flame-graph' ; do
  grep -qF -- "$want" "$page" || fail "page lacks: $want"
done
# Unknown is a gap (null), not 0: rss_bytes is empty at t=300 (the 21st sample).
grep -qE '"rss_bytes":\[([0-9]+,){20}null,' "$page" || fail "rss gap at t=300 is not null"
# The flame tree is root first: all -> _start -> ... -> main -> leak site.
python3 - "$page" <<'PY' || fail "flame tree not root-first"
import json, re, sys
text = open(sys.argv[1]).read()
data = json.loads(re.search(r'<script type="application/json" id="memmon-data">(.*?)</script>', text, re.S).group(1))
def path_to(node, name, path=()):
    path = path + (node["name"],)
    if node["name"] == name:
        return path
    for c in node.get("children", []):
        p = path_to(c, name, path)
        if p:
            return p
site = "(anonymous namespace)::LeakWithNew(int, unsigned long)"
p = path_to(data["flame"], site)
assert p and p[0] == "all" and p[1] == "_start" and p[-2] == "main" and p[-1] == site, p
PY
# The embedded JSON cannot end its <script>: it has no '<' at all.
[[ $(grep -c '<script type="application/json" id="memmon-data">' "$page") -eq 1 ]] || fail "data script count"
sed -n 's#.*<script type="application/json" id="memmon-data">\(.*\)</script>.*#\1#p' "$page" | grep -q '<' &&
  fail "a '<' inside the embedded JSON"
[[ $(grep -o '<script' "$page" | wc -l) -eq $(grep -o '</script>' "$page" | wc -l) ]] || fail "unbalanced <script>"

# ---- -o FILE elsewhere; the run directory is left alone ----------------------
run_report "$fixture" -o "$work/elsewhere.html"
[[ $rc -eq 0 && -s $work/elsewhere.html ]] || fail "-o: exited $rc: $err"
[[ ! -e $fixture/report.html ]] || fail "-o still wrote into the run directory"

# ---- an episode that resolved: counted apart, listed as resolved, and in ----
# the chart's data with its start (cli_report_chromium_test.sh draws it).
cp -r "$fixture" "$work/resolved"
rm -f "$work/resolved/report.html"
cat "$(dirname "$0")/testdata/resolved_alert.jsonl" >>"$work/resolved/alerts.jsonl"
run_report "$work/resolved"
[[ $rc -eq 0 ]] || fail "resolved: exited $rc: $err"
for want in \
    '<dt>Alerts</dt><dd>2 (1 resolved)</dd>' \
    '<li class="resolved"><span class="time">9.5 min</span> <span class="type type-memory_growth">memory_growth</span> <span class="state">resolved after 3.0 min</span> heap_inuse_bytes came back to 48.0 MiB' \
    '"episode_start_s":390.0,"message":"heap_inuse_bytes came back to 48.0 MiB' \
    '"state":"resolved","time_s":570.0,"type":"memory_growth"}' ; do
  grep -qF -- "$want" "$work/resolved/report.html" || fail "resolved: page lacks: $want"
done

# ---- the highest numbered snapshot stands in for heap.pb.gz ------------------
mkdir "$work/snapshots"
cp "$fixture/samples.csv" "$work/snapshots/"
cp "$fixture/heap.pb.gz" "$work/snapshots/heap.0001.pb.gz"
cp "$fixture/heap.pb.gz" "$work/snapshots/heap.0002.pb.gz"
cp "$fixture/heap.pb.gz" "$work/snapshots/heap.pid4242.0003.pb.gz"  # a child's
run_report "$work/snapshots"
[[ $rc -eq 0 ]] || fail "snapshots: exited $rc: $err"
grep -qF '<code>heap.0002.pb.gz</code>: 2.2 MiB in use' "$work/snapshots/report.html" ||
  fail "heap.0002.pb.gz not used"
# A corrupt snapshot is named, as memmon leaks names it.
printf 'not a profile' >"$work/snapshots/heap.0001.pb.gz"
run_report "$work/snapshots"
[[ $rc -eq 2 && $err == *"heap.0001.pb.gz: corrupt profile"* ]] ||
  fail "corrupt snapshot: exited $rc: $err"
rm -f "$work/snapshots/report.html"

# ---- only samples.csv: still a page, the other sections say what is missing --
mkdir "$work/only_samples"
cp "$fixture/samples.csv" "$work/only_samples/"
run_report "$work/only_samples"
[[ $rc -eq 0 ]] || fail "samples only: exited $rc: $err"
for want in 'No heap profile (no heap.pb.gz or heap.NNNN.pb.gz' \
            'No leak suspects computed (no leaks.json)' '<dt>Alerts</dt><dd>0</dd>' \
            '<div id="memory-chart" class="chart"></div>' '"flame":null'; do
  grep -qF -- "$want" "$work/only_samples/report.html" || fail "samples only: page lacks: $want"
done

# ---- errors: status 2, one line naming the file (and line) -------------------
expect_error 2 "memmon: report: $work/nope: No such file or directory" "$work/nope"
expect_error 2 "memmon: report: $page: not a directory" "$page"
mkdir "$work/empty"
expect_error 2 "memmon: report: $work/empty: not a memmon run directory (*)" "$work/empty"

mkdir "$work/bad_csv"
printf 'time_s,rss_bytes\n0,100\n10,abc\n' >"$work/bad_csv/samples.csv"
expect_error 2 "memmon: report: $work/bad_csv/samples.csv: line 3: rss_bytes: expected a non-negative integer, got 'abc'" "$work/bad_csv"

mkdir "$work/bad_heap"
cp "$fixture/samples.csv" "$work/bad_heap/"
head -c 700 "$fixture/heap.pb.gz" >"$work/bad_heap/heap.pb.gz"  # truncated
expect_error 2 "memmon: report: $work/bad_heap/heap.pb.gz: *" "$work/bad_heap"
printf 'plain text, not gzip, not protobuf\n' >"$work/bad_heap/heap.pb.gz"
expect_error 2 "memmon: report: $work/bad_heap/heap.pb.gz: *" "$work/bad_heap"

mkdir "$work/bad_alerts"
head -1 "$fixture/alerts.jsonl" >"$work/bad_alerts/alerts.jsonl"
printf '{"type": "fd_leak", "time_s": 10, "message": \n' >>"$work/bad_alerts/alerts.jsonl"
expect_error 2 "memmon: report: $work/bad_alerts/alerts.jsonl: line 2: *" "$work/bad_alerts"

mkdir "$work/bad_leaks"
printf '[{"stack": ["f"], "inuse_bytes": 1, "growth_bytes_per_s": 1},\n {"inuse_bytes": 2}]\n' \
  >"$work/bad_leaks/leaks.json"
expect_error 2 "memmon: report: $work/bad_leaks/leaks.json: suspect 2 (of 2): \"stack\" must be *" "$work/bad_leaks"
printf '[{"stack": ["f"],' >"$work/bad_leaks/leaks.json"
expect_error 2 "memmon: report: $work/bad_leaks/leaks.json: parse error *" "$work/bad_leaks"
for d in bad_csv bad_heap bad_alerts bad_leaks; do
  [[ -z $(ls "$work/$d" | grep -E 'report\.html|\.tmp\.') ]] || fail "$d: output written on error"
done

# No DIR: usage, status 2.
expect_error 2 "memmon: *dir*" 

# ---- an output that cannot be written: status 1 -----------------------------
expect_error 1 "memmon: report: cannot write $work/no/such/dir/r.html: *" "$fixture" -o "$work/no/such/dir/r.html"
mkdir "$work/a_directory"
expect_error 1 "memmon: report: cannot write $work/a_directory: *" "$fixture" -o "$work/a_directory"
[[ -z $(ls "$work" | grep '\.tmp\.') ]] || fail "temporary file left behind after a failed write"
echo "cli_report test passed"
