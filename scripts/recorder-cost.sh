#!/usr/bin/env bash
# What perfgate-recorder costs a crate that adds it as a dev-dependency: builds a scratch crate
# with one criterion 0.8 bench twice from clean target directories, (a) as it is and (b) with
# perfgate-recorder added and the bench timing its operations with LatencyRecorder, and prints
# the crates each build compiled (cargo's `Compiling` lines), its wall time, the difference, the
# crates perfgate-recorder adds, and whether either build compiled C (a `cc` or `*-sys` crate;
# criterion 0.8 itself builds C, through its `alloca` dependency, so the budget looks only at
# what the recorder adds).
#
#   scripts/recorder-cost.sh
#
# Crate counts are exact for the dependency versions resolved at the time; wall times depend on
# the machine's load. Both builds use the same Cargo.lock, and downloads happen before timing.
# Exits 1 if the recorder's budget (no C build, at most 10 crates beyond serde and serde_json)
# is exceeded.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
recorder="$repo/crates/perfgate-recorder"
cargo=${CARGO:-cargo}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/recorder-cost.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# make_crate DIR WITH_RECORDER: the scratch crate, with or without perfgate-recorder.
make_crate() {
    local dir=$1 with=$2
    mkdir -p "$dir/src" "$dir/benches"
    echo 'pub fn work(n: u64) -> u64 { (0..n).fold(0, |a, x| a ^ x.wrapping_mul(31)) }' \
        >"$dir/src/lib.rs"
    {
        cat <<'TOML'
[package]
name = "recorder-cost-probe"
version = "0.0.0"
edition = "2021"
publish = false

# Its own workspace, whatever directory the scratch crate lands in.
[workspace]

[dev-dependencies]
criterion = { version = "0.8", default-features = false, features = ["cargo_bench_support"] }
TOML
        if [ "$with" = yes ]; then
            echo "perfgate-recorder = { path = \"$recorder\" }"
        fi
        cat <<'TOML'

[[bench]]
name = "probe"
harness = false
TOML
    } >"$dir/Cargo.toml"
    if [ "$with" = yes ]; then
        cat >"$dir/benches/probe.rs" <<'RUST'
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use perfgate_recorder::LatencyRecorder;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("probe");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    let mut rec = LatencyRecorder::new("probe/work", 10);
    group.bench_function("work", |b| {
        b.iter_custom(|iters| {
            rec.time_ops(iters, || {
                std::hint::black_box(recorder_cost_probe::work(1000));
            })
        })
    });
    rec.finish().expect("latency log");
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
RUST
    else
        cat >"$dir/benches/probe.rs" <<'RUST'
use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    c.bench_function("probe/work", |b| {
        b.iter(|| recorder_cost_probe::work(std::hint::black_box(1000)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
RUST
    fi
}

# measure NAME: builds crate NAME from a clean target dir; leaves its crate names (one
# "name version" a line, sorted) in NAME.crates and the wall time in milliseconds in NAME.ms.
measure() {
    local name=$1 start end
    rm -rf "$scratch/target-$name"
    start=$(date +%s%N)
    (cd "$scratch/$name" &&
        CARGO_TARGET_DIR="$scratch/target-$name" CARGO_TERM_COLOR=never \
            CARGO_TERM_PROGRESS_WHEN=never "$cargo" bench --no-run) \
        >"$scratch/$name.log" 2>&1 || {
        echo "cargo bench --no-run failed for the $name build:" >&2
        tail -n 30 "$scratch/$name.log" >&2
        exit 2
    }
    end=$(date +%s%N)
    echo $(((end - start) / 1000000)) >"$scratch/$name.ms"
    # "   Compiling serde v1.0.228" or "   Compiling perfgate-recorder v0.1.0 (/path)".
    sed -n 's/^ *Compiling \([^ ]*\) \(v[^ ]*\).*/\1 \2/p' "$scratch/$name.log" |
        sort -u >"$scratch/$name.crates"
}

# c_crates: the crate names on stdin that compile C, space-separated, or "none".
c_crates() {
    local found
    found=$(awk '$1 == "cc" || $1 ~ /-sys$/ { printf "%s%s", sep, $1; sep = " " }')
    echo "${found:-none}"
}

seconds() {
    awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'
}

make_crate "$scratch/without" no
make_crate "$scratch/with" yes
# One resolution for both builds (the larger one's lock is a superset), fetched before timing.
(cd "$scratch/with" && "$cargo" generate-lockfile --quiet && "$cargo" fetch --quiet)
cp "$scratch/with/Cargo.lock" "$scratch/without/Cargo.lock"
(cd "$scratch/without" && "$cargo" fetch --quiet)

echo "building the scratch crate without perfgate-recorder..." >&2
measure without
echo "building the scratch crate with perfgate-recorder..." >&2
measure with

n_without=$(wc -l <"$scratch/without.crates")
n_with=$(wc -l <"$scratch/with.crates")
ms_without=$(cat "$scratch/without.ms")
ms_with=$(cat "$scratch/with.ms")
added=$(cut -d' ' -f1 "$scratch/with.crates" | sort -u |
    comm -13 <(cut -d' ' -f1 "$scratch/without.crates" | sort -u) -)
n_added=$(printf '%s\n' "$added" | grep -c . || true)
# The budget counts what the recorder adds besides the two dependencies it is allowed.
beyond=$(printf '%s\n' "$added" | grep -cvxE 'serde|serde_json|' || true)
c_without=$(c_crates <"$scratch/without.crates")
c_with=$(c_crates <"$scratch/with.crates")
c_added=$(printf '%s\n' "$added" | c_crates)

echo "cargo bench --no-run of a fresh crate with criterion 0.8, from a clean target dir:"
printf '  without perfgate-recorder: %3d crates compiled, %s\n' "$n_without" "$(seconds "$ms_without")"
printf '  with perfgate-recorder:    %3d crates compiled, %s\n' "$n_with" "$(seconds "$ms_with")"
printf '  difference:                %+3d crates, %s\n' "$((n_with - n_without))" \
    "$(awk -v d="$((ms_with - ms_without))" 'BEGIN { printf "%+.1f s", d / 1000 }')"
echo "  added crates ($n_added): $(printf '%s\n' "$added" | paste -sd' ' -)"
echo "  compiled C (cc or *-sys): without: $c_without; with: $c_with; added by perfgate-recorder: $c_added"

if [ "$c_added" != none ] || [ "$beyond" -gt 10 ]; then
    echo "over budget: perfgate-recorder must build no C ($c_added) and add at most 10 crates beyond serde and serde_json ($beyond)" >&2
    exit 1
fi
echo "  budget (no C, at most 10 crates beyond serde and serde_json): met ($beyond beyond)"
