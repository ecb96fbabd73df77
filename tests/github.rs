//! GitHub Actions integration, through the real binary: with `GITHUB_ACTIONS=true`, the
//! markdown report is appended to `$GITHUB_STEP_SUMMARY`, the verdict and counts to
//! `$GITHUB_OUTPUT`, and annotations are printed; without it, nothing of the sort happens.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use perfgate::baseline::schema::SnapshotKind;

/// A baseline and results in `dir`: `g/slow` doubles (a gated regression), `g/same` stays,
/// and `g/noisy,odd:name%` is too noisy to tell.
fn files(dir: &Path, slow_center: f64) {
    let side = |kind, seed: u64, slow: f64, noisy: f64| {
        snapshot(
            kind,
            vec![
                bench("g/slow", samples(seed + 1, 40, slow, 0.01), None, None),
                bench("g/same", samples(seed + 2, 40, 1_000.0, 0.01), None, None),
                bench(
                    "g/noisy,odd:name%",
                    samples(seed + 5, 10, noisy, 0.10),
                    None,
                    None,
                ),
            ],
        )
    };
    write(
        &dir.join("base.json"),
        &side(SnapshotKind::Baseline, 0, 1_000.0, 1_000.0),
    );
    write(
        &dir.join("res.json"),
        &side(SnapshotKind::Results, 10, slow_center, 1_060.0),
    );
}

/// `::stop-commands::<token>` or `::<token>::`, perfgate's fence around everything but its
/// annotations.
fn is_stop_or_resume(line: &str) -> bool {
    let token = line
        .strip_prefix("::stop-commands::")
        .or_else(|| line.strip_prefix("::").and_then(|l| l.strip_suffix("::")));
    token.is_some_and(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A temporary directory with [`files`], and the paths for the step summary and outputs.
fn setup(slow_center: f64) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    files(tmp.path(), slow_center);
    let (summary, output) = (tmp.path().join("summary.md"), tmp.path().join("output.txt"));
    (tmp, summary, output)
}

/// `perfgate compare` on [`files`], with `GITHUB_ACTIONS` set to `actions` and the two GitHub
/// files pointing at `summary` and `output`.
fn compare_with(
    actions: &str,
    dir: &Path,
    summary: &Path,
    output: &Path,
    extra: &[&str],
) -> Output {
    perfgate()
        .current_dir(dir)
        .env("GITHUB_ACTIONS", actions)
        .env("GITHUB_STEP_SUMMARY", summary)
        .env("GITHUB_OUTPUT", output)
        .args([
            "compare",
            "--baseline",
            "base.json",
            "--results",
            "res.json",
        ])
        .args(extra)
        .output()
        .expect("run perfgate")
}

#[test]
fn a_regression_writes_summary_outputs_and_annotations_after_what_was_there() {
    let (tmp, summary, output) = setup(2_000.0);
    let dir = tmp.path();
    // Earlier steps wrote to both files: perfgate appends.
    std::fs::write(&summary, "# Earlier step\n\n").unwrap();
    std::fs::write(&output, "earlier=1\n").unwrap();

    let out = compare_with("true", dir, &summary, &output, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    let outputs = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        outputs,
        "earlier=1\nverdict=fail\nfailing=1\nregressed=1\nimproved=0\nunchanged=1\ninconclusive=1\nnew=0\nmissing=0\nignored=0\n"
    );

    let md = std::fs::read_to_string(&summary).unwrap();
    let report = md.strip_prefix("# Earlier step\n\n").expect("appended");
    assert!(
        report.starts_with("### ❌ perfgate: FAIL: 1 failing of 3 comparisons"),
        "{report}"
    );
    assert!(report.contains("| **REGRESSED** | `g/slow` | throughput |"));
    assert!(report.contains("<details><summary>1 unchanged</summary>"));

    // Annotations go to stdout, before the table: one error per failing row, one warning per
    // inconclusive row, with `:` `,` `%` escaped in the title as the runner requires. Around
    // them, only the stop and resume lines (tests/stop_commands.rs).
    let text = stdout(&out);
    let commands: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("::") && !is_stop_or_resume(l))
        .collect();
    assert_eq!(commands.len(), 2, "{text}");
    assert!(
        commands[0]
            .starts_with("::error title=perfgate%3A g/slow throughput regressed::throughput -"),
        "{}",
        commands[0]
    );
    assert!(
        commands[1].starts_with(
            "::warning title=perfgate%3A g/noisy%2Codd%3Aname%25 throughput inconclusive::"
        ),
        "{}",
        commands[1]
    );
    assert!(text.contains("REGRESSED"), "the table follows: {text}");
}

