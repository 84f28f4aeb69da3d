#!/usr/bin/env bash
# The CLI: --help and --version; bad usage exits 2 with one line; analyze
# prints alert records, firing and resolved (text and JSON lines), and a
# verdict per quantity for every corpus series, and rejects malformed CSV
# with one line naming the file and line, exit 2.
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

# analyze: a leak raises memory_growth; JSON lines carry type, state, time_s,
# message.
out=$("$memmon" analyze "$corpus/fast_leak_30s.csv")
grep -q 'memory_growth' <<<"$out" || fail "no memory_growth in: $out"
grep -q '^120 samples' <<<"$out" || fail "no summary line in: $out"
json=$("$memmon" analyze --json "$corpus/fast_leak_30s.csv")
[[ -n $json ]] || fail "no JSON output"
while IFS= read -r line; do
  [[ $line == '{"verdict":'* ]] && continue
  for key in '"type":' '"state":' '"time_s":' '"message":'; do
    grep -q "$key" <<<"$line" || fail "JSON line lacks $key: $line"
  done
done <<<"$json"
[[ $(grep -c '"state":"firing"' <<<"$json") -ge 1 ]] || fail "no \"state\":\"firing\" in: $json"
grep -q '"state":"resolved"' <<<"$json" && fail "a continuing leak resolved: $json"
# A quiet series prints no alert, only its verdicts; stdin works.
quiet=$("$memmon" analyze --json - <"$corpus/noisy_flat_30s.csv")
grep -q '"type":' <<<"$quiet" && fail "alerts on noise: $quiet"
[[ $(grep -c '^{"verdict":' <<<"$quiet") -eq 3 ]] || fail "want 3 verdict lines: $quiet"

# A leak (and a thread leak) that stops and comes back: each episode fires,
# then resolves, saying why; JSON says "state" and when the episode opened.
# (Both rise from the start, so no warm-up setting or finer rule keeps them
# from being leaks.)
ends=$(mktemp)
awk 'BEGIN { print "time_s,heap_inuse_bytes,threads,fds";
  for (i = 0; i < 80; i++) { up = i < 40;
    printf "%d,%d,%d,20\n", i * 30, (100 + (up ? 8 * i : 0) + (i * 7919) % 5 * 0.1) * 1048576, up ? 10 + 2 * i : 10 } }' >"$ends"
out=$("$memmon" analyze --warmup-samples 1 "$ends")
grep -Eq '^ +360\.0 s  memory_growth +heap_inuse_bytes grew' <<<"$out" || fail "no memory_growth in: $out"
grep -Eq '^ +1[0-9]{3}\.0 s  memory_growth +resolved after [0-9.]+ min: heap_inuse_bytes came back to 100\.[0-9] MiB .*, below the limit of ' <<<"$out" ||
  fail "no memory_growth resolution in: $out"
grep -Eq 'thread_leak +resolved after [0-9.]+ min: threads returned to 10, below the limit of 22' <<<"$out" ||
  fail "no thread_leak resolution in: $out"
grep -q '^80 samples over 39.5 min, 2 alerts (2 resolved)' <<<"$out" || fail "summary: $out"
json=$("$memmon" analyze --json --warmup-samples 1 "$ends")
grep -q '^{"type":"memory_growth","state":"firing","time_s":360.0,' <<<"$json" || fail "firing JSON: $json"
grep -q '^{"type":"memory_growth","state":"resolved","time_s":1[0-9]*.0,.*"episode_start_s":360.0}$' <<<"$json" ||
  fail "resolved JSON: $json"

# The verdict, per quantity over the whole series, with hindsight: the last
# lines, memory (heap in use, else RSS), threads, descriptors.
verdict() {  # verdict SERIES QUANTITY KIND
  local got
  got=$("$memmon" analyze "$corpus/$1.csv" | grep "^verdict $2: ") || fail "$1: no $2 verdict"
  [[ $got == "verdict $2: $3, "* ]] || fail "$1: want $2 $3, got: $got"
  local j
  j=$("$memmon" analyze --json "$corpus/$1.csv" | grep "\"quantity\":\"$2\"")
  [[ $j == "{\"verdict\":\"$3\",\"quantity\":\"$2\",\"reason\":"* ]] || fail "$1: JSON verdict: $j"
}
for s in slow_leak_noise_30s slow_leak_noise_1s fast_leak_1s fast_leak_30s late_leak_30s \
         late_leak_1s accelerating_leak_30s accelerating_leak_1s sawtooth_rising_30s \
         sawtooth_rising_1s; do
  verdict "$s" heap_inuse_bytes leak
done
verdict rss_only_leak_30s rss_bytes leak
for s in warmup_plateau_30s warmup_plateau_1s; do verdict "$s" heap_inuse_bytes warm-up; done
for s in sawtooth_flat_1s sawtooth_flat_30s; do verdict "$s" heap_inuse_bytes sawtooth; done
for s in single_step_1s single_step_30s; do verdict "$s" heap_inuse_bytes bounded; done
for s in noisy_flat_1s noisy_flat_30s fragmentation_after_peak_1s fragmentation_after_peak_30s \
         fragmentation_persistent_30s; do
  verdict "$s" heap_inuse_bytes flat
done
verdict thread_leak_30s threads leak
verdict thread_bursts_1s threads flat
# A pool that steps up once and stays: bounded (the series' name changes
# with the detectors' revision; whichever is there).
for s in thread_leak_step_1s thread_pool_step_1s; do
  [[ -f $corpus/$s.csv ]] && verdict "$s" threads bounded
done
[[ -f $corpus/thread_staircase_1s.csv ]] && verdict thread_staircase_1s threads leak
verdict fd_leak_30s fds leak
verdict fd_leak_1s fds leak
verdict fd_bursts_30s fds flat
printf 'time_s,rss_bytes\n0,100\n1,101\n' >"$ends"
"$memmon" analyze "$ends" | grep -q '^verdict rss_bytes: unknown, too short to judge: 2 samples' ||
  fail "short series: $("$memmon" analyze "$ends")"
"$memmon" analyze "$ends" | grep -q '^verdict threads: unknown, no threads column' ||
  fail "missing column verdict"
# A missing column disables its detector, and says so.
"$memmon" analyze "$corpus/rss_only_leak_30s.csv" | grep -q 'heap_fragmentation (needs' ||
  fail "missing column not reported"

# Malformed input: one line on stderr naming file and line; exit 2.
bad=$(mktemp)
trap 'rm -f "$bad" "$ends"' EXIT
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
