//! `perfgate check`: the gate. The suite against the stored baseline (or, with `--ab`, against
//! a commit measured here), candidate regressions confirmed in paired rounds against the
//! baseline commit's build, then the report and the exit code.

use std::path::PathBuf;

use super::compare::results_label;
use super::progress::Phase;
use super::{
    Ctx, load_baseline, note, plan, report_comparison, suite, warn, warn_profile_mismatch,
};
use crate::baseline::schema::Snapshot;
use crate::baseline::{Machine, git, machine, shard, store};
use crate::compare::{self, Sources};
use crate::confirm::bench::{BenchBuild, BuildPair, SideRuns};
use crate::confirm::worktree::{self, Checkout};
use crate::confirm::{self, rounds};
use crate::error::{Error, Result};
use crate::report::format::short_commit;
use crate::report::html::Sides;
use crate::report::shard::ShardReport;

/// Runs the gate.
pub(super) fn run(ctx: &Ctx, p: plan::Check) -> Result<i32> {
    if p.prepare_only {
        return prepare_only(ctx, &p);
    }
    if let Some(rev) = &p.ab {
        return run_ab(ctx, &p, rev);
    }
    // Resolve the baseline first: a missing baseline should fail before minutes of benchmarks.
    let machine = Machine::current();
    let testbed = machine::testbed(p.bench.testbed.as_deref(), &machine);
    let loaded = load_baseline(ctx, &p.source, &testbed)?;
    let reference = reference(&loaded);
    if p.results.is_none()
        && p.confirm_rounds > 0
        && let Some(why) = not_comparable_in_advance(ctx, &loaded.snapshot, &machine)
        && let Some(reference) = &reference
    {
        let checkout = worktree::prepare(ctx.cwd(), reference, &ctx.layout.ab_dir())?;
        let short = short_commit(&checkout.commit);
        let note = format!(
            "the stored baseline ({}) is not comparable here ({}): every gated benchmark is judged on a same-machine A/B against its commit {short}, with no whole-suite run",
            loaded.label,
            why.join(", ")
        );
        let durations = shard::durations(&loaded.snapshot);
        return run_ab_paired(
            ctx,
            &p,
            &format!("the baseline's commit {short}, measured here"),
            &checkout,
            note,
            &durations,
        );
    }
    if p.shard.is_some() {
        return Err(shard_needs_ab(ctx));
    }
    let (base, label) = (loaded.snapshot, loaded.label);
    let (current, results) = match &p.results {
        Some(r) => (store::read_snapshot(r)?, r.display().to_string()),
        None => {
            let output = output(ctx, &p);
            let snap = suite::run_suite(&p.bench, &output, ctx.cwd(), &p.current_env)?;
            (snap, results_label(p.output.as_deref(), &output))
        }
    };
    let sources = Sources {
        baseline: label,
        results,
    };
    warn_profile_mismatch(&base, &current);
    let mut cmp = compare::compare(&base, &current, &ctx.config, &sources);
    let Some(selection) = selection(ctx, &mut cmp, p.confirm_rounds, false) else {
        return report_comparison(ctx, &cmp, Sides::new(&base, &current), &p.outputs);
    };
    let Some(reference) = reference else {
        // Said in the report, not only on stderr: the verdicts then rest on a stored
        // baseline that may not be comparable.
        let note = "the baseline records no commit, so nothing can be re-measured against it: the verdicts rest on the comparison with the stored baseline";
        warn(note);
        cmp.notes.push(note.to_string());
        return report_comparison(ctx, &cmp, Sides::new(&base, &current), &p.outputs);
    };
    let seed = seed(&p);
    let outcome = confirm::confirm_candidates(
        &mut cmp,
        selection,
        p.confirm_rounds,
        seed,
        |ids, settled| {
            let checkout = worktree::prepare(ctx.cwd(), &reference, &ctx.layout.ab_dir())?;
            paired_rounds(ctx, &p, &checkout, ids, seed, settled)
        },
    );
    finish(
        ctx,
        cmp,
        Sides::new(&base, &current),
        outcome,
        &p,
        &reference,
    )
}

/// The reference build: the revision the baseline was read at (with `--baseline-ref`,
/// typically the pull request's merge-base), else the commit the baseline records.
/// Warns when that commit was measured with uncommitted changes.
fn reference(loaded: &super::Loaded) -> Option<String> {
    if let Some(rev) = &loaded.rev {
        return Some(rev.clone());
    }
    let g = loaded.snapshot.git.as_ref()?;
    if g.dirty {
        warn(
            "the baseline was measured with uncommitted changes; its commit is re-measured as committed",
        );
    }
    Some(g.commit.clone())
}

