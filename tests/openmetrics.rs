//! The OpenMetrics report end to end: the real binary (`compare`, and `check` on a results
//! file) compares fixture snapshots, hostile benchmark names among them, with `--format
//! openmetrics`, and the text is checked for its structure here and by `promtool check metrics`
//! when promtool is on PATH. Under `CI` promtool is required (`.ci/run` installs it), so CI
//! cannot skip that part silently.

mod common;

use common::*;
use perfgate::baseline::schema::{SnapshotKind, Throughput};

/// Names a label value must hold without breaking the text.
const NAMES: &[&str] = &[
    "a\"b\\c\nd",
    "<script>alert(1)</script>",
    "unicode/日本語 🚀 µs",
];

fn write_pair(dir: &std::path::Path) {
    let mk = |kind, seed: u64, scale: f64, gone: bool| {
        let mut v = plain_benches(NAMES, seed, scale);
        v.push(bench(
            "pipe/copy",
            samples(seed + 10, 30, 20_000.0, 0.01),
            Some(Throughput::Bytes(65536)),
            Some(ops(seed + 11, 5_000, 10_000.0, 400.0)),
        ));
        v.push(bench(
            if gone { "gone/away" } else { "brand/new" },
            samples(seed + 12, 30, 1000.0, 0.01),
            None,
            None,
        ));
        snapshot(kind, v)
    };
    write(
        &dir.join("base.json"),
        &mk(SnapshotKind::Baseline, 1, 1.0, true),
    );
    write(
        &dir.join("res.json"),
        &mk(SnapshotKind::Results, 100, 2.0, false),
    );
}

/// The structure the spec asks of the text, checked without promtool.
fn check_structure(text: &str) {
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(text.matches("\n# EOF").count(), 1, "{text}");
    let mut families: Vec<String> = Vec::new();
    for line in text.lines() {
        if line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(kind, "gauge", "{line}");
            assert!(!families.iter().any(|f| f == name), "{name} twice");
            families.push(name.to_string());
            continue;
        }
        let current = families.last().expect("a sample before any TYPE");
        if let Some(rest) = line.strip_prefix("# UNIT ") {
            let (name, unit) = rest.split_once(' ').unwrap();
            assert_eq!(name, current, "{line}");
            assert!(name.ends_with(&format!("_{unit}")), "{line}");
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            assert!(rest.starts_with(&format!("{current} ")), "{line}");
        } else {
            // A sample of the family just declared: name, labels, one value.
            assert!(!line.starts_with('#'), "{line}");
            let name_end = line.find(['{', ' ']).unwrap();
            assert_eq!(&line[..name_end], current, "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(
                value.parse::<f64>().is_ok() || ["NaN", "+Inf", "-Inf"].contains(&value),
                "{line}"
            );
        }
    }
    for family in [
        "perfgate_run_verdict",
        "perfgate_verdict",
        "perfgate_baseline_seconds",
        "perfgate_current_bytes_per_second",
        "perfgate_change_ratio",
        "perfgate_threshold_ratio",
    ] {
        assert!(families.iter().any(|f| f == family), "{family} in {text}");
    }
}

#[test]
fn compare_writes_openmetrics_that_promtool_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    write_pair(tmp.path());
    let mut args = COMPARE.to_vec();
    args.extend(["--format", "openmetrics", "--openmetrics", "report.om"]);
    let out = run_in(tmp.path(), &args);
    // Every hostile benchmark is twice as slow: a regression, exit 1.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    check_structure(&text);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("report.om")).unwrap(),
        text
    );
    assert!(
        text.contains("perfgate_run_verdict{verdict=\"fail\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "perfgate_verdict{benchmark=\"a\\\"b\\\\c\\nd\",metric=\"throughput\",verdict=\"regressed\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("perfgate_verdict{benchmark=\"gone/away\",verdict=\"missing\"} 1\n"),
        "{text}"
    );
    // The missing benchmark has no current value, not a zero.
    assert!(!text.contains("perfgate_current_iterations_per_second{benchmark=\"gone/away\""));

    common::promtool::check(&text);
}

#[test]
fn check_writes_the_same_report_format() {
    let tmp = tempfile::tempdir().unwrap();
    write_pair(tmp.path());
    let out = run_in(
        tmp.path(),
        &[
            "check",
            "--baseline",
            "base.json",
            "--results",
            "res.json",
            "--confirm-rounds",
            "0",
            "--format",
            "openmetrics",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    check_structure(&text);
    assert!(
        text.contains("perfgate_run_verdict{verdict=\"fail\"} 1\n"),
        "{text}"
    );
}
