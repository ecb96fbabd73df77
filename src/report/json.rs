//! The JSON report (`--format json`), schema `perfgate-comparison` version 1, documented in
//! the README. Values are raw numbers (fractions for changes), so scripts need not parse text.

use serde::Serialize;

use crate::compare::{Comparison, Counts, Row};

/// Schema version of the JSON report.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    kind: &'static str,
    verdict: &'static str,
    headline: String,
    baseline: Side<'a>,
    results: Side<'a>,
    machine_mismatch: &'a [String],
    alpha: f64,
    noise_factor: f64,
    confidence: f64,
    counts: &'a Counts,
    rows: &'a [Row],
}

#[derive(Serialize)]
struct Side<'a> {
    source: &'a str,
    commit: Option<&'a str>,
    testbed: &'a str,
}

/// Renders the comparison as pretty JSON (with a trailing newline).
pub fn render(c: &Comparison) -> String {
    let report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        kind: "perfgate-comparison",
        verdict: if c.failed() { "fail" } else { "pass" },
        headline: super::table::headline(c),
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
        counts: &c.counts,
        rows: &c.rows,
    };
    let mut s = serde_json::to_string_pretty(&report).expect("reports always serialize");
    s.push('\n');
    s
}
