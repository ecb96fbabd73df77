#!/usr/bin/env python3
"""Does anything but the code differ between the two sides of an A/B? Runs one criterion
benchmark per invocation (as the paired rounds do) under several setups, in a random order
per repetition, and prints per setup the median and spread of the log per-invocation median
time, relative to all setups' median.

    scripts/side-effects.py MODE EXE IDS SETUPS REPS

MODE and SETUPS (comma-separated):
  exe   SETUPS are executables (same content in different files, say): name=PATH,...
  env   SETUPS are lengths of a padding environment variable (moves the initial stack)
  home  SETUPS are extra lengths of the CRITERION_HOME path (moves heap allocations)
  pin   SETUPS are CPU lists for taskset, or "none"

    cargo bench --bench pipe --no-run
    scripts/side-effects.py env target/release/deps/pipe-HASH pipe/copy/64KiB 0,16,32,48 20

Run it when nothing else runs: it is a measurement.
"""
import glob
import json
import math
import os
import random
import statistics as st
import subprocess
import sys
import tempfile


def run(exe, bench_id, home, mode, setup):
    env = dict(os.environ, PERFGATE_PROFILE="quick")
    h = home + "/h"
    pre = []
    if mode == "env":
        env["PERFGATE_PAD"] = "x" * int(setup)
    elif mode == "home":
        h += "x" * int(setup)
    elif mode == "pin" and setup != "none":
        pre = ["taskset", "-c", setup]
    env["CRITERION_HOME"] = h
    env["PERFGATE_LATENCY_DIR"] = h + "/latency"
    subprocess.run(pre + [exe, "--bench", "--noplot", "--nresamples", "1000", f"^{bench_id}$"],
                   env=env, cwd=os.path.dirname(exe) or ".", stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    for f in glob.glob(f"{h}/**/new/benchmark.json", recursive=True):
        with open(f) as fh:
            if json.load(fh).get("full_id") == bench_id:
                with open(f.replace("benchmark.json", "sample.json")) as s:
                    s = json.load(s)
                return st.median([t / i for t, i in zip(s["times"], s["iters"])])
    sys.exit(f"no criterion output for {bench_id}")


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    mode, exe, ids, setups, reps = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(","), int(sys.argv[5])
    exes = {}
    if mode == "exe":
        exes = dict(s.split("=", 1) for s in setups)
        setups = list(exes)
    random.seed(1)
    res = {}
    with tempfile.TemporaryDirectory() as home:
        for _ in range(reps):
            for bench_id in ids:
                order = list(setups)
                random.shuffle(order)
                for s in order:
                    path = exes.get(s, exe)
                    res.setdefault((bench_id, s), []).append(math.log(run(path, bench_id, home, mode, s)))
    for bench_id in ids:
        g = st.median([v for s in setups for v in res[(bench_id, s)]])
        print(bench_id)
        for s in setups:
            v = res[(bench_id, s)]
            m = st.median(v)
            rsd = 1.4826 * st.median([abs(x - m) for x in v])
            print(f"  {mode} {s:>12}: median {100 * (math.exp(m - g) - 1):+6.1f}%  robust sd {rsd:.3f}  sd {st.stdev(v):.3f}  n {len(v)}")


if __name__ == "__main__":
    main()
