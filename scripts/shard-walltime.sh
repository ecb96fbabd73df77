#!/usr/bin/env bash
# Wall time of the flagship suite's `perfgate check --ab HEAD`: the whole suite on one runner,
# against the suite split in two shards (`--shard 1/2`, `--shard 2/2`) run at the same time, then
# `perfgate merge`. Each pair of runs is measured back to back, so their ratio is one machine's.
#
#   scripts/shard-walltime.sh [N]           N pairs (default 1), then the tally
#   scripts/shard-walltime.sh tally         the table of every pair kept
#
# On this 2-core machine the two shards share its two cores, as two runners would not: this shows
# the mechanics (placement, two same-machine A/Bs, the merge, and what the budget does), not
# the speed-up of N real runners. The second "runner" has its own target directory (a copy of
# the first's, made fresh before each pair with both builds readied untimed by --prepare-only),
# so the shards share no file but the sources. Run it when nothing else runs on the machine.
#
# Raw output: docs/eval/shard-walltime/<UTC time>/{whole,shard-1-of-2,shard-2-of-2,merged}.json,
# the logs, and times (seconds): whole, shard-1-of-2, shard-2-of-2, two (the wall time of both
# shards and the merge). Beside docs/eval/raw/, not in it: these are not runs of an eval set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=docs/eval/shard-walltime

tally() {
    python3 - "$root" <<'PY'
import json, os, statistics, sys

root = sys.argv[1]
if not os.path.isdir(root):
    print("no pairs kept yet under", root)
    sys.exit(0)

def load(d, name):
    p = os.path.join(d, name + ".json")
    if not os.path.exists(p) or os.path.getsize(p) == 0:
        return None
    with open(p) as fh:
        return json.load(fh)

def rows(r):
    return [x for x in r["rows"] if x.get("metric") and x.get("gated")]

def rounds(r):
    xs = [x["confirmation"]["rounds"] for x in rows(r) if x.get("confirmation")]
    return statistics.median(xs) if xs else None

def mde_ratio(r):
    xs = [x["mde"] / abs(x["threshold"]) for x in rows(r)
          if x["verdict"] == "inconclusive" and x.get("mde") is not None and x.get("threshold")]
    return statistics.median(xs) if xs else None

def undecided(r):
    return sum(x["verdict"] == "inconclusive" for x in rows(r))

def clock(s):
    return f"{s // 60}:{s % 60:02d}"

print("| pair (UTC) | whole suite | shard 1/2 | shard 2/2 | two shards + merge | ratio | benchmarks 1/2 + 2/2 | median rounds (whole / merged) | undecided rows (whole / merged) | median MDE / threshold (whole / merged) | verdicts (whole / merged) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for stamp in sorted(os.listdir(root)):
    d = os.path.join(root, stamp)
    times = {}
    for k in ["whole", "shard-1-of-2", "shard-2-of-2", "two"]:
        p = os.path.join(d, k + ".time")
        if os.path.exists(p):
            with open(p) as fh:
                times[k] = int(fh.read().strip())
    whole, merged = load(d, "whole"), load(d, "merged")
    s1, s2 = load(d, "shard-1-of-2"), load(d, "shard-2-of-2")
    if None in (whole, merged, s1, s2) or len(times) < 4:
        continue  # a pair still running, or broken off
    f = lambda x: "-" if x is None else f"{x:g}"
    g = lambda x: "-" if x is None else f"{x:.1f}x"
    print(f"| {stamp} | {clock(times['whole'])} | {clock(times['shard-1-of-2'])} | {clock(times['shard-2-of-2'])} | "
          f"{clock(times['two'])} | {times['two'] / times['whole']:.2f} | "
          f"{s1['ab']['benchmarks']} + {s2['ab']['benchmarks']} | {f(rounds(whole))} / {f(rounds(merged))} | "
          f"{undecided(whole)} / {undecided(merged)} | {g(mde_ratio(whole))} / {g(mde_ratio(merged))} | "
          f"{whole['verdict']} / {merged['verdict']} |")
PY
}

if [ "${1:-}" = tally ]; then
    tally
    exit 0
fi
n=${1:-1}
cargo build --release --quiet
bin=$PWD/target/release/perfgate
target1=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
target2=$target1/shard-runner-2

for i in $(seq 1 "$n"); do
    # Both builds ready on runner 1, then runner 2's target as a copy of it (times kept, so that
    # cargo finds it fresh); whatever it still rebuilds, it rebuilds here, untimed.
    "$bin" check --ab HEAD --prepare-only >/dev/null
    rm -rf "$target2"
    mkdir -p "$target2"
    for d in release perfgate; do
        cp -a "$target1/$d" "$target2/$d"
    done
    CARGO_TARGET_DIR=$target2 "$bin" check --ab HEAD --prepare-only >/dev/null

    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    dir=$PWD/$root/$stamp
    mkdir -p "$dir"
    timed() { # NAME COMMAND...: its stdout to NAME.json, stderr to NAME.log, seconds to NAME.time
        local name=$1 start rc=0
        shift
        start=$(date +%s)
        "$@" >"$dir/$name.json" 2>"$dir/$name.log" || rc=$?
        echo $(($(date +%s) - start)) >"$dir/$name.time"
        return "$rc"
    }
    code=0
    timed whole "$bin" check --ab HEAD --format json || code=$?
    [ "$code" -le 1 ] || { echo "pair $i: the whole-suite check exited $code; see $dir/whole.log" >&2; exit 2; }

    start=$(date +%s)
    pids=()
    for k in 1 2; do
        t=$target1
        [ "$k" = 1 ] || t=$target2
        timed "shard-$k-of-2" env CARGO_TARGET_DIR="$t" "$bin" check --ab HEAD --format json \
            --shard "$k/2" --shard-report "$dir/shard-$k-of-2.report" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do
        code=0
        wait "$p" || code=$?
        [ "$code" -le 1 ] || { echo "pair $i: a shard's check exited $code; see $dir/shard-*.log" >&2; exit 2; }
    done
    code=0
    "$bin" merge --format json "$dir/shard-1-of-2.report" "$dir/shard-2-of-2.report" \
        >"$dir/merged.json" 2>"$dir/merged.log" || code=$?
    echo $(($(date +%s) - start)) >"$dir/two.time"
    [ "$code" -le 1 ] || { echo "pair $i: merge exited $code; see $dir/merged.log" >&2; exit 2; }
    # The shard reports hold both snapshots of every benchmark: the JSON reports are enough here.
    rm -f "$dir"/shard-*.report
    printf 'pair %d: whole %s s, two shards and the merge %s s\n' "$i" "$(cat "$dir/whole.time")" "$(cat "$dir/two.time")"
done
echo
tally
