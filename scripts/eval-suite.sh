#!/usr/bin/env bash
# The gate's false-alarm and detection rates on the real flagship suite: N runs of
# `perfgate check --ab HEAD` per condition, the current side with a known slowdown injected into
# the real code paths (crates/perfgate-workload/src/inject.rs), the baseline side unchanged, both
# built from the same commit with `--features inject`. Conditions:
#
#   aa                  no slowdown: every failed run is a false alarm
#   spawn=F             every spawn F times as long     (expected: spawn/* fail, raw floors not)
#   pipe-copy=F         the pipe copy path's writes and reads F times as long (pipe/copy/* fail)
#   pool-dispatch=F     queueing a pool task F times as long (pool/* fail)
#   pool-answer=F       a pool worker's answering F times as long (pool/roundtrip fails; the
#                       pipelined ones barely move: calibrate with scripts/inject-effect.py)
#
#   scripts/eval-suite.sh N CONDITION... [-- perfgate check arguments [-- cargo bench arguments]]
#   e.g. EVAL_SET=my-set scripts/eval-suite.sh 10 aa spawn=1.35 pipe-copy=1.3 pool-dispatch=1.3
#        EVAL_SET=spawn-only scripts/eval-suite.sh 3 aa spawn=1.35 -- --confirm-budget 300 -- --bench spawn
#
# Each run's JSON report, log and wall time (seconds) go to
# docs/eval/raw/<set>/<condition>/<UTC time>.{json,log,time}, so later sessions add runs instead
# of starting over; <set> is $EVAL_SET (default "default"): one name per code version and
# settings, so that runs of different gates are never tallied together. The tally reads every
# run ever kept there, one table per set:
#
#   scripts/eval-suite.sh tally
#
# Run it when nothing else runs on the machine (and say so, or say what load you added).
# EVAL_NEIGHBOUR=cpu adds a documented noisy neighbour, one busy thread, for the whole series.
# EVAL_PIN=N runs the paired rounds on CPU N (`check --pin-cpu N`).
#
# EVAL_BASELINE=FILE judges every run against that stored baseline (`check --baseline FILE`, with
# `ab = "auto"`: the A/B against the baseline's commit when the stored numbers are not comparable)
# instead of `--ab HEAD`; the set keeps a copy as baseline.json. A baseline measured under other
# load than the check, the condition of a stored baseline from a faster or slower machine:
#
#   EVAL_NEIGHBOUR=cpu scripts/eval-suite.sh baseline /tmp/slow.json 2    # 2 runs, one busy thread
#   EVAL_SET=stored-slower EVAL_BASELINE=/tmp/slow.json EVAL_PIN=1 scripts/eval-suite.sh 2 spawn=2
#
# EVAL_SLOW=F runs perfgate (the baseline refresh, or each check) in a cgroup whose CPU quota is
# F of one CPU: 1 ms of CPU time per 1/F ms (the kernel's smallest quota is 1 ms; F in
# [0.05, 1); root and the cgroup v1 or v2 cpu controller), a machine about 1/F times slower
# for single-threaded work. A busy neighbour does not make one (busy CPUs make two-thread
# benchmarks faster, not slower); a quota does, and reads as a one-core machine:
#
#   EVAL_SLOW=0.8 scripts/eval-suite.sh baseline /tmp/slow.json 2      # from a 25% slower machine
#   EVAL_SET=quota-slower EVAL_BASELINE=/tmp/slow.json EVAL_PIN=1 scripts/eval-suite.sh 2 spawn=2
#
# The baseline subcommand writes how it measured beside FILE (FILE.load); the set keeps it as
# baseline-load and the tally prints it. A set checked under EVAL_SLOW records it in its slow file.
#
# Any other crate with criterion benches: EVAL_CRATE=DIR EVAL_VAR=NAME, where the crate's benches
# read the environment variable NAME as their slowdown; each condition other than aa is then a
# value of NAME for the current side, every benchmark counts as injected, and the arguments
# after the second -- go to cargo bench (no --features inject). For the fixture crate, whose
# checksum runs 20 x CRITBENCH_SLOWDOWN passes:
#
#   EVAL_SET=fixture EVAL_CRATE=tests/fixtures/critbench EVAL_VAR=CRITBENCH_SLOWDOWN \
#       scripts/eval-suite.sh 10 aa 1.15 -- -- --features c08
# The calibration of a slowdown (which benchmarks it slows by how much, and so which count as
# slowed by at least twice their threshold in the tally) is scripts/inject-effect.py, pinned as
# the set's runs are (EVAL_PIN): the tally marks a calibration pinned otherwise, and lists the
# injected benchmarks named in fewer than 90% of their runs, with their calibrated change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
raw=docs/eval/raw

