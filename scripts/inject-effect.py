#!/usr/bin/env python3
"""What an injected slowdown really does to each benchmark: the calibration of an evaluation.

A factor F on a site (crates/perfgate-workload/src/inject.rs) stretches only the site's own
code, so a benchmark that does more than the site moves by less than F. This runs every
benchmark of the bench targets that hold a slowed benchmark, one benchmark per invocation in
the quick profile (as the paired rounds do), with and without PERFGATE_WORKLOAD_SLOWDOWN=SPEC,
the two sides in a random order per repetition, and prints per benchmark the median paired
throughput change with its distribution-free 95% interval (order statistics of the paired log
ratios). It writes them to docs/eval/raw/$EVAL_SET/calibration/SPEC.json, which the tally of
scripts/eval-suite.sh reads to say which injected benchmarks of the set's runs were slowed by
at least twice their threshold (a set is one code version: a factor means something else once
the code changes). A calibration it replaces is kept as SPEC@MEASURED_AT.json, and the tally
judges each run by the calibration measured nearest to it in time (the effect moves with the
machine: eval_sites.calibration_for), so calibrate in the session of the runs.

    EVAL_SET=SET [EVAL_PIN=N] scripts/inject-effect.py SPEC REPS [BENCH...]
    EVAL_SET=my-set EVAL_PIN=1 scripts/inject-effect.py spawn=2.5 10 spawn

EVAL_PIN=N runs every benchmark on CPU N, as `check --pin-cpu N` (and EVAL_PIN of
scripts/eval-suite.sh) runs the paired rounds. A slowdown's effect depends on it: pool-dispatch=2
was calibrated at -20% on pool/roundtrip unpinned (95% interval -64..+62%), and the pinned
checks of set 2026-12-06-k9 measured -1% to -7%. So a set is calibrated as its runs
were pinned, and the tally marks a calibration whose pinning differs from its set's.

Run it when nothing else runs: it is a measurement. It builds with `--features inject` first.
"""
import datetime
import json
import math
import os
import random
import statistics as st
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import eval_sites  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def bench_executables(benches):
    args = ["cargo", "bench", "--features", "inject", "--no-run", "--message-format=json", "--quiet"]
    for b in benches:
        args += ["--bench", b]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    exes = []
    for line in out.splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
            exes.append(m["executable"])
    return exes


