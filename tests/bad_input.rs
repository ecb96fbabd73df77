//! Bad input: every case is one line on stderr naming the file and the cause, exit code 2,
//! no panic, and no file written or changed.

mod common;

use std::path::Path;

use common::*;
use perfgate::baseline::schema::SnapshotKind;

fn good_pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let base = dir.join("base.json");
    let res = dir.join("res.json");
    write(
        &base,
        &snapshot(
            SnapshotKind::Baseline,
            vec![bench("g/a", samples(1, 30, 1000.0, 0.01), None, None)],
        ),
    );
    write(
        &res,
        &snapshot(
            SnapshotKind::Results,
            vec![bench("g/a", samples(2, 30, 1000.0, 0.01), None, None)],
        ),
    );
    (base, res)
}

/// Asserts exit 2 and a single-line error that names `file` and contains `cause`.
fn assert_input_error(out: &std::process::Output, file: &str, cause: &str) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {err}",
        stdout(out)
    );
    assert!(!err.contains("panicked"), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("perfgate: error:"))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(line.contains(file), "error does not name {file}: {line}");
    assert!(
        line.to_lowercase().contains(&cause.to_lowercase()),
        "error does not say {cause:?}: {line}"
    );
}

fn compare(dir: &Path, base: &Path, res: &Path) -> std::process::Output {
    run_in(
        dir,
        &[
            "compare",
            "--baseline",
            base.to_str().unwrap(),
            "--results",
            res.to_str().unwrap(),
        ],
    )
}

#[test]
fn missing_empty_truncated_and_corrupt_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, res) = good_pair(tmp.path());
    assert_eq!(compare(tmp.path(), &base, &res).status.code(), Some(0));

    let missing = tmp.path().join("nope.json");
    assert_input_error(
        &compare(tmp.path(), &missing, &res),
        "nope.json",
        "no such file",
    );
    assert_input_error(
        &compare(tmp.path(), &base, &missing),
        "nope.json",
        "no such file",
    );

    let text = std::fs::read_to_string(&base).unwrap();
    let cases: [(&str, String, &str); 6] = [
        ("empty.json", String::new(), "empty"),
        ("blank.json", "  \n".into(), "empty"),
        (
            "truncated.json",
            text[..text.len() / 2].to_string(),
            "truncated",
        ),
        (
            "corrupt.json",
            text.replace("\"benchmarks\"", "benchmarks"),
            "corrupt",
        ),
        ("array.json", "[1, 2, 3]".into(), "schema_version"),
        ("other.json", "{\"hello\": 1}".into(), "schema_version"),
    ];
    for (name, content, cause) in cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, content).unwrap();
        assert_input_error(&compare(tmp.path(), &p, &res), name, cause);
        assert_input_error(&compare(tmp.path(), &base, &p), name, cause);
    }
}

#[test]
fn newer_schema_and_bad_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, res) = good_pair(tmp.path());
    let text = std::fs::read_to_string(&base).unwrap();

    let newer = tmp.path().join("newer.json");
    std::fs::write(
        &newer,
        text.replace("\"schema_version\": 1", "\"schema_version\": 7"),
    )
    .unwrap();
    assert_input_error(
        &compare(tmp.path(), &newer, &res),
        "newer.json",
        "newer than this perfgate",
    );

    let mut s = snapshot(
        SnapshotKind::Baseline,
        vec![bench("g/a", samples(1, 30, 1000.0, 0.01), None, None)],
    );
    for (name, value, cause) in [
        ("zero.json", 0.0, "must be positive"),
        ("negative.json", -5.0, "must be positive"),
        ("huge.json", f64::MAX / 4.0, "outside the plausible range"),
        ("subnormal.json", 1e-310, "outside the plausible range"),
    ] {
        s.benchmarks[0].samples.per_iter_ns[3] = value;
        let p = tmp.path().join(name);
        std::fs::write(&p, serde_json::to_string(&s).unwrap()).unwrap();
        assert_input_error(&compare(tmp.path(), &p, &res), name, cause);
    }
    // Too many samples to compare in bounded time: refused at once, before any statistics.
    let mut many = s.clone();
    many.benchmarks[0].samples = perfgate::baseline::schema::Samples {
        per_iter_ns: vec![1000.0; 100_001],
        iters: vec![1.0; 100_001],
    };
    let p = tmp.path().join("many.json");
    std::fs::write(&p, serde_json::to_string(&many).unwrap()).unwrap();
    assert_input_error(
        &compare(tmp.path(), &p, &res),
        "many.json",
        "100001 samples",
    );
    // JSON has no NaN: serde writes it as null, and a hand-edited file may say NaN.
    let nan = tmp.path().join("nan.json");
    let good = std::fs::read_to_string(&res).unwrap();
    let first = good.find("\"per_iter_ns\": [").unwrap() + "\"per_iter_ns\": [".len();
    let mut bad = good.clone();
    bad.insert_str(first, "NaN,");
    std::fs::write(&nan, &bad).unwrap();
    assert_input_error(&compare(tmp.path(), &base, &nan), "nan.json", "corrupt");
    let mut bad = good;
    bad.insert_str(first, "null,");
    std::fs::write(&nan, &bad).unwrap();
    assert_input_error(
        &compare(tmp.path(), &base, &nan),
        "nan.json",
        "unexpected content",
    );
}

