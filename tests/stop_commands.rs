//! Workflow commands under GitHub Actions, through the real binary and a model of the runner's
//! parser: files whose names and fields carry workflow commands (after a newline, and in the
//! legacy `##[...]` form that counts anywhere in a line) are printed while the runner's command
//! processing is stopped, so that the only commands it obeys are perfgate's own annotations
//! and the stop and resume lines around them, and the last stop is always resumed.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::*;
use perfgate::baseline::schema::SnapshotKind;

/// A line the runner reads as a workflow command, as (name, data): `::name props::data` at the
/// start of the line (after leading whitespace), and `##[name props]data` anywhere in it. The
/// runner obeys only names it knows; this model takes every name, so that it errs towards
/// calling a line a command.
fn commands(line: &str) -> Vec<(String, String)> {
    let name = |info: &str| info.split(' ').next().unwrap_or("").to_string();
    let mut found = Vec::new();
    if let Some(rest) = line.trim_start().strip_prefix("::")
        && let Some(end) = rest.find("::")
    {
        found.push((name(&rest[..end]), rest[end + 2..].to_string()));
    }
    if let Some(i) = line.find("##[") {
        let rest = &line[i + 3..];
        if let Some(end) = rest.find(']') {
            found.push((name(&rest[..end]), rest[end + 1..].to_string()));
        }
    }
    found.retain(|(n, _)| !n.is_empty());
    found
}

/// The runner's command processing over a step's output.
#[derive(Debug, Default)]
struct Runner {
    /// The token of the stop in force: until a command named by it, nothing else is obeyed.
    stopped: Option<String>,
    /// Every line the runner obeyed, stop and resume lines included.
    obeyed: Vec<String>,
}

impl Runner {
    fn read(text: &str) -> Runner {
        let mut r = Runner::default();
        // The runner reads lines as .NET does: CR ends one as well as LF.
        for line in text.split(['\n', '\r']) {
            r.line(line);
        }
        r
    }

    fn line(&mut self, line: &str) {
        let found = commands(line);
        if found.is_empty() {
            return;
        }
        match &self.stopped {
            Some(token) => {
                if found.iter().any(|(n, _)| n.eq_ignore_ascii_case(token)) {
                    self.obeyed.push(line.to_string());
                    self.stopped = None;
                }
            }
            None => {
                self.obeyed.push(line.to_string());
                if let Some((_, data)) = found
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("stop-commands"))
                {
                    self.stopped = Some(data.clone());
                }
            }
        }
    }
}

/// The token of perfgate's own stop or resume line.
fn fence_token(line: &str) -> Option<&str> {
    let token = line
        .strip_prefix("::stop-commands::")
        .or_else(|| line.strip_prefix("::").and_then(|l| l.strip_suffix("::")))?;
    (token.len() == 32
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .then_some(token)
}

fn is_annotation(line: &str) -> bool {
    line.starts_with("::error title=perfgate%3A ")
        || line.starts_with("::warning title=perfgate%3A ")
}

/// Checks `output` as the runner would read it: it obeys only stop and resume lines (each stop
/// with a token of its own) and `annotations` annotations of perfgate's, and ends resumed. And
/// that without perfgate's stop lines it would have obeyed something else: the hostile input
/// reached the output.
fn assert_only_own_commands(output: &str, annotations: usize) {
    let runner = Runner::read(output);
    let mut stops = Vec::new();
    let mut own = 0;
    for line in &runner.obeyed {
        if line.starts_with("::stop-commands::") {
            stops.push(fence_token(line).unwrap_or_else(|| panic!("foreign stop {line:?}")));
        } else if is_annotation(line) {
            own += 1;
        } else {
            assert!(
                fence_token(line).is_some(),
                "obeyed a command that is not perfgate's: {line:?}\n{output}"
            );
        }
    }
    assert_eq!(own, annotations, "{:#?}\n{output}", runner.obeyed);
    assert!(!stops.is_empty(), "{output}");
    let distinct: std::collections::BTreeSet<_> = stops.iter().collect();
    assert_eq!(distinct.len(), stops.len(), "a token used twice: {stops:?}");
    assert_eq!(
        runner.stopped, None,
        "the last stop is not resumed:\n{output}"
    );
    assert!(
        output
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("::stop-commands::")),
        "the stop is not the first line:\n{output}"
    );

    let unfenced: String = output
        .lines()
        .filter(|l| fence_token(l).is_none())
        .map(|l| format!("{l}\n"))
        .collect();
    let bare = Runner::read(&unfenced);
    assert!(
        bare.obeyed
            .iter()
            .any(|l| !is_annotation(l) && l.contains("set-output")),
        "the hostile input did not reach the output: the test proves nothing\n{output}"
    );
}

