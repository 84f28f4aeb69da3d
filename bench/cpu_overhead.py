#!/usr/bin/env python3
# Copyright 2026 The memmon Authors.
# SPDX-License-Identifier: Apache-2.0
"""CPU overhead of configurations of a command, with a confidence interval.

On a shared VM the CPU time of one run moves by several percent from one
run to the next, more than the effect measured. So this runs many short
rounds; in each round every configuration runs once, in an order that
alternates (ABC, CBA, ...) so that drift hits all alike. The figure is the
median over rounds of each run's CPU time (user + system, from wait4) over
the native run of the same round, with a 95 % bootstrap interval of that
median (2000 resamples, fixed seed).

  bench/cpu_overhead.py [--rounds N] [--config NAME=ENV]...
                       [--wrapper NAME=COMMAND]... [--record FILE]
                       -- COMMAND...
  bench/cpu_overhead.py --from FILE...

Each --config is a name and the environment it adds (KEY=VALUE, comma
separated; LD_PRELOAD=... for a preload); each --wrapper a name and a
command (split at spaces) put in front of COMMAND, such as heaptrack (its
CPU time includes its children). "native" (no change) is always measured.
Example, the heap sampler at its default rate on the two-thread
allocation workload, its threads pinned one to a CPU (`pin`: on a VM
whose vCPUs differ, unpinned runs mix them differently each time):

  bench/cpu_overhead.py --rounds 100 \\
      --config memmon=LD_PRELOAD=build/lib/libmemmon_preload.so \\
      -- build/bin/alloc_workload 3000000 churn 2 pin

The ratio itself moves between series run at different times (the
machine's load changes what a cache miss costs), by more than one series'
interval. --record appends every run to a CSV file (series, round, config,
CPU seconds); --from reads such files instead of running anything and
gives the same table over all their rounds, so that series taken at
different times can be pooled. Exit status: 0, 1 when the command failed,
2 for bad arguments or an unreadable file.
"""

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import time


def run(command, env, wrapper):
    command = wrapper + command
    full = dict(os.environ)
    full.update(env)
    proc = subprocess.Popen(command, env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        print(f"cpu_overhead: {' '.join(command)} failed (status {status})",
              file=sys.stderr)
        sys.exit(1)
    return usage.ru_utime + usage.ru_stime


def report(title, names, rounds):
    """rounds: list of {config: seconds}, each with a native run."""
    rng = random.Random(20261128)
    print(title)
    print(f"{'config':<12} {'median s':>9} {'overhead':>9} {'95% interval':>18}"
          f" {'rounds':>7}")
    for name in names:
        pairs = [(r[name], r["native"]) for r in rounds if name in r]
        if not pairs:
            continue
        ratios = [(t / b - 1) * 100 for t, b in pairs]
        median = statistics.median(ratios)
        boot = sorted(
            statistics.median(rng.choices(ratios, k=len(ratios)))
            for _ in range(2000))
        lo, hi = boot[49], boot[1949]
        print(f"{name:<12} {statistics.median(t for t, _ in pairs):9.3f} "
              f"{median:+8.2f}% {lo:+8.2f}% .. {hi:+.2f}% {len(pairs):7d}")


def pooled(paths):
    by_command = {}  # command -> {(series, round): {config: seconds}}
    names = ["native"]
    for path in paths:
        try:
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    rounds = by_command.setdefault(row["command"], {})
                    key = (row["series"], int(row["round"]))
                    rounds.setdefault(key, {})[row["config"]] = float(
                        row["cpu_s"])
                    if row["config"] not in names:
                        names.append(row["config"])
        except (OSError, KeyError, ValueError, csv.Error) as e:
            print(f"cpu_overhead: {path}: not a --record file ({e})",
                  file=sys.stderr)
            sys.exit(2)
    found = False
    for command, rounds in by_command.items():
        complete = [r for r in rounds.values() if "native" in r]
        if not complete:
            continue
        found = True
        series = len({s for s, _ in rounds})
        report(f"command: {command}; pooled: {len(complete)} rounds from "
               f"{series} series, CPU time (user + system)", names, complete)
    if not found:
        print("cpu_overhead: no round with a native run in "
              + ", ".join(paths), file=sys.stderr)
        sys.exit(2)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--config", action="append", default=[],
                        metavar="NAME=ENV")
    parser.add_argument("--wrapper", action="append", default=[],
                        metavar="NAME=COMMAND")
    parser.add_argument("--record", metavar="FILE",
                        help="append every run to this CSV file")
    parser.add_argument("--from", dest="sources", action="append", default=[],
                        metavar="FILE", help="pool recorded series; run nothing")
    parser.add_argument("command", nargs="*")
    args = parser.parse_args()
    if args.sources:
        if args.command or args.config or args.wrapper or args.record:
            parser.error("--from takes no command, --config, --wrapper or --record")
        return pooled(args.sources)
    if not args.command:
        parser.error("a command to measure is needed (or --from FILE)")
    if args.rounds < 2:
        parser.error("--rounds must be at least 2")
    configs = {"native": {}}
    wrappers = {}
    for spec in args.config:
        name, sep, env = spec.partition("=")
        if not sep or not name or name in configs:
            parser.error(f"bad --config {spec!r}: want NAME=KEY=VALUE[,KEY=VALUE]")
        configs[name] = {}
        for pair in env.split(","):
            key, sep, value = pair.partition("=")
            if not sep or not key:
                parser.error(f"bad --config {spec!r}: {pair!r} is not KEY=VALUE")
            configs[name][key] = value
    for spec in args.wrapper:
        name, sep, words = spec.partition("=")
        if not sep or not name or not words.split() or name in configs:
            parser.error(f"bad --wrapper {spec!r}: want NAME=COMMAND")
        configs[name] = {}
        wrappers[name] = words.split()

    record = None
    if args.record:
        try:
            new = not os.path.exists(args.record) or os.path.getsize(args.record) == 0
            record = open(args.record, "a", newline="")
        except OSError as e:
            parser.error(f"cannot write --record {args.record}: {e.strerror}")
        out = csv.writer(record)
        if new:
            out.writerow(["series", "round", "config", "cpu_s", "command"])
    series = f"{time.strftime('%Y-%m-%dT%H:%M:%S')}/{os.getpid()}"

    names = list(configs)
    rounds = []
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        times = {}
        for name in order:
            times[name] = run(args.command, configs[name],
                              wrappers.get(name, []))
        rounds.append(times)
        if record:
            for name in names:
                out.writerow([series, r, name, f"{times[name]:.6f}",
                              " ".join(args.command)])
            record.flush()

    report(f"command: {' '.join(args.command)}; {args.rounds} rounds, "
           "CPU time (user + system)", names, rounds)


if __name__ == "__main__":
    main()