/// Why every gated benchmark will be judged on the A/B whatever the first comparison says
/// (`ab = "always"`, or `"auto"` on a shared runner, on another machine, or against a one-run
/// baseline): then the whole-suite run that the first comparison needs is skipped. `None`
/// when the first comparison decides (the candidates, or noise too high to gate).
fn not_comparable_in_advance(
    ctx: &Ctx,
    base: &Snapshot,
    machine: &Machine,
) -> Option<Vec<&'static str>> {
    use crate::config::AbMode;
    let why = match ctx.config.ab {
        AbMode::Off | AbMode::Candidates => return None,
        AbMode::Always => vec!["ab = \"always\""],
        AbMode::Auto => confirm::not_comparable(
            shared_runner(),
            !base.machine.differences(machine).is_empty(),
            base.stores_no_noise(),
        ),
    };
    (!why.is_empty()).then_some(why)
}

/// Whether this runs on a shared CI runner (GitHub Actions).
fn shared_runner() -> bool {
    crate::report::github::GithubEnv::from_env().active
}

/// Reports the comparison, and an error of the paired rounds in its headline (exit 2): the
/// first comparison is still worth reading. With `--explain DIR`, the confirmed regressions
/// are then profiled against `rev` (the build they were confirmed against), which never
/// changes the exit code.
fn finish(
    ctx: &Ctx,
    mut cmp: compare::Comparison,
    sides: Sides<'_>,
    outcome: Result<Vec<String>>,
    p: &plan::Check,
    rev: &str,
) -> Result<i32> {
    let failed = outcome.is_err();
    if let Err(e) = outcome {
        cmp.error = Some(format!("the paired rounds failed: {e}"));
    }
    write_shard_report(ctx, p, &cmp, sides)?;
    let code = report_comparison(ctx, &cmp, sides, &p.outputs)?;
    if failed {
        return Ok(crate::EXIT_ERROR);
    }
    if let Some(dir) = &p.explain {
        explain_regressions(ctx, &cmp, p, rev, dir)?;
    }
    Ok(code)
}

/// `check --explain DIR`: every benchmark with a failing regression after confirmation,
/// profiled ([`super::explain::for_check`]); its text after the report (on stderr when stdout
/// carries a document), its markdown section appended to the markdown report files.
fn explain_regressions(
    ctx: &Ctx,
    cmp: &compare::Comparison,
    p: &plan::Check,
    rev: &str,
    dir: &std::path::Path,
) -> Result<()> {
    let mut ids: Vec<String> = Vec::new();
    for r in &cmp.rows {
        if r.verdict == crate::vocab::Verdict::Regressed && r.fails && !ids.contains(&r.benchmark) {
            ids.push(r.benchmark.clone());
        }
    }
    let dir = ctx.layout.absolute(dir)?;
    let (text, md) = super::explain::for_check(ctx, rev, &ids, &p.bench.cargo_args, &dir);
    if text.is_empty() {
        return Ok(());
    }
    if p.outputs.stdout == crate::report::Format::Table {
        super::out(&text)?;
    } else {
        for line in text.lines() {
            note(line);
        }
    }
    for (f, path) in &p.outputs.files {
        if *f == crate::report::Format::Markdown {
            let mut doc =
                std::fs::read_to_string(path).map_err(|e| crate::error::Error::io(path, e))?;
            doc.push_str(&md);
            store::write_atomic(path, doc.as_bytes())?;
        }
    }
    Ok(())
}

/// Which benchmarks the same-machine A/B measures, by the config's `ab` (`None`: off, or no
/// rounds asked for). A comparison between two builds measured here (`check --ab`) is not
/// paired, so `auto` then re-measures every gated benchmark, as it does when the stored
/// baseline is not comparable.
fn selection(
    ctx: &Ctx,
    cmp: &mut compare::Comparison,
    rounds: u32,
    measured_here: bool,
) -> Option<confirm::Selection> {
    use crate::config::AbMode;
    if rounds == 0 {
        return None;
    }
    match ctx.config.ab {
        AbMode::Off => None,
        AbMode::Always => Some(confirm::Selection::All),
        AbMode::Candidates => Some(confirm::Selection::Candidates),
        AbMode::Auto if measured_here => Some(confirm::Selection::All),
        AbMode::Auto => {
            let (sel, why) = confirm::auto_selection(cmp, shared_runner());
            if !why.is_empty() {
                cmp.notes.push(format!(
                    "the stored baseline is not comparable here ({}): every gated benchmark is judged on a same-machine A/B",
                    why.join(", ")
                ));
            }
            Some(sel)
        }
    }
}