tally() {
    python3 - "$raw" scripts <<'PY'
import json, math, os, sys
from collections import defaultdict

def wilson(k, n, z=1.96):
    if n == 0:
        return "-"
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return f"{k} of {n} ({100*p:.1f}%, 95% CI {100*max(0,c-h):.1f}-{100*min(1,c+h):.1f}%)"

sys.path.insert(0, sys.argv[2])
from eval_sites import calibration_for, calibrations, injected as is_injected, is_floor, pin_mismatch, sites

def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

def table(root):
    print("| condition | runs failed | first comparison alone failed | injected benchmarks named | of them slowed by >= 2x threshold (calibrated) | gated comparisons flagged (non-injected) | raw floors flagged | median rounds | median MDE (undecided) | median MDE / threshold | median time | of it building | runs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    # The target is per benchmark (each injected benchmark named in at least 90% of runs), which
    # the pooled counts of the table can hide: the benchmarks below it, said after the table.
    below = []
    for cond in sorted(d for d in os.listdir(root)
                       if os.path.isdir(os.path.join(root, d)) and d != "calibration"):
        # An empty report is a run still going (or killed): not a run yet.
        runs = sorted(f for f in os.listdir(os.path.join(root, cond))
                      if f.endswith(".json") and os.path.getsize(os.path.join(root, cond, f)) > 0)
        failed = first_failed = flagged = gated = floors_flagged = floors = 0
        # Per injected benchmark: named, runs, and the same over the runs whose calibration
        # slows it by at least twice its threshold (the table's pooled counts are their sums);
        # and its calibrated changes.
        per_bench = defaultdict(lambda: [0, 0, 0, 0])
        per_bench_cal = defaultdict(set)
        rounds, mdes, mde_ratios, times, builds = [], [], [], [], []
        slowed = sites(cond)
        # Another crate (EVAL_CRATE): its slowdown applies to every benchmark.
        whole = os.path.exists(os.path.join(root, "crate")) and cond != "aa"
        def slowed_here(b):
            return whole or any(is_injected(s, b) for s in slowed)
        # The measured effects of this slowdown per benchmark (scripts/inject-effect.py); each
        # run is judged by the one measured nearest to it in time.
        cals = calibrations(root, cond)
        used = {}
        for f in runs:
            cal = calibration_for(cals, f)
            if cal is not None:
                used[cal["measured_at"]] = cal
            with open(os.path.join(root, cond, f)) as fh:
                r = json.load(fh)
            failed += r["verdict"] == "fail"
            if r.get("ab"):
                rounds.append(r["ab"]["rounds"])
                if r["ab"].get("build_seconds") is not None:
                    builds.append(r["ab"]["build_seconds"])
            t = os.path.join(root, cond, f[:-5] + ".time")
            if os.path.exists(t):
                with open(t) as fh:
                    times.append(int(fh.read().strip()))
            by_bench = defaultdict(bool)
            twice = set()
            first_fail = False
            for row in r["rows"]:
                if row["metric"] is None or not row["gated"]:
                    continue
                c = row.get("confirmation") or {}
                first = c.get("first_verdict", row["verdict"])
                first_fail |= first == "regressed"
                if row["verdict"] == "inconclusive" and row.get("mde") is not None:
                    mdes.append(row["mde"])
                    if row.get("threshold"):
                        mde_ratios.append(row["mde"] / abs(row["threshold"]))
                b = row["benchmark"]
                hit = slowed_here(b)
                by_bench[b] |= row["fails"]
                if hit and cal and row["metric"] == "throughput" and b in cal["benchmarks"]:
                    if cal["benchmarks"][b]["throughput_change"] <= 2 * row["configured_threshold"]:
                        twice.add(b)
                if not hit:
                    gated += 1
                    flagged += row["fails"]
                if is_floor(b):
                    floors += 1
                    floors_flagged += row["fails"]
            first_failed += first_fail
            for b, fails in by_bench.items():
                if slowed_here(b):
                    per_bench[b][0] += fails
                    per_bench[b][1] += 1
                    if cal and b in cal["benchmarks"]:
                        per_bench_cal[b].add(cal["benchmarks"][b]["throughput_change"])
                    if b in twice:
                        per_bench[b][2] += fails
                        per_bench[b][3] += 1
        m = median(mdes)
        mt = median(times)
        named, injected, named2, injected2 = (sum(c[i] for c in per_bench.values()) for i in range(4))
        cal_col = wilson(named2, injected2) if cals else "not calibrated"
        # A calibration pinned otherwise than the runs measured another effect: said, not hidden.
        off = sorted({m for m in (pin_mismatch(root, c) for c in used.values()) if m})
        if off:
            cal_col += f" ({'; '.join(off)})"
        print(f"| {cond} | {wilson(failed, len(runs))} | {first_failed} of {len(runs)} | {wilson(named, injected)} | {cal_col} | "
              f"{wilson(flagged, gated)} | {wilson(floors_flagged, floors)} | {median(rounds) if rounds else '-'} | "
              f"{'-' if m is None else f'{100*m:.0f}%'} | {'-' if not mde_ratios else f'{median(mde_ratios):.1f}x'} | {'-' if mt is None else f'{int(mt)//60}:{int(mt)%60:02d}'} | {'-' if not builds else f'{median(builds):.0f} s'} | {len(runs)} |")
        if len(used) > 1:
            below.append(f"{cond}: each run judged by the nearest of {len(used)} calibrations, measured "
                         + ", ".join(sorted(used)))
        for b, (k, n, k2, n2) in sorted(per_bench.items()):
            if k >= 0.9 * n and (n2 == 0 or k2 >= 0.9 * n2):
                continue
            changes = sorted(per_bench_cal[b])
            how = ("not calibrated" if not changes else "calibrated "
                   + " and ".join(f"{100 * c:+.1f}%" for c in changes))
            twice_note = (f"; slowed by at least twice its threshold in {n2} of them, named in {k2}"
                          if n2 else "; never slowed by twice its threshold by its calibration")
            below.append(f"{cond}: `{b}` named in {k} of {n} runs ({how}{twice_note})")
    if below:
        print("\nInjected benchmarks named in fewer than 90% of their runs, and the calibrations:\n")
        for line in below:
            print(f"- {line}")

root = sys.argv[1]
if not os.path.isdir(root):
    print("no runs kept yet under", root)
    sys.exit(0)
for s in sorted(os.listdir(root)):
    print(f"\n### {s}\n")
    marker = os.path.join(root, s, "crate")
    if os.path.exists(marker):
        with open(marker) as fh:
            print(f"Crate and slowdown variable: {fh.read().strip()} (every benchmark injected)\n")
    stored = os.path.join(root, s, "baseline.json")
    if os.path.exists(stored):
        with open(stored) as fh:
            b = json.load(fh)
        print(f"Against a stored baseline (baseline.json, made {b.get('created_at', '?')} at commit {str(b.get('git', {}).get('commit', '?'))[:12]}), not `--ab HEAD`\n")
    # The conditions a set was measured under, one line each, as its files record them.
    for name, label in [("baseline-load", "Stored baseline measured"), ("slow", "Checks run"),
                        ("load", "Load"), ("pin", "Pinned")]:
        path = os.path.join(root, s, name)
        if os.path.exists(path):
            with open(path) as fh:
                print(f"{label}: {fh.read().strip()}\n")
    table(os.path.join(root, s))
PY
}

if [ "${1:-}" = tally ]; then
    tally
    exit 0
fi

# EVAL_SLOW=F: a cgroup with a CPU quota of F of one CPU (1 ms per 1/F ms), for `throttled`. The
# series itself (builds, the tally) is not in it, only the perfgate runs it measures.
cgroup=
start_quota() {
    [ -n "${EVAL_SLOW:-}" ] || return 0
    # The shortest period that holds the smallest quota the kernel takes (1 ms), so that a
    # stall lasts at most 1/F - 1 ms (0.25 ms at 0.8) and a sample of a few milliseconds sees
    # about the average slowdown, not a whole stall or none.
    local period
    period=$(python3 -c 'import sys; f = float(sys.argv[1]); assert 0.05 <= f < 1; print(round(1000 / f))' "$EVAL_SLOW" 2>/dev/null) || {
        echo "eval-suite: EVAL_SLOW must be a fraction of one CPU in [0.05, 1), such as 0.8, not $EVAL_SLOW" >&2
        exit 2
    }
    if [ -e /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
        cgroup=/sys/fs/cgroup/perfgate-eval-$$
        mkdir "$cgroup" && echo "1000 $period" >"$cgroup/cpu.max"
    elif [ -d /sys/fs/cgroup/cpu ]; then
        cgroup=/sys/fs/cgroup/cpu/perfgate-eval-$$
        mkdir "$cgroup" && echo "$period" >"$cgroup/cpu.cfs_period_us" && echo 1000 >"$cgroup/cpu.cfs_quota_us"
    else
        echo "eval-suite: EVAL_SLOW needs the cgroup cpu controller (v2 at /sys/fs/cgroup or v1 at /sys/fs/cgroup/cpu)" >&2
        exit 2
    fi || { echo "eval-suite: could not make the cgroup $cgroup (EVAL_SLOW needs root)" >&2; exit 2; }
}

# Runs its arguments in the quota's cgroup, or as they are without EVAL_SLOW.
throttled() {
    if [ -n "$cgroup" ]; then
        (echo "$BASHPID" >"$cgroup/cgroup.procs" && exec "$@")
    else
        "$@"
    fi
}

stop_all() {
    if [ -n "${neighbour:-}" ]; then kill "$neighbour" 2>/dev/null || true; fi
    # Empty by now: every process run in it has ended.
    if [ -n "$cgroup" ]; then rmdir "$cgroup" 2>/dev/null || true; fi
}
trap stop_all EXIT

# EVAL_NEIGHBOUR as below, for a stored baseline measured under load.
start_neighbour() {
    case "${EVAL_NEIGHBOUR:-}" in
        "") ;;
        cpu)
            python3 -c 'while True: pass' &
            neighbour=$!
            ;;
        *) echo "eval-suite: EVAL_NEIGHBOUR must be empty or cpu" >&2; exit 2 ;;
    esac
}

