//! `baseline refresh`: merging new results into the previous baseline without ever dropping a
//! benchmark silently, and summarising what changed.

use super::schema::{Benchmark, Snapshot, SnapshotKind};

/// A refreshed baseline and what changed against the previous one.
#[derive(Debug)]
pub struct Refreshed {
    /// The new baseline.
    pub snapshot: Snapshot,
    /// Benchmarks not in the previous baseline.
    pub added: Vec<String>,
    /// Benchmarks measured again: id and relative change of the mean time.
    pub updated: Vec<(String, f64)>,
    /// Benchmarks of the previous baseline not measured now, kept as they were.
    pub kept: Vec<String>,
    /// Benchmarks of the previous baseline removed by `--prune`.
    pub pruned: Vec<String>,
    /// Benchmarks whose run-to-run noise was measured in this refresh.
    pub noise_measured: usize,
    /// The number of runs it was measured from (the largest, if benchmarks differ).
    pub noise_runs: u32,
    /// Benchmarks measured once now, whose noise was carried over from the previous baseline
    /// (noise is a property of the benchmark on this kind of machine, not of one commit).
    pub noise_kept: usize,
}

/// Builds the new baseline from `results`, carrying over (or, with `prune`, removing) the
/// benchmarks of `previous` that the results lack.
pub fn merge(
    previous: Option<&Snapshot>,
    results: Snapshot,
    testbed: &str,
    prune: bool,
) -> Refreshed {
    let mut snapshot = results;
    snapshot.kind = SnapshotKind::Baseline;
    snapshot.testbed = testbed.to_string();
    let (mut added, mut updated, mut kept, mut pruned) = (vec![], vec![], vec![], vec![]);
    let (mut noise_measured, mut noise_kept, mut noise_runs) = (0, 0, 0);
    let prev: std::collections::BTreeMap<&str, &Benchmark> = previous
        .map(|p| p.benchmarks.iter().map(|b| (b.id.as_str(), b)).collect())
        .unwrap_or_default();
    for b in &mut snapshot.benchmarks {
        if let Some(n) = &b.noise {
            noise_measured += 1;
            noise_runs = noise_runs.max(n.runs);
        }
        match prev.get(b.id.as_str()) {
            Some(old) => {
                if b.noise.is_none() && old.noise.is_some() {
                    b.noise = old.noise;
                    noise_kept += 1;
                }
                updated.push((b.id.clone(), b.summary.mean_ns / old.summary.mean_ns - 1.0))
            }
            None => added.push(b.id.clone()),
        }
    }
    let fresh: std::collections::BTreeSet<String> =
        snapshot.benchmarks.iter().map(|b| b.id.clone()).collect();
    for (id, old) in prev {
        if fresh.contains(id) {
            continue;
        }
        if prune {
            pruned.push(id.to_string());
        } else {
            kept.push(id.to_string());
            snapshot.benchmarks.push(old.clone());
        }
    }
    snapshot.benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
    Refreshed {
        snapshot,
        added,
        updated,
        kept,
        pruned,
        noise_measured,
        noise_runs,
        noise_kept,
    }
}
