#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds examples/consumer
# against it the two ways docs/api.md documents, with its commands: CMake's
# find_package(memmon), and the plain `pkg-config --cflags --libs` (no
# --static). Runs every consumer and checks its exit status and output.
# Where the heap sampler is built (HEAP_SAMPLER=ON), also runs the
# installed sampler and the installed `memmon run`.
#
# Usage: install_test.sh BUILD_DIR SOURCE_DIR [HEAP_SAMPLER]

# pkg-config's output is split into words on purpose, as in the documented
# commands.
# shellcheck disable=SC2046
set -euo pipefail
build=$1 src=$2 sampler=${3:-ON}
consumer=$src/examples/consumer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

fail() {
  echo "install test: $*" >&2
  exit 1
}
# Runs a command quietly; on failure shows its output and stops.
quiet() {
  "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; fail "failed: $*"; }
}
# expect NAME REGEX COMMAND...: COMMAND exits 0 and prints one line
# matching REGEX.
expect() {
  local name=$1 regex=$2 out
  shift 2
  out=$("$@") || fail "$name exited with status $?: $out"
  [[ $out =~ ^$regex$ ]] || fail "$name printed '$out', expected /$regex/"
  echo "$name: $out"
}

quiet cmake --install "$build" --prefix "$prefix"
pc_dir=$(dirname "$(find "$prefix" -name memmon.pc)")
libdir=$(dirname "$pc_dir")

# Installed: the public headers (the sampler's C header among them), static
# archives and no shared libmemmon (docs/api.md, "Linking"); no internal
# header.
for f in memmon.h version.h profiler.h memmon_preload.h fs/lru_cache.h \
  fs/write_buffer.h fs/byte_pool.h fs/common.h; do
  [[ -f $prefix/include/memmon/$f ]] || fail "include/memmon/$f not installed"
done
for f in libmemmon.a libmemmon_profiler.a libmemmon_profile.a libmemmon_fs.a \
  libmemmon_http.a pkgconfig/memmon-profiler.pc pkgconfig/memmon-fs.pc cmake/memmon/memmonConfig.cmake; do
  [[ -f $libdir/$f ]] || fail "$libdir/$f not installed"
done
if [[ $sampler == ON ]]; then
  for f in libmemmon_preload.so libmemmon_heap.so libmemmon_writer.so libmemmon_agent.so; do
    [[ -f $libdir/$f ]] || fail "$libdir/$f not installed"
  done
fi
! compgen -G "$libdir/libmemmon.so*" >/dev/null || fail "a shared libmemmon is installed"
! find "$prefix/include" -name procfs.h | grep -q . || fail "an internal header is installed"

# Each way of building gets the same checks.
run_consumers() {
  local how=$1 bin=$2
  expect "$how consumer" 'allocator=[a-z]+ rss_bytes=[1-9][0-9]* threads=[1-9][0-9]*' \
    "$bin/consumer"
  expect "$how profiler consumer" 'thread profile: written' \
    "$bin/profiler_consumer" "$work/profiles-$how"
  gzip -t "$work/profiles-$how/threads.pb.gz" || fail "$how: threads.pb.gz is not gzip"
  expect "$how fs consumer" 'fs: cache hit, 1 flush of 11 bytes, pool buffer zeroed, counters 1 1 1' \
    "$bin/fs_consumer"
  expect "$how preload consumer" 'sampler: not loaded' "$bin/preload_consumer"
  if [[ $sampler == ON ]]; then
    expect "$how preload consumer, sampler preloaded" 'sampler: allocations=[1-9][0-9]*' \
      env LD_PRELOAD="$libdir/libmemmon_preload.so" "$bin/preload_consumer"
  fi
}

# (a) CMake: find_package(memmon), memmon::memmon, memmon::profiler,
# memmon::fs and memmon::http.
quiet cmake -S "$consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix"
quiet cmake --build "$work/cmake"
run_consumers find_package "$work/cmake"
# memmon::http (CMake only): a monitor served, its /metrics read back.
expect "find_package http consumer" 'http: /metrics 200 with memmon_rss_bytes' \
  "$work/cmake/http_consumer"
if [[ $sampler == ON ]]; then
  # memmon::heap: the sampler linked, no LD_PRELOAD.
  expect "find_package heap consumer, sampler linked" 'sampler: allocations=[1-9][0-9]*' \
    "$work/cmake/heap_consumer"
fi
# No absolute path of this machine in the installed CMake files.
# No absolute path of this machine (the system's libraries, the source or
# build tree, the prefix) in the installed CMake files: they are relocatable.
for path in /usr/lib /usr/include "$(cd "$src" && pwd)" "$(cd "$build" && pwd)" "$prefix"; do
  ! grep -n -F "$path" "$libdir"/cmake/memmon/*.cmake ||
    fail "$path in the installed CMake package"
done

# (b) pkg-config, the plain command (docs/api.md).
export PKG_CONFIG_PATH=$pc_dir
mkdir "$work/pc"
cd "$consumer"
quiet g++ -std=c++20 main.cc -o "$work/pc/consumer" $(pkg-config --cflags --libs memmon)
quiet g++ -std=c++20 profiler_main.cc -o "$work/pc/profiler_consumer" \
  $(pkg-config --cflags --libs memmon-profiler)
quiet cc preload_main.c -o "$work/pc/preload_consumer" $(pkg-config --cflags --libs memmon)
quiet g++ -std=c++20 fs_main.cc -o "$work/pc/fs_consumer" $(pkg-config --cflags --libs memmon-fs)
run_consumers pkg-config "$work/pc"
# The headers came from the prefix, not from another memmon on the system.
deps=$(cc -M preload_main.c $(pkg-config --cflags memmon))
[[ $deps == *"$prefix/"*memmon/memmon_preload.h* ]] ||
  fail "memmon_preload.h not taken from $prefix: $deps"
echo "pkg-config: $(pkg-config --cflags --libs memmon-profiler)"

# The installed memmon finds the installed sampler (and its writer) by itself.
if [[ $sampler == ON ]]; then
  "$prefix/bin/memmon" run --out "$work/run" -- /bin/true 2>/dev/null
  [[ -s $work/run/heap.pb.gz && -s $work/run/samples.csv ]] ||
    fail "installed memmon run wrote: $(ls "$work/run")"
  echo "installed memmon run: heap.pb.gz written"
fi
echo "install test passed"
