//! Compare: two snapshots and a config in, one row per benchmark and metric out, each with its
//! change, interval, p-value, threshold and verdict.
//!
//! A regression needs both a statistically significant change (p < alpha) and a confidence
//! interval lying wholly beyond the threshold: the threshold is the smallest change the team
//! cares about, the interval is the guard against noise. When the interval straddles the
//! threshold the verdict is "inconclusive", which does not fail the build.

pub mod metric;
pub mod noise;

use serde::Serialize;

use crate::baseline::schema::{Benchmark, Snapshot, Throughput};
use crate::config::{Config, OnMissing};
use crate::stats::{self, Change, StatsConfig, rng::seed_from};
pub use metric::Metric;
use metric::{format_ns, format_pct, format_rate, throughput_unit, throughput_value};

/// The verdict of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly worse, by more than the threshold.
    Regressed,
    /// In the baseline but not in the results.
    Missing,
    /// A regression beyond the threshold can be neither ruled out nor confirmed.
    Inconclusive,
    /// Significantly better, by more than the threshold.
    Improved,
    /// In the results but not in the baseline.
    New,
    /// Any change is within the threshold.
    Unchanged,
}

impl Verdict {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Missing => "missing",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Improved => "improved",
            Verdict::New => "new",
            Verdict::Unchanged => "unchanged",
        }
    }
}

/// One benchmark and metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub baseline: Option<f64>,
    /// Current value.
    pub current: Option<f64>,
    /// Unit of the values: `ns`, `B/s`, `elem/s`, `bit/s` or `iter/s`.
    pub unit: Option<String>,
    /// Relative change of the value (`current / baseline - 1`).
    pub change: Option<f64>,
    /// Lower end of the interval of the change.
    pub ci_low: Option<f64>,
    /// Upper end of the interval of the change.
    pub ci_high: Option<f64>,
    /// Two-sided p-value of "no change".
    pub p_value: Option<f64>,
    /// The threshold the verdict was judged against (relative: `-0.05` for throughput,
    /// `0.10` for latency): the configured one, widened for a noisy benchmark.
    pub threshold: Option<f64>,
    /// The configured threshold, before any widening for noise.
    pub configured_threshold: Option<f64>,
    /// The baseline's run-to-run noise of this metric (relative standard deviation), if
    /// measured (`baseline refresh --runs N`).
    pub noise: Option<f64>,
    /// The re-measurement that confirmed or overturned the first verdict (`check`), if any.
    pub confirmation: Option<crate::confirm::Confirmation>,
    /// The verdict in plain words.
    pub reason: String,
}

/// Verdict counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub alpha: f64,
    /// `k` of the noise rule in force (see [`noise`]).
    pub noise_factor: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Rows, most important first: failing regressions, then missing, inconclusive, other
    /// regressions, improvements, new, unchanged.
    pub rows: Vec<Row>,
    /// Verdict counts.
    pub counts: Counts,
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
    let stats_cfg = cfg.stats();
    let mut counts = Counts::default();
    let mut jobs: Vec<(&Benchmark, &Benchmark)> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();

    let base_ids: std::collections::BTreeMap<&str, &Benchmark> = baseline
        .benchmarks
        .iter()
        .map(|b| (b.id.as_str(), b))
        .collect();
    let cur_ids: std::collections::BTreeMap<&str, &Benchmark> = current
        .benchmarks
        .iter()
        .map(|b| (b.id.as_str(), b))
        .collect();

    for (id, cur) in &cur_ids {
        if cfg.is_ignored(id) {
            counts.ignored += 1;
            continue;
        }
        match base_ids.get(id) {
            Some(base) => jobs.push((base, cur)),
            None => rows.push(presence_row(id, Verdict::New, false)),
        }
    }
    for id in base_ids.keys().filter(|id| !cur_ids.contains_key(*id)) {
        if cfg.is_ignored(id) {
            counts.ignored += 1;
            continue;
        }
        let fails = cfg.policy_for(id).missing == OnMissing::Fail;
        rows.push(presence_row(id, Verdict::Missing, fails));
    }

    rows.extend(compare_all(&jobs, cfg, &stats_cfg));
    let mut cmp = Comparison {
        baseline_source: sources.baseline.clone(),
        results_source: sources.results.clone(),
        baseline_commit: baseline.git.as_ref().map(|g| g.commit.clone()),
        results_commit: current.git.as_ref().map(|g| g.commit.clone()),
        baseline_testbed: baseline.testbed.clone(),
        results_testbed: current.testbed.clone(),
        machine_mismatch: baseline.machine.differences(&current.machine),
        mismatch_fails: cfg.machine_mismatch == OnMissing::Fail,
        alpha: cfg.alpha,
        noise_factor: cfg.noise_factor,
        confidence: cfg.confidence,
        rows,
        counts,
    };
    cmp.recount();
    cmp
}