#[test]
fn a_pass_writes_verdict_pass_and_no_error() {
    let (tmp, summary, output) = setup(1_000.0);
    let dir = tmp.path();
    let out = compare_with("true", dir, &summary, &output, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(
        outputs.starts_with("verdict=pass\nfailing=0\n"),
        "{outputs}"
    );
    assert!(!stdout(&out).contains("::error"), "{}", stdout(&out));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("### ✅ perfgate: PASS"), "{md}");
}

#[test]
fn markdown_on_stdout_stays_clean_and_annotations_go_to_stderr() {
    let (tmp, summary, output) = setup(2_000.0);
    let dir = tmp.path();
    let out = compare_with("true", dir, &summary, &output, &["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(!md.contains("::error"), "{md}");
    assert!(stderr(&out).contains("::error title=perfgate%3A g/slow"));
    // What lands on stdout is what lands in the step summary.
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("{md}\n")
    );
}

#[test]
fn outside_github_actions_nothing_is_written() {
    let (tmp, summary, output) = setup(2_000.0);
    let dir = tmp.path();
    let out = compare_with("false", dir, &summary, &output, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!summary.exists() && !output.exists());
    assert!(!stdout(&out).contains("::error"));
}

#[test]
fn an_unwritable_output_file_is_an_error_naming_it() {
    let (tmp, summary, _) = setup(2_000.0);
    let dir = tmp.path();
    let output = dir.join("no-such-dir/output.txt");
    let out = compare_with("true", dir, &summary, &output, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("no-such-dir/output.txt"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_machine_mismatch_is_annotated_as_a_warning_or_an_error_when_it_fails() {
    let (tmp, summary, output) = setup(1_000.0);
    let dir = tmp.path();
    let res = dir.join("res.json");
    let mut other = perfgate::baseline::store::read_snapshot(&res).unwrap();
    other.machine.cores = 64;
    write(&res, &other);
    let mismatch = |out: &Output| -> Vec<String> {
        stdout(out)
            .lines()
            .filter(|l| l.contains("title=perfgate%3A machine mismatch::"))
            .map(str::to_string)
            .collect()
    };

    let out = compare_with("true", dir, &summary, &output, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = mismatch(&out);
    assert_eq!(lines.len(), 1, "{}", stdout(&out));
    assert!(lines[0].starts_with("::warning "), "{}", lines[0]);
    assert!(
        lines[0].contains("cores: baseline 2, here 64"),
        "{}",
        lines[0]
    );

    std::fs::write(
        dir.join("strict.toml"),
        "[defaults]\nmachine_mismatch = \"fail\"\n",
    )
    .unwrap();
    let out = compare_with("true", dir, &summary, &output, &["--config", "strict.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = mismatch(&out);
    assert!(
        lines.len() == 1 && lines[0].starts_with("::error "),
        "{lines:?}"
    );
    // The second run's outputs follow the first's: a pass, then a fail with no failing row.
    let outputs = std::fs::read_to_string(&output).unwrap();
    let runs: Vec<&str> = outputs.split("verdict=").skip(1).collect();
    assert_eq!(runs.len(), 2, "{outputs}");
    assert!(runs[0].starts_with("pass\nfailing=0\n"), "{outputs}");
    assert!(runs[1].starts_with("fail\nfailing=0\n"), "{outputs}");
}
