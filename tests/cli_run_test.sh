#!/usr/bin/env bash
# memmon run, leaks and diff end to end, on tests/targets/run_target:
#   - the run directory: samples.csv (memmon analyze reads it), alerts.jsonl
#     (memory_growth, with type/time_s/message), heap profiles, leaks.json
#     naming the leaking function first, run.json;
#   - exit status: the program's, 128+N when killed, 127/126 when it
#     cannot start; stdio passes through; SIGTERM is forwarded;
#   - a crash keeps what was gathered; a live status line only on a tty;
#   - leaks and diff on the directory and profiles; bad input: one line,
#     exit 2.
set -euo pipefail
memmon=$1
target=$2
fail() { echo "cli run test: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'umount "$tmp/full" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cd "$tmp"

# expect_error RC PATTERN CMD...: exits RC with one line on stderr matching.
expect_error() {
  local want=$1 pattern=$2 rc err
  shift 2
  set +e
  err=$("$@" 2>&1 >/dev/null); rc=$?
  set -e
  [[ $rc -eq $want ]] || fail "$* exited $rc, want $want ($err)"
  [[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "$*: want one line, got: $err"
  [[ $err == memmon:* && $err == *$pattern* ]] || fail "$*: unexpected message: $err"
}

# --- a leaking program -------------------------------------------------------
"$memmon" run --interval 50ms --warmup-samples 5 --snapshot-interval 250ms --sample-rate 64k --out leak \
  -- "$target" leak 3 >stdout.txt 2>stderr.txt || fail "leak run exited $?: $(cat stderr.txt)"
for f in samples.csv alerts.jsonl heap.pb.gz heap.0001.pb.gz leaks.json run.json; do
  [[ -s leak/$f ]] || fail "leak/$f missing or empty; have: $(ls leak)"
done
[[ ! -e leak/.status ]] || fail "the status page is left behind"
grep -q 'ALERT memory_growth' stderr.txt || fail "no growth alert printed: $(cat stderr.txt)"
grep -q 'top leak suspect: (anonymous namespace)::LeakSessions (run_target.cc:' stderr.txt || fail "no suspect line: $(cat stderr.txt)"
grep -q 'exited with status 0' stderr.txt || fail "no summary: $(cat stderr.txt)"
# Not a terminal: no status line.
! grep -q $'\r' stderr.txt || fail "a status line on a non-terminal stderr"
# samples.csv is the analyze format, with the heap from the sampler.
rows=$(($(wc -l <leak/samples.csv) - 1))
[[ $rows -ge 20 ]] || fail "only $rows samples in 3 s at 50 ms"
"$memmon" analyze leak/samples.csv >/dev/null || fail "analyze cannot read samples.csv"
heap_known=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "heap_inuse_bytes") c = i }
                      NR > 1 && $c != "" { n++ } END { print n + 0 }' leak/samples.csv)
[[ $heap_known -ge $((rows - 3)) ]] || fail "heap_inuse_bytes known in $heap_known of $rows rows"
# alerts.jsonl: one object per line with type, time_s, message.
python3 - leak/alerts.jsonl <<'PY' || fail "alerts.jsonl: $(cat leak/alerts.jsonl)"
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
assert alerts, "no alerts"
for a in alerts:
    assert {"type", "time_s", "message"} <= a.keys(), a
assert any(a["type"] == "memory_growth" for a in alerts), alerts
PY
# leaks.json and `memmon leaks --json`: LeakSessions first, growing.
"$memmon" leaks leak --json >leaks-cli.json
for json in leak/leaks.json leaks-cli.json; do
  python3 - "$json" <<'PY' || fail "leaks: $(head -c 2000 "$json")"
import json, sys
s = json.load(open(sys.argv[1]))
top = s[0]
assert top["stack"][0] == "(anonymous namespace)::LeakSessions", top["stack"]
assert top["kind"] == "unbounded", top
assert top["growth_bytes_per_s"] > 1e6, top   # ~32 MiB/s leaked, sampled
assert top["inuse_bytes"] > 10 * 2**20, top
assert top["frames"][0]["file"].endswith("run_target.cc"), top["frames"][0]
assert all(k in top for k in ("inuse_bytes", "growth_bytes_per_s", "confidence"))
# The cache filled to its cap: never ranked above the leak, never unbounded.
cache = [x for x in s if "FillCache" in x["stack"][0]]
assert not cache or cache[0]["kind"] != "unbounded", cache
PY
done
"$memmon" leaks leak --top 1 | grep -q '#1  unbounded  (anonymous namespace)::LeakSessions' ||
  fail "leaks text: $("$memmon" leaks leak --top 1)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["exit_status"] == 0 and r["argv"][1] == "leak", r' leak/run.json ||
  fail "run.json: $(cat leak/run.json)"
# diff: the leak grew most between the first and the last snapshot.
first=leak/heap.0001.pb.gz
last=$(ls leak/heap.0*.pb.gz | tail -1)
"$memmon" diff --json "$first" "$last" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[0]["function"] == "(anonymous namespace)::LeakSessions", d[0]
assert d[0]["delta_inuse_bytes"] > 0 and d[0]["delta_inuse_objects"] > 0, d[0]
' || fail "diff --json"
"$memmon" diff "$first" "$last" | head -2 | grep -q 'LeakSessions' || fail "diff text"
# go tool pprof reads the final profile and puts the leak first.
if command -v go >/dev/null; then
  go tool pprof -top -sample_index=inuse_space leak/heap.pb.gz 2>/dev/null |
    awk '/flat%/ { getline; print; exit }' | grep -q LeakSessions || fail "pprof -top"
fi

# --- exit status, stdio, signals --------------------------------------------
set +e
"$memmon" run --out st -- "$target" exit 7 2>/dev/null; rc=$?
set -e
[[ $rc -eq 7 ]] || fail "exit 7 gave $rc"
out=$(printf 'line one\nline two\n' | "$memmon" run --out io -- "$target" echo 2>err.txt)
[[ $out == $'line one\nline two' ]] || fail "stdin/stdout passthrough: '$out'"
grep -qx 'to stderr' err.txt || fail "stderr passthrough: $(cat err.txt)"
expect_error 127 'nosuchprogram: command not found' "$memmon" run --out x -- nosuchprogram
printf '#!/bin/sh\n' >not-executable && chmod 644 not-executable
expect_error 126 'cannot execute' "$memmon" run --out x -- ./not-executable
# A crash: 128 + SIGABRT, and what was gathered is kept.
set +e
"$memmon" run --interval 50ms --snapshot-interval 200ms --sample-rate 64k --out crash \
  -- "$target" crash 1.5 2>crash.txt; rc=$?
set -e
[[ $rc -eq 134 ]] || fail "crash exited $rc, want 134: $(cat crash.txt)"
grep -q 'was killed by SIGABRT' crash.txt || fail "no crash summary: $(cat crash.txt)"
[[ -s crash/heap.pb.gz && -s crash/leaks.json && $(wc -l <crash/samples.csv) -gt 10 ]] ||
  fail "crash lost data: $(ls -la crash)"
# abort() leaves a raw dump, made heap.pb.gz once the program is gone.
grep -q 'heap.pb.gz is its heap as it ended' crash.txt || fail "the crash's heap.pb.gz is not reported: $(cat crash.txt)"
gzip -dc crash/heap.pb.gz | grep -aq 'reason: signal 6' || fail "crash/heap.pb.gz is not the heap at SIGABRT"
[[ ! -e crash/heap.raw ]] || fail "the raw dump is left behind"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert "LeakSessions" in s[0]["stack"][0], s[0]' \
  crash/leaks.json || fail "crash leaks.json: $(head -c 600 crash/leaks.json)"
# SIGTERM to memmon reaches the program, whose status memmon returns.
"$memmon" run --out wait -- "$target" wait "$tmp/ready" >wait.txt 2>&1 &
runner=$!
for _ in $(seq 1 200); do [[ -s ready ]] && break; sleep 0.05; done
[[ -s ready ]] || fail "the program never started"
kill -TERM "$runner"
set +e
wait "$runner"; rc=$?
set -e
[[ $rc -eq 42 ]] || fail "forwarded SIGTERM: exit $rc, want 42: $(cat wait.txt)"
grep -q 'got SIGTERM' wait.txt || fail "the program did not see SIGTERM"
# On a terminal: a live status line on stderr.
script -qec "'$memmon' run --interval 50ms --out tty -- '$target' leak 0.5" tty.txt >/dev/null
grep -q $'\r\033\[Kmemmon: .* rss .* heap .* threads .* fds .* alerts' tty.txt ||
  fail "no live status line on a tty: $(cat -v tty.txt | head -5)"

# A full disk: memmon says so in one line per file, keeps what fit, and
# still exits with the program's status. Needs a small tmpfs (root): 100k
# holds the samples and the snapshots, never the 200k report (300k did,
# when a loaded machine wrote fewer snapshots).
mkdir full
if mount -t tmpfs -o size=100k tmpfs full 2>/dev/null; then
  set +e
  "$memmon" run --interval 20ms --snapshot-interval 100ms --sample-rate 4k --out full/run \
    -- "$target" leak 1.5 2>full.txt; rc=$?
  set -e
  rows=$(wc -l <full/run/samples.csv)
  umount full
  [[ $rc -eq 0 ]] || fail "full disk: exited $rc: $(cat full.txt)"
  grep -q 'No space left on device' full.txt || fail "full disk not reported: $(cat full.txt)"
  [[ $rows -gt 10 ]] || fail "full disk: only $rows lines of samples kept"
else
  echo "cli run test: no tmpfs mount (not root?): full-disk case skipped"
fi

# --- bad input ----------------------------------------------------------------
expect_error 2 'missing PROGRAM' "$memmon" run --out x
expect_error 2 'put -- before PROGRAM' "$memmon" run --out x "$target" exit --now
expect_error 2 'cannot open' "$memmon" leaks nonexistent-dir
expect_error 2 '--interval' "$memmon" run --interval 5parsecs -- "$target" exit 0
expect_error 2 '--sample-rate' "$memmon" run --sample-rate 0 -- "$target" exit 0
expect_error 2 'MEMMON_SAMPLE_RATE' env MEMMON_SAMPLE_RATE=lots "$memmon" run -- "$target" exit 0
# MEMMON_SAMPLE_RATE from the environment is honoured, and said; the flag wins.
MEMMON_SAMPLE_RATE=16k "$memmon" run --out envrate -- "$target" exit 0 2>envrate.txt ||
  fail "run with MEMMON_SAMPLE_RATE exited $?: $(cat envrate.txt)"
grep -q 'sample rate 16384 bytes from MEMMON_SAMPLE_RATE' envrate.txt || fail "env rate not said: $(cat envrate.txt)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["sample_rate"] == 16384, r' envrate/run.json ||
  fail "env rate not used: $(cat envrate/run.json)"
MEMMON_SAMPLE_RATE=16k "$memmon" run --sample-rate 32k --out flagrate -- "$target" exit 0 2>flagrate.txt ||
  fail "run with --sample-rate exited $?"
! grep -q 'from MEMMON_SAMPLE_RATE' flagrate.txt || fail "the flag did not win: $(cat flagrate.txt)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["sample_rate"] == 32768, r' flagrate/run.json ||
  fail "flag rate not used: $(cat flagrate/run.json)"
expect_error 2 '' "$memmon" run --no-such-flag -- "$target" exit 0
touch afile
expect_error 2 'cannot use --out afile' "$memmon" run --out afile -- "$target" exit 0
expect_error 2 'cannot use --out /proc/x' "$memmon" run --out /proc/x -- "$target" exit 0
mkdir empty
expect_error 2 'no heap profiles' "$memmon" leaks empty
head -c 100 leak/heap.pb.gz >truncated.pb.gz
expect_error 2 'truncated.pb.gz' "$memmon" leaks truncated.pb.gz
printf 'not a profile' >garbage.pb.gz
expect_error 2 'garbage.pb.gz' "$memmon" diff garbage.pb.gz leak/heap.pb.gz
expect_error 2 'missing.pb.gz' "$memmon" diff missing.pb.gz leak/heap.pb.gz
expect_error 2 '' "$memmon" leaks
expect_error 2 '' "$memmon" diff leak/heap.pb.gz
for verb in run leaks diff; do
  "$memmon" $verb --help | grep -q -- '--json\|--interval' || fail "$verb --help"
done
echo "cli run test passed"
