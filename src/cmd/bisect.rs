//! `perfgate bisect`: the first bad commit between a good and a bad one, each step a
//! same-machine A/B against the good commit's build ([`crate::bisect`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use super::{Ctx, note, out, plan, warn};
use crate::baseline::git;
use crate::bisect::{self, Bisection, Commit, Progress, Settings};
use crate::confirm::bench::{BenchBuild, BuildPair, SideRuns};
use crate::confirm::rounds::{self, Plan};
use crate::confirm::worktree::{self, Checkout};
use crate::confirm::{self, Evidence, Status};
use crate::error::{Error, Result};
use crate::report::bisect as view;
use crate::report::format::short_commit;
use crate::{EXIT_PASS, EXIT_REGRESSION};

/// Bisects, prints the result (and writes the JSON file), and returns 0 when a first bad
/// commit was found, 1 when the premise did not hold.
pub(super) fn run(ctx: &Ctx, p: plan::Bisect) -> Result<i32> {
    let commits: Vec<Commit> = git::first_parent_range(ctx.cwd(), &p.good, &p.bad)?
        .into_iter()
        .map(|(id, summary)| Commit { id, summary })
        .collect();
    let policy = ctx.config.policy_for(&p.bench_id);
    let settings = Settings {
        metric: p.metric,
        threshold: *policy.thresholds.get(p.metric),
        alpha: policy.alpha,
        rounds: p.rounds as usize,
    };
    let seed = super::seed_or_clock(p.seed);
    note(&format!(
        "bisecting {} {} over {} commits from {} (good) to {} (bad), seed {seed}",
        p.bench_id,
        p.metric,
        commits.len(),
        short_commit(&commits[0].id),
        short_commit(&commits[commits.len() - 1].id),
    ));
    let started = Instant::now();
    let mut lab = Lab {
        ctx,
        p: &p,
        commits: &commits,
        builds: HashMap::new(),
        seed,
        steps: 0,
    };
    let mut measure = |k: usize, settle: &mut dyn FnMut(&[f64]) -> bool| lab.ab(k, settle);
    let mut progress = |pr: &Progress| {
        let c = &commits[pr.commit];
        note(&format!(
            "{}: {} {} ({} candidate(s) left, at most {} step(s) after this; {} so far)",
            if pr.premise {
                "checking the bad commit against the good one".to_string()
            } else {
                "testing".to_string()
            },
            short_commit(&c.id),
            c.summary,
            pr.candidates,
            pr.steps_left,
            super::progress::clock(started.elapsed()),
        ))
    };
    let b = bisect::bisect(commits.clone(), settings, &mut measure, &mut progress)?;
    let doc = view::Doc {
        bisection: &b,
        bench_id: &p.bench_id,
        seed,
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Some(f) = &p.json {
        crate::baseline::store::write_atomic(f, view::json::render(&doc).as_bytes())?;
    }
    out(&view::text::render(&doc, ctx.color))?;
    Ok(exit_code(&b))
}

fn exit_code(b: &Bisection) -> i32 {
    if b.first_bad.is_some() {
        EXIT_PASS
    } else {
        EXIT_REGRESSION
    }
}

/// The commits' checkouts and builds, each made once, and the A/B of one against the good.
struct Lab<'a> {
    ctx: &'a Ctx,
    p: &'a plan::Bisect,
    commits: &'a [Commit],
    builds: HashMap<usize, (Checkout, BenchBuild)>,
    seed: u64,
    steps: u64,
}