#[test]
fn no_criterion_output_and_corrupt_criterion_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    let empty = tmp.path().join("crit");
    std::fs::create_dir(&empty).unwrap();
    let args = |dir: &Path| {
        vec![
            "collect".to_string(),
            "--criterion-dir".into(),
            dir.display().to_string(),
            "--output".into(),
            out.display().to_string(),
        ]
    };
    let run = |a: Vec<String>| perfgate().current_dir(tmp.path()).args(a).output().unwrap();
    assert_input_error(&run(args(&empty)), "crit", "no criterion results");
    assert_input_error(
        &run(args(&tmp.path().join("absent"))),
        "absent",
        "no criterion output",
    );

    // A benchmark directory with a truncated sample.json.
    let set = empty.join("g/f/new");
    std::fs::create_dir_all(&set).unwrap();
    std::fs::write(
        set.join("benchmark.json"),
        r#"{"group_id":"g","function_id":"f","value_str":null,"throughput":null,"full_id":"g/f","directory_name":"g/f","title":"g/f"}"#,
    )
    .unwrap();
    std::fs::write(
        set.join("sample.json"),
        r#"{"sampling_mode":"Linear","iters":[1.0,2.0],"times":[10"#,
    )
    .unwrap();
    assert_input_error(&run(args(&empty)), "sample.json", "truncated");
    std::fs::write(
        set.join("sample.json"),
        r#"{"sampling_mode":"Linear","iters":[1.0,2.0],"times":[10.0,-1.0]}"#,
    )
    .unwrap();
    assert_input_error(&run(args(&empty)), "sample.json", "must be positive");
    std::fs::write(
        set.join("sample.json"),
        r#"{"sampling_mode":"Linear","iters":[1.0,2.0],"times":[10.0]}"#,
    )
    .unwrap();
    assert_input_error(
        &run(args(&empty)),
        "sample.json",
        "2 iteration counts but 1 times",
    );
    std::fs::write(set.join("benchmark.json"), "").unwrap();
    assert_input_error(&run(args(&empty)), "benchmark.json", "empty");
    assert!(!out.exists(), "no results file may be written on error");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, res) = good_pair(tmp.path());
    let cfg = tmp.path().join("perfgate.toml");
    let run = || compare(tmp.path(), &base, &res);
    std::fs::write(
        &cfg,
        "schema_version = 1\n[defaults]\nthreshold = { p99 = 5.0 }\n",
    )
    .unwrap();
    assert_input_error(&run(), "perfgate.toml", "line 3");
    assert!(stderr(&run()).contains("threshold"));
    std::fs::write(&cfg, "[defaults]\nthresholds = { p99 = -5.0 }\n").unwrap();
    assert_input_error(&run(), "perfgate.toml", "line 2: `defaults.thresholds.p99`");
    std::fs::write(&cfg, "[defaults]\nthresholds = { throughput = \"five\" }\n").unwrap();
    assert_input_error(&run(), "perfgate.toml", "line 2");
    // An explicit --config that does not exist is an error; the conventional one is optional.
    std::fs::remove_file(&cfg).unwrap();
    assert_eq!(run().status.code(), Some(0));
    let out = run_in(
        tmp.path(),
        &[
            "--config",
            "missing.toml",
            "compare",
            "--baseline",
            "base.json",
            "--results",
            "res.json",
        ],
    );
    assert_input_error(&out, "missing.toml", "no such file");
}

