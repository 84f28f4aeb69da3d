#!/usr/bin/env bash
# Failures seen on programs nobody here wrote (issue 19), each on its own
# target, under the bare preload and under memmon run: the same output and
# exit status as without memmon, and a profile go tool pprof reads.
#   - RTLD_DEEPBIND: blocks crossing into and out of a deep-bound library
#     (deepbind_target; aborted with "free(): invalid pointer" before);
#   - malloc(0) sampled at rate 1 (malloc0_target);
#   - no libstdc++ start-up allocation in a C program's profile;
#   - frames of a dlclose'd library are [unknown] (dlopen_target);
#   - every way out of a program leaves heap.pb.gz (exit_paths_target).
set -euo pipefail
memmon=$1 preload=$2 deepbind=$3 deeplib=$4 malloc0=$5 exit_paths=$6
dlopen_target=$7 plugin=$8
fail() { echo "failures test: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# go tool pprof reads the profiles and checks malloc(0)'s and the unloaded
# library's stacks: without it those checks cannot run, so the test fails.
command -v go >/dev/null 2>&1 ||
  fail "needs go (go tool pprof); scripts/install-deps installs it"
pprof_ok() {  # FILE: go tool pprof reads it
  [[ -s $1 ]] || fail "$1 missing; have: $(ls "$(dirname "$1")")"
  go tool pprof -top "$1" >/dev/null 2>&1 || fail "go tool pprof cannot read $1"
}
# run_all NAME CMD...: native, bare preload (MEMMON_OUTPUT=NAME.pre) and
# memmon run (--out NAME.run): same stdout and status; sets $status.
run_all() {
  local name=$1 want got
  shift
  set +e
  "$@" >"$name.native.out" 2>/dev/null; want=$?
  MEMMON_OUTPUT=$name.pre LD_PRELOAD=$preload "$@" >"$name.pre.out" 2>/dev/null; got=$?
  [[ $got -eq $want ]] || fail "$name: exit status $got under the preload, $want natively"
  "$memmon" run --no-report --out "$name.run" -- "$@" >"$name.run.out" 2>"$name.run.err"; got=$?
  set -e
  # memmon run exits with the program's status, 128+N when it was killed.
  [[ $got -eq $want ]] || fail "$name: memmon run exited $got, native $want: $(cat "$name.run.err")"
  cmp -s "$name.native.out" "$name.pre.out" || fail "$name: output differs under the preload"
  cmp -s "$name.native.out" "$name.run.out" || fail "$name: output differs under memmon run"
  status=$want
}

# --- RTLD_DEEPBIND, at the default rate and at every allocation ----------------
# The library is opened by bare name along the target's RUNPATH ($ORIGIN).
for rate in "" 1; do
  MEMMON_SAMPLE_RATE=$rate run_all "deep$rate" "$deepbind" "$(basename "$deeplib")" 5
  [[ $status -eq 0 ]] || fail "deepbind_target exited $status natively"
  grep -q '^deepbind: ok 20000$' "deep$rate.pre.out" || fail "deepbind: $(cat "deep$rate.pre.out")"
  pprof_ok "deep$rate.pre/heap.pb.gz"
  pprof_ok "deep$rate.run/heap.pb.gz"
done

# --- malloc(0) at rate 1; no libstdc++ start-up block in a C program ---------
MEMMON_SAMPLE_RATE=1 MEMMON_OUTPUT=zero LD_PRELOAD=$preload "$malloc0" 1000 >zero.out
grep -q '^malloc0: ok 1000$' zero.out || fail "malloc0: $(cat zero.out)"
# 1000 blocks of malloc(0)/calloc(0, 8) and the array holding them.
objs=$(go tool pprof -top -sample_index=inuse_objects zero/heap.pb.gz 2>/dev/null |
       awk '$NF == "ZeroLeak" { print $1 }')
[[ $objs == 1001 ]] || fail "ZeroLeak holds '$objs' objects at rate 1, want 1001"
! go tool pprof -traces zero/heap.pb.gz 2>/dev/null | grep -q 'libstdc++' ||
  fail "a libstdc++ frame in a C program's profile"
"$memmon" leaks zero --json >zero.json
python3 - zero.json <<'PY' || fail "leaks: $(head -c 1500 zero.json)"
import json, sys
sites = json.load(open(sys.argv[1]))
assert sites and sites[0]["stack"][0] == "OneByteLeak", sites[:2]
assert not any("libstdc++" in f for s in sites for f in s["stack"]), sites
PY

# --- frames of an unloaded library ------------------------------------------
MEMMON_OUTPUT=dl LD_PRELOAD=$preload "$dlopen_target" "$plugin" 3 >/dev/null
# heap.0001 was written with the plugin loaded, heap.pb.gz after dlclose:
# PluginLeak's blocks are then under [unknown], never another library.
go tool pprof -top -sample_index=inuse_space dl/heap.0001.pb.gz 2>/dev/null |
  grep -q ' PluginLeak$' || fail "PluginLeak not named while loaded"
go tool pprof -traces -sample_index=inuse_space dl/heap.pb.gz 2>/dev/null >dl.traces
! grep -q 'PluginLeak\|memmon_test_plugin' dl.traces || fail "unloaded plugin named"
awk '/^-+\+/ { if (block ~ /MB/ && block !~ /MainLeak/) print block; block = ""; next }
     { block = block "\n" $0 }' dl.traces >dl.plugin
[[ -s dl.plugin ]] || fail "no stack for the plugin's leak: $(cat dl.traces)"
first=$(awk 'NF && $1 ~ /MB$/ { print $2; exit }' dl.plugin)
[[ $first == "[unknown]" ]] || fail "the unloaded plugin's frame is '$first': $(cat dl.plugin)"

# --- every way out -------------------------------------------------------------
declare -A want=([return]=3 [exit]=4 [_exit]=5 [_Exit]=6 [abort]=134 [segv]=139
                 [term]=143 [handler]=7)
for how in return exit _exit _Exit abort segv term handler; do
  run_all "end$how" "$exit_paths" "$how"
  [[ $status -eq ${want[$how]} ]] || fail "$how: native status $status, want ${want[$how]}"
  grep -q "^exit_paths: $how\$" "end$how.native.out" || fail "$how: no output"
  pprof_ok "end$how.run/heap.pb.gz"
  [[ ! -e end$how.run/heap.raw ]] || fail "$how: memmon run left heap.raw"
  # The bare preload: a raw dump where no exit handler ran, which memmon
  # leaks turns into heap.pb.gz.
  "$memmon" leaks "end$how.pre" >"end$how.leaks" 2>&1 || fail "$how: leaks: $(cat "end$how.leaks")"
  grep -q '#1 .*KeptAtEnd' "end$how.leaks" || fail "$how: leaks: $(cat "end$how.leaks")"
  pprof_ok "end$how.pre/heap.pb.gz"
  [[ ! -e end$how.pre/heap.raw ]] || fail "$how: leaks left heap.raw"
done
echo "failures test: ok"