def list_ids(exe):
    out = subprocess.run([exe, "--bench", "--list"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line[: -len(": benchmark")] for line in out.splitlines() if line.endswith(": benchmark")]


def escape(bench_id):
    return "".join("\\" + c if c in r"\.+*?()|[]{}^$#&-~" else c for c in bench_id)


def pin_cpu():
    """EVAL_PIN as a CPU number, or None."""
    v = os.environ.get("EVAL_PIN", "")
    if not v:
        return None
    if not v.isdigit() or int(v) not in os.sched_getaffinity(0):
        sys.exit(f"inject-effect: EVAL_PIN={v!r} is not one of this process's CPUs {sorted(os.sched_getaffinity(0))}")
    return int(v)


def one(exe, bench_id, home, spec):
    """The median per-iteration time of one invocation of one benchmark."""
    env = dict(os.environ, PERFGATE_PROFILE="quick", CRITERION_HOME=home, PERFGATE_LATENCY_DIR=home + "/latency")
    env.pop("PERFGATE_WORKLOAD_SLOWDOWN", None)
    if spec:
        env["PERFGATE_WORKLOAD_SLOWDOWN"] = spec
    subprocess.run([exe, "--bench", "--noplot", "--nresamples", "1000", f"^(?:{escape(bench_id)})$"],
                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    for dirpath, _, files in os.walk(home):
        if "benchmark.json" in files and os.path.basename(dirpath) == "new":
            with open(os.path.join(dirpath, "benchmark.json")) as fh:
                if json.load(fh).get("full_id") != bench_id:
                    continue
            with open(os.path.join(dirpath, "sample.json")) as fh:
                s = json.load(fh)
            return st.median([t / i for t, i in zip(s["times"], s["iters"])])
    sys.exit(f"inject-effect: no criterion output for {bench_id} from {exe}")


def median_interval(xs):
    """The median and a distribution-free interval of at least 95% for it (order statistics)."""
    xs = sorted(xs)
    n = len(xs)
    # The largest k with P(Binomial(n, 1/2) < k) <= 2.5%: [x_(k), x_(n+1-k)] covers >= 95%.
    k, cum = 0, 0.0
    while True:
        p = math.comb(n, k) / 2**n
        if cum + p > 0.025:
            break
        cum += p
        k += 1
    lo, hi = (xs[k - 1], xs[n - k]) if k >= 1 else (xs[0], xs[-1])
    return st.median(xs), lo, hi


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    spec, reps, benches = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    set_name = os.environ.get("EVAL_SET")
    if not set_name:
        sys.exit("inject-effect: set EVAL_SET to the set whose runs this calibrates")
    pin = pin_cpu()
    sites = eval_sites.sites(spec)
    if not sites or any(s not in eval_sites.EXPECTED for s in sites):
        sys.exit(f"inject-effect: {spec!r} names no known site ({', '.join(eval_sites.EXPECTED)})")
    plan = []
    for exe in bench_executables(benches):
        ids = list_ids(exe)
        if any(eval_sites.injected(s, i) for s in sites for i in ids):
            plan += [(exe, i) for i in ids]
    if not plan:
        sys.exit(f"inject-effect: no benchmark of {benches or 'the suite'} is slowed by {spec}")
    # Pinned after the build, which wants both CPUs: every bench process inherits the affinity,
    # as `check --pin-cpu` pins the thread that starts the rounds' processes.
    if pin is not None:
        os.sched_setaffinity(0, {pin})
    rng = random.Random(1)
    ratios = {i: [] for _, i in plan}
    started = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory() as home:
        for rep in range(reps):
            for exe, bench_id in plan:
                sides = [None, spec]
                rng.shuffle(sides)
                t = {s: one(exe, bench_id, home, s) for s in sides}
                ratios[bench_id].append(math.log(t[spec] / t[None]))
            print(f"repetition {rep + 1} of {reps} done", file=sys.stderr)
    out = {"spec": spec, "repetitions": reps, "pin_cpu": pin, "measured_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
           "benchmarks": {}}
    print(f"{'benchmark':44} {'injected':8} {'throughput change':>17} {'95% interval':>18}")
    for _, bench_id in plan:
        m, lo, hi = median_interval(ratios[bench_id])
        change, c_lo, c_hi = math.exp(-m) - 1, math.exp(-hi) - 1, math.exp(-lo) - 1
        inj = any(eval_sites.injected(s, bench_id) for s in sites)
        out["benchmarks"][bench_id] = {"injected": inj, "throughput_change": round(change, 4),
                                       "ci_low": round(c_lo, 4), "ci_high": round(c_hi, 4),
                                       "log_ratios": [round(x, 5) for x in ratios[bench_id]]}
        print(f"{bench_id:44} {'yes' if inj else 'no':8} {100 * change:+16.1f}% {100 * c_lo:+8.1f}..{100 * c_hi:+.1f}%")
    set_dir = os.path.join(eval_sites.RAW, set_name)
    path = eval_sites.calibration_path(set_dir, spec)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # The one it replaces stays, as SPEC@MEASURED_AT.json: the tally judges each run by the
    # calibration measured nearest to it, since the effect moves with the machine.
    if os.path.exists(path):
        with open(path) as fh:
            old = json.load(fh)
        os.replace(path, eval_sites.kept_path(set_dir, spec, old["measured_at"]))
    with open(path + ".tmp", "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    os.replace(path + ".tmp", path)
    print(f"written {os.path.relpath(path, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
