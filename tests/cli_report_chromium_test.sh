#!/usr/bin/env bash
# memmon report's page in headless Chromium: its scripts run without a
# single error (errors.js counts uncaught exceptions, console.error calls and
# anything the page's Content-Security-Policy blocks into <html
# data-errors>), and the memory chart, the counts chart and the flame graph
# are drawn (report.js marks each data-rendered="1"; the DOM after the
# scripts ran is read with --dump-dom), with the alert episodes (firing and
# resolved markers, shaded spans). A page with a deliberate error and a
# blocked load must count them: the check can fail.
#
# Exits 77 (skipped) only when no Chromium is installed
# (scripts/install-deps installs Debian's `chromium`).
set -euo pipefail
memmon=$1
fixture=$2
fail() { echo "cli_report_chromium test: $*"; exit 1; }

chrome=""
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null; then chrome=$(command -v "$c"); break; fi
done
if [[ -z $chrome ]]; then
  echo "cli_report_chromium test: skipped: no chromium (scripts/install-deps installs it)"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"

# dom FILE: the page's DOM after its scripts ran. Virtual time (not a wait):
# Chromium runs timers -- the flame graph's transitions -- as fast as it can
# until 10 virtual seconds passed or nothing is pending. --no-sandbox: CI
# runs as root. `timeout` only guards against a hung browser.
dom() {
  HOME=$work/home timeout 120 "$chrome" --headless=new --no-sandbox --disable-gpu \
    --disable-dev-shm-usage --no-first-run --no-default-browser-check \
    --user-data-dir="$work/profile" --window-size=1280,2000 \
    --virtual-time-budget=10000 --dump-dom "file://$1" 2>"$work/chromium.log" ||
    { tail -20 "$work/chromium.log"; fail "chromium failed on $1"; }
}
attr() {  # attr DOM ELEMENT-ID-OR-TAG ATTRIBUTE
  grep -o "<$2[^>]*>" <<<"$1" | head -1 | grep -o "$3=\"[^\"]*\"" | head -1 | cut -d'"' -f2
}
element() {  # element DOM ID: the opening tag of the element with that id
  grep -o "<[a-z]* id=\"$2\"[^>]*>" <<<"$1" | head -1
}
rendered() {  # rendered DOM ID
  element "$1" "$2" | grep -q 'data-rendered="1"'
}

cp -r "$fixture" "$work/run"
"$memmon" report "$work/run" -o "$work/report.html" >/dev/null
page=$(dom "$work/report.html")
[[ -n $page ]] || fail "empty DOM"
html=$(grep -o '<html[^>]*>' <<<"$page" | head -1)
[[ $html == *'data-ready="1"'* ]] || fail "report.js did not finish: $html"
[[ $html == *'data-errors="0"'* ]] || fail "script errors: $html"
for id in memory-chart counts-chart flame-graph; do
  rendered "$page" "$id" || fail "$id not drawn: $(element "$page" "$id")"
done
[[ $(element "$page" memory-chart) == *'data-alert-markers="2"'* ]] ||
  fail "alert markers: $(element "$page" memory-chart)"
grep -A3 'id="memory-chart"' <<<"$page" | grep -q '<canvas' || grep -q 'class="uplot' <<<"$page" ||
  fail "no uPlot chart in the DOM"
# The flame graph: an SVG frame per node, named by function, with report.js's
# tooltip text. (Not the frame labels and widths: d3 animates them on
# requestAnimationFrame, which headless Chromium runs only now and then
# under virtual time.)
frames=$(element "$page" flame-graph | grep -o 'data-frames="[0-9]*"' | grep -o '[0-9]*')
[[ $frames -ge 10 ]] || fail "flame graph has $frames frames"
grep -q '<g [^>]*name="main"' <<<"$page" || fail "no frame for main"
grep -q '<g [^>]*name="(anonymous namespace)::LeakWithNew(int, unsigned long)"' <<<"$page" ||
  fail "no frame for the leak site"
grep -qF '<title>(anonymous namespace)::LeakWithNew(int, unsigned long): 195.3 KiB (8.' <<<"$page" ||
  fail "no tooltip for the leak site"
grep -q 'class="[^"]*d3-flame-graph' <<<"$page" || fail "no flame graph SVG"
# The static parts survived parsing: the whole body is there, in order.
grep -q '<footer>Written by memmon' <<<"$page" || fail "page cut short"
[[ $(grep -o "<td class=\"num\">" <<<"$page" | wc -l) -ge 8 ]] || fail "leak table lost"

# The alert episodes: the fixture's two alerts are still open at the end
# (two shaded spans, two firing markers, nothing resolved) ...
[[ $(element "$page" memory-chart) == *'data-resolved-markers="0"'* &&
   $(element "$page" memory-chart) == *'data-episodes="2"'* ]] ||
  fail "episodes: $(element "$page" memory-chart)"
