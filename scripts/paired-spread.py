#!/usr/bin/env python3
"""The per-round spread of the paired rounds, per benchmark, in the A/A runs of evaluation sets:
the robust standard deviation (1.4826 x the median absolute deviation) of the log throughput
ratio of every paired round of every run of the set's `aa` condition, side by side for the sets
given. This is the number that sets the smallest change the rounds can detect
(docs/paired-statistics.md), so it is what a noise lever (pinning, longer rounds) must lower.

    scripts/paired-spread.py SET [SET...]
    e.g. scripts/paired-spread.py 2026-12-02-suite-replicated 2026-12-02-pinned-probe

Reads docs/eval/raw/<SET>/aa/*.json (the reports scripts/eval-suite.sh keeps).
"""
import glob
import json
import math
import os
import statistics as st
import sys

RAW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "eval", "raw")


def robust_sd(xs):
    if len(xs) < 3:
        return None
    m = st.median(xs)
    return 1.4826 * st.median(abs(x - m) for x in xs)


def logs_of(set_name):
    out = {}
    # A run still in progress has an empty report: not a run yet.
    runs = [p for p in sorted(glob.glob(os.path.join(RAW, set_name, "aa", "*.json")))
            if os.path.getsize(p) > 0]
    for path in runs:
        with open(path) as fh:
            report = json.load(fh)
        for row in report.get("rows", []):
            c = row.get("confirmation")
            if row.get("metric") != "throughput" or not c:
                continue
            out.setdefault(row["benchmark"], []).extend(
                math.log(r) for r in c.get("ratios", []) if r and r > 0
            )
    return out, len(runs)


def main():
    sets = sys.argv[1:]
    if not sets:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    data = [logs_of(s) for s in sets]
    for s, (_, n) in zip(sets, data):
        print(f"{s}: {n} A/A run(s)")
    ids = sorted(set().union(*(d.keys() for d, _ in data)))
    width = max(len(i) for i in ids) if ids else 10
    print(f"\n{'benchmark':<{width}}  " + "  ".join(f"{'set ' + str(k + 1):>12}" for k in range(len(sets))))
    cols = [[] for _ in sets]
    for i in ids:
        cells = []
        for k, (d, _) in enumerate(data):
            sd = robust_sd(d.get(i, []))
            if sd is None:
                cells.append(f"{'-':>12}")
            else:
                cols[k].append(sd)
                cells.append(f"{sd:>7.3f} ({len(d[i]):>2})")
        print(f"{i:<{width}}  " + "  ".join(cells))
    print(f"\n{'median over benchmarks':<{width}}  " + "  ".join(
        f"{st.median(c):>12.3f}" if c else f"{'-':>12}" for c in cols))
    if len(sets) == 2:
        both = [i for i in ids if robust_sd(data[0][0].get(i, [])) and robust_sd(data[1][0].get(i, []))]
        ratios = [robust_sd(data[1][0][i]) / robust_sd(data[0][0][i]) for i in both]
        if ratios:
            lower = sum(r < 1 for r in ratios)
            print(f"\nset 2 / set 1 spread, median over {len(ratios)} benchmarks: {st.median(ratios):.2f} "
                  f"({lower} lower, {len(ratios) - lower} not)")


if __name__ == "__main__":
    main()
