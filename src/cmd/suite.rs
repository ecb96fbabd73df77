//! Running a suite with `cargo bench` and collecting its results: shared by `run`, `check`,
//! `baseline refresh` and the evaluation.

use std::path::{Path, PathBuf};

use super::{note, plan, warn};
use crate::baseline::schema::Snapshot;
use crate::baseline::store;
use crate::collect::{self, CollectOptions, DEFAULT_STALE_GAP, run::BenchRun};
use crate::error::Result;

/// Criterion's output directory: the one given, else as criterion resolves it for `cwd`.
pub(super) fn criterion_dir(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    match explicit {
        Some(d) => Ok(d.to_path_buf()),
        None => collect::criterion::default_root(cwd),
    }
}

/// Runs the suite of the crate in `project_dir`, with extra environment for `cargo bench`, and
/// collects its results into `output` (its folder also gets `bench.log`).
pub(super) fn run_suite(
    bench: &plan::Bench,
    output: &Path,
    project_dir: &Path,
    env: &[(String, String)],
) -> Result<Snapshot> {
    let crit = criterion_dir(bench.criterion_dir.as_deref(), project_dir)?;
    let perfgate_dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let runner = BenchRun {
        project_dir: project_dir.to_path_buf(),
        cargo_args: bench.cargo_args.clone(),
        quick: bench.quick,
        criterion_home: bench.criterion_dir.clone(),
        latency_dir: crit.join(perfgate_recorder::recorder::LATENCY_SUBDIR),
        log_path: perfgate_dir.join("bench.log"),
        env: env.to_vec(),
    };
    let mut progress = super::progress::Progress::new();
    let outcome = runner.run(&mut |e| progress.show(e))?;
    let opts = CollectOptions {
        criterion_dir: crit,
        criterion_baseline: "new".into(),
        // File times come from the kernel's coarse clock, which can lag the precise clock by a
        // tick or two; 50 ms covers that while staying far below the time between two runs.
        since: Some(outcome.started - std::time::Duration::from_millis(50)),
        stale_gap: DEFAULT_STALE_GAP,
        latency_dir: Some(runner.latency_dir.clone()),
        testbed: bench.testbed.clone(),
        project_dir: project_dir.to_path_buf(),
    };
    let mut collected = collect::collect(&opts)?;
    for w in &collected.warnings {
        warn(w);
    }
    collected.snapshot.source.profile = Some(if bench.quick { "quick" } else { "default" }.into());
    let ran: std::collections::BTreeSet<&str> =
        outcome.completed.iter().map(String::as_str).collect();
    for b in &collected.snapshot.benchmarks {
        if !ran.is_empty() && !ran.contains(b.id.as_str()) {
            warn(&format!(
                "{:?} has fresh results but criterion did not report running it",
                b.id
            ));
        }
    }
    store::write_snapshot(output, &collected.snapshot)?;
    let with_latency = collected
        .snapshot
        .benchmarks
        .iter()
        .filter(|b| b.latency.is_some())
        .count();
    let with_allocs = collected
        .snapshot
        .benchmarks
        .iter()
        .filter(|b| b.allocs.is_some())
        .count();
    note(&format!(
        "{} benchmark(s), {with_latency} with per-operation latency, {with_allocs} with allocation counts -> {}",
        collected.snapshot.benchmarks.len(),
        output.display()
    ));
    Ok(collected.snapshot)
}
