#!/usr/bin/env bash
# A series of evaluation runs the way the sessions ran them (docs/eval/README.md): a cycle of
# steps, one run of scripts/eval-suite.sh each, repeated until every step has its runs or a
# deadline passes, with a calibration (scripts/inject-effect.py, pinned like the runs) of each
# slowdown before its first run, after every K of its runs and after its last one, so that the
# tally judges every run by a calibration measured within minutes of it.
#
#   scripts/eval-series.sh [--until HH:MM] [--calibrate-every K] STEP[:N]...
#
#   STEP        a condition of scripts/eval-suite.sh (aa, spawn=3, pipe-copy=2, ...): one run
#               in the set $EVAL_SET; or aa-neighbour: one A/A run beside one busy thread
#               (EVAL_NEIGHBOUR=cpu) in the set $EVAL_SET-neighbour, since a set holds one
#               load only (eval-suite.sh refuses to mix them)
#   :N          at most N runs of that step in this series (without it, until the deadline)
#   --until     no run starts after HH:MM UTC (the same day); calibrations still end a series
#   --calibrate-every K   K runs of a slowdown between its calibrations (default 4)
#
# EVAL_PIN and the other EVAL_* settings of eval-suite.sh apply to every run (EVAL_NEIGHBOUR
# only through aa-neighbour). EVAL_CALIBRATE_BENCHES names the bench targets to calibrate (for
# example "spawn"; default: every target holding a benchmark the slowdown slows). The sixth
# session's runs, and then the seventh's:
#
#   EVAL_SET=2026-12-07-fresh EVAL_PIN=1 EVAL_CALIBRATE_BENCHES=spawn \
#       scripts/eval-series.sh --until 07:12 spawn=3 aa spawn=3 aa spawn=3 aa-neighbour
#   EVAL_SET=2026-12-07-fresh EVAL_PIN=1 scripts/eval-series.sh aa:13 aa-neighbour:8
#
# A series passes no check or cargo bench arguments and calibrates only the suite's injection
# sites, so another crate's runs (EVAL_CRATE) go through scripts/eval-suite.sh directly.
#
# Run it when nothing else runs on the machine: it is a measurement. It prints a line per run
# and per calibration, and the tally at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
    echo "usage: scripts/eval-series.sh [--until HH:MM] [--calibrate-every K] STEP[:N]..." >&2
    exit 2
}
until_at=
every=4
steps=()
limits=()
while [ $# -gt 0 ]; do
    case "$1" in
        --until)
            [[ ${2:-} =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || { echo "eval-series: --until wants HH:MM (UTC), not \"${2:-}\"" >&2; exit 2; }
            until_at=$2
            shift 2
            ;;
        --calibrate-every)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "eval-series: --calibrate-every wants a positive count, not \"${2:-}\"" >&2; exit 2; }
            every=$2
            shift 2
            ;;
        -*) usage ;;
        *)
            if [[ $1 =~ ^([^:]+):([0-9]+)$ ]]; then
                steps+=("${BASH_REMATCH[1]}")
                limits+=("${BASH_REMATCH[2]}")
            elif [[ $1 == *:* ]]; then
                echo "eval-series: a step's count is :N with N a number, not \"$1\"" >&2
                exit 2
            else
                steps+=("$1")
                limits+=(-1)
            fi
            shift
            ;;
    esac
done
[ "${#steps[@]}" -gt 0 ] || usage
if [ -z "$until_at" ]; then
    for l in "${limits[@]}"; do
        [ "$l" -ge 0 ] || { echo "eval-series: a step without :N runs until --until, which is not given" >&2; exit 2; }
    done
fi
[ -n "${EVAL_SET:-}" ] || { echo "eval-series: set EVAL_SET, the set the runs join" >&2; exit 2; }
set_name=$EVAL_SET
export EVAL_SET
unset EVAL_NEIGHBOUR

late() { [ -n "$until_at" ] && [[ $(date -u +%H:%M) > $until_at ]]; }
say() { echo "$(date -u +%H:%M:%S) $*"; }

# Runs of each slowdown since its last calibration (-1: not calibrated in this series yet).
declare -A since=()
calibrate() {
    local cond=$1 benches=()
    read -r -a benches <<<"${EVAL_CALIBRATE_BENCHES:-}"
    say "calibration of $cond"
    scripts/inject-effect.py "$cond" 10 "${benches[@]}" >&2
    since[$cond]=0
}

declare -a done_runs=()
for i in "${!steps[@]}"; do done_runs[i]=0; done
# Step $1 has runs left: no :N, or fewer than N so far.
left() { [ "${limits[$1]}" -lt 0 ] || [ "${done_runs[$1]}" -lt "${limits[$1]}" ]; }
open() {
    local i
    for i in "${!steps[@]}"; do
        if left "$i"; then return 0; fi
    done
    return 1
}
while open && ! late; do
    for i in "${!steps[@]}"; do
        step=${steps[i]}
        left "$i" || continue
        late && break
        case "$step" in
            aa-neighbour)
                say "A/A beside one busy thread, set $set_name-neighbour"
                EVAL_SET=$set_name-neighbour EVAL_NEIGHBOUR=cpu scripts/eval-suite.sh 1 aa | sed -n 1p
                ;;
            aa)
                say "A/A, set $set_name"
                scripts/eval-suite.sh 1 aa | sed -n 1p
                ;;
            *)
                if [ "${since[$step]:--1}" -lt 0 ] || [ "${since[$step]}" -ge "$every" ]; then calibrate "$step"; fi
                say "$step, set $set_name"
                scripts/eval-suite.sh 1 "$step" | sed -n 1p
                since[$step]=$((since[$step] + 1))
                ;;
        esac
        done_runs[i]=$((done_runs[i] + 1))
    done
done
# Every slowdown's last runs are judged by a calibration after them, as its first by one before.
for cond in "${!since[@]}"; do
    if [ "${since[$cond]}" -gt 0 ]; then calibrate "$cond"; fi
done
say "series done"
scripts/eval-suite.sh tally
