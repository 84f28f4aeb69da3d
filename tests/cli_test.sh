#!/usr/bin/env bash
# The CLI: --help and --version; bad usage exits 2 with one line; analyze
# prints alerts (text and JSON lines), rejects malformed CSV with one line
# naming the file and line, exit 2.
set -euo pipefail
memmon=$1
corpus=$2
fail() { echo "cli test: $*"; exit 1; }

"$memmon" --help | grep -q 'memmon'
"$memmon" --help | grep -q 'analyze'
"$memmon" analyze --help | grep -q -- '--json'
"$memmon" --version | grep -Eq '^memmon [0-9]+\.[0-9]+\.[0-9]+$'
set +e
err=$("$memmon" --no-such-flag 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 2 ]] || fail "bad flag exited $rc, want 2"
[[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "want one line, got: $err"
[[ $err == memmon:* ]] || fail "error line must start with memmon: $err"

# analyze: a leak raises memory_growth; JSON lines carry type, time_s, message.
out=$("$memmon" analyze "$corpus/fast_leak_30s.csv")
grep -q 'memory_growth' <<<"$out" || fail "no memory_growth in: $out"
grep -q '^120 samples' <<<"$out" || fail "no summary line in: $out"
json=$("$memmon" analyze --json "$corpus/fast_leak_30s.csv")
[[ -n $json ]] || fail "no JSON output"
while IFS= read -r line; do
  for key in '"type":' '"time_s":' '"message":'; do
    grep -q "$key" <<<"$line" || fail "JSON line lacks $key: $line"
  done
done <<<"$json"
# A quiet series prints no alert; stdin works.
[[ -z $("$memmon" analyze --json - <"$corpus/noisy_flat_30s.csv") ]] || fail "alerts on noise"
# A missing column disables its detector, and says so.
"$memmon" analyze "$corpus/rss_only_leak_30s.csv" | grep -q 'heap_fragmentation (needs' ||
  fail "missing column not reported"

# Malformed input: one line on stderr naming file and line; exit 2.
bad=$(mktemp)
trap 'rm -f "$bad"' EXIT
printf 'time_s,rss_bytes\n0,100\n1,abc\n' >"$bad"
set +e
err=$("$memmon" analyze "$bad" 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 2 ]] || fail "malformed CSV exited $rc, want 2"
[[ $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || fail "want one line, got: $err"
[[ $err == "memmon: analyze: $bad: line 3: rss_bytes: expected a non-negative integer, got 'abc'" ]] ||
  fail "unexpected message: $err"
set +e
err=$("$memmon" analyze /nonexistent.csv 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 2 && $err == *"/nonexistent.csv"* ]] || fail "missing file: rc $rc, $err"
echo "cli test passed"
