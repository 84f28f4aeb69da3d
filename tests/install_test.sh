#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds examples/consumer
# against it twice: through find_package(memmon) and through pkg-config.
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null

cmake -S "$src/examples/consumer" -B "$work/cmake-build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
out=$("$work/cmake-build/consumer")
echo "find_package consumer: $out"
[[ $out == allocator=* ]]

out=$("$work/cmake-build/profiler_consumer" "$work/profiles")
echo "find_package profiler consumer: $out"
[[ $out == "thread profile: written" && -s $work/profiles/threads.pb.gz ]]

pc_dir=$(dirname "$(find "$work/prefix" -name memmon.pc)")
flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs --static memmon)
g++ -std=c++20 "$src/examples/consumer/main.cc" -o "$work/pc-consumer" $flags
out=$("$work/pc-consumer")
echo "pkg-config consumer: $out"
[[ $out == allocator=* ]]

# The installed memmon finds the installed sampler (and its writer) by itself.
"$work/prefix/bin/memmon" run --out "$work/run" -- /bin/true 2>/dev/null
[[ -s $work/run/heap.pb.gz && -s $work/run/samples.csv ]] ||
  { echo "installed memmon run wrote: $(ls "$work/run")"; exit 1; }
echo "installed memmon run: heap.pb.gz written"

flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags --libs --static memmon-profiler)
g++ -std=c++20 "$src/examples/consumer/profiler_main.cc" -o "$work/pc-profiler" $flags
rm -rf "$work/profiles"
out=$("$work/pc-profiler" "$work/profiles")
echo "pkg-config profiler consumer: $out"
[[ $out == "thread profile: written" ]]

# Only the public headers are installed.
[[ -f $work/prefix/include/memmon/memmon.h && -f $work/prefix/include/memmon/version.h ]]
! find "$work/prefix/include" -name 'procfs.h' | grep -q .
echo "install test passed"