/// The seed of the randomized order ([`super::seed_or_clock`]).
fn seed(p: &plan::Check) -> u64 {
    super::seed_or_clock(p.seed)
}

/// `check --prepare-only`: the baseline commit's checkout and bench build, nothing measured.
/// The commit is `--ab REF` (resolved like `check --ab`), else the merge-base.
fn prepare_only(ctx: &Ctx, p: &plan::Check) -> Result<i32> {
    let rev = match p.ab.as_deref() {
        None | Some("merge-base") => {
            git::merge_base(ctx.cwd(), super::base_branch(&p.source).as_deref())?
        }
        Some(r) => r.to_string(),
    };
    let checkout = worktree::prepare(ctx.cwd(), &rev, &ctx.layout.ab_dir())?;
    note(&format!(
        "building the benches of commit {} in {}",
        short_commit(&checkout.commit),
        ctx.layout.ab_dir().display()
    ));
    let build = BenchBuild::build(
        &checkout.project_dir,
        &p.bench.cargo_args,
        &base_env(ctx, p, &checkout)?,
    )?;
    for w in &build.warnings {
        warn(w);
    }
    note(&format!(
        "{} bench executable(s) of commit {} ready",
        build.binaries.len(),
        short_commit(&checkout.commit)
    ));
    Ok(crate::EXIT_PASS)
}

fn output(ctx: &Ctx, p: &plan::Check) -> PathBuf {
    ctx.layout
        .or_default(p.output.as_deref(), || ctx.layout.results())
}

