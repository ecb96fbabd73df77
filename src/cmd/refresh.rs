//! `perfgate baseline refresh`: measure (or take results files) and write the testbed's
//! baseline, merged with the previous one so that no benchmark is dropped silently.

use std::path::Path;

use super::{Ctx, note, out, plan, suite, warn};
use crate::EXIT_PASS;
use crate::baseline::schema::Snapshot;
use crate::baseline::{self, git, store};
use crate::error::{Error, Result};

/// The size above which a baseline file is reported as too large for a repository.
const SIZE_BUDGET: u64 = 500 * 1024;

/// Refreshes the baseline.
pub(super) fn run(ctx: &Ctx, p: plan::Refresh) -> Result<i32> {
    match git::dirty(ctx.cwd()) {
        Ok(true) if !p.allow_dirty => {
            return Err(Error::Usage(
                "the work tree has uncommitted changes to tracked files: a baseline must describe a commit. Commit first, or pass --allow-dirty".into(),
            ));
        }
        Ok(_) => {}
        Err(e) => warn(&format!("no git metadata for the baseline ({e})")),
    }
    let runs: Vec<Snapshot> = if p.from.is_empty() {
        let output = ctx.layout.results();
        (1..=p.runs)
            .map(|i| {
                if p.runs > 1 {
                    note(&format!("run {i} of {}", p.runs));
                }
                suite::run_suite(&p.bench, &output, ctx.cwd(), &[])
            })
            .collect::<Result<_>>()?
    } else {
        p.from
            .iter()
            .map(|f| store::read_snapshot(f))
            .collect::<Result<_>>()?
    };
    let results = crate::compare::noise::combine(runs);
    let testbed = p
        .bench
        .testbed
        .clone()
        .unwrap_or_else(|| results.testbed.clone());
    let path = baseline::path_for(&p.dir, &testbed)?;
    let previous = if path.exists() {
        // A baseline that cannot be read is never overwritten: it is the user's committed data.
        Some(store::read_snapshot(&path).map_err(|e| {
            Error::Usage(format!(
                "{e}; the previous baseline is unreadable, fix or delete it before refreshing"
            ))
        })?)
    } else {
        None
    };
    let refreshed = baseline::refresh::merge(previous.as_ref(), results, &testbed, p.prune);
    store::write_snapshot(&path, &refreshed.snapshot)?;
    let summary = crate::report::refresh::summary(&refreshed, &path);
    if let Some(md) = &p.summary_md {
        // Atomic, as every report file: a later step reads it whole or not at all.
        store::write_atomic(md, crate::report::refresh::markdown(&summary).as_bytes())?;
    }
    out(&summary)?;
    warn_if_large(&path);
    Ok(EXIT_PASS)
}

fn warn_if_large(path: &Path) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > SIZE_BUDGET {
        warn(&format!(
            "{} is {} KB, above the {} KB budget",
            path.display(),
            size / 1024,
            SIZE_BUDGET / 1024
        ));
    }
}
