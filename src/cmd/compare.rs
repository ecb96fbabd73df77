//! `perfgate compare`: a results file against a baseline.

use super::{Ctx, load_baseline, plan, report_comparison, warn_profile_mismatch};
use crate::baseline::store;
use crate::compare::{self, Sources};
use crate::error::Result;
use crate::report::html::Sides;

/// Compares and reports; exit 1 on a regression.
pub(super) fn run(ctx: &Ctx, p: plan::Compare) -> Result<i32> {
    let results = ctx
        .layout
        .or_default(p.results.as_deref(), || ctx.layout.results());
    let current = store::read_snapshot(&results)?;
    let testbed = p.testbed.clone().unwrap_or_else(|| current.testbed.clone());
    let loaded = load_baseline(ctx, &p.source, &testbed)?;
    let (base, label) = (loaded.snapshot, loaded.label);
    let sources = Sources {
        baseline: label,
        results: results_label(p.results.as_deref(), &results),
    };
    warn_profile_mismatch(&base, &current);
    let cmp = compare::compare(&base, &current, &ctx.config, &sources);
    report_comparison(ctx, &cmp, Sides::new(&base, &current), &p.outputs)
}

/// How a results file is named in reports: as the user gave it, else the default's path.
pub(super) fn results_label(given: Option<&std::path::Path>, used: &std::path::Path) -> String {
    given.unwrap_or(used).display().to_string()
}
