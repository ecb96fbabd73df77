#!/usr/bin/env python3
"""How much one criterion invocation of one benchmark varies, and what it costs.

Runs a bench executable REPS times per benchmark id and profile, one id per invocation (the
way confirmation rounds invoke it), and prints per id: the standard deviation of the log of
the per-invocation median per-iteration time (plain and robust, 1.4826 x MAD), the same for
the mean, the wall time of one invocation, and the spread within one invocation: the robust
standard deviation of the log per-iteration times of its samples, and the spread of the median
that this alone predicts (1.2533 x that / sqrt(samples)). When the prediction is close to the
observed spread of the median, the noise is in the samples and more samples per invocation
would narrow it; when it is well below, the noise is between invocations.

    scripts/invocation-noise.py target/release/deps/spawn-HASH \
        spawn/clone_vfork/static,spawn/raw_vfork/static quick,default 10

Run it when nothing else runs: it is a measurement.
"""
import glob
import json
import math
import os
import statistics as st
import subprocess
import sys
import tempfile
import time


def rsd(logs):
    m = st.median(logs)
    return 1.4826 * st.median([abs(v - m) for v in logs])


def sample(home, bench_id):
    for f in glob.glob(f"{home}/**/new/benchmark.json", recursive=True):
        with open(f) as fh:
            if json.load(fh).get("full_id") == bench_id:
                with open(f.replace("benchmark.json", "sample.json")) as s:
                    return json.load(s)
    sys.exit(f"no criterion output for {bench_id} under {home}")


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    exe, ids, profiles, reps = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), int(sys.argv[4])
    res = {}
    with tempfile.TemporaryDirectory() as home:
        for _ in range(reps):
            for prof in profiles:
                for bench_id in ids:
                    env = dict(os.environ, CRITERION_HOME=home, PERFGATE_PROFILE=prof,
                               PERFGATE_LATENCY_DIR=home)
                    start = time.time()
                    subprocess.run([exe, "--bench", "--noplot", "--nresamples", "1000", f"^{bench_id}$"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                    took = time.time() - start
                    s = sample(home, bench_id)
                    per = [t / i for t, i in zip(s["times"], s["iters"])]
                    within = rsd([math.log(x) for x in per])
                    res.setdefault((prof, bench_id), []).append((took, st.median(per), sum(per) / len(per), within, len(per)))
    print(f"{'profile':8} {'benchmark':40} {'sd(ln median)':>13} {'rsd':>6} {'sd(ln mean)':>11} {'rsd':>6} {'s/inv':>6} {'within':>6} {'predicted':>9}")
    for (prof, bench_id), v in sorted(res.items()):
        med = [math.log(a[1]) for a in v]
        mean = [math.log(a[2]) for a in v]
        within = st.median([a[3] for a in v])
        predicted = 1.2533 * within / math.sqrt(st.median([a[4] for a in v]))
        print(f"{prof:8} {bench_id:40} {st.stdev(med):13.3f} {rsd(med):6.3f} {st.stdev(mean):11.3f} "
              f"{rsd(mean):6.3f} {st.median([a[0] for a in v]):6.2f} {within:6.3f} {predicted:9.3f}")


if __name__ == "__main__":
    main()
