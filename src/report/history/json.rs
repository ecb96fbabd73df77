//! `perfgate history --format json`: the published format of a history, with its own
//! `schema_version`. The types are this format's own (not the library's), so that a change
//! to the analysis cannot change the file without a change here, which the snapshot test of
//! this format and the test that reads a committed version 1 document both notice.

use serde::{Deserialize, Serialize};

use super::time;
use crate::history::History;

/// The version of this format this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The `kind` of a history document.
pub const KIND: &str = "perfgate-history";

/// A whole history document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`KIND`].
    pub kind: String,
    /// The baseline file whose history this is.
    pub source: String,
    /// The ref whose first-parent history was walked.
    pub rev: String,
    /// How the change points were found.
    pub method: Method,
    /// The commits that wrote a version of the file, oldest first; points refer to them by
    /// index.
    pub commits: Vec<Commit>,
    /// One series per benchmark and metric, sorted by benchmark, then metric.
    pub series: Vec<SeriesOut>,
    /// Versions that could not be read, one line each.
    pub skipped: Vec<String>,
}

/// The detector and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Method {
    /// `e-divisive-means-student-t`.
    pub name: String,
    /// Largest p-value of a kept change point.
    pub max_p_value: f64,
    /// Smallest relative size of a kept change point (a fraction).
    pub min_change: f64,
    /// Fewest points on each side of a change point.
    pub min_size: usize,
    /// Confidence level of the intervals.
    pub confidence: f64,
}

/// A commit that wrote a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    /// Full commit id.
    pub id: String,
    /// Commit time, RFC 3339 UTC.
    pub time: String,
    /// First line of the message.
    pub summary: String,
    /// The commit the stored baseline measured, when it names one other than `id`.
    pub measured: Option<String>,
}

/// A benchmark's metric over the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesOut {
    /// The benchmark id.
    pub benchmark: String,
    /// `throughput`, `p50`, `p99` or `p999`.
    pub metric: String,
    /// The unit of the values: `ns`, `B/s`, `elem/s`, `bit/s`, `iter/s`.
    pub unit: String,
    /// `[commit index, value]`, oldest first.
    pub points: Vec<(usize, f64)>,
    /// The change points, oldest first.
    pub steps: Vec<StepOut>,
}

/// One change point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepOut {
    /// The first commit after the step (full id).
    pub commit: String,
    /// The last commit before it.
    pub previous: String,
    /// Index of the first point after the step in `points`.
    pub point: usize,
    /// `regressed` or `improved`.
    pub verdict: String,
    /// Relative size, `after / before - 1` (a fraction).
    pub change: f64,
    /// Lower end of its interval.
    pub ci_low: f64,
    /// Upper end of its interval.
    pub ci_high: f64,
    /// Two-sided p-value of Student's t-test of the two sides.
    pub p_value: f64,
    /// Geometric mean of the side before (back to the previous change point).
    pub before: f64,
    /// Geometric mean of the side after (up to the next change point).
    pub after: f64,
    /// Points on the side before.
    pub points_before: usize,
    /// Points on the side after.
    pub points_after: usize,
}

/// The document of a history.
pub fn report(h: &History) -> Report {
    let s = &h.settings;
    Report {
        schema_version: SCHEMA_VERSION,
        kind: KIND.to_string(),
        source: h.source.clone(),
        rev: h.rev.clone(),
        method: Method {
            name: "e-divisive-means-student-t".into(),
            max_p_value: s.max_p_value,
            min_change: s.min_change,
            min_size: s.min_size.max(2),
            confidence: s.confidence,
        },
        commits: h
            .commits
            .iter()
            .map(|c| Commit {
                id: c.id.clone(),
                time: time(c.time),
                summary: c.summary.clone(),
                measured: c.measured.clone(),
            })
            .collect(),
        series: h
            .series
            .iter()
            .map(|se| SeriesOut {
                benchmark: se.benchmark.clone(),
                metric: se.metric.name().into(),
                unit: se.unit.symbol().into(),
                points: se.points.iter().map(|p| (p.commit, p.value)).collect(),
                steps: se
                    .steps
                    .iter()
                    .map(|st| StepOut {
                        commit: h.commits[st.commit].id.clone(),
                        previous: h.commits[st.previous].id.clone(),
                        point: st.point,
                        verdict: st.verdict.name().into(),
                        change: st.change.change,
                        ci_low: st.change.ci_low,
                        ci_high: st.change.ci_high,
                        p_value: st.change.p_value,
                        before: st.change.before,
                        after: st.change.after,
                        points_before: st.change.sides.0,
                        points_after: st.change.sides.1,
                    })
                    .collect(),
            })
            .collect(),
        skipped: h.skipped.clone(),
    }
}

/// Renders the history as pretty JSON (ends with a newline).
pub fn render(h: &History) -> String {
    let mut s = serde_json::to_string_pretty(&report(h)).expect("a history serializes");
    s.push('\n');
    s
}
