#!/usr/bin/env bash
# Programs nobody here wrote (tests/targets/prog_*): the cases that break
# injected code, each run three ways and compared:
#
#   native            the program alone
#   preload           LD_PRELOAD=libmemmon_preload.so MEMMON_OUTPUT=DIR,
#                     MEMMON_SAMPLE_RATE=512, MEMMON_SEED=1
#   run               memmon run --sample-rate 512 --out DIR
#   run at default    memmon run --out DIR (512 KiB, as users run it)
#
# and asserted: the same standard output; the same exit status (killed by
# the same signal natively and under the preload; memmon run exits 128+N
# and names the signal in run.json); a heap profile at DIR/heap.pb.gz that
# `memmon leaks --json` and `go tool pprof -top` (when go is installed)
# read; the known sites' in-use bytes within sampling error.
#
# Sampling error: an allocation of s bytes is sampled with probability
# p = 1 - exp(-s/R) and then weighs s/p (docs/profiler.md, Sampling), each
# independently (the gaps are a Poisson process over the bytes). n blocks
# of s bytes estimate n*s with standard deviation s*sqrt(n(1-p)/p); a site
# passes within 5 standard deviations (a chance of about 6e-7 to fail by
# sampling alone; MEMMON_SEED=1 fixes the draws) plus 64 bytes for the
# rounding of the profile's values. At R = 512 and s = 1000 bytes,
# n = 2000: +-4.5 %; blocks of 1 MiB and more are sampled with p = 1 - 1e-890
# there, so their sites must be exact. At the default rate a site is
# checked only where 5 sd is under half its size (large blocks): otherwise
# a size check could not fail.
#
#   programs_test.sh MEMMON PRELOAD BINDIR PLUGIN [GROUP|CASE...]
#
# GROUP: programs (every case but the exit paths; the default),
# programs_exit_paths (every way out of a program), all. A CASE name runs
# that case alone (names: the `case_*` functions below). Every check runs;
# the failures are listed at the end (status 1).
set -uo pipefail
memmon=$1
preload=$2
bin=$3
plugin=$4
shift 4
[[ $# -gt 0 ]] || set -- programs

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ulimit -c 0  # the crashing cases must not leave cores
export MEMMON_SEED=1
rate=512
have_go=0
command -v go >/dev/null && have_go=1
failures=()

fail() {
  failures+=("$current: $*")
  echo "FAIL $current: $*"
}
note() { echo "     $current: $*"; }

# The exit status of a command as "exit N" or "signal N" (bash's $? cannot
# tell a death by signal N from exit(128+N)), written to fd 3.
status_py='
import os, subprocess, sys
r = subprocess.run(sys.argv[1:])
os.write(3, (f"signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}").encode())
'
# status FILE CMD...: runs CMD (its stdout to FILE.out, stderr to
# FILE.err) and writes its status to FILE.status.
status() {
  local file=$1
  shift
  python3 -c "$status_py" "$@" >"$file.out" 2>"$file.err" 3>"$file.status"
}

# The status memmon run should exit with for a native status.
run_status_for() {
  case $1 in
    signal*) echo "exit $((128 + ${1#signal }))" ;;
    *) echo "$1" ;;
  esac
}

# profile_ok FILE: memmon and pprof read FILE; its sites in FILE.json.
profile_ok() {
  local file=$1 dir
  dir=$(dirname "$file")
  # A program that ended by _exit, _Exit, abort or a fatal signal under the
  # bare preload leaves its heap as a raw dump (heap.raw); memmon leaks DIR
  # turns it into the profile, as docs/profiler.md tells users to.
  if [[ ! -e $file ]] && compgen -G "$dir/*.raw" >/dev/null; then
    "$memmon" leaks "$dir" >"$dir/convert.out" 2>&1 ||
      fail "memmon leaks $dir cannot convert its raw dump: $(cat "$dir/convert.out")"
    compgen -G "$dir/*.raw" >/dev/null && fail "raw dump left after memmon leaks $dir: $(ls "$dir")"
  fi
  if [[ ! -s $file ]]; then
    fail "no heap profile $file (have: $(ls "$(dirname "$file")" 2>/dev/null | tr '\n' ' '))"
    return 1
  fi
  if ! "$memmon" leaks "$file" --json --top 1000 >"$file.json" 2>"$file.leaks.err"; then
    fail "memmon leaks cannot read $file: $(cat "$file.leaks.err")"
    return 1
  fi
  if [[ $have_go -eq 1 ]] &&
    ! go tool pprof -top -sample_index=inuse_space "$file" 2>&1 | grep -q 'flat%'; then
    fail "go tool pprof cannot read $file"
    return 1
  fi
  return 0
}

