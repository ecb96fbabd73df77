//! Confirmation: before failing a build, re-measure the candidate regressions with the
//! baseline commit's build and the current build interleaved on the same machine, and judge on
//! the paired differences.
//!
//! A comparison against a stored baseline mixes the change under test with everything that
//! differs between the two runs (the time of day, the neighbours on a shared runner, a kernel
//! update). `perfgate check` therefore treats its first verdicts as candidates: every benchmark
//! with a gated metric that regressed, or that is inconclusive with its point estimate beyond
//! the threshold, is run again in `rounds` rounds, each running the baseline commit's build
//! and the current build back to back, benchmark by benchmark, in alternating order
//! ([`rounds`]), straight from the bench binaries ([`bench`]). The verdict then rests on the
//! per-round ratios `current / baseline`: their geometric mean, a Student-t
//! interval of the mean log ratio (df = rounds - 1) and its p-value, judged by the usual rule
//! ([`crate::compare::judge`]) against the configured threshold, not widened for noise, since
//! pairing cancels the drift between runs. The benchmark's policy (threshold, alpha,
//! confidence) is the one the comparison resolved for it.

pub mod bench;
pub mod rounds;
pub mod worktree;

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::baseline::schema::{Benchmark, Snapshot};
use crate::compare::noise::metric_value;
use crate::compare::{Comparison, Confirmation, Metric, Remeasure, Row, Verdict, judge};
use crate::error::Result;
use crate::stats::{self, Change};

/// The check flow after the first comparison, written once for `check`, `check --ab` and the
/// evaluation: pick the candidates, have `measure` run them in paired rounds (`None`: they
/// cannot be re-measured, and the first verdicts stand), re-judge their rows. Returns the
/// candidates.
pub fn confirm_candidates(
    cmp: &mut Comparison,
    rounds: u32,
    measure: impl FnOnce(&[String]) -> Result<Option<Vec<(Snapshot, Snapshot)>>>,
) -> Result<Vec<String>> {
    let candidates = candidates(cmp);
    if rounds > 0
        && !candidates.is_empty()
        && let Some(pairs) = measure(&candidates)?
    {
        apply(cmp, &candidates, &pairs);
    }
    Ok(candidates)
}

/// The benchmarks worth re-measuring: those with a gated metric that regressed, or that is
/// inconclusive with its point estimate worse than the configured threshold.
pub fn candidates(cmp: &Comparison) -> Vec<String> {
    let mut ids: Vec<String> = cmp
        .rows
        .iter()
        .filter(|r| r.gated && r.metric.is_some())
        .filter(|r| match r.verdict {
            Verdict::Regressed => true,
            Verdict::Inconclusive => worse_than_configured(r),
            _ => false,
        })
        .map(|r| r.benchmark.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn worse_than_configured(r: &Row) -> bool {
    let (Some(m), Some(c), Some(t)) = (r.metric, r.change, r.configured_threshold) else {
        return false;
    };
    let c = c.estimate;
    let badness = if m.higher_is_better() { -c } else { c };
    badness > t.abs()
}

/// The ratios `current / baseline` of `metric` in the rounds where both sides have a positive
/// value.
pub fn paired_ratios(metric: Metric, pairs: &[(&Benchmark, &Benchmark)]) -> Vec<f64> {
    pairs
        .iter()
        .filter_map(|(b, c)| Some((metric_value(b, metric)?, metric_value(c, metric)?)))
        .filter(|(b, c)| *b > 0.0 && *c > 0.0)
        .map(|(b, c)| c / b)
        .collect()
}

/// The change of `metric` over paired rounds `(baseline run, current run)`; `None` with fewer
/// than two usable rounds.
pub fn paired_change(
    metric: Metric,
    pairs: &[(&Benchmark, &Benchmark)],
    confidence: f64,
) -> Option<Change> {
    let logs: Vec<f64> = paired_ratios(metric, pairs)
        .into_iter()
        .map(f64::ln)
        .collect();
    let n = logs.len();
    if n < 2 {
        return None;
    }
    let m = stats::mean(&logs);
    let se = (stats::variance(&logs) / n as f64).sqrt();
    if se == 0.0 || !se.is_finite() {
        let p = if m == 0.0 { 1.0 } else { 0.0 };
        return Some(Change {
            estimate: m.exp_m1(),
            ci_low: m.exp_m1(),
            ci_high: m.exp_m1(),
            p_value: p,
        });
    }
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
    let q = t.inverse_cdf(0.5 + confidence / 2.0);
    Some(Change {
        estimate: m.exp_m1(),
        ci_low: (m - q * se).exp_m1(),
        ci_high: (m + q * se).exp_m1(),
        p_value: (2.0 * (1.0 - t.cdf((m / se).abs()))).clamp(0.0, 1.0),
    })
}

/// Re-judges the gated rows of `benchmarks` on the paired rounds `(baseline run, current run)`,
/// each under the policy the comparison resolved for it, and recounts the comparison.
pub fn apply(cmp: &mut Comparison, benchmarks: &[String], rounds: &[(Snapshot, Snapshot)]) {
    for row in cmp.rows.iter_mut() {
        let Some(metric) = row.metric else { continue };
        if !row.gated || !benchmarks.contains(&row.benchmark) {
            continue;
        }
        let Some(policy) = cmp.policies.get(&row.benchmark) else {
            continue;
        };
        let pairs: Vec<(&Benchmark, &Benchmark)> = rounds
            .iter()
            .filter_map(|(b, c)| Some((find(b, &row.benchmark)?, find(c, &row.benchmark)?)))
            .collect();
        let Some(change) = paired_change(metric, &pairs, policy.confidence) else {
            row.remeasure = Some(Remeasure::TooFewRounds(pairs.len()));
            continue;
        };
        let threshold = *policy.thresholds.get(metric);
        let verdict = judge(metric, &change, threshold, policy.alpha);
        row.remeasure = Some(Remeasure::Judged(Confirmation {
            rounds: pairs.len(),
            first_verdict: row.verdict,
            first_change: row.change.map(|c| c.estimate),
            ratios: paired_ratios(metric, &pairs),
        }));
        row.verdict = verdict;
        row.fails = verdict == Verdict::Regressed;
        row.change = Some(change);
        row.threshold = Some(threshold);
    }
    cmp.recount();
}

fn find<'a>(s: &'a Snapshot, id: &str) -> Option<&'a Benchmark> {
    s.benchmarks.iter().find(|b| b.id == id)
}

