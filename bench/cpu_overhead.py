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
                       [--wrapper NAME=COMMAND]... -- COMMAND...

Each --config is a name and the environment it adds (KEY=VALUE, comma
separated; LD_PRELOAD=... for a preload); each --wrapper a name and a
command (split at spaces) put in front of COMMAND, such as heaptrack (its
CPU time includes its children). "native" (no change) is always measured. Example, the heap sampler at its default rate on the two-thread
allocation workload:

  bench/cpu_overhead.py --rounds 100 \\
      --config memmon=LD_PRELOAD=build/lib/libmemmon_preload.so \\
      -- build/bin/alloc_workload 600000 churn
"""

import argparse
import os
import random
import statistics
import subprocess
import sys


def run(command, env, wrapper):
    command = wrapper + command
    full = dict(os.environ)
    full.update(env)
    proc = subprocess.Popen(command, env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"cpu_overhead: {' '.join(command)} failed (status {status})")
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--config", action="append", default=[],
                        metavar="NAME=ENV")
    parser.add_argument("--wrapper", action="append", default=[],
                        metavar="NAME=COMMAND")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
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

    names = list(configs)
    times = {name: [] for name in names}
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(
                run(args.command, configs[name], wrappers.get(name, [])))

    rng = random.Random(20261128)
    print(f"command: {' '.join(args.command)}; {args.rounds} rounds, "
          "CPU time (user + system)")
    print(f"{'config':<12} {'median s':>9} {'overhead':>9} {'95% interval':>18}")
    for name in names:
        ratios = [(t / b - 1) * 100 for t, b in zip(times[name], times["native"])]
        median = statistics.median(ratios)
        boot = sorted(
            statistics.median(rng.choices(ratios, k=len(ratios)))
            for _ in range(2000))
        lo, hi = boot[49], boot[1949]
        print(f"{name:<12} {statistics.median(times[name]):9.3f} "
              f"{median:+8.2f}% {lo:+8.2f}% .. {hi:+.2f}%")


if __name__ == "__main__":
    main()
