//! Compare: two snapshots and a config in, one row per benchmark and metric out, each with its
//! change, interval, p-value, threshold and verdict.
//!
//! A regression needs both a statistically significant change (p < alpha) and a confidence
//! interval lying wholly beyond the threshold: the threshold is the smallest change the team
//! cares about, the interval is the guard against noise. When the interval straddles the
//! threshold the verdict is "inconclusive", which does not fail the build.
//!
//! The rows are decisions, not prose: the words a reader sees are written by [`crate::report`]
//! from these facts, and the published JSON report has types of its own there.

pub mod noise;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::baseline::schema::{Allocs, Benchmark, Snapshot};
use crate::config::{Config, OnInconclusive, OnMissing, Policy};
use crate::stats::{self, Change, rng::seed_from};
pub use crate::vocab::{Metric, Unit, Verdict};

/// One benchmark and metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Criterion's full id.
    pub benchmark: String,
    /// The metric; `None` for new and missing benchmarks.
    pub metric: Option<Metric>,
    /// The verdict.
    pub verdict: Verdict,
    /// Whether this row can fail the build (a gated metric, or a missing benchmark set to fail).
    pub fails: bool,
    /// Whether the metric is gated for this benchmark.
    pub gated: bool,
    /// Baseline value (ns for latency, per second for throughput).
    #[serde(with = "crate::vocab::lossless::option")]
    pub baseline: Option<f64>,
    /// Current value.
    #[serde(with = "crate::vocab::lossless::option")]
    pub current: Option<f64>,
    /// Unit of the values.
    pub unit: Option<Unit>,
    /// The change with its interval and p-value; `None` when there were too few samples.
    pub change: Option<Change>,
    /// The smaller of the two sides' sample counts (operations for latency metrics).
    pub samples: usize,
    /// The threshold the verdict was judged against (relative: `-0.05` for throughput,
    /// `0.10` for latency): the configured one, widened for a noisy benchmark.
    #[serde(with = "crate::vocab::lossless::option")]
    pub threshold: Option<f64>,
    /// The configured threshold, before any widening for noise.
    #[serde(with = "crate::vocab::lossless::option")]
    pub configured_threshold: Option<f64>,
    /// The baseline's run-to-run noise of this metric (relative standard deviation), if
    /// measured (`baseline refresh --runs N`).
    #[serde(with = "crate::vocab::lossless::option")]
    pub noise: Option<f64>,
    /// Whether that noise would have widened the threshold beyond the `noise_cap`: the stored
    /// baseline is too noisy to gate this metric, and `threshold` is the capped one.
    pub noise_capped: bool,
    /// For a row that ended undecided after paired rounds, the smallest change those rounds
    /// could have detected (relative, positive, in the metric's bad direction) at the policy's
    /// alpha with 80% power.
    #[serde(with = "crate::vocab::lossless::option")]
    pub mde: Option<f64>,
    /// What re-measuring the row in paired rounds (`check`) did to it, if it was a candidate.
    pub remeasure: Option<Remeasure>,
    /// For a count metric (allocations), whether it was judged by the exact rule: every sample
    /// of each side counted the same per operation. `false` for a count that varied, judged by
    /// the statistical rule like a timing.
    #[serde(default)]
    pub exact: bool,
}

/// The outcome of re-measuring a candidate row in paired rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Remeasure {
    /// Re-judged on the paired rounds: the row's verdict, change and threshold are now those
    /// of the rounds.
    Judged(Confirmation),
    /// Too few rounds had the benchmark (the number given), so the first verdict stands.
    TooFewRounds(usize),
}

/// How a row's verdict was re-judged on paired rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// Paired rounds measured.
    pub rounds: usize,
    /// The verdict of the first comparison.
    pub first_verdict: Verdict,
    /// The change measured by the first comparison.
    #[serde(with = "crate::vocab::lossless::option")]
    pub first_change: Option<f64>,
    /// The metric's ratio `current / baseline` in each paired round, in round order: what the
    /// verdict rests on, kept so that a surprising verdict can be checked.
    #[serde(with = "crate::vocab::lossless::vec")]
    pub ratios: Vec<f64>,
    /// The confidence of the row's interval: that of the sequential rule's last look
    /// (`1 - alpha_k`), which covers the change jointly with every earlier look.
    #[serde(with = "crate::vocab::lossless")]
    pub confidence: f64,
    /// The fresh rounds of a row the sequential rounds called regressed, or left undecided
    /// with its estimate beyond the threshold: `None` for any other row.
    pub replication: Option<Replication>,
}

