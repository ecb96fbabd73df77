//! `perfgate bisect --json FILE`: the published format of a bisection, with its own
//! `schema_version` and types (not the library's), so that a change to the search cannot
//! change the file without a change here, which the test of this format notices.

use serde::{Deserialize, Serialize};

use super::{Doc, headline, verdict};

/// The version of this format this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The `kind` of a bisection document.
pub const KIND: &str = "perfgate-bisect";

/// A whole bisection document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`KIND`].
    pub kind: String,
    /// The one-line answer.
    pub headline: String,
    /// The benchmark id.
    pub benchmark: String,
    /// The metric (`throughput`, `p50`, ...).
    pub metric: String,
    /// The configured threshold, a signed fraction in the bad direction.
    pub threshold: f64,
    /// The range, oldest first: the good commit, then each first-parent commit to the bad.
    pub commits: Vec<CommitOut>,
    /// The first bad commit's full id, when found.
    pub first_bad: Option<String>,
    /// Every A/B, the premise (bad against good) first.
    pub steps: Vec<StepOut>,
    /// The seed of the rounds' randomized order.
    pub seed: u64,
    /// Seconds the run took.
    pub seconds: f64,
}

/// A commit of the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitOut {
    /// Full id.
    pub id: String,
    /// First line of its message.
    pub summary: String,
}

/// One A/B against the good commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepOut {
    /// The commit tested, an index into `commits`.
    pub commit: usize,
    /// `regressed` / `unchanged` / `improved` / `undecided` for the premise; `good`, `bad`,
    /// `good (by estimate)` or `bad (by estimate)` for a step.
    pub verdict: String,
    /// Whether the sequential rule decided it.
    pub decided: bool,
    /// The change against the good commit (a fraction), when estimated.
    pub change: Option<f64>,
    /// Its interval's low end.
    pub ci_low: Option<f64>,
    /// Its interval's high end.
    pub ci_high: Option<f64>,
    /// The signed-rank p-value of no change.
    pub p_value: Option<f64>,
    /// The threshold it was judged against, a signed fraction.
    pub threshold: f64,
    /// Per-round ratios `commit / good` of the metric.
    pub ratios: Vec<f64>,
    /// Seconds the step took, its builds included.
    pub seconds: f64,
}

/// Non-finite numbers are written as null (as are the ends of an unbounded interval).
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The document of a bisection.
pub fn report(d: &Doc<'_>) -> Report {
    let b = d.bisection;
    Report {
        schema_version: SCHEMA_VERSION,
        kind: KIND.to_string(),
        headline: headline(d),
        benchmark: d.bench_id.to_string(),
        metric: b.settings.metric.name().to_string(),
        threshold: b.settings.threshold,
        commits: b
            .commits
            .iter()
            .map(|c| CommitOut {
                id: c.id.clone(),
                summary: c.summary.clone(),
            })
            .collect(),
        first_bad: b.first_bad.map(|k| b.commits[k].id.clone()),
        steps: b
            .all_steps()
            .enumerate()
            .map(|(i, s)| StepOut {
                commit: s.commit,
                verdict: verdict(s, i == 0).to_string(),
                decided: s.decided(),
                change: s.change.and_then(|c| finite(c.estimate)),
                ci_low: s
                    .change
                    .filter(|c| c.bounded())
                    .and_then(|c| finite(c.ci_low)),
                ci_high: s
                    .change
                    .filter(|c| c.bounded())
                    .and_then(|c| finite(c.ci_high)),
                p_value: s.change.and_then(|c| finite(c.p_value)),
                threshold: s.threshold,
                ratios: s.ratios.clone(),
                seconds: s.seconds,
            })
            .collect(),
        seed: d.seed,
        seconds: d.seconds,
    }
}

/// The document as pretty JSON, ending with a newline.
pub fn render(d: &Doc<'_>) -> String {
    let mut s = serde_json::to_string_pretty(&report(d)).expect("plain data serializes");
    s.push('\n');
    s
}
