//! `perfgate merge`: one verdict from the shard reports of a suite split across a CI matrix.

use super::{Ctx, plan, report_comparison};
use crate::error::Result;
use crate::report::html::Sides;
use crate::report::shard;

/// Reads every shard report, merges them (refusing a missing shard or shards of different
/// runs), and reports the whole comparison as `check` would.
pub(super) fn run(ctx: &Ctx, p: plan::Merge) -> Result<i32> {
    let mut parts = Vec::with_capacity(p.reports.len());
    for path in &p.reports {
        let path = ctx.layout.absolute(path)?;
        let r = shard::read(&path)?;
        parts.push((path, r));
    }
    let m = shard::merge(parts)?;
    let code = report_comparison(
        ctx,
        &m.comparison,
        Sides::new(&m.baseline, &m.current),
        &p.outputs,
    )?;
    // A shard whose rounds failed printed its first comparison; the merged verdict rests on
    // it too, so the merge fails the way that shard's check did.
    Ok(if m.comparison.error.is_some() {
        crate::EXIT_ERROR
    } else {
        code
    })
}