/// Why a row got fresh paired rounds after the sequential ones, which says the rule they are
/// judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplicationOf {
    /// The sequential rounds called it regressed: the fresh rounds replicate the regression by
    /// the milder rule of `crate::stats::paired::Sequential::replicate`, and the row fails only
    /// when they confirm it.
    Regressed,
    /// The sequential rounds left it undecided with its estimate beyond the threshold (one or
    /// two far-off rounds can keep the signed-rank interval of a real regression from
    /// clearing no change): the fresh rounds decide it on their own by the sequential rule
    /// itself (`crate::stats::paired::Sequential::decide`), and their decision is the row's.
    Undecided,
}

/// Fresh paired rounds of a benchmark after the sequential ones, judged on their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    /// Why the row got them.
    pub of: ReplicationOf,
    /// The metric's ratio `current / baseline` in each replication round.
    #[serde(with = "crate::vocab::lossless::vec")]
    pub ratios: Vec<f64>,
    /// The change the replication measured, when it has rounds enough for one.
    pub change: Option<Change>,
    /// Whether it found the regression: confirmed it (after `Regressed`) or decided it
    /// (after `Undecided`).
    pub confirmed: bool,
}

impl Row {
    /// The confirmation, when the row was re-judged on paired rounds.
    pub fn confirmation(&self) -> Option<&Confirmation> {
        match &self.remeasure {
            Some(Remeasure::Judged(c)) => Some(c),
            _ => None,
        }
    }
}

/// Verdict counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Rows that fail the build.
    pub failing: usize,
    /// Regressed rows (gated or not).
    pub regressed: usize,
    /// Improved rows.
    pub improved: usize,
    /// Unchanged rows.
    pub unchanged: usize,
    /// Inconclusive rows.
    pub inconclusive: usize,
    /// New benchmarks.
    pub new: usize,
    /// Missing benchmarks.
    pub missing: usize,
    /// Benchmarks left out by the ignore list.
    pub ignored: usize,
}

/// The result of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Where the baseline came from (a path, or `ref:path`).
    pub baseline_source: String,
    /// Where the results came from.
    pub results_source: String,
    /// The baseline's commit, if recorded.
    pub baseline_commit: Option<String>,
    /// The results' commit, if recorded.
    pub results_commit: Option<String>,
    /// The baseline's testbed.
    pub baseline_testbed: String,
    /// The results' testbed.
    pub results_testbed: String,
    /// Differences between the machines; empty when they match.
    pub machine_mismatch: Vec<String>,
    /// Whether the mismatch alone fails the comparison (config `machine_mismatch = "fail"`).
    pub mismatch_fails: bool,
    /// Significance level used.
    #[serde(with = "crate::vocab::lossless")]
    pub alpha: f64,
    /// `k` of the noise rule in force (see [`noise`]).
    #[serde(with = "crate::vocab::lossless")]
    pub noise_factor: f64,
    /// Confidence level of the intervals.
    #[serde(with = "crate::vocab::lossless")]
    pub confidence: f64,
    /// Rows, most important first: failing regressions, then missing, inconclusive, other
    /// regressions, improvements, new, unchanged.
    pub rows: Vec<Row>,
    /// Verdict counts.
    pub counts: Counts,
    /// The policy of every compared benchmark, resolved once: a confirmation re-judges rows
    /// under the same policy.
    pub policies: BTreeMap<String, Policy>,
    /// What the reader must know about how the verdicts were reached (a one-run baseline, a
    /// bench left out of the paired rounds, a budget that ran out...), in plain words.
    pub notes: Vec<String>,
    /// The paired rounds of a same-machine A/B, when `check` ran them.
    pub ab: Option<AbRun>,
    /// An error that ended the paired rounds early: the verdicts are the first comparison's.
    pub error: Option<String>,
}