/// Runs the per-benchmark work on all cores: the bootstrap dominates a large comparison.
fn compare_all(
    jobs: &[(&Benchmark, &Benchmark)],
    cfg: &Config,
    stats_cfg: &StatsConfig,
) -> Vec<Row> {
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
                        .flat_map(|(b, c)| compare_benchmark(b, c, cfg, stats_cfg))
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
    let reason = match (verdict, fails) {
        (Verdict::New, _) => "new benchmark: not in the baseline".to_string(),
        (_, true) => {
            "in the baseline but not in these results (configured to fail: `missing = \"fail\"`)"
                .to_string()
        }
        _ => "in the baseline but not in these results".to_string(),
    };
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
        ci_low: None,
        ci_high: None,
        p_value: None,
        threshold: None,
        configured_threshold: None,
        noise: None,
        confirmation: None,
        reason,
    }
}

impl Row {
    /// The threshold as shown in reports: `-5.0%`, or `-12% (3 x noise 4.0%)` when the
    /// benchmark's run-to-run noise widened it, so the reader sees why.
    pub fn threshold_label(&self, noise_factor: f64) -> String {
        let Some(t) = self.threshold else {
            return "-".into();
        };
        match (self.configured_threshold, self.noise) {
            (Some(c), Some(n)) if c != t => {
                format!(
                    "{} ({noise_factor} x noise {})",
                    format_pct(t),
                    noise_pct(n)
                )
            }
            _ => format_pct(t),
        }
    }
}

/// A noise level as an unsigned percentage.
fn noise_pct(n: f64) -> String {
    format_pct(n).trim_start_matches('+').to_string()
}

/// The smallest sample count on a side for which a verdict is attempted.
pub const MIN_SAMPLES: usize = 2;

