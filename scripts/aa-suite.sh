#!/usr/bin/env bash
# A/A evaluation of the whole suite: N runs of `perfgate check` on unchanged code against the
# committed baseline, confirmation included, exactly as CI runs it. Every failed run is a false
# alarm. Prints one line per run and a summary; keeps every report under target/perfgate/aa/.
#
#   scripts/aa-suite.sh [N] [extra perfgate check arguments...]     (N defaults to 20)
#
# Run it on a quiet machine, from a clean checkout whose benches and workloads are those of the
# baseline's commit (so the comparison really is A/A).
set -euo pipefail

n=${1:-20}
shift || true
out=target/perfgate/aa
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/perfgate

runs_failed=0
flagged=0
compared=0
first_flagged=0
slowest=0
for i in $(seq 1 "$n"); do
    start=$(date +%s)
    rc=0
    "$bin" check --format json --output "$out/results-$i.json" "$@" \
        >"$out/check-$i.json" 2>"$out/check-$i.log" || rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
        echo "run $i: perfgate check exited $rc; see $out/check-$i.log" >&2
        exit 2
    fi
    # "perfgate: PASS: 0 failing of 120 comparisons, ..." (the report's headline).
    headline=$(grep -m1 '"headline"' "$out/check-$i.json" | sed 's/.*"headline": *"\(.*\)",*$/\1/')
    failing=$(echo "$headline" | sed -n 's/.*: \([0-9]*\) failing of \([0-9]*\) comparisons.*/\1/p')
    total=$(echo "$headline" | sed -n 's/.*: \([0-9]*\) failing of \([0-9]*\) comparisons.*/\2/p')
    first=$(grep -c '"first_verdict": "regressed"' "$out/check-$i.json" || true)
    candidates=$(grep -c '"first_verdict"' "$out/check-$i.json" || true)
    flagged=$((flagged + failing))
    compared=$((compared + total))
    first_flagged=$((first_flagged + first))
    [ "$rc" -eq 1 ] && runs_failed=$((runs_failed + 1))
    [ "$secs" -gt "$slowest" ] && slowest=$secs
    printf 'run %2d: exit %d in %d:%02d; %s; %d re-measured row(s), %d of them regressed in the first comparison\n' \
        "$i" "$rc" $((secs / 60)) $((secs % 60)) "$headline" "$candidates" "$first"
done
echo
echo "A/A of the whole suite, $n runs of perfgate check:"
echo "  runs failed:                       $runs_failed of $n"
echo "  comparisons failing:               $flagged of $compared"
echo "  rows regressed in first comparison: $first_flagged (all re-measured in paired rounds)"
echo "  slowest check:                     $((slowest / 60)):$(printf '%02d' $((slowest % 60)))"
[ "$runs_failed" -eq 0 ]