/// How the paired rounds of a same-machine A/B were run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbRun {
    /// The seed of the randomized order of sides and benchmarks.
    pub seed: u64,
    /// Rounds measured (the most any benchmark got).
    pub rounds: usize,
    /// Benchmarks measured.
    pub benchmarks: usize,
    /// Whether every gated benchmark was measured (`ab = "always"`) or only the candidates.
    pub all: bool,
    /// Whether the time budget ended the rounds before every benchmark was decided.
    pub budget_spent: bool,
    /// How long building the two sides' benches took, in seconds (outside the budget; a
    /// first build of the baseline commit is the long one, a cached one takes seconds).
    #[serde(with = "crate::vocab::lossless::option")]
    pub build_seconds: Option<f64>,
}

impl Comparison {
    /// Sorts the rows (most important first) and recounts the verdicts, after the rows were
    /// built or changed (a confirmation re-judges some of them).
    pub fn recount(&mut self) {
        self.rows.sort_by(|a, b| {
            (!a.fails, a.verdict, &a.benchmark, a.metric).cmp(&(
                !b.fails,
                b.verdict,
                &b.benchmark,
                b.metric,
            ))
        });
        let ignored = self.counts.ignored;
        let counts = &mut self.counts;
        *counts = Counts {
            ignored,
            ..Counts::default()
        };
        for r in &self.rows {
            counts.failing += usize::from(r.fails);
            match r.verdict {
                Verdict::Regressed => counts.regressed += 1,
                Verdict::Improved => counts.improved += 1,
                Verdict::Unchanged => counts.unchanged += 1,
                Verdict::Inconclusive => counts.inconclusive += 1,
                Verdict::New => counts.new += 1,
                Verdict::Missing => counts.missing += 1,
            }
        }
    }

    /// Whether the build should fail.
    pub fn failed(&self) -> bool {
        self.counts.failing > 0 || (self.mismatch_fails && !self.machine_mismatch.is_empty())
    }

    /// The number of rows that compare a metric (new and missing benchmarks are not counted).
    pub fn compared(&self) -> usize {
        self.rows.iter().filter(|r| r.metric.is_some()).count()
    }
}

/// Labels for the two sides, used in reports.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The baseline's label.
    pub baseline: String,
    /// The results' label.
    pub results: String,
}

/// Compares `current` against `baseline`.
pub fn compare(
    baseline: &Snapshot,
    current: &Snapshot,
    cfg: &Config,
    sources: &Sources,
) -> Comparison {
    let mut counts = Counts::default();
    let mut jobs: Vec<(&Benchmark, &Benchmark, &Policy)> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();

    let base_ids: BTreeMap<&str, &Benchmark> = baseline
        .benchmarks
        .iter()
        .map(|b| (b.id.as_str(), b))
        .collect();
    let cur_ids: BTreeMap<&str, &Benchmark> = current
        .benchmarks
        .iter()
        .map(|b| (b.id.as_str(), b))
        .collect();
    let policies: BTreeMap<String, Policy> = base_ids
        .keys()
        .chain(cur_ids.keys())
        .filter(|id| !cfg.is_ignored(id))
        .map(|id| (id.to_string(), cfg.policy_for(id)))
        .collect();

    for (id, cur) in &cur_ids {
        let Some(policy) = policies.get(*id) else {
            counts.ignored += 1;
            continue;
        };
        match base_ids.get(id) {
            Some(base) => jobs.push((base, cur, policy)),
            None => rows.push(presence_row(id, Verdict::New, false)),
        }
    }
    for id in base_ids.keys().filter(|id| !cur_ids.contains_key(*id)) {
        let Some(policy) = policies.get(*id) else {
            counts.ignored += 1;
            continue;
        };
        rows.push(presence_row(
            id,
            Verdict::Missing,
            policy.missing == OnMissing::Fail,
        ));
    }

    rows.extend(compare_all(&jobs));
    let d = &cfg.defaults;
    let mut cmp = Comparison {
        baseline_source: sources.baseline.clone(),
        results_source: sources.results.clone(),
        baseline_commit: baseline.git.as_ref().map(|g| g.commit.clone()),
        results_commit: current.git.as_ref().map(|g| g.commit.clone()),
        baseline_testbed: baseline.testbed.clone(),
        results_testbed: current.testbed.clone(),
        machine_mismatch: baseline.machine.differences(&current.machine),
        mismatch_fails: cfg.machine_mismatch == OnMissing::Fail,
        alpha: d.alpha,
        noise_factor: d.noise_factor,
        confidence: d.confidence,
        rows,
        counts,
        policies,
        notes: Vec::new(),
        ab: None,
        error: None,
    };
    if baseline.stores_no_noise() {
        cmp.notes.push(ONE_RUN_NOTE.to_string());
    }
    cmp.recount();
    cmp
}

