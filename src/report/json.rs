//! The JSON report (`--format json`), schema `perfgate-comparison` version 2, documented in
//! the README. Values are raw numbers (fractions for changes), so scripts need not parse text.
//!
//! The report is a published format, so it has types of its own here, built from the
//! comparison: renaming a field of the comparison cannot change the report, and the test
//! below fails when a published field is added, removed, renamed or moved.

use serde::Serialize;

use super::prose;
use crate::compare::{Comparison, Counts, ReplicationOf, Row};
use crate::vocab::{Metric, Verdict};

/// Schema version of the JSON report.
pub const REPORT_SCHEMA_VERSION: u32 = 2;

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Always [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always `perfgate-comparison`.
    pub kind: &'static str,
    /// `pass`, `fail` or `error`, as the exit code (0, 1, 2).
    pub verdict: &'static str,
    /// The headline of the terminal report.
    pub headline: String,
    /// The baseline side.
    pub baseline: Side<'a>,
    /// The results side.
    pub results: Side<'a>,
    /// Differences between the machines; empty when they match.
    pub machine_mismatch: &'a [String],
    /// Significance level.
    pub alpha: f64,
    /// `k` of the noise rule.
    pub noise_factor: f64,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Verdict counts.
    pub counts: JsonCounts,
    /// What the reader must know besides the rows, in plain words.
    pub notes: Vec<String>,
    /// How the same-machine A/B was run, when it was.
    pub ab: Option<JsonAb>,
    /// An error that ended the paired rounds early (the verdicts are the first comparison's).
    pub error: Option<&'a str>,
    /// One row per benchmark and metric, most important first.
    pub rows: Vec<JsonRow<'a>>,
}

/// The same-machine A/B.
#[derive(Debug, Serialize)]
pub struct JsonAb {
    /// The seed of the randomized order.
    pub seed: u64,
    /// Rounds measured (the most any benchmark got).
    pub rounds: usize,
    /// Benchmarks measured.
    pub benchmarks: usize,
    /// Every gated benchmark (true) or only the candidates.
    pub all: bool,
    /// Whether the time budget ended the rounds early.
    pub budget_spent: bool,
    /// Seconds spent building both sides' benches before the rounds (not in the budget).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_seconds: Option<f64>,
}

/// One side of the comparison.
#[derive(Debug, Serialize)]
pub struct Side<'a> {
    /// Where it came from.
    pub source: &'a str,
    /// Its commit, if recorded.
    pub commit: Option<&'a str>,
    /// Its testbed.
    pub testbed: &'a str,
}

/// Verdict counts.
#[derive(Debug, Serialize)]
pub struct JsonCounts {
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

impl From<&Counts> for JsonCounts {
    fn from(n: &Counts) -> Self {
        JsonCounts {
            failing: n.failing,
            regressed: n.regressed,
            improved: n.improved,
            unchanged: n.unchanged,
            inconclusive: n.inconclusive,
            new: n.new,
            missing: n.missing,
            ignored: n.ignored,
        }
    }
}

/// One benchmark and metric.
#[derive(Debug, Serialize)]
pub struct JsonRow<'a> {
    /// Criterion's full id.
    pub benchmark: &'a str,
    /// The metric; null for new and missing benchmarks.
    pub metric: Option<Metric>,
    /// The verdict.
    pub verdict: Verdict,
    /// Whether the row fails the build.
    pub fails: bool,
    /// Whether the metric is gated.
    pub gated: bool,
    /// Baseline value.
    pub baseline: Option<f64>,
    /// Current value.
    pub current: Option<f64>,
    /// Unit of the values.
    pub unit: Option<&'static str>,
    /// Relative change.
    pub change: Option<f64>,
    /// Lower end of its interval.
    pub ci_low: Option<f64>,
    /// Upper end of its interval.
    pub ci_high: Option<f64>,
    /// p-value of "no change".
    pub p_value: Option<f64>,
    /// The threshold judged against (effective).
    pub threshold: Option<f64>,
    /// The configured threshold.
    pub configured_threshold: Option<f64>,
    /// The baseline's run-to-run noise of the metric.
    pub noise: Option<f64>,
    /// Whether that noise hit the `noise_cap` (too noisy to gate against the stored baseline).
    pub noise_capped: bool,
    /// For an undecided row after paired rounds: the smallest change they could detect.
    pub mde: Option<f64>,
    /// For an allocation count: judged by the exact rule (every sample counted the same).
    pub exact: bool,
    /// The paired-round re-measurement, if any.
    pub confirmation: Option<JsonConfirmation<'a>>,
    /// The verdict in plain words.
    pub reason: String,
}

