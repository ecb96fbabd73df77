//! Synthetic benchmarks and snapshots for unit tests.

use crate::baseline::schema::{
    Benchmark, SCHEMA_VERSION, Samples, Snapshot, SnapshotKind, Source, Summary, ToolVersions,
};

/// A benchmark with the given per-iteration times (one iteration per sample).
pub fn bench(id: &str, per_iter_ns: Vec<f64>) -> Benchmark {
    let mean = crate::stats::mean(&per_iter_ns);
    Benchmark {
        id: id.into(),
        group_id: id.split('/').next().unwrap_or(id).into(),
        function_id: None,
        value_str: None,
        throughput: None,
        samples: Samples {
            iters: vec![1.0; per_iter_ns.len()],
            per_iter_ns: per_iter_ns.clone(),
        },
        summary: Summary {
            mean_ns: mean,
            median_ns: crate::stats::median(&per_iter_ns),
            std_dev_ns: crate::stats::variance(&per_iter_ns).sqrt(),
            min_ns: per_iter_ns.iter().copied().fold(f64::INFINITY, f64::min),
            max_ns: per_iter_ns.iter().copied().fold(0.0, f64::max),
        },
        latency: None,
        allocs: None,
        noise: None,
    }
}

/// A results snapshot of the given benchmarks, created at `created_at`.
pub fn snapshot(created_at: &str, benchmarks: Vec<Benchmark>) -> Snapshot {
    Snapshot {
        schema_version: SCHEMA_VERSION,
        kind: SnapshotKind::Results,
        testbed: "t".into(),
        created_at: created_at.into(),
        git: None,
        tools: ToolVersions {
            perfgate: "0".into(),
            rustc: None,
            criterion: None,
        },
        machine: crate::baseline::Machine::current(),
        source: Source {
            criterion_baseline: "new".into(),
            profile: None,
        },
        benchmarks,
    }
}

/// A change with its interval and p-value.
pub fn change(estimate: f64, ci_low: f64, ci_high: f64, p_value: f64) -> crate::stats::Change {
    crate::stats::Change {
        estimate,
        ci_low,
        ci_high,
        p_value,
    }
}
