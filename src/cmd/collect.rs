//! `perfgate collect`: existing criterion output into a results file, running nothing.

use std::time::SystemTime;

use super::{Ctx, note, plan, suite, warn};
use crate::EXIT_PASS;
use crate::baseline::store;
use crate::collect::{self, CollectOptions, DEFAULT_STALE_GAP};
use crate::error::{Error, Result};

fn parse_since(s: &str) -> Result<SystemTime> {
    humantime::parse_rfc3339_weak(s)
        .map_err(|e| Error::Usage(format!("--since {s:?}: not an RFC 3339 time ({e})")))
}

/// Collects criterion's latest (or a saved) run.
pub(super) fn run(ctx: &Ctx, p: plan::Collect) -> Result<i32> {
    let crit = suite::criterion_dir(p.criterion_dir.as_deref(), ctx.cwd())?;
    let opts = CollectOptions {
        latency_dir: None,
        criterion_dir: crit,
        criterion_baseline: p.criterion_baseline,
        since: p.since.as_deref().map(parse_since).transpose()?,
        stale_gap: DEFAULT_STALE_GAP,
        testbed: p.testbed,
        project_dir: ctx.cwd().to_path_buf(),
    };
    let collected = collect::collect(&opts)?;
    for w in &collected.warnings {
        warn(w);
    }
    store::write_snapshot(&p.output, &collected.snapshot)?;
    note(&format!(
        "{} benchmark(s) -> {}",
        collected.snapshot.benchmarks.len(),
        p.output.display()
    ));
    Ok(EXIT_PASS)
}