/// A paired-round re-measurement.
#[derive(Debug, Serialize)]
pub struct JsonConfirmation<'a> {
    /// Paired rounds measured.
    pub rounds: usize,
    /// The first comparison's verdict.
    pub first_verdict: Verdict,
    /// The first comparison's change.
    pub first_change: Option<f64>,
    /// The ratio `current / baseline` of each round.
    pub ratios: &'a [f64],
    /// The confidence of the row's interval (the sequential rule's last look).
    pub confidence: f64,
    /// The fresh rounds of a row the sequential rounds called regressed or left undecided
    /// beyond the threshold, or null.
    pub replication: Option<JsonReplication<'a>>,
}

/// Fresh paired rounds of a benchmark after the sequential ones.
#[derive(Debug, Serialize)]
pub struct JsonReplication<'a> {
    /// Why: `"regressed"` (they replicate the regression, and the row fails only if they
    /// confirm it) or `"undecided"` (the sequential rounds left the row undecided with its
    /// estimate beyond the threshold, and the fresh rounds' decision is the row's).
    pub of: &'static str,
    /// Replication rounds measured.
    pub rounds: usize,
    /// The ratio `current / baseline` of each replication round.
    pub ratios: &'a [f64],
    /// The change they measured (null with too few rounds for one).
    pub change: Option<f64>,
    /// Its interval.
    pub ci_low: Option<f64>,
    /// Its interval.
    pub ci_high: Option<f64>,
    /// Whether they found the regression: confirmed it, or decided the undecided row
    /// regressed (the row fails only then).
    pub confirmed: bool,
}

impl<'a> JsonRow<'a> {
    fn new(r: &'a Row, confidence: f64) -> Self {
        JsonRow {
            benchmark: &r.benchmark,
            metric: r.metric,
            verdict: r.verdict,
            fails: r.fails,
            gated: r.gated,
            baseline: r.baseline,
            current: r.current,
            unit: r.unit.map(|u| u.symbol()),
            change: r.change.map(|c| c.estimate),
            ci_low: r.change.map(|c| c.ci_low),
            ci_high: r.change.map(|c| c.ci_high),
            p_value: r.change.map(|c| c.p_value),
            threshold: r.threshold,
            configured_threshold: r.configured_threshold,
            noise: r.noise,
            noise_capped: r.noise_capped,
            mde: r.mde,
            exact: r.exact,
            confirmation: r.confirmation().map(|c| JsonConfirmation {
                rounds: c.rounds,
                first_verdict: c.first_verdict,
                first_change: c.first_change,
                ratios: &c.ratios,
                confidence: c.confidence,
                replication: c.replication.as_ref().map(|r| JsonReplication {
                    of: match r.of {
                        ReplicationOf::Regressed => "regressed",
                        ReplicationOf::Undecided => "undecided",
                    },
                    rounds: r.ratios.len(),
                    ratios: &r.ratios,
                    change: r.change.map(|c| c.estimate),
                    ci_low: r.change.map(|c| c.ci_low),
                    ci_high: r.change.map(|c| c.ci_high),
                    confirmed: r.confirmed,
                }),
            }),
            reason: prose::reason(r, confidence),
        }
    }
}

/// The report of a comparison.
pub fn report(c: &Comparison) -> Report<'_> {
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        kind: "perfgate-comparison",
        verdict: prose::run_verdict(c),
        headline: prose::headline(c),
        baseline: Side {
            source: &c.baseline_source,
            commit: c.baseline_commit.as_deref(),
            testbed: &c.baseline_testbed,
        },
        results: Side {
            source: &c.results_source,
            commit: c.results_commit.as_deref(),
            testbed: &c.results_testbed,
        },
        machine_mismatch: &c.machine_mismatch,
        alpha: c.alpha,
        noise_factor: c.noise_factor,
        confidence: c.confidence,
        counts: (&c.counts).into(),
        notes: prose::notes(c),
        ab: c.ab.as_ref().map(|a| JsonAb {
            seed: a.seed,
            rounds: a.rounds,
            benchmarks: a.benchmarks,
            all: a.all,
            budget_spent: a.budget_spent,
            build_seconds: a.build_seconds.map(|s| (s * 10.0).round() / 10.0),
        }),
        error: c.error.as_deref(),
        rows: c
            .rows
            .iter()
            .map(|r| JsonRow::new(r, c.confidence))
            .collect(),
    }
}