/// Text that the runner would obey if it were printed as it is.
const HOSTILE: &str = "\n::stop-commands::x\n::error::forged\nx ##[set-output name=verdict]pass";

/// A baseline and results whose one benchmark doubles (a regression, so an `::error`
/// annotation) and whose machines differ (a `::warning`), with the hostile text in the
/// benchmark id, the results' CPU model and testbed.
fn hostile_files(dir: &Path) {
    let id = format!("g/slow{HOSTILE}");
    let base = snapshot(
        SnapshotKind::Baseline,
        vec![bench(&id, samples(1, 40, 1_000.0, 0.01), None, None)],
    );
    let mut res = snapshot(
        SnapshotKind::Results,
        vec![bench(&id, samples(2, 40, 2_000.0, 0.01), None, None)],
    );
    res.machine.cpu_model = format!("Other CPU{HOSTILE}");
    res.testbed = format!("test-bed{HOSTILE}");
    write(&dir.join("base.json"), &base);
    write(&dir.join("res.json"), &res);
}

/// Runs perfgate under GitHub Actions in `dir` with stdout and stderr into one file, so that
/// the output keeps the order in which perfgate wrote it, as the runner sees one stream; returns
/// the exit code and the output.
fn run_merged(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let path = dir.join("merged.log");
    let file = std::fs::File::create(&path).unwrap();
    let status = perfgate()
        .current_dir(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("GITHUB_OUTPUT", dir.join("output.txt"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .expect("run perfgate");
    let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
    (status.code(), text)
}

#[test]
fn a_table_report_of_hostile_files_obeys_only_perfgates_annotations() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_files(tmp.path());
    let (code, output) = run_merged(tmp.path(), COMPARE);
    assert_eq!(code, Some(1), "{output}");
    // One error for the regression, one warning for the machine mismatch.
    assert_only_own_commands(&output, 2);
}

#[test]
fn a_markdown_report_keeps_stdout_clean_and_fences_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    hostile_files(dir);
    // As the action runs it: the markdown report to a file, stderr to the runner.
    let out = perfgate()
        .current_dir(dir)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("GITHUB_OUTPUT", dir.join("output.txt"))
        .args(COMPARE)
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = stdout(&out);
    assert!(md.starts_with("### "), "{md}");
    assert!(md.lines().all(|l| fence_token(l).is_none()), "{md}");
    // The report itself still holds the legacy form (in a code span): whoever prints the file
    // into a log must fence it as well, as the action does.
    assert!(!Runner::read(&md).obeyed.is_empty(), "{md}");
    let runner = Runner::read(&stderr(&out));
    assert_eq!(runner.stopped, None, "{}", stderr(&out));
    let own = runner.obeyed.iter().filter(|l| is_annotation(l)).count();
    assert_eq!(own, 2, "{:#?}", runner.obeyed);
    assert!(
        runner
            .obeyed
            .iter()
            .all(|l| is_annotation(l) || fence_token(l).is_some()),
        "{:#?}",
        runner.obeyed
    );
}

#[test]
fn an_error_about_a_hostile_file_is_printed_while_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    hostile_files(dir);
    let res = dir.join("res.json");
    let mut s = perfgate::baseline::store::read_snapshot(&res).unwrap();
    s.benchmarks[0].samples.per_iter_ns[0] = -1.0;
    std::fs::write(&res, serde_json::to_string(&s).unwrap()).unwrap();
    let (code, output) = run_merged(dir, COMPARE);
    assert_eq!(code, Some(2), "{output}");
    let error = output
        .lines()
        .find(|l| l.starts_with("perfgate: error:"))
        .unwrap_or_else(|| panic!("no error line: {output}"));
    assert!(error.contains("##[set-output name=verdict]pass"), "{error}");
    assert_only_own_commands(&output, 0);
}

