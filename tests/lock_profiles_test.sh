#!/usr/bin/env bash
# The mutex and block profiles end to end, on tests/targets/lock_target:
#   - every kind of lock and wait behaves the same under the sampler
#     (lock_target kinds: error-checking, recursive, robust and PI mutexes,
#     rwlocks, pthread and std condition variables, semaphores, barriers,
#     joins): same output, same exit status as native;
#   - under LD_PRELOAD with MEMMON_OUTPUT, mutex.pb.gz and block.pb.gz are
#     written at exit beside heap.pb.gz, and go tool pprof -top
#     -sample_index=delay puts ContendOnMutex first in the mutex profile and
#     WaitForSignal first in the block profile (JoinMutexThreads there too),
#     and ContendOnRwLock first in the mutex profile of `lock_target rwlock`;
#   - std::timed_mutex and std::shared_timed_mutex's timed locks (glibc's
#     pthread_mutex_clocklock, pthread_rwlock_clock{rd,wr}lock) are in the
#     mutex profile: ContendOnTimedMutex and ContendOnSharedTimedMutex, and
#     the three that time out against a held mutex are exactly 3
#     contentions;
#   - memmon run --out DIR writes them too, at the default rates;
#   - memmon_preload_write_named_profile writes either on request, and
#     says so when one is off;
#   - the same under jemalloc and tcmalloc (hooks inside malloc);
#   - the linked sampler (libmemmon_heap.so) interposes the locks too;
#   - MEMMON_MUTEX_RATE=0 / MEMMON_BLOCK_RATE=0 turn each off.
set -euo pipefail
memmon=$1
target=$2
preload=$3
linked=$4
fail() { echo "lock profiles test: $*"; exit 1; }
command -v go >/dev/null || { echo "go not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# top PROFILE: the function of the first row of go tool pprof -top by delay.
top() {
  go tool pprof -top -sample_index=delay "$1" 2>/dev/null |
    awk '/flat%/ { getline; for (i = 6; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : ""); print ""; exit }'
}

# --- lock semantics: the same as native ---------------------------------------
"$target" kinds >native_kinds.txt || fail "native kinds failed: $(cat native_kinds.txt)"
set +e
LD_PRELOAD=$preload MEMMON_MUTEX_RATE=1 MEMMON_BLOCK_RATE=1 MEMMON_OUTPUT=kinds \
  "$target" kinds >kinds.txt 2>kinds_err.txt
rc=$?
set -e
[[ $rc -eq 0 ]] || fail "kinds under the preload exited $rc: $(cat kinds.txt kinds_err.txt)"
cmp -s native_kinds.txt kinds.txt || fail "kinds output differs: $(cat kinds.txt)"
[[ ! -s kinds_err.txt ]] || fail "kinds wrote to stderr: $(cat kinds_err.txt)"

# --- contention under LD_PRELOAD, every event recorded ----------------------
"$target" contend >native.txt
LD_PRELOAD=$preload MEMMON_OUTPUT=out MEMMON_SEED=1 MEMMON_MUTEX_RATE=1 \
  MEMMON_BLOCK_RATE=1 "$target" contend >preload.txt 2>err.txt ||
  fail "contend under the preload exited $?: $(cat err.txt)"
cmp -s native.txt preload.txt || fail "output differs: $(cat native.txt) vs $(cat preload.txt)"
[[ ! -s err.txt ]] || fail "stderr: $(cat err.txt)"
for f in heap.pb.gz mutex.pb.gz block.pb.gz; do
  [[ -s out/$f ]] || fail "out/$f missing; have: $(ls out)"
done
go tool pprof -raw out/mutex.pb.gz 2>/dev/null | grep -q 'contentions/count delay/nanoseconds' ||
  fail "mutex.pb.gz sample types: $(go tool pprof -raw out/mutex.pb.gz 2>&1 | head -5)"
mutex_top=$(top out/mutex.pb.gz)
[[ $mutex_top == *ContendOnMutex* ]] || fail "mutex profile top is '$mutex_top': $(go tool pprof -top -sample_index=delay out/mutex.pb.gz 2>&1 | head -15)"
block_top=$(top out/block.pb.gz)
[[ $block_top == *WaitForSignal* ]] || fail "block profile top is '$block_top': $(go tool pprof -top -sample_index=delay out/block.pb.gz 2>&1 | head -15)"
go tool pprof -top -sample_index=delay out/block.pb.gz 2>/dev/null | grep -q JoinMutexThreads ||
  fail "no JoinMutexThreads in the block profile"
# Sampled at 1 in 20, the scaled count estimates the contentions: one draw
# per contention, weighted by the rate (two draws once sampled 1 in 400 and
# read a twentieth). `handoff` makes exactly 2000 contentions whatever the
# schedule: all counted at rate 1; at rate 20 ~100 samples, a standard
# error of ~10 %, so the estimate must be within 40 % (4 standard errors).
total() {
  go tool pprof -top -sample_index=contentions "$1" 2>/dev/null |
    awk '/Total samples =/ { print $NF }'
}
for rate in 1 20; do
  LD_PRELOAD=$preload MEMMON_OUTPUT=handoff$rate MEMMON_SEED=1 MEMMON_MUTEX_RATE=$rate \
    "$target" handoff 2000 >/dev/null 2>&1 || fail "handoff at rate $rate exited $?"
done
exact=$(total handoff1/mutex.pb.gz)
estimate=$(total handoff20/mutex.pb.gz)
[[ $exact == 2000 ]] || fail "handoff at rate 1 counted '$exact' contentions, not 2000"
[[ -n $estimate ]] && ((estimate >= 1200 && estimate <= 2800)) ||
  fail "at rate 20 the 2000 contentions are estimated at '$estimate'"
# rwlocks.
"$target" rwlock >native_rw.txt
LD_PRELOAD=$preload MEMMON_OUTPUT=rw MEMMON_SEED=1 MEMMON_MUTEX_RATE=1 \
  "$target" rwlock >rw.txt 2>rw_err.txt || fail "rwlock under the preload exited $?: $(cat rw_err.txt)"
cmp -s native_rw.txt rw.txt || fail "rwlock output differs: $(cat rw.txt)"
rw_top=$(top rw/mutex.pb.gz)
[[ $rw_top == *ContendOnRwLock* ]] || fail "rwlock mutex profile top is '$rw_top'"

# std::timed_mutex and std::shared_timed_mutex: libstdc++'s timed locks
# call pthread_mutex_clocklock and pthread_rwlock_clock{rd,wr}lock. Each
# function's contentions are in the mutex profile, with a delay.
"$target" timed >native_timed.txt
LD_PRELOAD=$preload MEMMON_OUTPUT=timed MEMMON_SEED=1 MEMMON_MUTEX_RATE=1 \
  "$target" timed >timed.txt 2>timed_err.txt || fail "timed under the preload exited $?: $(cat timed_err.txt)"
cmp -s native_timed.txt timed.txt || fail "timed output differs: $(cat timed.txt)"
go tool pprof -top -sample_index=delay timed/mutex.pb.gz >timed_top.txt 2>&1 ||
  fail "go tool pprof cannot read timed/mutex.pb.gz: $(cat timed_top.txt)"
for f in ContendOnTimedMutex ContendOnSharedTimedMutex; do
  grep -q "$f" timed_top.txt || fail "no $f in the mutex profile: $(head -20 timed_top.txt)"
done
# `timed 0`: only the three timed locks that time out while main holds the
# mutexes (try_lock_for; try_lock_shared_for and try_lock_for): exactly
# three contentions, whatever the schedule.
LD_PRELOAD=$preload MEMMON_OUTPUT=timed0 MEMMON_SEED=1 MEMMON_MUTEX_RATE=1 \
  "$target" timed 0 >/dev/null 2>&1 || fail "timed 0 under the preload exited $?"
timed0=$(go tool pprof -top -sample_index=contentions timed0/mutex.pb.gz 2>/dev/null |
  awk '/Total samples =/ { print $NF }')
[[ $timed0 == 3 ]] || fail "timed 0: '$timed0' contentions, want 3: $(go tool pprof -top -sample_index=contentions timed0/mutex.pb.gz 2>&1 | head -15)"

# --- memmon run, at the default rates ----------------------------------------
# (Its memmon-writer thread waits on a semaphore throughout: not recorded.)
"$memmon" run --out run -- "$target" contend >run.txt 2>run_err.txt ||
  fail "memmon run exited $?: $(cat run_err.txt)"
# Every stack's leaf is the program's (memmon's own frames are cut, so a
# wait of memmon's writer thread would leave libc's alone).
leaves=$(go tool pprof -traces run/block.pb.gz 2>/dev/null |
  awk '/^-+\+-+$/ && (getline) > 0 { sub(/^ *[0-9.]+[a-z]*s +/, ""); print }')
[[ -n $leaves ]] || fail "no stacks in run/block.pb.gz"
while IFS= read -r leaf; do
  [[ $leaf == *"(anonymous namespace)::"* || $leaf == *Contend* || $leaf == main ]] ||
    fail "a block profile stack that is not the program's: '$leaf'"
done <<<"$leaves"
cmp -s native.txt run.txt || fail "memmon run output differs: $(cat run.txt)"
for f in heap.pb.gz mutex.pb.gz block.pb.gz; do
  [[ -s run/$f ]] || fail "run/$f missing; have: $(ls run)"
  go tool pprof -top -sample_index=delay "run/$f" >/dev/null 2>&1 ||
    [[ $f == heap.pb.gz ]] || fail "go tool pprof cannot read run/$f"
done
# The waiter blocks for 100 ms or more: always sampled at the default rate.
[[ $(top run/block.pb.gz) == *WaitForSignal* ]] || fail "default-rate block top: $(top run/block.pb.gz)"
# Exit status passes through.
set +e
"$memmon" run --out bad -- "$target" 2>/dev/null; rc=$?
set -e
[[ $rc -eq 2 ]] || fail "memmon run of a usage error exited $rc, want 2"

# --- on request: memmon_preload_write_named_profile -------------------------
mkdir named
LD_PRELOAD=$preload MEMMON_MUTEX_RATE=1 MEMMON_BLOCK_RATE=1 "$target" named named >named.txt 2>&1 ||
  fail "named exited $?: $(cat named.txt)"
grep -qx 'mutex: ok' named.txt && grep -qx 'block: ok' named.txt || fail "named: $(cat named.txt)"
grep -q '^nosuch: unknown profile "nosuch" (known: heap peak mutex block' named.txt || fail "named nosuch: $(cat named.txt)"
[[ $(top named/mutex.pb.gz) == *ContendOnMutex* ]] || fail "requested mutex top: $(top named/mutex.pb.gz)"
[[ $(top named/block.pb.gz) == *WaitForSignal* ]] || fail "requested block top: $(top named/block.pb.gz)"
LD_PRELOAD=$preload MEMMON_MUTEX_RATE=0 MEMMON_BLOCK_RATE=0 "$target" named named >named_off.txt 2>&1
grep -qx 'mutex: the mutex profile is off (MEMMON_MUTEX_RATE=0)' named_off.txt &&
  grep -qx 'block: the block profile is off (MEMMON_BLOCK_RATE=0)' named_off.txt ||
  fail "named while off: $(cat named_off.txt)"

# --- under jemalloc and tcmalloc, whose malloc takes pthread mutexes -------
# (the hooks then run inside malloc: in_malloc.h's rules).
for so in /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/lib/*-linux-gnu/libtcmalloc.so.4; do
  [[ -f $so ]] || continue
  name=$(basename "$so")
  LD_PRELOAD="$preload $so" MEMMON_MUTEX_RATE=1 MEMMON_BLOCK_RATE=1 MEMMON_SAMPLE_RATE=1 \
    MEMMON_OUTPUT="$name" "$target" kinds >alloc_kinds.txt 2>&1 || fail "kinds under $name: $(cat alloc_kinds.txt)"
  cmp -s native_kinds.txt alloc_kinds.txt || fail "kinds under $name: $(cat alloc_kinds.txt)"
  LD_PRELOAD="$preload $so" MEMMON_MUTEX_RATE=1 MEMMON_BLOCK_RATE=1 MEMMON_SAMPLE_RATE=1 \
    MEMMON_OUTPUT="$name" "$target" contend >alloc.txt 2>&1 || fail "contend under $name: $(cat alloc.txt)"
  cmp -s native.txt alloc.txt || fail "contend under $name: $(cat alloc.txt)"
  [[ $(top "$name/block.pb.gz") == *WaitForSignal* ]] || fail "block top under $name: $(top "$name/block.pb.gz")"
done

# --- the linked sampler ------------------------------------------------------
MEMMON_OUTPUT=linked MEMMON_SEED=1 MEMMON_MUTEX_RATE=1 MEMMON_BLOCK_RATE=1 \
  "$linked" contend >linked.txt 2>linked_err.txt || fail "linked target exited $?: $(cat linked_err.txt)"
cmp -s native.txt linked.txt || fail "linked output differs: $(cat linked.txt)"
[[ $(top linked/mutex.pb.gz) == *ContendOnMutex* ]] || fail "linked mutex top: $(top linked/mutex.pb.gz)"
[[ $(top linked/block.pb.gz) == *WaitForSignal* ]] || fail "linked block top: $(top linked/block.pb.gz)"

# --- each can be turned off --------------------------------------------------
LD_PRELOAD=$preload MEMMON_OUTPUT=off MEMMON_MUTEX_RATE=0 MEMMON_BLOCK_RATE=0 \
  "$target" contend 20000 >/dev/null
[[ -s off/heap.pb.gz && ! -e off/mutex.pb.gz && ! -e off/block.pb.gz ]] ||
  fail "rates 0 still wrote: $(ls off)"
echo "lock profiles test: ok"
