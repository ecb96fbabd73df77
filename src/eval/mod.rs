//! `perfgate eval-noise`: how often the gate cries wolf, and how often it catches a real
//! regression, measured on this machine against a ground truth.
//!
//! The subject is the calibration benchmark (`benches/calibrate.rs`, [`calibrate`]), whose cost
//! can be raised by a known factor or given a known tail. The procedure:
//!
//! 1. measure the baseline: `noise_runs` runs of the unchanged code, combined as
//!    `baseline refresh --runs N` does (median run per benchmark, run-to-run noise stored);
//! 2. then `rounds` times: one run of the unchanged code saved as criterion's baseline
//!    `perfgate-eval` (`--save-baseline`), then, in an order rotated every round, one run of
//!    each variant (A/A: the same code again; A/B: 3%, 5% and 10% lower throughput, and 2% of
//!    operations 5x slower), each compared by perfgate with the baseline of step 1 and by
//!    criterion with its saved baseline (`--baseline perfgate-eval`, its own verdict read from
//!    its output).
//!
//! A/A rows count false alarms: perfgate per gated (benchmark, metric) comparison and per run
//! of the suite, criterion per benchmark ("Performance has regressed."). A/B rows count
//! detections per benchmark: perfgate when any gated metric of the benchmark fails, criterion
//! when it says the benchmark regressed.

pub mod calibrate;

use std::collections::BTreeMap;

use crate::baseline::schema::{Snapshot, SnapshotKind};
use crate::compare::{self, Sources};
use crate::config::Config;
use crate::error::Result;
use crate::vocab::{Metric, Verdict};

/// The criterion baseline name the eval saves the unchanged code's runs under.
pub const CRITERION_BASELINE: &str = "perfgate-eval";

/// Criterion's own verdict on one benchmark, as it prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriterionVerdict {
    /// "Performance has regressed."
    Regressed,
    /// "Performance has improved."
    Improved,
    /// "No change in performance detected."
    NoChange,
    /// "Change within noise threshold."
    WithinNoise,
}

/// Criterion's verdicts in the output of one `cargo bench`, by benchmark id (only the ids in
/// `ids`: the line naming a benchmark starts at column 0 with its id).
pub fn criterion_verdicts(log: &str, ids: &[&str]) -> BTreeMap<String, CriterionVerdict> {
    let mut out = BTreeMap::new();
    let mut current: Option<&str> = None;
    for line in log.lines() {
        // A line at column 0 starts a new block: a benchmark's result (its id first) or
        // something else (progress, another benchmark), which ends the previous one.
        if !line.is_empty() && !line.starts_with(char::is_whitespace) {
            let first = line.split_whitespace().next().unwrap_or_default();
            current = ids.iter().find(|id| **id == first).copied();
        }
        let verdict = if line.contains("Performance has regressed.") {
            CriterionVerdict::Regressed
        } else if line.contains("Performance has improved.") {
            CriterionVerdict::Improved
        } else if line.contains("No change in performance detected.") {
            CriterionVerdict::NoChange
        } else if line.contains("Change within noise threshold.") {
            CriterionVerdict::WithinNoise
        } else {
            continue;
        };
        if let Some(id) = current {
            out.insert(id.to_string(), verdict);
        }
    }
    out
}

/// One kind of comparison: the same code (A/A) or an injected regression (A/B).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// How the table names it.
    pub name: String,
    /// Environment of the bench run ([`calibrate::SLOWDOWN_ENV`], [`calibrate::TAIL_ENV`]).
    pub env: Vec<(String, String)>,
    /// Whether a regression was injected (A/B) or not (A/A).
    pub injected: bool,
}

/// The A/A variant and the A/B variants: throughput lowered by each of `drops`
/// (0.05: 5% fewer operations per second, a cost factor of 1/0.95), and a tail.
pub fn variants(drops: &[f64], tail: (f64, f64)) -> Vec<Variant> {
    let mut v = vec![Variant {
        name: "A/A (same code)".into(),
        env: Vec::new(),
        injected: false,
    }];
    for d in drops {
        v.push(Variant {
            name: format!("A/B throughput -{}%", d * 100.0),
            env: vec![(
                calibrate::SLOWDOWN_ENV.to_string(),
                format!("{}", 1.0 / (1.0 - d)),
            )],
            injected: true,
        });
    }
    v.push(Variant {
        name: format!("A/B tail: {}% of ops {}x slower", tail.0 * 100.0, tail.1),
        env: vec![(
            calibrate::TAIL_ENV.to_string(),
            format!("{}:{}", tail.0, tail.1),
        )],
        injected: true,
    });
    v
}