/// The note on a comparison against a baseline that stores no run-to-run noise.
pub const ONE_RUN_NOTE: &str = "the baseline was measured in one run, so it stores no run-to-run noise: a drift between runs reads as a change (refresh it with `perfgate baseline refresh --runs 3` or more)";

/// Runs the per-benchmark work on all cores: the bootstrap dominates a large comparison.
fn compare_all(jobs: &[(&Benchmark, &Benchmark, &Policy)]) -> Vec<Row> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let chunk = jobs.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .flat_map(|(b, c, p)| compare_benchmark(b, c, p))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("comparison threads do not panic"))
            .collect()
    })
}

fn presence_row(id: &str, verdict: Verdict, fails: bool) -> Row {
    Row {
        benchmark: id.to_string(),
        metric: None,
        verdict,
        fails,
        gated: fails,
        baseline: None,
        current: None,
        unit: None,
        change: None,
        samples: 0,
        threshold: None,
        configured_threshold: None,
        noise: None,
        noise_capped: false,
        mde: None,
        remeasure: None,
        exact: false,
    }
}

/// The smallest sample count on a side for which a verdict is attempted.
pub const MIN_SAMPLES: usize = 2;

fn compare_benchmark(base: &Benchmark, cur: &Benchmark, policy: &Policy) -> Vec<Row> {
    let sc = policy.stats();
    let mut rows = Vec::new();
    for metric in Metric::ALL {
        let gated = policy.gate.contains(&metric);
        let configured = *policy.thresholds.get(metric);
        let noise_level = base.noise.as_ref().and_then(|n| n.get(metric));
        let (threshold, noise_capped) = noise::capped_threshold(
            configured,
            noise_level,
            policy.noise_factor,
            policy.noise_cap,
        );
        let seed = seed_from(&[&cur.id, metric.name()]);
        let mut exact = false;
        let (bv, cv, unit, change, n) = match metric.quantile() {
            None if metric.is_count() => {
                let (Some(ba), Some(ca)) = (&base.allocs, &cur.allocs) else {
                    continue;
                };
                let c = count_values(ba, ca, metric, &sc, seed);
                exact = c.change.exact;
                (
                    c.baseline,
                    c.current,
                    c.unit,
                    Some(c.change.change),
                    c.samples,
                )
            }
            None => {
                let (b, c) = (&base.samples.per_iter_ns, &cur.samples.per_iter_ns);
                let bv = base.throughput_per_sec(stats::mean(b));
                let cv = cur.throughput_per_sec(stats::mean(c));
                let n = b.len().min(c.len());
                let change = (n >= MIN_SAMPLES).then(|| stats::throughput_change(b, c, &sc, seed));
                (bv, cv, cur.throughput_unit(), change, n)
            }
            Some(q) => {
                let (Some(bl), Some(cl)) = (&base.latency, &cur.latency) else {
                    continue;
                };
                let (bc, cc) = (bl.histogram.cumulative(), cl.histogram.cumulative());
                let n = bc.count().min(cc.count()) as usize;
                let change =
                    (n >= MIN_SAMPLES).then(|| stats::quantile_change(&bc, &cc, q, &sc, seed));
                (bc.quantile(q), cc.quantile(q), Unit::Nanos, change, n)
            }
        };
        let verdict = change.map_or(Verdict::Inconclusive, |c| {
            judge(metric, &c, threshold, policy.alpha)
        });
        rows.push(Row {
            benchmark: cur.id.clone(),
            metric: Some(metric),
            verdict,
            fails: gated && fails(policy, verdict),
            gated,
            baseline: Some(bv),
            current: Some(cv),
            unit: Some(unit),
            change,
            samples: n,
            threshold: Some(threshold),
            configured_threshold: Some(configured),
            noise: noise_level,
            noise_capped,
            mde: None,
            remeasure: None,
            exact,
        });
    }
    rows
}

