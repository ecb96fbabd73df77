//! perfgate's own speed: `compare` of 1,000 benchmarks x 100 samples (the target is
//! under 1 s), measured end to end from JSON bytes: parse both files, compare with the default
//! bootstrap, render the table.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use perfgate::baseline::schema::{
    Benchmark, Machine, SCHEMA_VERSION, Samples, Snapshot, SnapshotKind, Source, Summary,
    ToolVersions,
};
use perfgate::baseline::store::{parse_snapshot, to_json};
use perfgate::compare::{Sources, compare};
use perfgate::config::Config;
use perfgate::report::table::{TableOptions, render};
use perfgate::stats::rng::Rng;
use perfgate_recorder::profile::Profile;

fn synthetic(kind: SnapshotKind, seed: u64, benches: usize, samples: usize) -> Snapshot {
    let mut rng = Rng::new(seed);
    let benchmarks = (0..benches)
        .map(|i| {
            let center = 1_000.0 + (i % 97) as f64 * 10.0;
            let per_iter: Vec<f64> = (0..samples)
                .map(|_| center * (1.0 + 0.02 * rng.normal()))
                .collect();
            Benchmark {
                id: format!("group{:03}/bench{:04}", i / 10, i),
                group_id: format!("group{:03}", i / 10),
                function_id: Some(format!("bench{i:04}")),
                value_str: None,
                throughput: None,
                samples: Samples {
                    iters: (1..=samples).map(|n| n as f64).collect(),
                    per_iter_ns: per_iter,
                },
                summary: Summary {
                    mean_ns: center,
                    median_ns: center,
                    std_dev_ns: center * 0.02,
                    min_ns: center * 0.9,
                    max_ns: center * 1.1,
                },
                latency: None,
                allocs: None,
                noise: None,
            }
        })
        .collect();
    Snapshot {
        schema_version: SCHEMA_VERSION,
        kind,
        testbed: "bench".into(),
        created_at: "2026-11-24T00:00:00Z".into(),
        git: None,
        tools: ToolVersions {
            perfgate: "0.1.0".into(),
            rustc: None,
            criterion: None,
        },
        machine: Machine::current(),
        source: Source {
            criterion_baseline: "new".into(),
            profile: None,
        },
        benchmarks,
    }
}

fn bench_compare(c: &mut Criterion) {
    let profile = Profile::from_env();
    let base = to_json(&synthetic(SnapshotKind::Baseline, 1, 1000, 100));
    let cur = to_json(&synthetic(SnapshotKind::Results, 2, 1000, 100));
    let cfg = Config::default_config();
    let sources = Sources {
        baseline: "base.json".into(),
        results: "results.json".into(),
    };
    let mut g = c.benchmark_group("gate");
    g.sample_size(10)
        .warm_up_time(profile.warm_up())
        .measurement_time(profile.measurement().max(std::time::Duration::from_secs(3)));
    g.bench_function("compare_1000x100", |b| {
        b.iter(|| {
            let base = parse_snapshot(Path::new("base.json"), base.as_bytes()).expect("parse");
            let cur = parse_snapshot(Path::new("results.json"), cur.as_bytes()).expect("parse");
            let cmp = compare(&base, &cur, &cfg, &sources);
            render(&cmp, TableOptions::default()).len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_compare);
criterion_main!(benches);