# The words a set's files record for each load (the sets kept so far hold exactly these).
neighbour_words() {
    if [ -n "${neighbour:-}" ]; then echo "one busy thread (EVAL_NEIGHBOUR=cpu: python3 -c 'while True: pass')"; fi
}
quota_words() {
    if [ -n "$cgroup" ]; then echo "in a cgroup with a CPU quota of $EVAL_SLOW of one CPU (EVAL_SLOW=$EVAL_SLOW)"; fi
}

if [ "${1:-}" = baseline ]; then
    out=${2:?usage: scripts/eval-suite.sh baseline FILE [RUNS]}
    runs=${3:-2}
    cargo build --release --quiet
    neighbour=
    start_neighbour
    start_quota
    tmp=$(mktemp -d)
    throttled target/release/perfgate baseline refresh --runs "$runs" --dir "$tmp" --allow-dirty -- --features inject
    mv "$tmp"/*.json "$out"
    rmdir "$tmp"
    busy=$(neighbour_words)
    quota=$(quota_words)
    how="${busy:+beside $busy}${busy:+${quota:+ and }}$quota"
    echo "$runs run(s) of baseline refresh, ${how:-on the quiet machine}" >"$out.load"
    echo "eval-suite: stored baseline: $(cat "$out.load") -> $out"
    exit 0
fi

n=${1:?usage: scripts/eval-suite.sh N CONDITION... [-- perfgate check args] | tally}
shift
conditions=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    conditions+=("$1")
    shift
done
[ "${1:-}" = -- ] && shift
check_args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    check_args+=("$1")
    shift
done
[ "${1:-}" = -- ] && shift
bench_args=("$@")
[ "${#conditions[@]}" -gt 0 ] || { echo "eval-suite: name at least one condition" >&2; exit 2; }

set=${EVAL_SET:-default}
cargo build --release --quiet
bin=$PWD/target/release/perfgate
mkdir -p "$raw/$set"
crate_dir=.
var=PERFGATE_WORKLOAD_SLOWDOWN
feature_args=(--features inject)
if [ -n "${EVAL_CRATE:-}" ]; then
    [ -n "${EVAL_VAR:-}" ] || { echo "eval-suite: EVAL_CRATE needs EVAL_VAR, the variable its benches read as their slowdown" >&2; exit 2; }
    crate_dir=$(cd "$EVAL_CRATE" && pwd)
    var=$EVAL_VAR
    feature_args=()
    # The tally reads it: every benchmark of such a crate is injected.
    echo "$EVAL_CRATE $EVAL_VAR" >"$raw/$set/crate"
elif [ -e "$raw/$set/crate" ]; then
    echo "eval-suite: set $set is of another crate ($(cat "$raw/$set/crate")); set EVAL_CRATE and EVAL_VAR" >&2
    exit 2
fi
raw_abs=$PWD/$raw
source_args=(--ab HEAD)
if [ -n "${EVAL_BASELINE:-}" ]; then
    # The set's own copy may be given back as EVAL_BASELINE, so copy only what it lacks.
    if [ ! -e "$raw/$set/baseline.json" ]; then
        cp "$EVAL_BASELINE" "$raw/$set/baseline.json"
        if [ -e "$EVAL_BASELINE.load" ]; then cp "$EVAL_BASELINE.load" "$raw/$set/baseline-load"; fi
    elif ! cmp -s "$EVAL_BASELINE" "$raw/$set/baseline.json"; then
        echo "eval-suite: set $set was measured against another stored baseline ($raw/$set/baseline.json)" >&2
        exit 2
    fi
    source_args=(--baseline "$raw_abs/$set/baseline.json")
elif [ -e "$raw/$set/baseline.json" ]; then
    echo "eval-suite: set $set was measured against a stored baseline; set EVAL_BASELINE=$raw/$set/baseline.json" >&2
    exit 2
fi
# A condition of the whole series, recorded in the set's file NAME as WORDS (empty: none), so
# that runs under other conditions are never tallied together: a series whose words differ
# from the file's is refused, and so is a condition new to a set that already has runs.
set_condition() {
    local name=$1 words=$2 file="$raw/$set/$1"
    if [ -e "$file" ]; then
        if [ "$(cat "$file")" != "$words" ]; then
            echo "eval-suite: set $set was measured with $name \"$(cat "$file")\", this series with \"${words:-nothing}\"; repeat the set's settings or name a new set" >&2
            exit 2
        fi
    elif [ -n "$words" ]; then
        if find "$raw/$set" -mindepth 1 -maxdepth 1 -type d ! -name calibration | grep -q .; then
            echo "eval-suite: set $set has runs without $name \"$words\"; name a new set" >&2
            exit 2
        fi
        echo "$words" >"$file"
    fi
}
# EVAL_NEIGHBOUR=cpu: a noisy neighbour for the whole series, one busy thread (a core's worth of
# work that the scheduler moves between the two cores), started here and stopped on exit.
neighbour=
start_neighbour
set_condition load "$(neighbour_words)"
# EVAL_PIN=N: the rounds on CPU N (`check --pin-cpu N`).
if [ -n "${EVAL_PIN:-}" ]; then check_args+=(--pin-cpu "$EVAL_PIN"); fi
set_condition pin "${EVAL_PIN:+check --pin-cpu $EVAL_PIN}"
# EVAL_SLOW=F: every check in the quota's cgroup.
start_quota
set_condition slow "$(quota_words)"
for i in $(seq 1 "$n"); do
    for cond in "${conditions[@]}"; do
        dir="$raw_abs/$set/$cond"
        mkdir -p "$dir"
        stamp=$(date -u +%Y%m%dT%H%M%SZ)
        env_args=()
        [ "$cond" = aa ] || env_args=(--current-env "$var=$cond")
        start=$(date +%s)
        rc=0
        (cd "$crate_dir" && throttled "$bin" check "${source_args[@]}" --format json "${env_args[@]}" "${check_args[@]}" -- "${feature_args[@]}" "${bench_args[@]}") \
            >"$dir/$stamp.json" 2>"$dir/$stamp.log" || rc=$?
        secs=$(($(date +%s) - start))
        echo "$secs" >"$dir/$stamp.time"
        if [ "$rc" -ge 2 ]; then
            echo "run $i, $cond: perfgate check exited $rc; see $dir/$stamp.log" >&2
            exit 2
        fi
        headline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["headline"])' "$dir/$stamp.json")
        printf 'run %d, %s: exit %d in %d:%02d; %s\n' "$i" "$cond" "$rc" $((secs / 60)) $((secs % 60)) "$headline"
    done
done
echo
tally