/// A criterion filter matching exactly the given benchmark ids (criterion's filter is a
/// regular expression over the full id, of the `regex` crate's syntax, whose own escaping is
/// used here).
pub fn exact_filter(ids: &[String]) -> String {
    let escaped: Vec<String> = ids.iter().map(|id| regex_syntax::escape(id)).collect();
    format!("^(?:{})$", escaped.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(id: &str, mean: f64) -> Benchmark {
        crate::testutil::bench(id, vec![mean, mean])
    }

    #[test]
    fn paired_rounds_cancel_drift() {
        // The machine drifts by +-10% between rounds; the change is a steady 8% slowdown.
        let drift = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0];
        let base: Vec<Benchmark> = drift.iter().map(|d| bench("a", 1000.0 * d)).collect();
        let cur: Vec<Benchmark> = drift
            .iter()
            .map(|d| bench("a", 1080.0 * d * 1.001))
            .collect();
        let pairs: Vec<(&Benchmark, &Benchmark)> = base.iter().zip(&cur).collect();
        let c = paired_change(Metric::Throughput, &pairs, 0.95).unwrap();
        assert!((c.estimate - (1.0 / 1.08108 - 1.0)).abs() < 1e-3, "{c:?}");
        assert!(c.ci_high < -0.05 && c.p_value < 0.05, "{c:?}");
        assert_eq!(
            judge(Metric::Throughput, &c, -0.05, 0.05),
            Verdict::Regressed
        );

        // The same code: no consistent change, whatever the drift.
        let cur: Vec<Benchmark> = drift
            .iter()
            .zip([1.01, 0.99, 1.005, 0.995, 1.0, 1.002])
            .map(|(d, e)| bench("a", 1000.0 * d * e))
            .collect();
        let pairs: Vec<(&Benchmark, &Benchmark)> = base.iter().zip(&cur).collect();
        let c = paired_change(Metric::Throughput, &pairs, 0.95).unwrap();
        assert_eq!(
            judge(Metric::Throughput, &c, -0.05, 0.05),
            Verdict::Unchanged
        );
        assert!(paired_change(Metric::Throughput, &pairs[..1], 0.95).is_none());
        assert!(paired_change(Metric::P99, &pairs, 0.95).is_none());
    }

    #[test]
    fn filter_matches_exactly() {
        assert_eq!(
            exact_filter(&["pool/roundtrip".into(), "a.b (x)".into()]),
            "^(?:pool/roundtrip|a\\.b \\(x\\))$"
        );
    }
}