impl Lab<'_> {
    fn target_dir(&self) -> Result<PathBuf> {
        match &self.p.ab_target_dir {
            Some(d) => self.ctx.layout.absolute(d),
            None => Ok(self.ctx.layout.bisect_target()),
        }
    }

    /// Commit `k`'s checkout and bench build, made on first use.
    fn build(&mut self, k: usize) -> Result<(Checkout, BenchBuild)> {
        if let Some(b) = self.builds.get(&k) {
            return Ok(b.clone());
        }
        let id = &self.commits[k].id;
        let checkout = worktree::prepare(self.ctx.cwd(), id, &self.ctx.layout.ab_dir())?;
        let kept = self.ctx.layout.ab_dir().join(format!(
            "bisect-bin-{}-{:016x}",
            short_commit(id),
            crate::stats::rng::seed_from(
                &self
                    .p
                    .bench
                    .cargo_args
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
            )
        ));
        let target = self.target_dir()?;
        let env = vec![("CARGO_TARGET_DIR".to_string(), target.display().to_string())];
        let build = match BenchBuild::kept(&kept, &self.p.bench.cargo_args, &env)? {
            Some(b) => {
                note(&format!(
                    "the benches of commit {} are built already ({})",
                    short_commit(id),
                    kept.display()
                ));
                b
            }
            None => {
                let phase = super::progress::Phase::new("build", None);
                phase.say(&format!(
                    "building the benches of commit {}",
                    short_commit(id)
                ));
                worktree::claim_target(&checkout, &target)?;
                let mut b =
                    BenchBuild::build(&checkout.project_dir, &self.p.bench.cargo_args, &env)
                        .map_err(|e| Error::Command(format!("commit {}: {e}", short_commit(id))))?;
                b.keep_in(&kept, &self.p.bench.cargo_args)?;
                b
            }
        };
        for w in &build.warnings {
            warn(&format!("commit {}: {w}", short_commit(id)));
        }
        if build.holding(&self.p.bench_id).next().is_none() {
            return Err(Error::Command(format!(
                "commit {} has no benchmark {:?} (its benches list {} others)",
                short_commit(id),
                self.p.bench_id,
                build.binaries.iter().map(|b| b.ids.len()).sum::<usize>()
            )));
        }
        self.builds.insert(k, (checkout.clone(), build.clone()));
        Ok((checkout, build))
    }

    fn side(&self, build: BenchBuild, checkout: &Checkout, name: &str) -> Result<SideRuns> {
        SideRuns::new(
            build,
            &checkout.project_dir,
            &self.ctx.layout.ab_dir().join(name),
            Vec::new(),
        )
    }

    /// Paired rounds of commit `k` against the good commit (0) until `settle` says the log
    /// ratios so far decide it, or the plan's rounds are done.
    fn ab(&mut self, k: usize, settle: &mut dyn FnMut(&[f64]) -> bool) -> Result<(Vec<f64>, f64)> {
        let t0 = Instant::now();
        let (good_co, good_build) = self.build(0)?;
        let (step_co, step_build) = self.build(k)?;
        let mut pair = BuildPair {
            baseline: self.side(good_build, &good_co, "bisect-good")?,
            current: self.side(step_build, &step_co, "bisect-step")?,
            testbed: self.p.bench.testbed.clone(),
            pin_cpu: self.p.pin_cpu,
        };
        self.steps += 1;
        let plan = Plan {
            rounds: self.p.rounds as usize,
            budget: None,
            seed: self.seed ^ self.steps.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            replication: 0,
        };
        let id = self.p.bench_id.clone();
        let metric = self.p.metric;
        let mut settled = |bench: &str, e: &Evidence<'_>| Status {
            settled: settle(&confirm::log_ratios(metric, bench, e.rounds)),
            regressed: false,
            doubtful: false,
        };
        let m = rounds::measure(
            &mut pair,
            std::slice::from_ref(&id),
            plan,
            &mut settled,
            &mut |_| {},
        )?;
        let logs = confirm::log_ratios(metric, &id, &m.rounds);
        if logs.is_empty() {
            return Err(Error::Command(format!(
                "the rounds of commit {} gave no {metric} of {id:?}: see {} and {}",
                short_commit(&self.commits[k].id),
                pair.current.log_path.display(),
                pair.baseline.log_path.display()
            )));
        }
        Ok((logs, t0.elapsed().as_secs_f64()))
    }
}