#[test]
fn names_full_of_markdown_ansi_and_unicode_are_safe() {
    let tmp = tempfile::tempdir().unwrap();
    let names = [
        "md/**bold** | `code` | [link](http://x) <script>alert(1)</script>",
        "ansi/\u{1b}[2J\u{1b}[31mred\u{1b}[0m",
        "unicode/日本語 ünïcödé 🚀 µs",
        "ctl/line\nbreak\ttab",
    ];
    let mk = |seed: u64, scale: f64| plain_benches(&names, seed, scale);
    let base = tmp.path().join("base.json");
    let res = tmp.path().join("res.json");
    write(&base, &snapshot(SnapshotKind::Baseline, mk(10, 1.0)));
    write(&res, &snapshot(SnapshotKind::Results, mk(20, 2.0)));
    let out = compare(tmp.path(), &base, &res);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "raw escape in output: {text}");
    assert!(text.contains("\\u{1b}[2J"), "{text}");
    assert!(text.contains("日本語 ünïcödé 🚀"), "{text}");
    assert!(text.contains("line\\u{a}break"), "{text}");
    let json = run_in(
        tmp.path(),
        &[
            "compare",
            "--baseline",
            "base.json",
            "--results",
            "res.json",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let got: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["benchmark"].as_str().unwrap())
        .collect();
    for n in names {
        assert!(got.contains(&n), "JSON must keep the exact name {n:?}");
    }
}

#[test]
fn refresh_never_half_writes_or_loses_a_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, res) = good_pair(tmp.path());
    let dir = tmp.path().join("baselines");
    let refresh = |from: &Path| {
        run_in(
            tmp.path(),
            &[
                "baseline",
                "refresh",
                "--from",
                from.to_str().unwrap(),
                "--allow-dirty",
                "--dir",
                "baselines",
                "--testbed",
                "tb",
            ],
        )
    };
    let out = refresh(&res);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = dir.join("tb.json");
    let before = std::fs::read(&path).unwrap();

    // Corrupt input: the existing baseline stays byte for byte.
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 1, \"kind\": \"results\"").unwrap();
    assert_input_error(&refresh(&bad), "bad.json", "truncated");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A corrupt previous baseline is never overwritten.
    std::fs::write(&path, &before[..before.len() / 3]).unwrap();
    let damaged = std::fs::read(&path).unwrap();
    assert_input_error(&refresh(&res), "tb.json", "unreadable");
    assert_eq!(std::fs::read(&path).unwrap(), damaged);
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn refresh_keeps_unmeasured_benchmarks_unless_pruned() {
    let tmp = tempfile::tempdir().unwrap();
    let two = tmp.path().join("two.json");
    let one = tmp.path().join("one.json");
    write(
        &two,
        &snapshot(
            SnapshotKind::Results,
            vec![
                bench("g/a", samples(1, 20, 1000.0, 0.01), None, None),
                bench("g/b", samples(2, 20, 1000.0, 0.01), None, None),
            ],
        ),
    );
    write(
        &one,
        &snapshot(
            SnapshotKind::Results,
            vec![bench("g/a", samples(3, 20, 1100.0, 0.01), None, None)],
        ),
    );
    let refresh = |from: &Path, extra: &[&str]| {
        let mut args = vec![
            "baseline",
            "refresh",
            "--from",
            from.to_str().unwrap(),
            "--allow-dirty",
            "--testbed",
            "tb",
        ];
        args.extend_from_slice(extra);
        run_in(tmp.path(), &args)
    };
    assert!(refresh(&two, &[]).status.success());
    let out = refresh(&one, &[]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("Kept from the previous baseline") && text.contains("g/b"),
        "{text}"
    );
    assert!(
        text.contains("+10%") || text.contains("+9.") || text.contains("+10."),
        "{text}"
    );
    let snap =
        perfgate::baseline::store::read_snapshot(&tmp.path().join("baselines/tb.json")).unwrap();
    assert_eq!(snap.benchmarks.len(), 2);
    assert_eq!(snap.kind, SnapshotKind::Baseline);
    let out = refresh(&one, &["--prune"]);
    assert!(stdout(&out).contains("Pruned (1)"), "{}", stdout(&out));
    let snap =
        perfgate::baseline::store::read_snapshot(&tmp.path().join("baselines/tb.json")).unwrap();
    assert_eq!(snap.benchmarks.len(), 1);
}

