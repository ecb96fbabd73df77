//! `perfgate run`: the suite, collected into a results file.

use super::{Ctx, plan, suite};
use crate::EXIT_PASS;
use crate::error::Result;

/// Runs the suite in the current directory and writes its results.
pub(super) fn run(ctx: &Ctx, p: plan::Run) -> Result<i32> {
    let output = ctx
        .layout
        .or_default(p.output.as_deref(), || ctx.layout.results());
    suite::run_suite(&p.bench, &output, ctx.cwd(), &[])?;
    Ok(EXIT_PASS)
}