# ... and with memory_growth's resolved record, one resolved marker, its
# episode closed there, the other still open: two spans on both charts.
cp -r "$fixture" "$work/resolved"
cat "$(dirname "$0")/testdata/resolved_alert.jsonl" >>"$work/resolved/alerts.jsonl"
"$memmon" report "$work/resolved" -o "$work/resolved.html" >/dev/null
page=$(dom "$work/resolved.html")
html=$(grep -o '<html[^>]*>' <<<"$page" | head -1)
[[ $html == *'data-ready="1"'* && $html == *'data-errors="0"'* ]] || fail "resolved: $html"
for id in memory-chart counts-chart; do
  tag=$(element "$page" "$id")
  [[ $tag == *'data-alert-markers="2"'* && $tag == *'data-resolved-markers="1"'* &&
     $tag == *'data-episodes="2"'* ]] || fail "resolved: $id: $tag"
done

# A directory with only samples.csv: charts, no flame graph, no errors.
mkdir "$work/only_samples"
cp "$fixture/samples.csv" "$work/only_samples/"
"$memmon" report "$work/only_samples" -o "$work/samples_only.html" >/dev/null
page=$(dom "$work/samples_only.html")
html=$(grep -o '<html[^>]*>' <<<"$page" | head -1)
[[ $html == *'data-ready="1"'* && $html == *'data-errors="0"'* ]] || fail "samples only: $html"
rendered "$page" memory-chart || fail "samples only: memory chart not drawn"
grep -q 'id="flame-graph"' <<<"$page" && fail "samples only: a flame graph without a profile"

# Where the resident memory is: samples with the breakdown columns (one
# skipped by the cost budget, one without the heap split) get a stacked
# area whose top is RSS at every sample, and a table of the last parts.
mkdir "$work/resident"
{
  echo "time_s,rss_bytes,heap_inuse_bytes,rss_heap_bytes,rss_heap_inuse_bytes,rss_allocator_free_bytes,rss_stacks_bytes,rss_code_bytes,rss_file_bytes,rss_anon_other_bytes,rss_unexplained_bytes"
  for i in $(seq 0 19); do
    heap=$((40000000 + i * 1000000)) inuse=$((30000000 + i * 900000))
    rss=$((heap + 8000000 + 12000000 + 3000000 + 20000000 + 500000))
    if [[ $i == 7 ]]; then
      echo "$i,$rss,$inuse,,,,,,,,"
    elif [[ $i == 9 ]]; then
      echo "$i,$rss,$inuse,$heap,,,8000000,12000000,3000000,20000000,500000"
    else
      echo "$i,$rss,$inuse,$heap,$inuse,$((heap - inuse)),8000000,12000000,3000000,20000000,500000"
    fi
  done
} >"$work/resident/samples.csv"
"$memmon" report "$work/resident" -o "$work/resident.html" >/dev/null
grep -q '<h2>Where the resident memory is</h2>' "$work/resident.html" || fail "resident: no section"
# The last sample's parts (500 000 bytes unexplained; the heap split).
grep -q '<td>unexplained</td><td class="num">488.3 KiB</td>' "$work/resident.html" &&
  grep -q '<td>heap in use</td><td class="num">' "$work/resident.html" ||
  fail "resident: the parts table lacks the last sample's parts"
page=$(dom "$work/resident.html")
html=$(grep -o '<html[^>]*>' <<<"$page" | head -1)
[[ $html == *'data-ready="1"'* && $html == *'data-errors="0"'* ]] || fail "resident: $html"
tag=$(element "$page" rss-chart)
[[ $tag == *'data-rendered="1"'* && $tag == *'data-parts="8"'* ]] || fail "resident chart: $tag"
[[ $tag == *'data-rss-mismatch="0.0000"'* ]] || fail "resident chart: parts do not add up to RSS: $tag"
# Without the columns, no section.
grep -q 'id="rss-chart"' "$work/samples_only.html" && fail "samples only: a resident chart without its columns"

# The check can fail: a script error and a blocked load are counted.
sed 's#</body>#<script>notAFunction();</script><img src="file:///nonexistent.png" alt="">\n</body>#' \
  "$work/report.html" >"$work/broken.html"
page=$(dom "$work/broken.html")
html=$(grep -o '<html[^>]*>' <<<"$page" | head -1)
# (The blocked image counts once or twice: the policy violation, and the
# failed load.)
errors=$(grep -o 'data-errors="[0-9]*"' <<<"$html" | grep -o '[0-9]*')
[[ $errors -ge 2 ]] || fail "broken page: want 2 or more errors counted: $html"
[[ $html == *notAFunction* && $html == *'blocked by the page policy'* ]] ||
  fail "broken page: messages: $html"
echo "cli_report_chromium test passed"