/// A count metric's values on both sides, with its change and the rule it was judged by.
pub struct CountValues {
    /// The baseline's count per operation.
    pub baseline: f64,
    /// The current count per operation.
    pub current: f64,
    /// Its unit.
    pub unit: Unit,
    /// The change, exact or statistical.
    pub change: stats::CountChange,
    /// The smaller side's sample count.
    pub samples: usize,
}

/// Compares the counts of `metric` (a count metric) of two measurements: the first
/// comparison's rule, and the paired rounds' on each side's rounds pooled.
pub fn count_values(
    base: &Allocs,
    cur: &Allocs,
    metric: Metric,
    sc: &stats::StatsConfig,
    seed: u64,
) -> CountValues {
    let (b, c) = (base.samples(metric), cur.samples(metric));
    let (baseline, current) = (
        base.per_op(metric).unwrap_or(0.0),
        cur.per_op(metric).unwrap_or(0.0),
    );
    CountValues {
        baseline,
        current,
        unit: metric.count_unit().unwrap_or(Unit::AllocsPerOp),
        change: stats::count_change(b, c, baseline, current, sc, seed),
        samples: b.len().min(c.len()),
    }
}

/// Whether a gated row with this verdict fails the build under `policy`: a regression always,
/// an undecided row when the policy says `inconclusive = "fail"`.
pub fn fails(policy: &Policy, verdict: Verdict) -> bool {
    match verdict {
        Verdict::Regressed => true,
        Verdict::Inconclusive => policy.inconclusive == OnInconclusive::Fail,
        _ => false,
    }
}

/// The verdict rule. `threshold` is signed in the bad direction (negative for throughput).
pub fn judge(metric: Metric, c: &Change, threshold: f64, alpha: f64) -> Verdict {
    // Map the interval into "badness": positive is worse, whatever the metric's direction.
    let sign = if metric.higher_is_better() { -1.0 } else { 1.0 };
    let (a, b) = (sign * c.ci_low, sign * c.ci_high);
    let (bad_min, bad_max) = (a.min(b), a.max(b));
    let thr = threshold.abs();
    let significant = c.p_value < alpha;
    if significant && bad_min > thr {
        Verdict::Regressed
    } else if significant && bad_max < -thr {
        Verdict::Improved
    } else if bad_max <= thr {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// The two snapshots' perfgate profiles when they differ (`quick` against `default`): their
/// latency percentiles and means are not comparable, and such a comparison flags many
/// benchmarks for no reason. `None` when they match or either is unknown.
pub fn profile_mismatch<'a>(
    baseline: &'a Snapshot,
    current: &'a Snapshot,
) -> Option<(&'a str, &'a str)> {
    let (Some(b), Some(c)) = (&baseline.source.profile, &current.source.profile) else {
        return None;
    };
    (b != c).then_some((b.as_str(), c.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::change as ch;

    #[test]
    fn verdict_rule() {
        let t = Metric::Throughput;
        assert_eq!(
            judge(t, &ch(-0.2, -0.25, -0.15, 0.001), -0.05, 0.05),
            Verdict::Regressed
        );
        assert_eq!(
            judge(t, &ch(-0.2, -0.25, -0.03, 0.001), -0.05, 0.05),
            Verdict::Inconclusive
        );
        assert_eq!(
            judge(t, &ch(-0.2, -0.25, -0.15, 0.2), -0.05, 0.05),
            Verdict::Inconclusive
        );
        assert_eq!(
            judge(t, &ch(-0.01, -0.03, 0.01, 0.3), -0.05, 0.05),
            Verdict::Unchanged
        );
        assert_eq!(
            judge(t, &ch(0.2, 0.15, 0.25, 0.001), -0.05, 0.05),
            Verdict::Improved
        );
        assert_eq!(
            judge(t, &ch(0.03, 0.02, 0.04, 0.001), -0.05, 0.05),
            Verdict::Unchanged
        );
        let p = Metric::P99;
        assert_eq!(
            judge(p, &ch(0.38, 0.31, 0.45, 0.001), 0.10, 0.05),
            Verdict::Regressed
        );
        assert_eq!(
            judge(p, &ch(-0.38, -0.45, -0.31, 0.001), 0.10, 0.05),
            Verdict::Improved
        );
        assert_eq!(
            judge(p, &ch(0.05, -0.02, 0.12, 0.1), 0.10, 0.05),
            Verdict::Inconclusive
        );
    }
}
