#!/usr/bin/env bash
# The RSS breakdown end to end (docs/explain.md): programs with one known
# part each (tests/targets/explain_target.cc), read by `memmon explain PID`
# from outside, by MemoryMonitor::Explain from inside under the heap
# sampler, and through `memmon run` (explain PID with the status page,
# explain DIR from explain.json); then python3 and redis-server for sanity.
# The command's errors and exit codes last.
#
# Each target says it is ready on a FIFO (no sleeps) and runs until its
# standard input closes.
#
#   tests/explain_test.sh MEMMON EXPLAIN_TARGET PRELOAD_SO
set -euo pipefail
memmon=$1
target=$2
preload=$3
work=$(mktemp -d)
bgpid=
cleanup() {
  exec 3>&- 2>/dev/null || true
  [ -n "$bgpid" ] && { kill "$bgpid" 2>/dev/null || true; wait "$bgpid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "explain_test: $*" >&2
  for f in "$work"/*.json "$work"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; head -c 3000 "$f" >&2; echo >&2; }
  done
  exit 1
}
MiB=1048576

# start CMD...: runs CMD with its stdin held open on fd 3 and waits (at most
# 60 s) for its "ready PID ADDRESS" line on $work/ready; sets pid and addr.
start() {
  rm -f "$work/ready" "$work/stdin"
  mkfifo "$work/ready" "$work/stdin"
  exec 4<>"$work/ready"  # opened both ways: neither side blocks on open
  "$@" <"$work/stdin" >"$work/target.log" 2>&1 &
  bgpid=$!
  exec 3>"$work/stdin"
  local word
  read -t 60 -r word pid addr <&4 || fail "no ready line from: $*"
  exec 4>&-
  [ "$word" = ready ] || fail "unexpected ready line: $word"
}
stop() {
  exec 3>&-
  wait "$bgpid" || fail "the target exited with status $?"
  bgpid=
}
# part FILE NAME: the part's rss_bytes (null when unknown).
part() { jq -r --arg p "$2" '.parts[] | select(.part == $p) | .rss_bytes' "$1"; }
# at_least WHAT VALUE MIN / at_most WHAT VALUE MAX
at_least() { [ "$2" != null ] && [ "$2" -ge "$3" ] || fail "$1 = $2, expected >= $3"; }
at_most() { [ "$2" != null ] && [ "$2" -le "$3" ] || fail "$1 = $2, expected <= $3"; }
# sane FILE ANON_MAX: the parts add up to the RSS the kernel counts (or the
# smaps sum when larger), exactly; a split heap is heap_inuse +
# allocator_free, exactly; anon_other -- where whatever no rule recognises
# goes -- is at most ANON_MAX; unexplained (the two reads' disagreement,
# ~0 by construction) under 10 % of the RSS.
sane() {
  local sum total unexplained heap inuse free
  # The parts but heap (heap_inuse + allocator_free, or heap when unsplit).
  sum=$(jq '[.parts[] | select(.rss_bytes != null) | select(.part as $p |
          ["stacks","code","file","anon_other","unexplained"] | index($p)) | .rss_bytes] | add' "$1")
  heap=$(part "$1" heap)
  sum=$((sum + heap))
  total=$(jq '[.rss_bytes, (.kernel_rss_bytes // 0)] | max' "$1")
  [ "$sum" -eq "$total" ] || fail "$1: the parts add up to $sum, not $total"
  inuse=$(part "$1" heap_inuse) free=$(part "$1" allocator_free)
  if [ "$inuse" != null ]; then
    [ "$((inuse + free))" -eq "$heap" ] || fail "$1: heap $heap != heap_inuse $inuse + allocator_free $free"
  fi
  at_most "$1: anon_other" "$(part "$1" anon_other)" "$2"
  unexplained=$(part "$1" unexplained)
  at_most "$1: unexplained" "$unexplained" $((total / 10))
}
# The fragmented heap's known parts (section 3): 100 000 blocks of 240 B
# live, each in a 256 B chunk (glibc; jemalloc's and tcmalloc's size class
# is 240 or 256 B), and the 200 000-pointer array (1.6 MB; up to 15 % more
# in a size class); 2 MiB for the program's and the libraries' own blocks.
# allocator_free: at least 20 MiB of the 100 000 x 256 B freed (a freed
# chunk's first bytes are the allocator's list pointers; the top of the heap
# may be trimmed), at most that plus 8 MiB (dirty pages the allocator
# keeps, its metadata).
inuse_min=$((100000 * 240))
inuse_max=$((100000 * 256 + 1600000 * 115 / 100 + 2 * MiB))
free_min=$((20 * MiB))
free_max=$((100000 * 256 + 8 * MiB))
# fragment_split FILE WHAT [EXTRA]: heap_inuse, allocator_free and heap
# within those, the maxima raised by EXTRA bytes. Under memmon run the
# program's sampler writes a heap snapshot each second, and the profile
# writer's symbolizer keeps the program's debug information in the
# program's heap (9 MB with glibc, 16 MB with jemalloc here), partly in the
# freed holes: allocator_free's minimum is lowered by what is in use beyond
# the known maximum.
fragment_split() {
  local inuse free extra=${3:-0} beyond
  inuse=$(part "$1" heap_inuse) free=$(part "$1" allocator_free)
  at_least "$2: heap_inuse" "$inuse" $inuse_min
  at_most "$2: heap_inuse" "$inuse" $((inuse_max + extra))
  beyond=$((inuse > inuse_max ? inuse - inuse_max : 0))
  at_least "$2: allocator_free" "$free" $((free_min - beyond))
  at_most "$2: allocator_free" "$free" $((free_max + extra))
  at_least "$2: heap" "$(part "$1" heap)" $((45 * MiB))
  at_most "$2: heap" "$(part "$1" heap)" $((inuse_max + free_max + extra))
}
writer_slack=$((24 * MiB))

# 1. An 80 MiB anonymous mapping, touched: in anon_other and the largest
# listed, named by its address range. Tolerance: 1 % below (a page reclaimed
# or swapped); the rest of anon_other is the program's own (< 8 MiB).
# (80, not 64: a 64 MiB-aligned mapping of exactly 64 MiB is what a glibc
# arena heap grown to its limit looks like.)
start "$target" "$work/ready" mmap 80
"$memmon" explain "$pid" --json >"$work/mmap.json" || fail "explain PID failed"
"$memmon" explain "$pid" >"$work/mmap.txt" || fail "explain PID (text) failed"
stop
sane "$work/mmap.json" $((88 * MiB))
anon=$(part "$work/mmap.json" anon_other)
at_least "mmap: anon_other" "$anon" $((80 * MiB * 99 / 100))
at_most "mmap: anon_other" "$anon" $((88 * MiB))
[ "$(jq -r '.largest_anonymous[0].start' "$work/mmap.json")" -eq "$((addr))" ] ||
  fail "mmap: the largest anonymous mapping is not the target's at $addr"
at_least "mmap: largest mapping's rss" "$(jq '.largest_anonymous[0].rss_bytes' "$work/mmap.json")" $((80 * MiB * 99 / 100))
[ "$(jq -r '.heap.figures' "$work/mmap.json")" = none ] || fail "mmap: heap figures from outside?"
[ "$(part "$work/mmap.json" heap_inuse)" = null ] || fail "mmap: heap split without figures"
grep -q "^anon_other" "$work/mmap.txt" || fail "mmap: no anon_other line in the text"
grep -q "uncertainty:" "$work/mmap.txt" || fail "mmap: no uncertainty in the text"
echo "mmap: anon_other $anon bytes, largest mapping at $addr"
# Under the heap sampler, which sees the program's own mmap calls: the
# largest anonymous mapping is named by the function that mapped it, from
# inside (MemoryMonitor::Explain) -- and never from outside.
[ "$(jq -r '.largest_anonymous[0].site // "none"' "$work/mmap.json")" = none ] ||
  fail "mmap: a site from outside the process?"
LD_PRELOAD=$preload MEMMON_EXPLAIN_SELF=$work/mmap_self.json \
  start "$target" "$work/ready" mmap 80
stop
[ "$(jq -r '.largest_anonymous[0].start' "$work/mmap_self.json")" -eq "$((addr))" ] ||
  fail "mmap (self): the largest anonymous mapping is not the target's at $addr"
site=$(jq -r '.largest_anonymous[0].site // ""' "$work/mmap_self.json")
[[ $site == *MapAnonymousForExplain*explain_target.cc:* ]] ||
  fail "mmap (self): the largest mapping's site is '$site', not MapAnonymousForExplain"
echo "mmap (self): the largest mapping is named $site"

# 2. 100 threads with 8 MiB stacks, each touching 1 MiB of it: stacks
# between 100 MiB and 108 MiB (each thread's top pages hold its descriptor
# and TLS, a few KiB; the main [stack] is under 1 MiB; glibc's guard pages
# are not resident).
start "$target" "$work/ready" threads 100 8 1024
"$memmon" explain "$pid" --json >"$work/threads.json" || fail "explain PID failed"
stop
sane "$work/threads.json" $((8 * MiB))
stacks=$(part "$work/threads.json" stacks)
at_least "threads: stacks" "$stacks" $((100 * MiB))
at_most "threads: stacks" "$stacks" $((108 * MiB))
echo "threads: stacks $stacks bytes; stack pointers read for" \
  "$(jq .threads_located "$work/threads.json") of $(jq .threads "$work/threads.json") threads"

# 3. A fragmented glibc heap: 200 000 blocks of 240 bytes (256-byte chunks,
# 48.8 MiB), every other one freed. Inside the process under the sampler
# (MemoryMonitor::Explain): heap in use is the sampler's exact figure (it
# fits in the resident heap, so it is not scaled) and allocator_free holds
# the holes: at least 20 MiB of the 24.4 MiB freed (a freed chunk's first
# bytes are glibc's list pointers; the top of the heap may be trimmed).
LD_PRELOAD=$preload MEMMON_EXPLAIN_SELF=$work/fragment_self.json \
  start "$target" "$work/ready" fragment 200000 240
"$memmon" explain "$pid" --json >"$work/fragment_pid.json" || fail "explain PID failed"
stop
f=$work/fragment_self.json
sane "$f" $((8 * MiB))
[ "$(jq -r '.heap.figures' "$f")" = sampler ] || fail "fragment: heap figures not the sampler's"
inuse=$(jq '.heap.inuse_bytes' "$f")
[ "$(part "$f" heap_inuse)" -eq "$inuse" ] || fail "fragment: heap_inuse $(part "$f" heap_inuse) != the sampler's $inuse"
fragment_split "$f" fragment
# From outside, with no figures: the same heap, not split.
sane "$work/fragment_pid.json" $((8 * MiB))
at_least "fragment (PID): heap" "$(part "$work/fragment_pid.json" heap)" $((45 * MiB))
at_most "fragment (PID): heap" "$(part "$work/fragment_pid.json" heap)" $((inuse_max + free_max))
[ "$(part "$work/fragment_pid.json" heap_inuse)" = null ] || fail "fragment (PID): split without figures"
echo "fragment: in use $inuse, allocator_free $(part "$f" allocator_free)"

# 3b. The same heap under jemalloc and tcmalloc (the sampler forwards to
# them): the split comes from each allocator's own statistics; their heap
# is anonymous extents/spans, not [heap] (claimed from anon_other by the
# bytes the allocator says it holds). The same bounds. Skipped for an
# allocator that is not installed (scripts/install-deps installs both).
for alloc in libjemalloc.so.2:jemalloc libtcmalloc.so.4:tcmalloc; do
  lib=/usr/lib/x86_64-linux-gnu/${alloc%%:*} kind=${alloc##*:}
  [ -e "$lib" ] || { echo "fragment ($kind): skipped: $lib not installed"; continue; }
  LD_PRELOAD="$preload $lib" MEMMON_EXPLAIN_SELF=$work/fragment_$kind.json \
    start "$target" "$work/ready" fragment 200000 240
  stop
  f=$work/fragment_$kind.json
  sane "$f" $((8 * MiB))
  [ "$(jq -r '.heap.allocator' "$f")" = "$kind" ] || fail "fragment ($kind): allocator $(jq -r '.heap.allocator' "$f")"
  inuse=$(jq '.heap.inuse_bytes' "$f")
  [ "$(part "$f" heap_inuse)" -eq "$inuse" ] || fail "fragment ($kind): heap_inuse $(part "$f" heap_inuse) != the sampler's $inuse"
  fragment_split "$f" "fragment ($kind)"
  echo "fragment ($kind): in use $inuse, allocator_free $(part "$f" allocator_free), heap $(part "$f" heap)"
done

# 4. A 32 MiB file mapped read-only and read through: file >= 32 MiB less
# 1 % (a page reclaimed); the program maps no other data file.
head -c $((32 * MiB)) /dev/zero | tr '\0' 'x' >"$work/data.bin"
start "$target" "$work/ready" file "$work/data.bin"
"$memmon" explain "$pid" --json >"$work/file.json" || fail "explain PID failed"
stop
sane "$work/file.json" $((8 * MiB))
at_least "file: file" "$(part "$work/file.json" file)" $((32 * MiB * 99 / 100))
at_most "file: file" "$(part "$work/file.json" file)" $((33 * MiB))
echo "file: file $(part "$work/file.json" file)"

# 5. memmon run: explain PID reads the heap figures from the run's status
# page; the run saves explain.json while the program lives, and explain DIR
# shows it; samples.csv carries the totals.
touch "$work/marker"
start "$memmon" run --interval 100ms --out "$work/run" -- \
  "$target" "$work/ready" fragment 200000 240
touch "$work/marker"  # after the heap is in place
# The status page is published every 50 ms: wait for figures that show
# the fragmented heap, the allocator's statistics included (read when their
# budget allows: see 5a).
deadline=$((SECONDS + 30))
until "$memmon" explain "$pid" --json >"$work/run_pid.json" &&
  [ "$(jq -r .heap.figures "$work/run_pid.json")" = "status page" ] &&
  [ "$(jq .heap.inuse_bytes "$work/run_pid.json")" -ge $((100000 * 240)) ] &&
  [ "$(jq .heap.system_bytes "$work/run_pid.json")" -ge "$(jq .heap.inuse_bytes "$work/run_pid.json")" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "run: no status page figures in 30 s"
  sleep 0.1
done
# explain.json is rewritten once a snapshot interval (1 s here): wait for
# one taken after the heap was in place.
deadline=$((SECONDS + 30))
until [ "$work/run/explain.json" -nt "$work/marker" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "run: explain.json not rewritten in 30 s"
  sleep 0.1
done
# samples.csv carries the totals: wait for three samples with them (the
# smaps read is budgeted, 1 % of a core: on a loaded machine a read of tens
# of milliseconds pauses the next for seconds).
col=$(head -1 "$work/run/samples.csv" | tr ',' '\n' | grep -nx rss_heap_inuse_bytes | cut -d: -f1)
[ -n "$col" ] || fail "samples.csv has no rss_heap_inuse_bytes column"
deadline=$((SECONDS + 60))
until [ "$(tail -n +2 "$work/run/samples.csv" | cut -d, -f"$col" | grep -c . || true)" -ge 3 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "run: fewer than 3 samples with rss_heap_inuse_bytes in 60 s"
  sleep 0.1
done
stop
sane "$work/run_pid.json" $((8 * MiB))
[ "$(part "$work/run_pid.json" heap_inuse)" -eq "$(jq .heap.inuse_bytes "$work/run_pid.json")" ] ||
  fail "run: heap_inuse is not the status page's figure"
fragment_split "$work/run_pid.json" "run PID" $writer_slack
"$memmon" explain "$work/run" --json >"$work/run_dir.json" || fail "explain DIR failed"
"$memmon" explain "$work/run" >"$work/run_dir.txt" || fail "explain DIR (text) failed"
sane "$work/run_dir.json" $((8 * MiB))
[ "$(jq -r .heap.figures "$work/run_dir.json")" = "status page" ] || fail "run: explain.json has no heap figures"
fragment_split "$work/run_dir.json" "run DIR" $writer_slack
grep -q "as memmon run saved it" "$work/run_dir.txt" || fail "explain DIR did not read explain.json"
# Without explain.json: the last sample's totals.
mkdir "$work/csv_only"
cp "$work/run/samples.csv" "$work/csv_only/"
"$memmon" explain "$work/csv_only" >"$work/csv_only.txt" || fail "explain DIR (samples.csv) failed"
grep -q "the last sample's totals" "$work/csv_only.txt" || fail "explain DIR did not fall back to samples.csv"
echo "run: explain PID and DIR agree on the status page's figures"

# 5a. The same under jemalloc and tcmalloc: the status page carries their
# statistics (allocator named), so the heap is split from outside too --
# heap_inuse is the sampler's figure, not scaled down to the (empty)
# [heap] -- with the same bounds, in explain PID, explain.json and every
# sample that has the breakdown.
for alloc in libjemalloc.so.2:jemalloc libtcmalloc.so.4:tcmalloc; do
  lib=/usr/lib/x86_64-linux-gnu/${alloc%%:*} kind=${alloc##*:}
  [ -e "$lib" ] || { echo "run ($kind): skipped: $lib not installed"; continue; }
  out=$work/run_$kind
  LD_PRELOAD=$lib start "$memmon" run --interval 100ms --out "$out" -- \
    "$target" "$work/ready" fragment 200000 240
  touch "$work/marker"
  # The sampler's bytes in use are current on every publication, the
  # allocator's statistics only when their budget allows (100x their
  # cost): wait for statistics read after the heap was built (the bytes
  # the allocator holds cover the bytes in use), not a page whose
  # statistics predate it (then the extents are not claimed for the heap).
  deadline=$((SECONDS + 30))
  until "$memmon" explain "$pid" --json >"$work/run_${kind}_pid.json" &&
    [ "$(jq -r .heap.allocator "$work/run_${kind}_pid.json")" = "$kind" ] &&
    [ "$(jq .heap.inuse_bytes "$work/run_${kind}_pid.json")" -ge $inuse_min ] &&
    [ "$(jq .heap.system_bytes "$work/run_${kind}_pid.json")" -ge "$(jq .heap.inuse_bytes "$work/run_${kind}_pid.json")" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "run ($kind): no $kind figures on the status page in 30 s"
    sleep 0.1
  done
  deadline=$((SECONDS + 30))
  until [ "$out/explain.json" -nt "$work/marker" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "run ($kind): explain.json not rewritten in 30 s"
    sleep 0.1
  done
  stop
  f=$work/run_${kind}_pid.json
  sane "$f" $((8 * MiB))
  [ "$(part "$f" heap_inuse)" -eq "$(jq .heap.inuse_bytes "$f")" ] ||
    fail "run ($kind): heap_inuse $(part "$f" heap_inuse) is not the status page's $(jq .heap.inuse_bytes "$f")"
  fragment_split "$f" "run ($kind) PID" $writer_slack
  "$memmon" explain "$out" --json >"$work/run_${kind}_dir.json" || fail "explain DIR ($kind) failed"
  sane "$work/run_${kind}_dir.json" $((8 * MiB))
  [ "$(jq -r .heap.allocator "$work/run_${kind}_dir.json")" = "$kind" ] || fail "run ($kind): explain.json's allocator"
  fragment_split "$work/run_${kind}_dir.json" "run ($kind) DIR" $writer_slack
  # Every sample with the breakdown, a resident heap, the sampler's figure
  # and the allocator's statistics splits the heap. (Before the sampler has
  # read the allocator's statistics, in the child's first second, the heap
  # is claimed from the bytes in use alone and may hold nothing resident
  # yet: once seen under tcmalloc, at 1.2 s.)
  python3 - "$out/samples.csv" "$kind" <<'PY' || fail "run ($kind): samples.csv"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))
        if r["rss_heap_bytes"] and int(r["rss_heap_bytes"]) > 0
        and r["heap_inuse_bytes"] and r["heap_system_bytes"]]
assert rows, "no sample has the breakdown and the heap in use"
bad = [r["time_s"] for r in rows if int(r["heap_inuse_bytes"]) > 0 and not int(r["rss_heap_inuse_bytes"] or 0) > 0]
assert not bad, "rss_heap_inuse_bytes 0 or empty at %s" % bad
PY
  echo "run ($kind): heap_inuse $(part "$f" heap_inuse), allocator_free $(part "$f" allocator_free), heap $(part "$f" heap)"
done

# 5b. memmon run of the mmap target: explain DIR names the largest
# anonymous mapping from the mmap profile the program wrote at exit
# (mmap.pb.gz, joined with explain.json by address).
start "$memmon" run --interval 100ms --out "$work/run_mmap" -- \
  "$target" "$work/ready" mmap 80
touch "$work/marker"  # after the mapping is in place
deadline=$((SECONDS + 30))
until [ "$work/run_mmap/explain.json" -nt "$work/marker" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "run mmap: explain.json not rewritten in 30 s"
  sleep 0.1
done
stop
[ -s "$work/run_mmap/mmap.pb.gz" ] || fail "run mmap: no mmap.pb.gz at exit"
"$memmon" explain "$work/run_mmap" --json >"$work/run_mmap.json" || fail "explain DIR (mmap) failed"
"$memmon" explain "$work/run_mmap" >"$work/run_mmap.txt" || fail "explain DIR (mmap, text) failed"
site=$(jq -r '.largest_anonymous[0].site // ""' "$work/run_mmap.json")
[[ $site == *MapAnonymousForExplain* ]] ||
  fail "run mmap: explain DIR names the largest mapping '$site'"
grep -q "mapped by .*MapAnonymousForExplain" "$work/run_mmap.txt" ||
  fail "run mmap: the text does not name the mapping's site"
echo "run mmap: explain DIR names the largest mapping $site"

# 6. python3 and redis-server, from outside and under memmon run: the parts
# add up, anon_other under half the RSS (python's object arenas are its own
# anonymous mmaps, not malloc's), code present; under memmon run the heap is
# split from outside (the status page) with heap_inuse > 0 whenever the
# sampler's bytes in use are.
pyready='import os, sys
x = [bytes(100) for i in range(20000)]
open(sys.argv[1], "w").write("ready %d 0\n" % os.getpid())
sys.stdin.read()'
start python3 -c "$pyready" "$work/ready"
"$memmon" explain "$pid" --json >"$work/python3.json" || fail "explain python3 failed"
stop
sane "$work/python3.json" $(($(jq .rss_bytes "$work/python3.json") / 2))
at_least "python3: code" "$(part "$work/python3.json" code)" 1
echo "python3: rss $(jq .rss_bytes "$work/python3.json"), anon_other $(part "$work/python3.json" anon_other)"
# split_from_outside FILE WHAT: status page figures, and heap_inuse > 0
# when the sampler's in use is.
split_from_outside() {
  [ "$(jq -r .heap.figures "$1")" = "status page" ] || fail "$2: heap figures $(jq -r .heap.figures "$1")"
  local sampler
  sampler=$(jq .heap.inuse_bytes "$1")
  at_least "$2: the sampler's in use" "$sampler" 1
  at_least "$2: heap_inuse" "$(part "$1" heap_inuse)" 1
}
start "$memmon" run --interval 100ms --out "$work/run_py" -- python3 -c "$pyready" "$work/ready"
deadline=$((SECONDS + 30))
# The page is republished every 50 ms; the first one can predate the
# program's first counted allocations, so wait for both.
until "$memmon" explain "$pid" --json >"$work/run_python3.json" &&
  [ "$(jq -r .heap.allocator "$work/run_python3.json")" = glibc ] &&
  [ "$(jq -r .heap.inuse_bytes "$work/run_python3.json")" -gt 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "run python3: no allocator figures and bytes in use on the status page in 30 s"
  sleep 0.1
done
stop
sane "$work/run_python3.json" $(($(jq .rss_bytes "$work/run_python3.json") / 2))
split_from_outside "$work/run_python3.json" "run python3"
echo "run python3: heap_inuse $(part "$work/run_python3.json" heap_inuse) of the sampler's $(jq .heap.inuse_bytes "$work/run_python3.json")"
if command -v redis-server >/dev/null; then
  redis-server --port 0 --unixsocket "$work/redis.sock" --save '' \
    --appendonly no >"$work/redis.log" 2>&1 &
  bgpid=$!
  deadline=$((SECONDS + 30))
  until [ -S "$work/redis.sock" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "redis-server did not start"
    sleep 0.1
  done
  "$memmon" explain "$bgpid" --json >"$work/redis.json" || fail "explain redis-server failed"
  kill "$bgpid"
  wait "$bgpid" || true
  bgpid=
  sane "$work/redis.json" $(($(jq .rss_bytes "$work/redis.json") / 2))
  at_least "redis: code" "$(part "$work/redis.json" code)" 1
  echo "redis-server: rss $(jq .rss_bytes "$work/redis.json"), anon_other $(part "$work/redis.json" anon_other)"
  # Under memmon run (Debian's redis-server uses libjemalloc, under the
  # sampler): redis sets its process title over its environment, so explain
  # finds the status page by the run's .status mapping.
  rm -f "$work/redis.sock"
  "$memmon" run --interval 100ms --out "$work/run_redis" -- redis-server --port 0 \
    --unixsocket "$work/redis.sock" --save '' --appendonly no >"$work/redis_run.log" 2>&1 &
  bgpid=$!
  deadline=$((SECONDS + 30))
  until [ -S "$work/redis.sock" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "redis-server did not start under memmon run"
    sleep 0.1
  done
  rpid=$(pgrep -P "$bgpid" -x redis-server) || fail "no redis-server child of memmon run"
  deadline=$((SECONDS + 30))
  until "$memmon" explain "$rpid" --json >"$work/run_redis.json" &&
    [ "$(jq -r .heap.allocator "$work/run_redis.json")" = jemalloc ] &&
    [ "$(jq -r .heap.inuse_bytes "$work/run_redis.json")" -gt 0 ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "run redis: no jemalloc figures and bytes in use on the status page in 30 s"
    sleep 0.1
  done
  kill "$bgpid"  # memmon run passes SIGTERM on to redis-server
  wait "$bgpid" || true
  bgpid=
  sane "$work/run_redis.json" $(($(jq .rss_bytes "$work/run_redis.json") / 2))
  split_from_outside "$work/run_redis.json" "run redis"
  python3 - "$work/run_redis/samples.csv" <<'PY' || fail "run redis: samples.csv"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["rss_heap_bytes"] and r["heap_inuse_bytes"]]
assert rows, "no sample has the breakdown and the heap in use"
bad = [r["time_s"] for r in rows if int(r["heap_inuse_bytes"]) > 0 and not int(r["rss_heap_inuse_bytes"] or 0) > 0]
assert not bad, "rss_heap_inuse_bytes 0 or empty at %s" % bad
PY
  echo "run redis-server: heap_inuse $(part "$work/run_redis.json" heap_inuse) of the sampler's $(jq .heap.inuse_bytes "$work/run_redis.json")"
else
  echo "redis-server: not installed, skipped"
fi

# 7. Errors: one line, documented exit codes.
expect_error() {
  local want=$1 pattern=$2
  shift 2
  local rc=0
  "$memmon" explain "$@" >"$work/err.out" 2>"$work/err.log" || rc=$?
  [ "$rc" -eq "$want" ] || fail "explain $*: exit $rc, expected $want"
  [ "$(wc -l <"$work/err.log")" -eq 1 ] || fail "explain $*: not one line: $(cat "$work/err.log")"
  grep -q "$pattern" "$work/err.log" || fail "explain $*: $(cat "$work/err.log")"
}
expect_error 2 "no process 999999999" 999999999
expect_error 2 "PID must be a positive" 0
expect_error 2 "neither a PID nor a directory" "$work/nonexistent"
mkdir "$work/empty"
expect_error 2 "not a memmon run directory" "$work/empty"
mkdir "$work/badjson"
echo '{"parts": 3}' >"$work/badjson/explain.json"
expect_error 2 "explain.json" "$work/badjson"
"$memmon" explain --help | grep -q -- "--json" || fail "explain --help"
echo "explain_test: ok"