/// The counts of one variant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Runs of the suite compared.
    pub runs: usize,
    /// Runs that perfgate failed.
    pub runs_failed: usize,
    /// Gated (benchmark, metric) comparisons.
    pub comparisons: usize,
    /// Of those, failing.
    pub comparisons_failed: usize,
    /// Benchmarks compared.
    pub benchmarks: usize,
    /// Benchmarks with at least one failing metric (after confirmation, when enabled).
    pub benchmarks_failed: usize,
    /// Benchmarks with at least one failing metric in the first comparison.
    pub first_flagged: usize,
    /// Benchmarks criterion gave a verdict on.
    pub criterion_benchmarks: usize,
    /// Of those, the ones criterion said regressed.
    pub criterion_regressed: usize,
}

impl Tally {
    /// Adds one run: perfgate's comparison and criterion's verdicts on the same run.
    pub fn add(
        &mut self,
        cmp: &compare::Comparison,
        criterion: &BTreeMap<String, CriterionVerdict>,
    ) {
        self.runs += 1;
        self.runs_failed += usize::from(cmp.failed());
        let mut failed: BTreeMap<&str, bool> = BTreeMap::new();
        for r in cmp.rows.iter().filter(|r| r.metric.is_some()) {
            let f = failed.entry(r.benchmark.as_str()).or_default();
            *f |= r.fails;
            if r.gated {
                self.comparisons += 1;
                self.comparisons_failed += usize::from(r.fails);
            }
        }
        self.benchmarks += failed.len();
        self.benchmarks_failed += failed.values().filter(|f| **f).count();
        self.criterion_benchmarks += criterion.len();
        self.criterion_regressed += criterion
            .values()
            .filter(|v| **v == CriterionVerdict::Regressed)
            .count();
    }
}

/// What the evaluation measured.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Rounds run.
    pub rounds: u32,
    /// Runs the baseline (and its noise) came from.
    pub noise_runs: u32,
    /// Paired confirmation rounds (0: none).
    pub confirm_rounds: u32,
    /// Per variant, in [`variants`] order.
    pub results: Vec<(Variant, Tally)>,
    /// The baseline the comparisons were made against.
    pub baseline: Snapshot,
    /// Every re-measured (benchmark, metric): the first and the confirmed verdict and the
    /// per-round ratios they rest on.
    pub paired: Vec<Paired>,
}

/// One confirmation of one (benchmark, metric) in one round of the evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Paired {
    /// The evaluation round (from 1).
    pub round: u32,
    /// The variant's name.
    pub variant: String,
    /// The benchmark.
    pub benchmark: String,
    /// The metric.
    pub metric: Metric,
    /// The first comparison's change and verdict.
    pub first: (Option<f64>, Verdict),
    /// Paired rounds measured.
    pub rounds: usize,
    /// The confirmed change and verdict.
    pub confirmed: (Option<f64>, Verdict),
    /// The ratio `current / baseline` of each paired round.
    pub ratios: Vec<f64>,
}

/// Settings of an evaluation.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Rounds (each: one reference run and one run per variant).
    pub rounds: u32,
    /// Runs combined into the baseline.
    pub noise_runs: u32,
    /// Paired rounds confirming candidate regressions, as `check --confirm-rounds` (0: judge
    /// on the first comparison alone, as `compare` does).
    pub confirm_rounds: u32,
    /// The variants.
    pub variants: Vec<Variant>,
}

/// One run of the calibration suite: the environment and the harness arguments (after `--`)
/// in, the collected results and the full `cargo bench` output out.
pub type RunSuite<'a> =
    dyn FnMut(&[(String, String)], &[String]) -> Result<(Snapshot, String)> + 'a;

