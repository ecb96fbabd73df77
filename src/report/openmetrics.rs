//! The OpenMetrics report (`--format openmetrics`, `--openmetrics FILE`): the comparison in the
//! [OpenMetrics text format](https://prometheus.io/docs/specs/om/open_metrics_spec/), for a
//! Prometheus Pushgateway, node_exporter's textfile collector or any scraper that reads it.
//!
//! Every family is a gauge (a report is one reading, nothing in it only grows), with `# TYPE`,
//! `# HELP` and, where its values have one, `# UNIT`, its name ending in that unit. The run:
//!
//! - `perfgate_comparison_info{baseline_source, results_source, baseline_testbed,
//!   results_testbed[, baseline_commit][, results_commit]} 1`: what was compared.
//! - `perfgate_run_verdict{verdict}`: 1 for the run's verdict (`pass`, `fail`, `error`: the
//!   exit code 0, 1, 2), 0 for the other two.
//! - `perfgate_rows{verdict}`: the rows of each verdict; `perfgate_failing_rows`: the rows
//!   that fail the build; `perfgate_ignored_benchmarks`: benchmarks the ignore list left out.
//! - `perfgate_confidence_ratio`: the confidence level of the intervals.
//!
//! Then per row, labelled `benchmark` and `metric` (`throughput`, `p50`, `p99`, `p999`; no
//! `metric` label on a new or missing benchmark's row):
//!
//! - `perfgate_verdict{benchmark, metric, verdict}`: stateset semantics, one sample per
//!   verdict (`regressed`, `missing`, `inconclusive`, `improved`, `new`, `unchanged`), 1 for
//!   the row's and 0 for the others, so that `perfgate_verdict{verdict="regressed"} == 1`
//!   selects the regressions and a series never vanishes when a verdict changes. It is typed
//!   `gauge`, not `stateset`, and its state label is `verdict`: Prometheus' own text parser
//!   (that of `promtool check metrics`) knows no stateset, and a gauge means the same there.
//! - `perfgate_row_fails`: 1 when the row fails the build, else 0.
//! - `perfgate_baseline_<unit>` and `perfgate_current_<unit>`: the two values, in base units:
//!   latencies in `seconds`, throughput in `bytes_per_second` (bit throughput divided by 8),
//!   `elements_per_second` or `iterations_per_second`.
//! - `perfgate_change_ratio`, `perfgate_change_low_ratio`, `perfgate_change_high_ratio`: the
//!   relative change `current / baseline - 1` (0.05 is 5% higher) and its interval;
//!   `perfgate_change_p_value`: the p-value of "no change".
//! - `perfgate_threshold_ratio`: the threshold the verdict was judged against (relative, in
//!   the metric's bad direction: `-0.05` for throughput, `0.10` for a latency).
//!
//! A value the row does not have (no current value for a missing benchmark, no change with too
//! few samples) has no sample, never a zero; a family with no sample at all is left out. A
//! non-finite value is written as the spec spells it (`NaN`, `+Inf`, `-Inf`). Rows come sorted
//! by benchmark, then metric, so the order never depends on the verdicts, and the text ends
//! with the mandatory `# EOF`. Label values (benchmark names and paths are the user's) are
//! escaped as the spec requires: backslash, double quote and line feed.
//!
//! Written by hand rather than with the `prometheus-client` crate: its registry and encoder
//! are made for a live process's metrics, registered once with a fixed label type per family,
//! while this is a one-shot document of whatever benchmarks the comparison has; a few dozen
//! lines of text formatting are simpler than adapting it, and need no dependency.

use super::format::format_openmetrics;
use super::prose;
use crate::compare::{Comparison, Row};
use crate::vocab::{Unit, Verdict};

/// Renders the comparison as OpenMetrics text, ending with `# EOF` and a line feed.
pub fn render(c: &Comparison) -> String {
    let mut rows: Vec<&Row> = c.rows.iter().collect();
    rows.sort_by(|a, b| (&a.benchmark, a.metric).cmp(&(&b.benchmark, b.metric)));

    let mut families = run_families(c);
    families.extend(row_families(&rows));

    let mut out = String::new();
    for f in &families {
        f.write(&mut out);
    }
    out.push_str("# EOF\n");
    out
}