# site FILE FUNCTION N SIZE RATE: FUNCTION's in-use bytes in FILE (read by
# profile_ok) are N x SIZE within sampling error at RATE (above).
site() {
  local out
  out=$(python3 - "$@" 2>&1 <<'PY'
import json, math, sys
file, function, n, size, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sites = json.load(open(file + ".json"))
got = sum(s["inuse_bytes"] for s in sites if s["function"] == function)
want = n * size
p = -math.expm1(-size / rate)
tol = 5 * size * math.sqrt(n * (1 - p) / p) + 64
if tol > want / 2:
    print(f"skip {function}: {got:.0f} bytes, want {want} (+-{tol:.0f}: too coarse at rate {rate} to check)")
    sys.exit(0)
ok = abs(got - want) <= tol
print(f"{'ok' if ok else 'BAD'} {function}: {got:.0f} bytes, want {want} +-{tol:.0f} ({100 * tol / want:.1f} %) at rate {rate}")
if not ok:
    top = [(s["function"], round(s["inuse_bytes"])) for s in sites[:8]]
    print(f"    top sites: {top}")
sys.exit(0 if ok else 1)
PY
  ) || { fail "$out"; return; }
  note "$out"
}

# frames FILE PYTHON-EXPRESSION MESSAGE: the expression, over `sites` (the
# memmon leaks --json array of FILE), holds.
frames() {
  python3 - "$1" "$2" <<'PY' || fail "$3"
import json, sys
sites = json.load(open(sys.argv[1] + ".json"))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# three_ways NAME CMD...: runs CMD natively, under the preload and under
# memmon run at rate 512 and at the default rate, in $work/NAME/{native,
# pre,run,def}; checks the output and status (not the profiles).
three_ways() {
  local name=$1
  shift
  local d=$work/$name
  mkdir -p "$d"
  status "$d/native" "$@"
  status "$d/preload" env LD_PRELOAD="$preload" MEMMON_OUTPUT="$d/pre" \
    MEMMON_SAMPLE_RATE=$rate "$@"
  status "$d/memmon" "$memmon" run --interval 50ms --sample-rate $rate \
    --out "$d/run" -- "$@"
  status "$d/default" "$memmon" run --interval 50ms --out "$d/def" -- "$@"
  local native want_run
  native=$(cat "$d/native.status")
  want_run=$(run_status_for "$native")
  for way in preload memmon default; do
    local want=$native
    [[ $way == preload ]] || want=$want_run
    local got
    got=$(cat "$d/$way.status")
    [[ $got == "$want" ]] ||
      fail "$way: $got, natively $native (want $want): $(tail -3 "$d/$way.err")"
    cmp -s "$d/native.out" "$d/$way.out" ||
      fail "$way: output differs from native: $(diff "$d/native.out" "$d/$way.out" | head -5)"
  done
  if [[ $native == signal* ]]; then
    local sig
    sig=SIG$(kill -l "${native#signal }")
    for run in run def; do
      python3 -c 'import json,sys; assert json.load(open(sys.argv[1])).get("signal") == sys.argv[2]' \
        "$d/$run/run.json" "$sig" 2>/dev/null ||
        fail "$run/run.json does not name $sig: $(cat "$d/$run/run.json" 2>/dev/null | tr -d '\n' | head -c 300)"
    done
  fi
  note "native: $native; $(head -c 200 "$d/native.out" | tr '\n' '|')"
}

# root_profiles NAME FUNCTION N SIZE [FUNCTION N SIZE ...]: the three
# sampled runs' heap.pb.gz are valid and hold each site's bytes.
root_profiles() {
  local d=$work/$1
  shift
  local way r
  for way in pre run def; do
    r=$rate
    [[ $way == def ]] && r=524288
    profile_ok "$d/$way/heap.pb.gz" || continue
    local args=("$@")
    while [[ ${#args[@]} -ge 3 ]]; do
      site "$d/$way/heap.pb.gz" "${args[0]}" "${args[1]}" "${args[2]}" $r
      args=("${args[@]:3}")
    done
  done
}

# --- the cases ---------------------------------------------------------------

# fork without exec from a parent whose threads allocate throughout; each
# child writes its own profile at exit().
case_fork_threads() {
  three_ways fork_threads "$bin/prog_fork" threads
  root_profiles fork_threads ParentLeak 2000 1000
  local way
  for way in pre run; do
    local children=("$work/fork_threads/$way"/heap.pid*.pb.gz)
    [[ ${#children[@]} -eq 16 && -e ${children[0]} ]] ||
      fail "$way: ${#children[@]} child profiles, want 16"
    local c
    for c in "${children[@]}"; do
      [[ -e $c ]] || continue
      profile_ok "$c" || continue
      site "$c" ChildLeak 1000 1000 $rate
      site "$c" ParentLeak 2000 1000 $rate  # inherited
    done
  done
}

# fork + exec: /bin/echo, and this program again, which leaks in ExecLeak.
case_fork_exec() {
  three_ways fork_exec "$bin/prog_fork" exec
  root_profiles fork_exec ParentLeak 2000 1000
  local way
  for way in pre run; do
    local found=0 c
    for c in "$work/fork_exec/$way"/heap.pid*.pb.gz; do
      [[ -e $c ]] || continue
      profile_ok "$c" || continue
      if grep -q '"ExecLeak"' "$c.json"; then
        found=$((found + 1))
        site "$c" ExecLeak 3000 1000 $rate
        frames "$c" 'not any(s["function"] == "ParentLeak" for s in sites)' \
          "$way: the exec'd program's profile holds its parent's ParentLeak"
      fi
    done
    [[ $found -eq 1 ]] || fail "$way: $found profiles with ExecLeak, want 1"
    local n
    n=$(ls "$work/fork_exec/$way"/heap.pid*.pb.gz 2>/dev/null | wc -l)
    [[ $n -eq 2 ]] || fail "$way: $n child profiles, want 2 (echo, exec-child)"
  done
}

# posix_spawn, system() and popen(): children through the shell.
case_spawn() {
  three_ways spawn "$bin/prog_fork" spawn
  root_profiles spawn ParentLeak 2000 1000
  local way c n
  for way in pre run; do
    n=0
    for c in "$work/spawn/$way"/heap.pid*.pb.gz; do
      [[ -e $c ]] || continue
      profile_ok "$c" && n=$((n + 1))
    done
    # /bin/echo exits by exit(): at least its profile. The shells of
    # system() and popen() (dash) end by _exit (see the exit paths).
    [[ $n -ge 1 ]] || fail "$way: no child profile (posix_spawn'd echo)"
    note "$way: $n child profiles"
  done
}

# dlopen/dlclose of a library that allocates; blocks freed after the
# unload; the exit profile written after it.
case_dlopen() {
  three_ways dlopen "$bin/prog_dlopen" "$plugin"
  local way
  for way in pre run def; do
    local f=$work/dlopen/$way/heap.pb.gz r=$rate
    [[ $way == def ]] && r=524288
    profile_ok "$f" || continue
    # The blocks PluginKeep allocated: their leaf frame is in the unloaded
    # library, so it is [unknown] (not the name of a neighbour), and their
    # stacks go on into RunPlugin.
    python3 - "$f" $r <<'PY' || fail "$way: the unloaded library's frames (above)"
import json, math, sys
sites = json.load(open(sys.argv[1] + ".json"))
rate = int(sys.argv[2])
mine = [s for s in sites if "RunPlugin" in s["stack"]]
assert mine, "no stack through RunPlugin"
for s in mine:
    assert s["function"] == "[unknown]", f"leaf {s['function']!r}, want [unknown]"
got = sum(s["inuse_bytes"] for s in mine)
p = -math.expm1(-1000 / rate)
tol = 5 * 1000 * math.sqrt(2000 * (1 - p) / p) + 64
assert tol > 1e6 or abs(got - 2e6) <= tol, f"{got} bytes, want 2000000 +-{tol:.0f}"
print(f"     dlopen: {sys.argv[1]}: [unknown] via RunPlugin, {got:.0f} bytes")
PY
  done
  # The snapshot taken while the library was loaded names its function.
  if profile_ok "$work/dlopen/pre/heap.0001.pb.gz"; then
    site "$work/dlopen/pre/heap.0001.pb.gz" PluginKeep 4000 1000 $rate
  fi
}

# longjmp and C++ exceptions through frames that allocate.
case_unwind() {
  three_ways unwind "$bin/prog_unwind"
  root_profiles unwind JmpLeak 2000 1000 ThrowLeak 2000 1000
  # The frames longjmp skipped and RAII unwound were all freed: nothing
  # else of size is live.
  local way
  for way in pre run; do
    local f=$work/unwind/$way/heap.pb.gz
    [[ -s $f.json ]] || continue
    frames "$f" 'sum(s["inuse_bytes"] for s in sites if s["function"] not in ("JmpLeak", "ThrowLeak")) < 200000' \
      "$way: more than 200000 bytes live outside JmpLeak and ThrowLeak: $(head -c 800 "$f.json")"
  done
}

# thread_local and pthread_key destructors that allocate at thread exit.
case_tls() {
  three_ways tls "$bin/prog_tls"
  root_profiles tls TlsDtorLeak 256 4096 KeyDtorLeak 512 2048
}

# Blocks freed on another thread than the one that allocated them.
case_xthread() {
  three_ways xthread "$bin/prog_xthread"
  root_profiles xthread Produce 2000 1000
}

# Signal dispositions: where the sampler's dump handler is, the program
# sees (and sets) SIG_DFL, and a handler it installs replaces the dump's;
# the heap is still dumped at an ending by the default (SIGSEGV) or by
# _exit from the program's handler. Python's view of the same, which
# decides whether it installs its own SIGINT handler.
case_sigdisp() {
  local mode
  for mode in query handler default; do
    three_ways "sigdisp_$mode" "$bin/prog_sigdisp" "$mode"
    root_profiles "sigdisp_$mode" DispLeak 2000 1000
  done
  local py='import signal
print([str(signal.getsignal(s)) for s in (signal.SIGTERM, signal.SIGSEGV, signal.SIGINT, signal.SIGABRT, signal.SIGHUP)])'
  local native pre
  native=$(/usr/bin/python3 -c "$py" 2>&1)
  pre=$(env LD_PRELOAD="$preload" MEMMON_OUTPUT="$work/sigdisp_py" /usr/bin/python3 -c "$py" 2>&1)
  [[ $pre == "$native" ]] || fail "python3: signal dispositions differ under the preload: native $native, preloaded $pre"
  note "python3 getsignal: $native (the same under the preload)"
}

# Allocation from a SIGALRM handler, on the thread's stack and on an
# alternate one, while another thread allocates.
case_signal() {
  three_ways signal "$bin/prog_signal"
  root_profiles signal HandlerLeak 300 1000
  three_ways signal_altstack "$bin/prog_signal" altstack
  root_profiles signal_altstack HandlerLeak 300 1000
}

# mmap/munmap of large regions, blocks above the mmap threshold (malloc,
# calloc, realloc by mremap).
case_mmap() {
  three_ways mmap "$bin/prog_mmap"
  root_profiles mmap BigLeak 40 1048576 CallocLeak 10 3145728 ReallocGrow 1 9830400
}

# A statically linked program: LD_PRELOAD cannot work on it. memmon run
# says so in one line and watches it from /proc only.
case_static() {
  local d=$work/static
  three_ways static "$bin/prog_static"
  [[ -z $(ls "$d/pre" 2>/dev/null) ]] ||
    fail "preload: the static program wrote profiles?: $(ls "$d/pre")"
  local way
  for way in memmon default; do
    local n
    n=$(grep -c 'is statically linked: the heap sampler cannot be loaded into it; monitoring RSS, threads and descriptors only' "$d/$way.err")
    [[ $n -eq 1 ]] || fail "$way: want one 'statically linked' line: $(cat "$d/$way.err")"
    grep -v '^memmon: ' "$d/$way.err" | grep -q . &&
      fail "$way: a line on stderr not from memmon or the program: $(cat "$d/$way.err")"
    grep -q 'no heap profile was written' "$d/$way.err" &&
      fail "$way: the missing profile is reported as an early end: $(cat "$d/$way.err")"
  done
  for run in run def; do
    [[ ! -e $d/$run/heap.pb.gz ]] || fail "$run: a heap profile from a static program"
    for f in samples.csv leaks.json run.json report.html; do
      [[ -s $d/$run/$f ]] || fail "$run: no $f: $(ls "$d/$run")"
    done
    python3 - "$d/$run" <<'PY' || fail "$run: run.json/leaks.json: $(cat "$d/$run/run.json")"
import json, sys
r = json.load(open(sys.argv[1] + "/run.json"))
assert r["heap_sampler"] is False and r["exit_status"] == 5, r
assert json.load(open(sys.argv[1] + "/leaks.json")) == []
PY
  done
  # Watched from /proc while it runs: it waits for a line on stdin, sent
  # once memmon has written a row with its RSS.
  mkdir -p "$d/watch"
  local fifo=$d/watch/in
  mkfifo "$fifo"
  "$memmon" run --interval 20ms --out "$d/watch/run" -- "$bin/prog_static" wait \
    <"$fifo" >"$d/watch.out" 2>"$d/watch.err" &
  local runner=$!
  exec {feed}>"$fifo"
  local i
  for i in $(seq 1 600); do
    [[ $(awk -F, 'NR > 1 && $2 > 0' "$d/watch/run/samples.csv" 2>/dev/null | wc -l) -ge 2 ]] && break
    sleep 0.05
  done
  echo go >&$feed
  exec {feed}>&-
  wait $runner
  local rc=$?
  [[ $rc -eq 5 ]] || fail "watch: exit $rc, want 5: $(cat "$d/watch.err")"
  python3 - "$d/watch/run/samples.csv" <<'PY' || fail "watch: samples.csv: $(head -5 "$d/watch/run/samples.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
live = [r for r in rows if r["rss_bytes"] not in ("", "0")]
assert len(live) >= 2, f"{len(live)} rows with an RSS"
assert all(r["threads"] == "1" for r in live), rows
assert all(r["heap_inuse_bytes"] == "" for r in rows), "a heap figure without a sampler"
print(f"     static: watch: {len(live)} rows with RSS, e.g. {live[-1]['rss_bytes']} bytes")
PY
  # The dynamically linked programs it runs are sampled: each writes
  # heap.pid<pid>.pb.gz under memmon run (not the first process), and
  # heap.pb.gz under the bare preload (where nothing set MEMMON_ROOT_PID).
  three_ways static_exec "$bin/prog_static" run "$bin/prog_exit" return
  local f
  f=$(ls "$work/static_exec/run"/heap.pid*.pb.gz 2>/dev/null | head -1)
  [[ -n $f && ! -e $work/static_exec/run/heap.pb.gz ]] ||
    fail "run: want only heap.pid<pid>.pb.gz from the exec'd child: $(ls "$work/static_exec/run")"
  if [[ -n $f ]] && profile_ok "$f"; then site "$f" ExitLeak 2000 1000 $rate; fi
  if profile_ok "$work/static_exec/pre/heap.pb.gz"; then
    site "$work/static_exec/pre/heap.pb.gz" ExitLeak 2000 1000 $rate
  fi
}

# Every way out: the leak in ExitLeak must be in a heap profile whichever
# way the program ends.
exit_case() {
  local mode=$1
  three_ways "exit_$mode" "$bin/prog_exit" "$mode"
  if [[ $mode == exec ]]; then
    # /bin/true replaced the program (same pid): its profile, at its exit.
    local way
    for way in pre run def; do profile_ok "$work/exit_exec/$way/heap.pb.gz"; done
    return
  fi
  root_profiles "exit_$mode" ExitLeak 2000 1000
}
case_exit_return() { exit_case return; }
case_exit_exit() { exit_case exit; }
case_exit__exit() { exit_case _exit; }
case_exit__Exit() { exit_case _Exit; }
case_exit_abort() { exit_case abort; }
case_exit_segv() { exit_case segv; }
case_exit_sigterm() { exit_case sigterm; }
case_exit_exec() { exit_case exec; }

programs=(fork_threads fork_exec spawn dlopen unwind tls xthread signal sigdisp mmap
  static)
exit_paths=(exit_return exit_exit exit__exit exit__Exit exit_abort exit_segv
  exit_sigterm exit_exec)

cases=()
for arg in "$@"; do
  case $arg in
    programs) cases+=("${programs[@]}") ;;
    programs_exit_paths) cases+=("${exit_paths[@]}") ;;
    all) cases+=("${programs[@]}" "${exit_paths[@]}") ;;
    *)
      declare -F "case_$arg" >/dev/null || { echo "programs test: no case $arg"; exit 2; }
      cases+=("$arg")
      ;;
  esac
done

for current in "${cases[@]}"; do
  echo "=== $current"
  "case_$current"
done

if [[ ${#failures[@]} -gt 0 ]]; then
  echo
  echo "programs test: ${#failures[@]} failure(s):"
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
echo "programs test: ${#cases[@]} cases ok"