/// `--summary-md`: the summary printed on stdout, in a fence no id can close, written whole;
/// a file that cannot be written is an error naming it, after the baseline was written.
#[test]
fn refresh_writes_its_summary_as_markdown() {
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("res.json");
    write(
        &res,
        &snapshot(
            SnapshotKind::Results,
            vec![bench("g/```x", samples(1, 20, 1000.0, 0.01), None, None)],
        ),
    );
    let refresh = |md: &str| {
        run_in(
            tmp.path(),
            &[
                "baseline",
                "refresh",
                "--from",
                "res.json",
                "--allow-dirty",
                "--testbed",
                "tb",
                "--summary-md",
                md,
            ],
        )
    };
    let out = refresh("out/body.md");
    assert!(out.status.success(), "{}", stderr(&out));
    let md = std::fs::read_to_string(tmp.path().join("out/body.md")).unwrap();
    assert_eq!(md, format!("````\n{}````\n", stdout(&out)));
    assert!(md.contains("  g/```x\n"), "{md}");
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(tmp.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["body.md"]);

    std::fs::create_dir(tmp.path().join("a-dir")).unwrap();
    let out = refresh("a-dir");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("perfgate: error: a-dir"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_2_and_help_lists_exit_codes() {
    let out = perfgate()
        .args(["compare", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = perfgate().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    assert!(
        help.contains("Exit codes:") && help.contains("1  at least one gated regression"),
        "{help}"
    );
    let out = perfgate()
        .args([
            "collect",
            "--criterion-dir",
            "x",
            "--output",
            "y",
            "--since",
            "yesterday",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
}

#[test]
fn hostile_testbed_names_never_leave_the_baselines_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("work");
    std::fs::create_dir_all(dir.join("baselines")).unwrap();
    let (_, res) = good_pair(&dir);
    let mut hostile = snapshot(
        SnapshotKind::Results,
        vec![bench("g/a", samples(3, 30, 1000.0, 0.01), None, None)],
    );
    hostile.testbed = "../escaped".into();
    write(&dir.join("hostile.json"), &hostile);
    let before = std::fs::read_dir(tmp.path()).unwrap().count();
    for args in [
        vec!["compare", "--results", "res.json", "--testbed", "../x"],
        vec!["compare", "--results", "hostile.json"],
        vec!["baseline", "show", "--testbed", "/etc/passwd"],
        vec![
            "baseline",
            "refresh",
            "--allow-dirty",
            "--from",
            "res.json",
            "--testbed",
            "../x",
        ],
        vec![
            "baseline",
            "refresh",
            "--allow-dirty",
            "--from",
            "hostile.json",
        ],
        vec![
            "baseline",
            "refresh",
            "--allow-dirty",
            "--from",
            "res.json",
            "--testbed",
            ".",
        ],
        vec![
            "baseline",
            "refresh",
            "--allow-dirty",
            "--from",
            "res.json",
            "--testbed",
            "",
        ],
        vec![
            "baseline",
            "refresh",
            "--allow-dirty",
            "--from",
            "res.json",
            "--testbed",
            "a\nb",
        ],
    ] {
        let out = run_in(&dir, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        // One error line (refresh may warn first that the folder is not a git repository).
        let errors: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("perfgate: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{args:?}: {err}");
        assert!(errors[0].contains("testbed name"), "{args:?}: {err}");
    }
    // Nothing was written anywhere: not beside the work directory, not in baselines/.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), before);
    assert_eq!(std::fs::read_dir(dir.join("baselines")).unwrap().count(), 0);
    let _ = res;
}

#[test]
fn a_hostile_testbed_from_the_environment_is_refused_too() {
    let tmp = tempfile::tempdir().unwrap();
    let out = perfgate()
        .current_dir(tmp.path())
        .env("PERFGATE_TESTBED", "../x")
        .args(["baseline", "show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("testbed name \"../x\""),
        "{}",
        stderr(&out)
    );
}

/// The commit a baseline records is what `check` checks out and measures against: a revspec
/// there would let the file pick the reference build (`HEAD`: the code under test itself).
#[test]
fn a_baseline_commit_that_is_not_a_full_id_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, res) = good_pair(tmp.path());
    let mut s = perfgate::baseline::store::read_snapshot(&base).unwrap();
    for commit in [
        "HEAD",
        "main",
        ":/fix",
        "0123456789abcdef",
        "ABCDEF0123456789ABCDEF0123456789ABCDEF01",
    ] {
        s.git = Some(perfgate::baseline::schema::GitInfo {
            commit: commit.into(),
            branch: None,
            dirty: false,
            commit_time: "2026-11-24T00:00:00Z".into(),
        });
        let path = tmp.path().join("rev.json");
        write(&path, &s);
        assert_input_error(
            &compare(tmp.path(), &path, &res),
            "rev.json",
            "is not a full commit id",
        );
    }
}

#[test]
fn control_characters_from_files_are_shown_not_obeyed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut base = snapshot(
        SnapshotKind::Baseline,
        vec![bench("g/a", samples(1, 30, 1000.0, 0.01), None, None)],
    );
    base.machine.cpu_model = "Evil\u{1b}[2J CPU\nperfgate: PASS".into();
    base.machine.kernel = "6.1\r\u{7}".into();
    base.created_at = "2026\u{1b}]0;title\u{7}".into();
    let res = snapshot(
        SnapshotKind::Results,
        vec![bench("g/a", samples(2, 30, 1000.0, 0.01), None, None)],
    );
    write(&dir.join("base.json"), &base);
    write(&dir.join("res.json"), &res);
    let outs = [
        run_in(
            dir,
            &[
                "compare",
                "--baseline",
                "base.json",
                "--results",
                "res.json",
            ],
        ),
        run_in(dir, &["baseline", "show", "--baseline", "base.json"]),
    ];
    for out in &outs {
        for text in [stdout(out), stderr(out)] {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'),
                "{text:?}"
            );
            // The injected newline is shown, so it cannot forge a headline of its own.
            let headlines = text
                .lines()
                .filter(|l| l.starts_with("perfgate: PASS"))
                .count();
            assert!(headlines <= 1, "{text}");
        }
    }
    assert!(
        stdout(&outs[0]).contains("CPU\\u{a}perfgate: PASS"),
        "{}",
        stdout(&outs[0])
    );
    assert!(
        stdout(&outs[1]).contains("\\u{1b}[2J"),
        "{}",
        stdout(&outs[1])
    );
}

/// Runs `perfgate ARGS` in `dir` through bash with `redirect` applied (e.g. `>&- 2>&-`, or
/// `| head -c0`) and returns perfgate's own exit code.
fn exit_with(dir: &Path, args: &str, redirect: &str) -> i32 {
    let bin = env!("CARGO_BIN_EXE_perfgate");
    // PIPESTATUS: with a redirect into a pipeline, `$?` would be the reader's status.
    let script = format!("'{bin}' {args} {redirect}; echo \"exit=${{PIPESTATUS[0]}}\" >&3");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("exec 3>&1; {script}"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("exit="))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no exit code: {text}"))
}

#[test]
fn closed_stdout_and_stderr_are_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, res) = good_pair(dir);
    let (base, res) = (base.display(), res.display());
    let compare = format!("compare --baseline {base} --results {res} --json out.json");
    // Both streams closed: the verdict is still the exit code (Rust's standard streams discard
    // what goes to a closed descriptor), nothing panics (101), and the report file is whole.
    assert_eq!(exit_with(dir, &compare, ">&- 2>&-"), 0);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap()).unwrap();
    assert_eq!(v["verdict"], "pass");
    // A reader that closes the pipe at once, on stdout and stderr alike (`2>&1 | head -c0`).
    assert_eq!(exit_with(dir, &compare, "2>&1 | head -c0"), 0);
    // An error with stderr closed: exit 2, no panic.
    assert_eq!(exit_with(dir, "compare --baseline missing.json", "2>&-"), 2);
}

#[test]
fn explain_without_perf_says_how_to_install_it_in_one_line_and_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let out = perfgate()
        .current_dir(tmp.path())
        .env("PATH", tmp.path())
        .args(["explain", "fixture/sum"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("apt-get install linux-perf"), "{err}");
}