/// `check --ab REF`: the whole suite measured on both builds here, then the candidates
/// confirmed in paired rounds.
fn run_ab(ctx: &Ctx, p: &plan::Check, rev: &str) -> Result<i32> {
    let resolved = super::resolve_rev(ctx, &p.source, rev)?;
    let checkout = worktree::prepare(ctx.cwd(), &resolved, &ctx.layout.ab_dir())?;
    if p.confirm_rounds > 0
        && matches!(
            ctx.config.ab,
            crate::config::AbMode::Auto | crate::config::AbMode::Always
        )
    {
        let label = format!(
            "{rev} (commit {}), measured here",
            short_commit(&checkout.commit)
        );
        // The stored baseline, when there is one, only places the shards.
        let durations = if p.shard.is_some() {
            let testbed = machine::testbed(p.bench.testbed.as_deref(), &Machine::current());
            load_baseline(ctx, &p.source, &testbed)
                .map(|l| shard::durations(&l.snapshot))
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        return run_ab_paired(ctx, p, &label, &checkout, String::new(), &durations);
    }
    if p.shard.is_some() {
        return Err(shard_needs_ab(ctx));
    }
    let short = short_commit(&checkout.commit);
    note(&format!(
        "measuring {rev} (commit {short}) and the current code on this machine"
    ));
    let base = run_side(ctx, p, &checkout)?;
    let output = output(ctx, p);
    let current = suite::run_suite(&p.bench, &output, ctx.cwd(), &p.current_env)?;
    let sources = Sources {
        baseline: format!("{rev} (commit {short}), measured here"),
        results: results_label(p.output.as_deref(), &output),
    };
    let mut cmp = compare::compare(&base, &current, &ctx.config, &sources);
    // Both sides were measured here, once each: the stored-baseline note does not apply.
    cmp.notes.retain(|n| n != compare::ONE_RUN_NOTE);
    let Some(selection) = selection(ctx, &mut cmp, p.confirm_rounds, true) else {
        return report_comparison(ctx, &cmp, Sides::new(&base, &current), &p.outputs);
    };
    let seed = seed(p);
    let outcome = confirm::confirm_candidates(
        &mut cmp,
        selection,
        p.confirm_rounds,
        seed,
        |ids, settled| paired_rounds(ctx, p, &checkout, ids, seed, settled),
    );
    finish(
        ctx,
        cmp,
        Sides::new(&base, &current),
        outcome,
        p,
        &checkout.commit,
    )
}

/// The environment that builds `checkout` in the baseline's cached target directory, readied
/// for it ([`worktree::claim_target`]).
fn base_env(ctx: &Ctx, p: &plan::Check, checkout: &Checkout) -> Result<Vec<(String, String)>> {
    let target = match &p.ab_target_dir {
        Some(d) => ctx.layout.absolute(d)?,
        None => ctx.layout.ab_target(),
    };
    worktree::claim_target(checkout, &target)?;
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
    let mut snap = suite::run_suite(
        &b,
        &ab.join("base.json"),
        &checkout.project_dir,
        &base_env(ctx, p, checkout)?,
    )?;
    snap.git = git::commit_info(ctx.cwd(), &checkout.commit);
    Ok(snap)
}

/// `check --ab REF` when every gated benchmark is judged on the A/B (`ab = "auto"` or
/// `"always"`): no whole-suite run of either build, whose numbers the rounds would only
/// replace. The first paired round of every benchmark is the first comparison; the sequential
/// rounds continue from it, counted in the same plan and budget. Two suite runs of the
/// flagship suite took about 3:20 of such a check before the rounds began.
fn run_ab_paired(
    ctx: &Ctx,
    p: &plan::Check,
    baseline_label: &str,
    checkout: &Checkout,
    why: String,
    durations: &[(String, f64)],
) -> Result<i32> {
    note(&format!(
        "same-machine A/B in paired rounds: {baseline_label}, against the current code"
    ));
    let (mut pair, build_notes, build_seconds) = build_pair(ctx, p, checkout)?;
    let mut ids = pair.current.build.user_selection()?;
    for id in pair.baseline.build.user_selection()? {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if let Some(s) = p.shard {
        let all = ids.len();
        let placed = shard::Assignment::new(durations, s.count);
        ids.retain(|id| placed.runs(s, id));
        if ids.is_empty() {
            return Err(Error::Usage(format!(
                "--shard {s}: no benchmark of the {all} falls on this shard; use fewer shards"
            )));
        }
        note(&format!(
            "shard {s}: {} of the suite's {all} benchmark(s)",
            ids.len()
        ));
    }
    let seed = seed(p);
    let phase = Phase::new("A/B rounds", Some(p.confirm_budget));
    let prior = rounds::first_round(&mut pair, &ids, seed, &mut |m| phase.say(m))?;
    let (mut base, current) = prior.rounds[0].clone();
    base.git = git::commit_info(ctx.cwd(), &checkout.commit);
    let output = output(ctx, p);
    store::write_snapshot(&output, &current)?;
    let sources = Sources {
        baseline: baseline_label.to_string(),
        results: results_label(p.output.as_deref(), &output),
    };
    let mut cmp = compare::compare(&base, &current, &ctx.config, &sources);
    cmp.notes.retain(|n| n != compare::ONE_RUN_NOTE);
    if !why.is_empty() {
        cmp.notes.push(why);
    }
    cmp.notes.push(
        "the first comparison is the first paired round, one short run of each build".to_string(),
    );
    if let Some(s) = p.shard {
        cmp.notes.push(format!(
            "shard {s} of the suite: {} benchmark(s); `perfgate merge` gives the verdict of all shards",
            ids.len()
        ));
    }
    let Some(selection) = selection(ctx, &mut cmp, p.confirm_rounds, true) else {
        write_shard_report(ctx, p, &cmp, Sides::new(&base, &current))?;
        return report_comparison(ctx, &cmp, Sides::new(&base, &current), &p.outputs);
    };
    let outcome = confirm::confirm_candidates(
        &mut cmp,
        selection,
        p.confirm_rounds,
        seed,
        |ids, settled| {
            let mut m = rounds::measure_from(
                &mut pair,
                ids,
                round_plan(p, seed),
                prior,
                settled,
                &mut |m| phase.say(m),
            )?;
            m.notes.splice(0..0, build_notes);
            m.build_seconds = Some(build_seconds);
            Ok(m)
        },
    );
    finish(
        ctx,
        cmp,
        Sides::new(&base, &current),
        outcome,
        p,
        &checkout.commit,
    )
}

/// Writes the shard report of `check --shard` (nothing without one).
fn write_shard_report(
    ctx: &Ctx,
    p: &plan::Check,
    cmp: &compare::Comparison,
    sides: Sides<'_>,
) -> Result<()> {
    let Some(s) = p.shard else {
        return Ok(());
    };
    let path = match &p.shard_report {
        Some(f) => ctx.layout.absolute(f)?,
        None => ctx
            .layout
            .perfgate_dir()
            .join(format!("shard-{}-of-{}.json", s.index, s.count)),
    };
    // The rules in force, not where they were read from: two runners may check the
    // repository out at different paths.
    let mut rules = ctx.config.clone();
    rules.source = None;
    let config = format!(
        "{:016x}",
        crate::stats::rng::seed_from(&[&format!("{rules:?}")])
    );
    let r = ShardReport::new(
        s,
        config,
        cmp.clone(),
        sides.baseline.clone(),
        sides.current.clone(),
    );
    crate::report::shard::write(&path, &r)?;
    note(&format!(
        "shard {s}: its report for `perfgate merge` -> {}",
        path.display()
    ));
    Ok(())
}

/// The error of `--shard` where not every benchmark is judged on the A/B.
fn shard_needs_ab(ctx: &Ctx) -> Error {
    Error::Usage(format!(
        "--shard needs every gated benchmark judged on the same-machine A/B (ab = \"always\" in perfgate.toml, or \"auto\" where the stored baseline is not comparable, e.g. under GitHub Actions, with --confirm-rounds above 0); here ab = {:?}",
        ctx.config.ab
    ))
}

fn round_plan(p: &plan::Check, seed: u64) -> rounds::Plan {
    rounds::Plan {
        rounds: p.confirm_rounds as usize,
        budget: Some(p.confirm_budget),
        seed,
        replication: confirm::REPLICATION_ROUNDS,
    }
}

/// Measures `ids` in paired rounds: the baseline commit's build and the current build,
/// benchmark by benchmark, in randomized order, each benchmark until it is settled.
fn paired_rounds(
    ctx: &Ctx,
    p: &plan::Check,
    checkout: &Checkout,
    ids: &[String],
    seed: u64,
    settled: &mut confirm::Settled<'_>,
) -> Result<rounds::Measured> {
    note(&format!(
        "same-machine A/B of {} benchmark(s) in up to {} paired rounds against commit {} (seed {seed})",
        ids.len(),
        p.confirm_rounds,
        short_commit(&checkout.commit),
    ));
    let (mut pair, build_notes, build_seconds) = build_pair(ctx, p, checkout)?;
    let phase = Phase::new("A/B rounds", Some(p.confirm_budget));
    let mut measured = rounds::measure(&mut pair, ids, round_plan(p, seed), settled, &mut |m| {
        phase.say(m)
    })?;
    drop(phase);
    measured.notes.splice(0..0, build_notes);
    measured.build_seconds = Some(build_seconds);
    Ok(measured)
}

/// Both builds' bench executables, what the report must say about them, and the seconds
/// building them took (reported apart from the rounds: a baseline commit's first build is long).
fn build_pair(
    ctx: &Ctx,
    p: &plan::Check,
    checkout: &Checkout,
) -> Result<(BuildPair, Vec<String>, f64)> {
    let started = std::time::Instant::now();
    let short = short_commit(&checkout.commit);
    let phase = Phase::new("build", None);
    phase.say(&format!("building the benches of commit {short}"));
    let base_build = BenchBuild::build(
        &checkout.project_dir,
        &p.bench.cargo_args,
        &base_env(ctx, p, checkout)?,
    )?;
    phase.say("building the benches of the current code");
    let current_build = BenchBuild::build(ctx.cwd(), &p.bench.cargo_args, &[])?;
    drop(phase);
    let seconds = started.elapsed().as_secs_f64();
    for w in base_build.warnings.iter().chain(&current_build.warnings) {
        warn(w);
    }
    let ab = ctx.layout.ab_dir();
    let pair = BuildPair {
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
            p.current_env.clone(),
        )?,
        testbed: p.bench.testbed.clone(),
        pin_cpu: p.pin_cpu,
    };
    let mut build_notes: Vec<String> = pair
        .baseline
        .build
        .warnings
        .iter()
        .map(|w| format!("baseline commit: {w}"))
        .chain(
            pair.current
                .build
                .warnings
                .iter()
                .map(|w| format!("current build: {w}")),
        )
        .collect();
    if let Some(cpu) = p.pin_cpu {
        build_notes.push(format!(
            "the paired rounds ran on CPU {cpu} (--pin-cpu), both builds alike"
        ));
    }
    Ok((pair, build_notes, seconds))
}