/// Confirmation of a variant's candidates, as `check` does it: the unchanged code and the
/// variant in up to `rounds` paired rounds of only `candidates`, in the order drawn from the
/// seed, each benchmark until `settled` says it is decided; returns what the rounds measured.
pub type ConfirmRounds<'a> = dyn FnMut(
        &Variant,
        &[String],
        u32,
        u64,
        &mut crate::confirm::Settled<'_>,
        &mut dyn FnMut(&str),
    ) -> Result<crate::confirm::rounds::Measured>
    + 'a;

/// Runs the evaluation (see the module documentation). `progress` receives one line per step.
pub fn evaluate(
    opts: &EvalOptions,
    cfg: &Config,
    run: &mut RunSuite<'_>,
    confirm: &mut ConfirmRounds<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<Evaluation> {
    let mut base_runs = Vec::new();
    for i in 1..=opts.noise_runs.max(1) {
        progress(&format!("baseline run {i} of {}", opts.noise_runs.max(1)));
        base_runs.push(run(&[], &[])?.0);
    }
    let mut baseline = compare::noise::combine(base_runs);
    baseline.kind = SnapshotKind::Baseline;
    let sources = Sources {
        baseline: format!("eval baseline ({} runs)", opts.noise_runs.max(1)),
        results: "eval run".into(),
    };
    let mut tallies = vec![Tally::default(); opts.variants.len()];
    let mut paired = Vec::new();
    let save = vec![
        "--save-baseline".to_string(),
        CRITERION_BASELINE.to_string(),
    ];
    let against = vec!["--baseline".to_string(), CRITERION_BASELINE.to_string()];
    for round in 0..opts.rounds {
        progress(&format!(
            "round {} of {}: reference run",
            round + 1,
            opts.rounds
        ));
        run(&[], &save)?;
        let n = opts.variants.len();
        for k in 0..n {
            // Rotate the order so no variant always runs first (or last) after the reference.
            let i = (k + round as usize) % n;
            let v = &opts.variants[i];
            progress(&format!(
                "round {} of {}: {}",
                round + 1,
                opts.rounds,
                v.name
            ));
            let (snap, log) = run(&v.env, &against)?;
            let mut cmp = compare::compare(&baseline, &snap, cfg, &sources);
            let first_flagged = flagged_benchmarks(&cmp);
            let label = format!("round {} of {}: {}", round + 1, opts.rounds, v.name);
            // A fixed seed per round and variant: the evaluation is repeatable.
            let seed = crate::stats::rng::seed_from(&[&v.name, &round.to_string()]);
            crate::confirm::confirm_candidates(
                &mut cmp,
                crate::confirm::Selection::Candidates,
                opts.confirm_rounds,
                seed,
                |candidates, settled| {
                    confirm(
                        v,
                        candidates,
                        opts.confirm_rounds,
                        seed,
                        settled,
                        &mut |m| progress(&format!("{label}: {m}")),
                    )
                },
            )?;
            for r in &cmp.rows {
                if let (Some(c), Some(m)) = (r.confirmation(), r.metric) {
                    paired.push(Paired {
                        round: round + 1,
                        variant: v.name.clone(),
                        benchmark: r.benchmark.clone(),
                        metric: m,
                        first: (c.first_change, c.first_verdict),
                        rounds: c.rounds,
                        confirmed: (r.change.map(|c| c.estimate), r.verdict),
                        ratios: c.ratios.clone(),
                    });
                }
            }
            let ids: Vec<&str> = snap.benchmarks.iter().map(|b| b.id.as_str()).collect();
            tallies[i].first_flagged += first_flagged;
            tallies[i].add(&cmp, &criterion_verdicts(&log, &ids));
        }
    }
    Ok(Evaluation {
        rounds: opts.rounds,
        noise_runs: opts.noise_runs.max(1),
        confirm_rounds: opts.confirm_rounds,
        results: opts.variants.iter().cloned().zip(tallies).collect(),
        baseline,
        paired,
    })
}

fn flagged_benchmarks(cmp: &compare::Comparison) -> usize {
    cmp.rows
        .iter()
        .filter(|r| r.fails && r.metric.is_some())
        .map(|r| r.benchmark.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::eval::render;

    const LOG: &str = "\
Benchmarking calibrate/throughput: Warming up for 1.0000 s
calibrate/throughput    time:   [1.5000 µs 1.5100 µs 1.5200 µs]
                        thrpt:  [657.89 Kelem/s 662.25 Kelem/s 666.67 Kelem/s]
                 change:
                        time:   [+4.6% +5.0% +5.4%] (p = 0.00 < 0.05)
                        thrpt:  [-5.1% -4.8% -4.4%]
                        Performance has regressed.
Benchmarking calibrate/latency: Collecting 50 samples in estimated 3.0 s
calibrate/latency
                        time:   [1.5000 µs 1.5100 µs 1.5200 µs]
                 change:
                        time:   [-0.4% +0.1% +0.6%] (p = 0.71 > 0.05)
                        No change in performance detected.
other/bench             time:   [1.0 ns 1.0 ns 1.0 ns]
                        Performance has improved.
";

    #[test]
    fn reads_criterion_verdicts() {
        let v = criterion_verdicts(LOG, &["calibrate/throughput", "calibrate/latency"]);
        assert_eq!(v.len(), 2);
        assert_eq!(v["calibrate/throughput"], CriterionVerdict::Regressed);
        assert_eq!(v["calibrate/latency"], CriterionVerdict::NoChange);
        let v = criterion_verdicts(LOG, &["other/bench", "calibrate/latency"]);
        assert_eq!(v["other/bench"], CriterionVerdict::Improved);
    }

    /// A fake suite: one benchmark whose time follows the slowdown in the environment, with
    /// criterion saying "regressed" whenever a slowdown is set.
    fn fake_run(env: &[(String, String)], harness: &[String]) -> Result<(Snapshot, String)> {
        let factor: f64 = env
            .iter()
            .find(|(k, _)| k == calibrate::SLOWDOWN_ENV)
            .map_or(1.0, |(_, v)| v.parse().unwrap());
        let per_iter: Vec<f64> = (0..50).map(|i| 1000.0 * factor + (i % 5) as f64).collect();
        let snap = crate::testutil::snapshot(
            "2026-11-24T00:00:00Z",
            vec![crate::testutil::bench("calibrate/throughput", per_iter)],
        );
        let verdict = match (harness.first().map(String::as_str), factor > 1.0) {
            (Some("--baseline"), true) => "Performance has regressed.",
            (Some("--baseline"), false) => "No change in performance detected.",
            _ => "",
        };
        Ok((
            snap,
            format!("calibrate/throughput time: [1 ns]\n    {verdict}\n"),
        ))
    }

    #[test]
    fn evaluate_counts_false_alarms_and_detections() {
        let opts = EvalOptions {
            rounds: 3,
            noise_runs: 2,
            confirm_rounds: 0,
            variants: variants(&[0.03, 0.2], (0.02, 5.0)),
        };
        let mut steps = Vec::new();
        let mut no_confirm = |_: &Variant,
                              _: &[String],
                              _: u32,
                              _: u64,
                              _: &mut crate::confirm::Settled<'_>,
                              _: &mut dyn FnMut(&str)|
         -> Result<crate::confirm::rounds::Measured> {
            panic!("confirmation is off")
        };
        let e = evaluate(
            &opts,
            &Config::default_config(),
            &mut fake_run,
            &mut no_confirm,
            &mut |m| steps.push(m.to_string()),
        )
        .unwrap();
        // 2 baseline runs, then per round a reference run and 4 variants.
        assert_eq!(steps.len(), 2 + 3 * 5);
        assert_eq!(steps[2], "round 1 of 3: reference run");
        assert_eq!(steps[3], "round 1 of 3: A/A (same code)");
        assert_eq!(steps[8], "round 2 of 3: A/B throughput -3%");
        let by_name = |n: &str| {
            e.results
                .iter()
                .find(|(v, _)| v.name.starts_with(n))
                .unwrap()
        };
        let (_, aa) = by_name("A/A");
        assert_eq!((aa.runs, aa.comparisons, aa.comparisons_failed), (3, 3, 0));
        assert_eq!((aa.criterion_benchmarks, aa.criterion_regressed), (3, 0));
        // -3% is within the default -5% threshold; -20% is caught every time.
        let (_, small) = by_name("A/B throughput -3%");
        assert_eq!((small.benchmarks_failed, small.criterion_regressed), (0, 3));
        let (_, big) = by_name("A/B throughput -20%");
        assert_eq!(
            (big.benchmarks, big.benchmarks_failed, big.runs_failed),
            (3, 3, 3)
        );
        let text = render(&e);
        assert!(text.contains("3 of 3 (100.0%)"), "{text}");
        assert!(
            text.contains("run-to-run noise of calibrate/throughput"),
            "{text}"
        );
    }

    #[test]
    fn evaluate_confirms_candidates_in_paired_rounds() {
        let opts = EvalOptions {
            rounds: 2,
            noise_runs: 1,
            confirm_rounds: 8,
            variants: variants(&[0.2], (0.02, 5.0)),
        };
        let mut steps = Vec::new();
        let mut confirmed = Vec::new();
        let mut confirm = |v: &Variant,
                           ids: &[String],
                           rounds: u32,
                           _seed: u64,
                           settled: &mut crate::confirm::Settled<'_>,
                           p: &mut dyn FnMut(&str)| {
            confirmed.push((v.name.clone(), ids.to_vec()));
            let mut m = crate::confirm::rounds::Measured {
                rounds: Vec::new(),
                benchmarks: ids.len(),
                looks: rounds as usize,
                replication: Vec::new(),
                budget_spent: false,
                notes: Vec::new(),
                build_seconds: None,
            };
            let looks = rounds as usize;
            let status = |settled: &mut crate::confirm::Settled<'_>,
                          m: &crate::confirm::rounds::Measured,
                          id: &str,
                          rep: bool| {
                settled(
                    id,
                    &crate::confirm::Evidence {
                        rounds: &m.rounds,
                        looks,
                        replication: rep.then_some(m.replication.as_slice()),
                    },
                )
            };
            for r in 0..rounds {
                p(&format!("paired round {}", r + 1));
                m.rounds
                    .push((fake_run(&[], &[])?.0, fake_run(&v.env, &[])?.0));
                if ids.iter().all(|id| status(settled, &m, id, false).settled) {
                    break;
                }
            }
            if ids
                .iter()
                .any(|id| status(settled, &m, id, false).regressed)
            {
                for r in 0..crate::confirm::REPLICATION_ROUNDS {
                    p(&format!("replication round {}", r + 1));
                    m.replication
                        .push((fake_run(&[], &[])?.0, fake_run(&v.env, &[])?.0));
                    if ids.iter().all(|id| status(settled, &m, id, true).settled) {
                        break;
                    }
                }
            }
            Ok(m)
        };
        let e = evaluate(
            &opts,
            &Config::default_config(),
            &mut fake_run,
            &mut confirm,
            &mut |m| steps.push(m.to_string()),
        )
        .unwrap();
        // Per round: reference, A/A, -20% (+7 paired rounds: a plan of 8 looks with
        // O'Brien-Fleming spending decides a clear regression at the 7th; +9 replication
        // rounds: the replication's plan of 16 looks confirms it at its first look, the 9th),
        // tail.
        assert_eq!(steps.len(), 1 + 2 * (4 + 7 + 9));
        assert_eq!(
            steps[5],
            "round 1 of 2: A/B throughput -20%: paired round 2"
        );
        let ids = vec!["calibrate/throughput".to_string()];
        assert_eq!(
            confirmed,
            vec![
                ("A/B throughput -20%".to_string(), ids.clone()),
                ("A/B throughput -20%".to_string(), ids)
            ]
        );
        let (_, big) = &e.results[1];
        assert_eq!((big.first_flagged, big.benchmarks_failed), (2, 2));
        assert_eq!(e.paired.len(), 2);
        let line = crate::report::eval::paired_line(&e.paired[0]);
        assert!(
            line.contains("ratios current/baseline: 0.8003 0.8003 0.8003"),
            "{}",
            line
        );
        let row_text = render(&e);
        assert!(
            row_text.contains("confirmed in 8 paired rounds"),
            "{row_text}"
        );
    }

    #[test]
    fn variants_inject_what_they_say() {
        let v = variants(&[0.05], (0.02, 5.0));
        assert_eq!(v.len(), 3);
        assert!(!v[0].injected && v[0].env.is_empty());
        let f: f64 = v[1].env[0].1.parse().unwrap();
        // A 5% throughput drop: each operation costs 1/0.95 as much.
        assert!((1.0 / f - 0.95).abs() < 1e-12);
        let c = calibrate::Calibration::parse(None, Some(&v[2].env[0].1)).unwrap();
        assert_eq!(c.tail, Some((0.02, 5.0)));
    }
}