/// The labels of one sample: name and (unescaped) value, in order.
type Labels = Vec<(&'static str, String)>;

/// One metric family: a gauge with its samples.
struct Family {
    /// The name, ending in `_<unit>` when it has a unit.
    name: String,
    /// The unit, if the values have one.
    unit: Option<&'static str>,
    /// The help text (no backslash, double quote or line feed: Prometheus' text parser would
    /// reject the escapes OpenMetrics has for them).
    help: &'static str,
    /// The samples.
    samples: Vec<(Labels, f64)>,
}

impl Family {
    fn new(name: impl Into<String>, unit: Option<&'static str>, help: &'static str) -> Self {
        let name = name.into();
        debug_assert!(unit.is_none_or(|u| name.ends_with(&format!("_{u}"))));
        debug_assert!(!help.contains(['\\', '"', '\n']));
        Family {
            name,
            unit,
            help,
            samples: Vec::new(),
        }
    }

    fn with(mut self, labels: Labels, value: f64) -> Self {
        self.samples.push((labels, value));
        self
    }

    /// Writes the family's metadata and samples; nothing when it has no sample.
    fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let name = &self.name;
        out.push_str(&format!("# TYPE {name} gauge\n"));
        if let Some(u) = self.unit {
            out.push_str(&format!("# UNIT {name} {u}\n"));
        }
        out.push_str(&format!("# HELP {name} {}\n", self.help));
        for (labels, value) in &self.samples {
            out.push_str(name);
            if !labels.is_empty() {
                let pairs: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label_value(v)))
                    .collect();
                out.push_str(&format!("{{{}}}", pairs.join(",")));
            }
            out.push(' ');
            out.push_str(&format_openmetrics(*value));
            out.push('\n');
        }
    }
}

/// A label value escaped as OpenMetrics requires: `\` as `\\`, `"` as `\"`, a line feed as
/// `\n`. Every other character, any Unicode included, stands as it is.
pub fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// The families about the whole run.
fn run_families(c: &Comparison) -> Vec<Family> {
    let mut info: Labels = vec![
        ("baseline_source", c.baseline_source.clone()),
        ("results_source", c.results_source.clone()),
        ("baseline_testbed", c.baseline_testbed.clone()),
        ("results_testbed", c.results_testbed.clone()),
    ];
    if let Some(commit) = &c.baseline_commit {
        info.push(("baseline_commit", commit.clone()));
    }
    if let Some(commit) = &c.results_commit {
        info.push(("results_commit", commit.clone()));
    }
    let verdict = prose::run_verdict(c);
    let mut run_verdict = Family::new(
        "perfgate_run_verdict",
        None,
        "The verdict of the run, 1 for it and 0 for the others: pass, fail, error (exit code 0, 1, 2).",
    );
    for v in prose::RUN_VERDICTS {
        run_verdict = run_verdict.with(vec![("verdict", v.to_string())], flag(v == verdict));
    }
    let n = &c.counts;
    let mut rows = Family::new("perfgate_rows", None, "Rows of each verdict.");
    for v in Verdict::ALL {
        let count = match v {
            Verdict::Regressed => n.regressed,
            Verdict::Missing => n.missing,
            Verdict::Inconclusive => n.inconclusive,
            Verdict::Improved => n.improved,
            Verdict::New => n.new,
            Verdict::Unchanged => n.unchanged,
        };
        rows = rows.with(vec![("verdict", v.name().to_string())], count as f64);
    }
    vec![
        Family::new(
            "perfgate_comparison_info",
            None,
            "What was compared: the baseline and results, their testbeds and commits.",
        )
        .with(info, 1.0),
        run_verdict,
        rows,
        Family::new("perfgate_failing_rows", None, "Rows that fail the build.")
            .with(vec![], n.failing as f64),
        Family::new(
            "perfgate_ignored_benchmarks",
            None,
            "Benchmarks left out by the ignore list.",
        )
        .with(vec![], n.ignored as f64),
        Family::new(
            "perfgate_confidence_ratio",
            Some("ratio"),
            "Confidence level of the change intervals.",
        )
        .with(vec![], c.confidence),
    ]
}

