//! `promtool check metrics` (Debian's `prometheus` package) over OpenMetrics text, for the tests
//! of perfgate's OpenMetrics report and of the workload's `/metrics`; the workload crate's test
//! includes this file by path.

use std::io::Write;
use std::process::{Command, Stdio};

/// `promtool check metrics` over `text`, which must pass: required when `CI` is set (`.ci/run`
/// installs it), else skipped with a note when promtool is not on `PATH`.
pub fn check(text: &str) {
    let spawned = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set and promtool is not on PATH (apt-get install prometheus)"
            );
            eprintln!("note: promtool not on PATH; skipping `promtool check metrics`");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => {}
        // Exit 3 is lint findings (a parse error exits 1). promtool 2.x lints the Prometheus
        // text format, where a counter's HELP is under its `_total` name; OpenMetrics puts it
        // under the family name (`# HELP x` then `x_total`), which promtool reports as
        // "x_total no help text". That one finding is accepted when the family's HELP is there;
        // any other finding fails.
        Some(3) => {
            for finding in report.lines().filter(|l| !l.trim().is_empty()) {
                let family = finding
                    .strip_suffix(" no help text")
                    .and_then(|n| n.strip_suffix("_total"))
                    .unwrap_or_else(|| panic!("promtool check metrics:\n{report}"));
                assert!(
                    text.contains(&format!("# HELP {family} ")),
                    "promtool check metrics:\n{report}"
                );
            }
        }
        _ => panic!("promtool check metrics failed:\n{report}"),
    }
}
