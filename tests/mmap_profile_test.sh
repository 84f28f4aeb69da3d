#!/usr/bin/env bash
# The sampler's mmap hooks and the mmap profile (docs/profiler.md,
# "Anonymous mappings"): tests/targets/mmap_target.cc checks the recorded
# mappings from inside (a mapping named by its caller; a big malloc and a
# small mapping not recorded; head and tail munmap, a hole, mremap, munmap);
# MEMMON_MMAP_MIN=0 records nothing; the profile it wrote reads with
# `go tool pprof` when go is installed; `memmon run` writes mmap.pb.gz.
#
#   tests/mmap_profile_test.sh MEMMON MMAP_TARGET PRELOAD_SO
set -euo pipefail
memmon=$1
target=$2
preload=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "mmap_profile_test: $*" >&2
  exit 1
}

LD_PRELOAD=$preload "$target" check "$work/mmap.pb.gz" || fail "the checks failed"
LD_PRELOAD=$preload MEMMON_MMAP_MIN=0 "$target" off || fail "MEMMON_MMAP_MIN=0 recorded"
[ -s "$work/mmap.pb.gz" ] || fail "no profile written"

if command -v go >/dev/null; then
  go tool pprof -top -sample_index=mapped_space "$work/mmap.pb.gz" >"$work/top.txt" 2>&1 ||
    fail "go tool pprof cannot read the profile: $(cat "$work/top.txt")"
  grep -Eq '^ +8MB +100% .*MapForTest' "$work/top.txt" ||
    fail "pprof -top: the 8 MiB mapping is not MapForTest's: $(cat "$work/top.txt")"
  go tool pprof -raw "$work/mmap.pb.gz" >"$work/raw.txt" 2>&1 || fail "pprof -raw failed"
  grep -q 'address:\[0x[0-9a-f]*\]' "$work/raw.txt" || fail "no address label"
  echo "go tool pprof: 8MB at MapForTest, labelled with its address"
else
  echo "go not installed: pprof's reading not checked"
fi

# memmon run: the program's mmap profile at exit, beside heap.pb.gz.
"$memmon" run --out "$work/run" -- "$target" check "$work/run_check.pb.gz" >/dev/null ||
  fail "memmon run of the target failed"
[ -s "$work/run/mmap.pb.gz" ] || fail "memmon run wrote no mmap.pb.gz"
[ -s "$work/run/heap.pb.gz" ] || fail "memmon run wrote no heap.pb.gz"
MEMMON_MMAP_MIN=0 "$memmon" run --out "$work/run_off" -- "$target" off >/dev/null ||
  fail "memmon run with MEMMON_MMAP_MIN=0 failed"
[ ! -e "$work/run_off/mmap.pb.gz" ] || fail "mmap.pb.gz written with MEMMON_MMAP_MIN=0"
echo "memmon run: mmap.pb.gz at exit; none with MEMMON_MMAP_MIN=0"