/// The labels of a row: its benchmark, and its metric when it has one.
fn row_labels(r: &Row) -> Labels {
    let mut l: Labels = vec![("benchmark", r.benchmark.clone())];
    if let Some(m) = r.metric {
        l.push(("metric", m.name().to_string()));
    }
    l
}

/// The OpenMetrics base unit of a value's unit, and the factor that converts to it.
fn base_unit(u: Unit) -> (&'static str, f64) {
    match u {
        Unit::Nanos => ("seconds", 1e-9),
        Unit::BytesPerSec { .. } => ("bytes_per_second", 1.0),
        Unit::BitsPerSec => ("bytes_per_second", 1.0 / 8.0),
        Unit::ElementsPerSec => ("elements_per_second", 1.0),
        Unit::IterationsPerSec => ("iterations_per_second", 1.0),
        Unit::AllocsPerOp => ("allocations_per_operation", 1.0),
        Unit::BytesPerOp => ("bytes_per_operation", 1.0),
    }
}

/// Every base unit, in the order of their families.
const BASE_UNITS: [&str; 6] = [
    "seconds",
    "bytes_per_second",
    "elements_per_second",
    "iterations_per_second",
    "allocations_per_operation",
    "bytes_per_operation",
];

/// The families of the rows (sorted already).
fn row_families(rows: &[&Row]) -> Vec<Family> {
    let mut verdict = Family::new(
        "perfgate_verdict",
        None,
        "The verdict of each benchmark and metric, 1 for it and 0 for the others.",
    );
    let mut fails = Family::new(
        "perfgate_row_fails",
        None,
        "1 when the benchmark and metric fail the build, else 0.",
    );
    for r in rows {
        for v in Verdict::ALL {
            let mut l = row_labels(r);
            l.push(("verdict", v.name().to_string()));
            verdict = verdict.with(l, flag(v == r.verdict));
        }
        fails = fails.with(row_labels(r), flag(r.fails));
    }
    let mut out = vec![verdict, fails];

    for (side, help, value) in [
        (
            "baseline",
            "Baseline value of the metric, in base units.",
            (|r: &Row| r.baseline) as fn(&Row) -> Option<f64>,
        ),
        (
            "current",
            "Current value of the metric, in base units.",
            |r: &Row| r.current,
        ),
    ] {
        for unit in BASE_UNITS {
            let mut f = Family::new(format!("perfgate_{side}_{unit}"), Some(unit), help);
            for r in rows {
                let Some(u) = r.unit else { continue };
                let (name, factor) = base_unit(u);
                if let (true, Some(v)) = (name == unit, value(r)) {
                    f = f.with(row_labels(r), v * factor);
                }
            }
            out.push(f);
        }
    }

    type Pick = fn(&Row) -> Option<f64>;
    let ratios: [(&str, Option<&'static str>, &'static str, Pick); 5] = [
        (
            "perfgate_change_ratio",
            Some("ratio"),
            "Relative change of the metric, current / baseline - 1.",
            |r| r.change.map(|c| c.estimate),
        ),
        (
            "perfgate_change_low_ratio",
            Some("ratio"),
            "Lower end of the confidence interval of the change.",
            |r| r.change.map(|c| c.ci_low),
        ),
        (
            "perfgate_change_high_ratio",
            Some("ratio"),
            "Upper end of the confidence interval of the change.",
            |r| r.change.map(|c| c.ci_high),
        ),
        (
            "perfgate_change_p_value",
            None,
            "Two-sided p-value of the hypothesis of no change.",
            |r| r.change.map(|c| c.p_value),
        ),
        (
            "perfgate_threshold_ratio",
            Some("ratio"),
            "The threshold the verdict was judged against, relative, in the bad direction of the metric.",
            |r| r.threshold,
        ),
    ];
    for (name, unit, help, pick) in ratios {
        let mut f = Family::new(name, unit, help);
        for r in rows {
            if let Some(v) = pick(r) {
                f = f.with(row_labels(r), v);
            }
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bench, snapshot};

    fn comparison(names: &[&str], base: f64, cur: f64) -> Comparison {
        let mut names = names.to_vec();
        names.sort();
        let mk = |scale: f64| {
            names
                .iter()
                .map(|n| bench(n, vec![scale, scale * 1.01, scale * 0.99]))
                .collect()
        };
        crate::compare::compare(
            &snapshot("x", mk(base)),
            &snapshot("y", mk(cur)),
            &crate::config::Config::default_config(),
            &crate::compare::Sources {
                baseline: "b".into(),
                results: "r".into(),
            },
        )
    }

    #[test]
    fn label_values_escape_backslash_quote_and_line_feed_only() {
        assert_eq!(escape_label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label_value("line\nbreak"), "line\\nbreak");
        assert_eq!(escape_label_value("<script>µs 🚀"), "<script>µs 🚀");
    }

    #[test]
    fn hostile_benchmark_names_stay_inside_their_label() {
        let text = render(&comparison(&["a\"b\\c\nd", "<script>"], 100.0, 200.0));
        assert!(text.contains(r#"benchmark="a\"b\\c\nd""#), "{text}");
        assert!(text.contains(r#"benchmark="<script>""#), "{text}");
        // Every line is metadata or a sample of a perfgate family: no name broke a line.
        for line in text.lines() {
            assert!(
                line.starts_with("# ") || line.starts_with("perfgate_"),
                "{line}"
            );
        }
    }

    #[test]
    fn ends_with_eof_and_every_family_has_type_and_help_before_its_samples() {
        let text = render(&comparison(&["g/a"], 100.0, 200.0));
        assert!(text.ends_with("\n# EOF\n"), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1);
        let mut seen = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(kind, "gauge");
                assert!(seen.insert(name.to_string()), "{name} twice");
                assert!(text.contains(&format!("# HELP {name} ")), "{name}");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(seen.contains(name), "{name} before its TYPE");
            }
        }
        assert!(seen.contains("perfgate_baseline_iterations_per_second"));
        assert!(text.contains("# UNIT perfgate_change_ratio ratio\n"));
        assert!(text.contains("perfgate_run_verdict{verdict=\"fail\"} 1\n"));
    }

    #[test]
    fn non_finite_values_are_spelled_as_the_spec_says() {
        let mut c = comparison(&["g/a"], 100.0, 200.0);
        c.rows[0].baseline = Some(f64::NAN);
        c.rows[0].current = Some(f64::INFINITY);
        c.rows[0].threshold = Some(f64::NEG_INFINITY);
        let text = render(&c);
        let sample = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("{name}{{")))
                .unwrap_or_else(|| panic!("no {name} in {text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(sample("perfgate_baseline_iterations_per_second"), "NaN");
        assert_eq!(sample("perfgate_current_iterations_per_second"), "+Inf");
        assert_eq!(sample("perfgate_threshold_ratio"), "-Inf");
    }

    #[test]
    fn missing_values_have_no_sample_and_new_rows_no_metric_label() {
        let base = snapshot("x", vec![bench("gone", vec![1.0, 1.0, 1.0])]);
        let cur = snapshot("y", vec![bench("fresh", vec![1.0, 1.0, 1.0])]);
        let c = crate::compare::compare(
            &base,
            &cur,
            &crate::config::Config::default_config(),
            &crate::compare::Sources {
                baseline: "b".into(),
                results: "r".into(),
            },
        );
        let text = render(&c);
        assert!(!text.contains("perfgate_current_"), "{text}");
        assert!(!text.contains("perfgate_change_ratio"), "{text}");
        assert!(
            text.contains("perfgate_verdict{benchmark=\"gone\",verdict=\"missing\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("perfgate_verdict{benchmark=\"fresh\",verdict=\"new\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn latencies_are_in_seconds_and_bits_in_bytes() {
        assert_eq!(base_unit(Unit::Nanos), ("seconds", 1e-9));
        assert_eq!(base_unit(Unit::BitsPerSec), ("bytes_per_second", 0.125));
        for u in [
            Unit::Nanos,
            Unit::BytesPerSec { binary: true },
            Unit::BitsPerSec,
            Unit::ElementsPerSec,
            Unit::IterationsPerSec,
            Unit::AllocsPerOp,
            Unit::BytesPerOp,
        ] {
            assert!(BASE_UNITS.contains(&base_unit(u).0));
        }
    }
}