fn compare_benchmark(
    base: &Benchmark,
    cur: &Benchmark,
    cfg: &Config,
    sc: &StatsConfig,
) -> Vec<Row> {
    let policy = cfg.policy_for(&cur.id);
    let mut rows = Vec::new();
    for metric in Metric::ALL {
        let gated = policy.gate.contains(&metric);
        let configured = policy.thresholds.get(metric);
        let noise_level = base.noise.as_ref().and_then(|n| n.get(metric));
        let threshold = noise::effective_threshold(configured, noise_level, cfg.noise_factor);
        let seed = seed_from(&[&cur.id, metric.name()]);
        let (bv, cv, unit, change, n) = match metric.quantile() {
            None => {
                let (b, c) = (&base.samples.per_iter_ns, &cur.samples.per_iter_ns);
                let bv = throughput_value(base, stats::mean(b));
                let cv = throughput_value(cur, stats::mean(c));
                let n = b.len().min(c.len());
                let change = (n >= MIN_SAMPLES).then(|| stats::throughput_change(b, c, sc, seed));
                (bv, cv, throughput_unit(cur).to_string(), change, n)
            }
            Some(q) => {
                let (Some(bl), Some(cl)) = (&base.latency, &cur.latency) else {
                    continue;
                };
                let (bc, cc) = (bl.histogram.cumulative(), cl.histogram.cumulative());
                let n = bc.count().min(cc.count()) as usize;
                let change =
                    (n >= MIN_SAMPLES).then(|| stats::quantile_change(&bc, &cc, q, sc, seed));
                (bc.quantile(q), cc.quantile(q), "ns".to_string(), change, n)
            }
        };
        let verdict = change.map_or(Verdict::Inconclusive, |c| {
            judge(metric, &c, threshold, cfg.alpha)
        });
        let fmt_value = |v: f64| match metric {
            Metric::Throughput => format_rate(
                v,
                &unit,
                matches!(cur.throughput, Some(Throughput::Bytes(_))),
            ),
            _ => format_ns(v),
        };
        let reason = reason(
            metric,
            verdict,
            change.as_ref(),
            fmt_value(bv),
            fmt_value(cv),
            threshold,
            cfg.confidence,
            n,
        );
        rows.push(Row {
            benchmark: cur.id.clone(),
            metric: Some(metric),
            verdict,
            fails: gated && verdict == Verdict::Regressed,
            gated,
            baseline: Some(bv),
            current: Some(cv),
            unit: Some(unit),
            change: change.map(|c| c.estimate),
            ci_low: change.map(|c| c.ci_low),
            ci_high: change.map(|c| c.ci_high),
            p_value: change.map(|c| c.p_value),
            threshold: Some(threshold),
            configured_threshold: Some(configured),
            noise: noise_level,
            confirmation: None,
            reason,
        });
    }
    rows
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

#[allow(clippy::too_many_arguments)]
fn reason(
    metric: Metric,
    verdict: Verdict,
    change: Option<&Change>,
    base: String,
    cur: String,
    threshold: f64,
    confidence: f64,
    n: usize,
) -> String {
    let Some(c) = change else {
        return format!("{metric} {base} -> {cur}: only {n} sample(s), too few to tell");
    };
    let head = format!(
        "{metric} {} ({base} -> {cur}, {:.0}% CI {}..{})",
        format_pct(c.estimate),
        confidence * 100.0,
        format_pct(c.ci_low),
        format_pct(c.ci_high)
    );
    let thr = format_pct(threshold);
    match verdict {
        Verdict::Regressed => format!("{head} exceeds {thr}"),
        Verdict::Improved => format!("{head} better than {}", format_pct(-threshold)),
        Verdict::Unchanged => format!("{head} within {thr}"),
        _ => format!("{head} may exceed {thr}: too noisy to tell"),
    }
}

/// A warning when the two snapshots were measured with different perfgate profiles (`quick`
/// against `default`): their latency percentiles and means are not comparable, and such a
/// comparison flags many benchmarks for no reason. `None` when they match or either is unknown.
pub fn profile_mismatch(baseline: &Snapshot, current: &Snapshot) -> Option<String> {
    let (Some(b), Some(c)) = (&baseline.source.profile, &current.source.profile) else {
        return None;
    };
    (b != c).then(|| {
        format!(
            "the baseline was measured with the {b:?} profile and these results with the {c:?} profile; their figures are not comparable, so expect spurious verdicts (refresh a baseline with the same profile, or run without/with --quick to match)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(est: f64, lo: f64, hi: f64, p: f64) -> Change {
        Change {
            estimate: est,
            ci_low: lo,
            ci_high: hi,
            p_value: p,
        }
    }

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

    #[test]
    fn reason_reads_like_the_issue() {
        let r = reason(
            Metric::P99,
            Verdict::Regressed,
            Some(&ch(0.38, 0.31, 0.45, 0.001)),
            "12.1 µs".into(),
            "16.7 µs".into(),
            0.10,
            0.95,
            100,
        );
        assert_eq!(
            r,
            "p99 +38% (12.1 µs -> 16.7 µs, 95% CI +31%..+45%) exceeds +10%"
        );
    }

    #[test]
    fn profiles_that_differ_are_named() {
        let mut base = crate::testutil::snapshot("2026-11-24T00:00:00Z", vec![]);
        let mut cur = base.clone();
        assert_eq!(profile_mismatch(&base, &cur), None);
        base.source.profile = Some("default".into());
        assert_eq!(profile_mismatch(&base, &cur), None);
        cur.source.profile = Some("default".into());
        assert_eq!(profile_mismatch(&base, &cur), None);
        cur.source.profile = Some("quick".into());
        let w = profile_mismatch(&base, &cur).unwrap();
        assert!(
            w.contains("\"default\" profile") && w.contains("\"quick\" profile"),
            "{w}"
        );
    }
}