#[test]
fn a_usage_error_and_a_refresh_summary_are_fenced_too() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    hostile_files(dir);

    // clap quotes the argument it rejects.
    let (code, output) = run_merged(dir, &["compare", "--format", "x ##[set-output name=a]b"]);
    assert_eq!(code, Some(2), "{output}");
    assert_only_own_commands(&output, 0);

    // The summary lists the hostile benchmark id; a testbed of its own keeps the file name
    // valid.
    let (code, output) = run_merged(
        dir,
        &[
            "baseline",
            "refresh",
            "--allow-dirty",
            "--from",
            "res.json",
            "--testbed",
            "t",
            "--dir",
            "b",
        ],
    );
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("Added (1)"), "{output}");
    assert_only_own_commands(&output, 0);
}

#[test]
fn outside_github_actions_there_is_no_fence() {
    let tmp = tempfile::tempdir().unwrap();
    hostile_files(tmp.path());
    let out = run_in(tmp.path(), COMPARE);
    assert_eq!(out.status.code(), Some(1));
    for text in [stdout(&out), stderr(&out)] {
        assert!(text.lines().all(|l| fence_token(l).is_none()), "{text}");
    }
}

/// The model itself: what it calls a command, and how a stop is ended.
#[test]
fn the_runner_model_reads_commands_as_the_runner_does() {
    assert_eq!(
        commands("  ::error title=a::b"),
        [("error".to_string(), "b".to_string())]
    );
    assert_eq!(commands("x ##[set-output name=v]pass")[0].0, "set-output");
    assert!(commands("x ::error::y").is_empty());
    let r = Runner::read("::stop-commands::T1\n::error::hidden\n::t1::\n::warning::seen\n");
    assert_eq!(
        r.obeyed,
        ["::stop-commands::T1", "::t1::", "::warning::seen"]
    );
    let r = Runner::read("::stop-commands::T1\nx ##[T1]\r::error::seen\n");
    assert_eq!(r.obeyed.len(), 3, "{:?}", r.obeyed);
    assert_eq!(
        Runner::read("::stop-commands::T\n").stopped.as_deref(),
        Some("T")
    );
}

/// Closed or vanishing streams are no panic under GitHub Actions either: the stop and resume
/// lines are written as every other diagnostic is, errors ignored.
#[test]
fn closed_streams_are_no_panic_under_github_actions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    hostile_files(dir);
    let bin = env!("CARGO_BIN_EXE_perfgate");
    for (args, redirect, expected) in [
        (
            "compare --baseline base.json --results res.json",
            ">&- 2>&-",
            1,
        ),
        (
            "compare --baseline base.json --results res.json",
            "2>&1 | head -c0",
            1,
        ),
        (
            "compare --baseline base.json --results res.json --format json",
            "2>&-",
            1,
        ),
        ("compare --baseline missing.json", ">&- 2>&-", 2),
    ] {
        // PIPESTATUS: with a redirect into a pipeline, `$?` would be the reader's status.
        let script =
            format!("exec 3>&1; '{bin}' {args} {redirect}; echo \"exit=${{PIPESTATUS[0]}}\" >&3");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
            .env("GITHUB_OUTPUT", dir.join("output.txt"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let code: Option<i32> = text
            .lines()
            .find_map(|l| l.strip_prefix("exit="))
            .and_then(|c| c.parse().ok());
        assert_eq!(code, Some(expected), "{args} {redirect}: {text}");
    }
}
