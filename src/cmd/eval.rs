//! `perfgate eval-noise`: the gate's false-alarm and detection rates on this machine, measured
//! with the calibration bench (see [`crate::eval`]).

use super::{Ctx, note, out, plan, suite};
use crate::EXIT_PASS;
use crate::confirm::bench::{BenchBuild, BuildPair, SideRuns};
use crate::error::{Error, Result};
use crate::eval::{self, calibrate::Calibration};

/// The cargo arguments that select the calibration bench.
fn calibrate_args() -> Vec<String> {
    vec!["--bench".to_string(), "calibrate".to_string()]
}

/// Runs the evaluation and prints its table.
pub(super) fn run(ctx: &Ctx, p: plan::EvalNoise) -> Result<i32> {
    let cal = Calibration::parse(None, Some(&p.tail))
        .map_err(|e| Error::Usage(format!("--tail: {e}")))?;
    let tail = cal.tail.unwrap_or((0.0, 1.0));
    if let Some(d) = p.drops.iter().find(|d| !(**d > 0.0 && **d < 90.0)) {
        return Err(Error::Usage(format!(
            "--drops: {d} is not a percentage in (0, 90)"
        )));
    }
    let drops: Vec<f64> = p.drops.iter().map(|d| d / 100.0).collect();
    let opts = eval::EvalOptions {
        rounds: p.rounds,
        noise_runs: p.noise_runs,
        confirm_rounds: p.confirm_rounds,
        variants: eval::variants(&drops, tail),
    };
    let dir = ctx.layout.eval_dir();
    let output = dir.join("results.json");
    let mut run = |env: &[(String, String)], harness: &[String]| {
        let mut cargo_args = calibrate_args();
        if !harness.is_empty() {
            cargo_args.push("--".into());
            cargo_args.extend(harness.iter().cloned());
        }
        let bench = plan::Bench {
            criterion_dir: p.criterion_dir.clone(),
            quick: p.quick,
            testbed: None,
            cargo_args,
        };
        let snap = suite::run_suite(&bench, &output, ctx.cwd(), env)?;
        let log_path = output.with_file_name("bench.log");
        let log = std::fs::read_to_string(&log_path).map_err(|e| Error::io(&log_path, e))?;
        Ok((snap, log))
    };
    // Confirmation as `check` does it, except that both sides are the same build and only the
    // environment (the injected regression) differs.
    let mut build: Option<BenchBuild> = None;
    let mut confirm = |v: &eval::Variant,
                       candidates: &[String],
                       rounds: u32,
                       seed: u64,
                       settled: &mut crate::confirm::Settled<'_>,
                       progress: &mut dyn FnMut(&str)| {
        let b = match &build {
            Some(b) => b.clone(),
            None => build
                .insert(BenchBuild::build(ctx.cwd(), &calibrate_args(), &[])?)
                .clone(),
        };
        let mut pair = BuildPair {
            baseline: SideRuns::new(b.clone(), ctx.cwd(), &dir.join("confirm-base"), Vec::new())?,
            current: SideRuns::new(b, ctx.cwd(), &dir.join("confirm-variant"), v.env.clone())?,
            testbed: None,
            pin_cpu: None,
        };
        let plan = crate::confirm::rounds::Plan {
            rounds: rounds as usize,
            budget: None,
            seed,
            replication: crate::confirm::REPLICATION_ROUNDS,
        };
        crate::confirm::rounds::measure(&mut pair, candidates, plan, settled, progress)
    };
    let e = eval::evaluate(&opts, &ctx.config, &mut run, &mut confirm, &mut |m| {
        note(&format!("eval-noise: {m}"))
    })?;
    if !e.paired.is_empty() {
        let path = dir.join("paired-rounds.txt");
        let lines: Vec<String> = e
            .paired
            .iter()
            .map(crate::report::eval::paired_line)
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").map_err(|err| Error::io(&path, err))?;
        note(&format!(
            "eval-noise: the paired rounds of every confirmation -> {}",
            path.display()
        ));
    }
    out(&crate::report::eval::render(&e))?;
    Ok(EXIT_PASS)
}
