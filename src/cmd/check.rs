//! `perfgate check`: the gate. The suite against the stored baseline (or, with `--ab`, against
//! a commit measured here), candidate regressions confirmed in paired rounds against the
//! baseline commit's build, then the report and the exit code.

use std::path::PathBuf;

use super::compare::results_label;
use super::{
    Ctx, load_baseline, note, plan, report_comparison, suite, warn, warn_profile_mismatch,
};
use crate::baseline::schema::Snapshot;
use crate::baseline::{Machine, git, machine, store};
use crate::compare::{self, Sources};
use crate::confirm::bench::{BenchBuild, BuildPair, SideRuns};
use crate::confirm::worktree::{self, Checkout};
use crate::confirm::{self, rounds};
use crate::error::Result;
use crate::report::format::short_commit;

/// Runs the gate.
pub(super) fn run(ctx: &Ctx, p: plan::Check) -> Result<i32> {
    if let Some(rev) = &p.ab {
        return run_ab(ctx, &p, rev);
    }
    // Resolve the baseline first: a missing baseline should fail before minutes of benchmarks.
    let machine = Machine::current();
    let testbed = machine::testbed(p.bench.testbed.as_deref(), &machine);
    let (base, label) = load_baseline(ctx, &p.source, &testbed)?;
    let (current, results) = match &p.results {
        Some(r) => (store::read_snapshot(r)?, r.display().to_string()),
        None => {
            let output = output(ctx, &p);
            let snap = suite::run_suite(&p.bench, &output, ctx.cwd(), &[])?;
            (snap, results_label(p.output.as_deref(), &output))
        }
    };
    let sources = Sources {
        baseline: label,
        results,
    };
    warn_profile_mismatch(&base, &current);
    let mut cmp = compare::compare(&base, &current, &ctx.config, &sources);
    confirm::confirm_candidates(&mut cmp, p.confirm_rounds, |candidates| {
        let Some(g) = &base.git else {
            warn(
                "the baseline records no commit, so candidate regressions cannot be re-measured against it; the verdicts rest on one comparison",
            );
            return Ok(None);
        };
        if g.dirty {
            warn(
                "the baseline was measured with uncommitted changes; its commit is re-measured as committed",
            );
        }
        let checkout = worktree::prepare(ctx.cwd(), &g.commit, &ctx.layout.ab_dir())?;
        paired_rounds(ctx, &p, &checkout, candidates).map(Some)
    })?;
    report_comparison(ctx, &cmp, p.format)
}

fn output(ctx: &Ctx, p: &plan::Check) -> PathBuf {
    ctx.layout
        .or_default(p.output.as_deref(), || ctx.layout.results())
}

/// `check --ab REF`: the whole suite measured on both builds here, then the candidates
/// confirmed in paired rounds.
fn run_ab(ctx: &Ctx, p: &plan::Check, rev: &str) -> Result<i32> {
    let rev = if rev == "merge-base" {
        git::merge_base_with_main(ctx.cwd())?
    } else {
        rev.to_string()
    };
    let checkout = worktree::prepare(ctx.cwd(), &rev, &ctx.layout.ab_dir())?;
    let short = short_commit(&checkout.commit);
    note(&format!(
        "measuring {rev} (commit {short}) and the current code on this machine"
    ));
    let base = run_side(ctx, p, &checkout)?;
    let output = output(ctx, p);
    let current = suite::run_suite(&p.bench, &output, ctx.cwd(), &[])?;
    let sources = Sources {
        baseline: format!("{rev} (commit {short}), measured here"),
        results: results_label(p.output.as_deref(), &output),
    };
    let mut cmp = compare::compare(&base, &current, &ctx.config, &sources);
    confirm::confirm_candidates(&mut cmp, p.confirm_rounds, |candidates| {
        paired_rounds(ctx, p, &checkout, candidates).map(Some)
    })?;
    report_comparison(ctx, &cmp, p.format)
}

/// The environment that builds the baseline commit in its own, cached target directory.
fn base_env(ctx: &Ctx, p: &plan::Check) -> Result<Vec<(String, String)>> {
    let target = match &p.ab_target_dir {
        Some(d) => ctx.layout.absolute(d)?,
        None => ctx.layout.ab_target(),
    };
    Ok(vec![(
        "CARGO_TARGET_DIR".to_string(),
        target.display().to_string(),
    )])
}

/// One run of the whole suite with the baseline commit's build.
fn run_side(ctx: &Ctx, p: &plan::Check, checkout: &Checkout) -> Result<Snapshot> {
    let ab = ctx.layout.ab_dir();
    let mut b = p.bench.clone();
    b.criterion_dir = Some(ab.join("criterion-base"));
    suite::run_suite(
        &b,
        &ab.join("base.json"),
        &checkout.project_dir,
        &base_env(ctx, p)?,
    )
}

/// Measures `candidates` in paired rounds: the baseline commit's build and the current build,
/// benchmark by benchmark, in alternating order.
fn paired_rounds(
    ctx: &Ctx,
    p: &plan::Check,
    checkout: &Checkout,
    candidates: &[String],
) -> Result<Vec<(Snapshot, Snapshot)>> {
    let short = short_commit(&checkout.commit);
    note(&format!(
        "{} candidate regression(s); confirming in {} paired rounds against commit {short}",
        candidates.len(),
        p.confirm_rounds,
    ));
    note(&format!("building the benches of commit {short}"));
    let base_build = BenchBuild::build(
        &checkout.project_dir,
        &p.bench.cargo_args,
        &base_env(ctx, p)?,
    )?;
    let current_build = BenchBuild::build(ctx.cwd(), &p.bench.cargo_args, &[])?;
    for w in base_build.warnings.iter().chain(&current_build.warnings) {
        warn(w);
    }
    let ab = ctx.layout.ab_dir();
    let mut pair = BuildPair {
        baseline: SideRuns::new(
            base_build,
            &checkout.project_dir,
            &ab.join("confirm-base"),
            Vec::new(),
        )?,
        current: SideRuns::new(
            current_build,
            ctx.cwd(),
            &ab.join("confirm-current"),
            Vec::new(),
        )?,
        testbed: p.bench.testbed.clone(),
    };
    let plan = rounds::Plan {
        rounds: p.confirm_rounds as usize,
        budget: Some(p.confirm_budget),
    };
    rounds::measure(&mut pair, candidates, plan, &mut |m| note(m))
}