/// Renders the comparison as pretty JSON (with a trailing newline).
pub fn render(c: &Comparison) -> String {
    let mut s = serde_json::to_string_pretty(&report(c)).expect("reports always serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of `v`, an object of the rendered report `text`, in the order the text has
    /// them (serde_json's `Value` sorts its keys, so it cannot tell).
    fn object_keys(v: &serde_json::Value, text: &str) -> Vec<String> {
        for (start, _) in text.match_indices('{') {
            let mut it =
                serde_json::Deserializer::from_str(&text[start..]).into_iter::<serde_json::Value>();
            if matches!(it.next(), Some(Ok(ref c)) if c == v) {
                return depth_one_keys(&text[start..start + it.byte_offset()]);
            }
        }
        panic!("object not found in the report");
    }

    /// The keys at depth 1 of one JSON object's text.
    fn depth_one_keys(body: &str) -> Vec<String> {
        let (mut depth, mut keys, mut chars) = (0, Vec::new(), body.char_indices().peekable());
        while let Some((i, ch)) = chars.next() {
            match ch {
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                '"' => {
                    let mut end = i + 1;
                    while let Some((j, c)) = chars.next() {
                        if c == '\\' {
                            chars.next();
                        } else if c == '"' {
                            end = j;
                            break;
                        }
                    }
                    let rest = body[end + 1..].trim_start();
                    if depth == 1 && rest.starts_with(':') {
                        keys.push(body[i + 1..end].to_string());
                    }
                }
                _ => {}
            }
        }
        keys
    }

    /// The published fields, in order. Changing one is a new schema version: update the
    /// README's schema, [`REPORT_SCHEMA_VERSION`] and this list together.
    #[test]
    fn published_fields_do_not_change() {
        let cfg = crate::config::Config::default_config();
        let mut base = crate::testutil::bench("a/b", vec![100.0, 101.0, 99.0]);
        base.noise = None;
        let cur = crate::testutil::bench("a/b", vec![200.0, 201.0, 199.0]);
        let mut cmp = crate::compare::compare(
            &crate::testutil::snapshot("x", vec![base]),
            &crate::testutil::snapshot("y", vec![cur]),
            &cfg,
            &crate::compare::Sources {
                baseline: "b".into(),
                results: "r".into(),
            },
        );
        cmp.rows[0].remeasure = Some(crate::compare::Remeasure::Judged(
            crate::compare::Confirmation {
                rounds: 2,
                first_verdict: Verdict::Regressed,
                first_change: Some(-0.5),
                ratios: vec![0.5, 0.5],
                confidence: 0.95,
                replication: Some(crate::compare::Replication {
                    of: crate::compare::ReplicationOf::Regressed,
                    ratios: vec![0.5],
                    change: None,
                    confirmed: false,
                }),
            },
        ));
        let v: serde_json::Value = serde_json::from_str(&render(&cmp)).unwrap();
        let text = render(&cmp);
        let keys = |v: &serde_json::Value| object_keys(v, &text);
        assert_eq!(
            keys(&v),
            [
                "schema_version",
                "kind",
                "verdict",
                "headline",
                "baseline",
                "results",
                "machine_mismatch",
                "alpha",
                "noise_factor",
                "confidence",
                "counts",
                "notes",
                "ab",
                "error",
                "rows"
            ]
        );
        assert_eq!(keys(&v["baseline"]), ["source", "commit", "testbed"]);
        assert_eq!(
            keys(&v["counts"]),
            [
                "failing",
                "regressed",
                "improved",
                "unchanged",
                "inconclusive",
                "new",
                "missing",
                "ignored"
            ]
        );
        assert_eq!(
            keys(&v["rows"][0]),
            [
                "benchmark",
                "metric",
                "verdict",
                "fails",
                "gated",
                "baseline",
                "current",
                "unit",
                "change",
                "ci_low",
                "ci_high",
                "p_value",
                "threshold",
                "configured_threshold",
                "noise",
                "noise_capped",
                "mde",
                "exact",
                "confirmation",
                "reason"
            ]
        );
        assert_eq!(
            keys(&v["rows"][0]["confirmation"]),
            [
                "rounds",
                "first_verdict",
                "first_change",
                "ratios",
                "confidence",
                "replication"
            ]
        );
        assert_eq!(
            keys(&v["rows"][0]["confirmation"]["replication"]),
            [
                "of",
                "rounds",
                "ratios",
                "change",
                "ci_low",
                "ci_high",
                "confirmed"
            ]
        );
    }
}
