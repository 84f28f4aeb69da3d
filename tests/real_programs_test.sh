#!/usr/bin/env bash
# Real programs under the heap sampler, through `memmon run`: python3,
# sqlite3, git, the shells (dash as /bin/sh, and bash; also under the bare
# preload) and redis-server. Each must behave exactly as without memmon
# (same output, same exit status), and its run directory must hold a heap
# profile that memmon and go tool pprof read, and samples with the heap.
#
# Usage: real_programs_test.sh MEMMON PRELOAD
set -euo pipefail
memmon=$1
preload=$2
fail() { echo "real programs test: $*"; exit 1; }
tmp=$(mktemp -d)
redis_pid=
cleanup() {
  [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

# check NAME: the run directory NAME holds what a run must leave.
check() {
  local dir=$1
  local f
  for f in heap.pb.gz leaks.json report.html; do
    [[ -s $dir/$f ]] || fail "$dir: no $f; the directory has: $(ls "$dir" | tr '\n' ' ')"
  done
  "$memmon" leaks "$dir" --json >/dev/null || fail "$dir: memmon leaks cannot read it"
  local rows heap
  rows=$(($(wc -l <"$dir/samples.csv") - 1))
  heap=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "heap_inuse_bytes") c = i }
                  NR > 1 && $c > 0 { n++ } END { print n + 0 }' "$dir/samples.csv")
  [[ $rows -ge 1 ]] || fail "$dir: no samples"
  if command -v go >/dev/null; then
    go tool pprof -top -sample_index=alloc_space "$dir/heap.pb.gz" >/dev/null 2>&1 ||
      fail "$dir: go tool pprof cannot read heap.pb.gz"
  fi
  echo "$dir: $rows samples ($heap with the heap), profile read"
}

# same NAME CMD...: the output and status under memmon equal the native ones.
same() {
  local name=$1 native under rc_native rc_under
  shift
  set +e
  native=$("$@" 2>&1); rc_native=$?
  under=$("$memmon" run --interval 100ms --sample-rate 64k --out "$name" -- "$@" 2>"$name.memmon"); rc_under=$?
  set -e
  [[ $rc_under -eq $rc_native ]] || fail "$name: exit $rc_under under memmon, $rc_native without: $(cat "$name.memmon")"
  [[ $under == "$native" ]] || fail "$name: output differs under memmon:
--- native
$native
--- under memmon
$under"
  check "$name"
}

same python /usr/bin/python3 -c '
import hashlib, json
d = {str(i): [i] * (i % 50) for i in range(50000)}
s = json.dumps(d)
print(len(d), hashlib.sha256(s.encode()).hexdigest())
'
same sqlite sqlite3 :memory: "
create table t(id integer primary key, v text);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000)
insert into t(v) select printf('%08d-%s', i, hex(randomblob(16))) from n;
create index tv on t(v);
select count(*), sum(length(v)) from t;"
# The shells: 200 command substitutions (a fork each, no exec: printf is a
# builtin) and a pipeline of seq (fork and exec); under memmon run and
# under the bare preload, the same output and status, and a profile.
preload_same() {  # NAME CMD...: the bare preload, MEMMON_OUTPUT=NAME.pre
  local name=$1 native under rc_native rc_under
  shift
  set +e
  native=$("$@" 2>&1); rc_native=$?
  under=$(MEMMON_OUTPUT=$name.pre LD_PRELOAD=$preload "$@" 2>&1); rc_under=$?
  set -e
  [[ $rc_under -eq $rc_native ]] || fail "$name: exit $rc_under under the preload, $rc_native without"
  [[ $under == "$native" ]] || fail "$name: output differs under the preload:
--- native
$native
--- under the preload
$under"
  # dash ends with _exit: its profile is the raw dump (heap.raw), which
  # memmon leaks turns into heap.pb.gz; the 200 children's are theirs.
  [[ -s $name.pre/heap.pb.gz || -s $name.pre/heap.raw ]] ||
    fail "$name: no heap profile under the preload: $(ls "$name.pre" | head)"
  "$memmon" leaks "$name.pre" --json >/dev/null || fail "$name: memmon leaks cannot read $name.pre"
  [[ -s $name.pre/heap.pb.gz && ! -e $name.pre/heap.raw ]] ||
    fail "$name: no heap.pb.gz after memmon leaks: $(ls "$name.pre" | head)"
  echo "$name.pre: same output and status, profile read"
}
loop='for i in $(seq 1 200); do x=$(printf "%s" "$i"); done; echo done'
for sh in /bin/sh bash; do
  name=$(basename "$sh")
  [[ $("$sh" -c "$loop") == done ]] || fail "$sh: the loop does not print done natively"
  same "$name" "$sh" -c "$loop"
  preload_same "$name" "$sh" -c "$loop"
  # A non-zero status passes through unchanged.
  same "$name-status" "$sh" -c "$loop; exit 3"
  preload_same "$name-status" "$sh" -c "$loop; exit 3"
done

git init -q repo
for i in $(seq 1 50); do printf 'line %d\n' "$i" >>repo/file.txt; done
same git git -C repo -c user.name=memmon -c user.email=memmon@example.org \
  -c init.defaultBranch=main commit -q --allow-empty-message -m '' --allow-empty
same git-log git -C repo log --format=%s

# redis-server: serves clients under memmon, then shuts down on request.
port=$((20000 + RANDOM % 20000))
"$memmon" run --interval 100ms --sample-rate 64k --out redis -- \
  redis-server --port "$port" --save '' --appendonly no --daemonize no \
  >redis.log 2>redis.memmon &
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done
redis-cli -p "$port" ping | grep -q PONG || fail "redis did not start: $(cat redis.log redis.memmon)"
for i in $(seq 1 20); do
  redis-cli -p "$port" eval "for i = 1, 500 do redis.call('set', 'k' .. ARGV[1] .. ':' .. i, string.rep('v', 200)) end return 1" 0 "$i" >/dev/null
done
[[ $(redis-cli -p "$port" dbsize) -eq 10000 ]] || fail "redis lost keys"
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
set +e
wait "$redis_pid"; rc=$?
set -e
redis_pid=
[[ $rc -eq 0 ]] || fail "redis under memmon exited $rc: $(tail -5 redis.memmon)"
check redis
echo "real programs test passed"
