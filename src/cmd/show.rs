//! `perfgate baseline show`: a stored baseline as a table.

use super::{Ctx, load_baseline, out, plan};
use crate::EXIT_PASS;
use crate::baseline::{Machine, machine};
use crate::error::Result;

/// Prints the baseline.
pub(super) fn run(ctx: &Ctx, p: plan::Show) -> Result<i32> {
    let machine = Machine::current();
    let testbed = machine::testbed(p.testbed.as_deref(), &machine);
    let loaded = load_baseline(ctx, &p.source, &testbed)?;
    let (snap, label) = (loaded.snapshot, loaded.label);
    out(&crate::report::show::render(&snap, &label, ctx.color))?;
    Ok(EXIT_PASS)
}
