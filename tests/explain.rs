//! `perfgate explain` through the binary, on a synthetic git repository of the fixture
//! criterion crate whose head commit makes `fixture/sum` call one extra, named function.

mod common;

use common::*;
use git2::Repository;

/// The extra work of the head commit: a function of its own (never inlined, no calls inside,
/// even in a debug build), so that its self time is what grows, and one system call per
/// operation (a `stat` of `/`).
const INJECTED: &str = r#"
#[inline(never)]
fn injected_slowdown(data: &[u64]) -> u64 {
    let mut acc = u64::from(std::fs::metadata("/").is_ok());
    let mut round = 0;
    while round < 40 {
        let mut i = 0;
        while i < data.len() {
            acc ^= data[i];
            acc = (acc << 7) | (acc >> 57);
            i += 1;
        }
        acc = std::hint::black_box(acc);
        round += 1;
    }
    acc
}
"#;

/// The fixture crate as a repository of two commits, the second adding [`INJECTED`] to
/// `fixture/sum`.
fn scratch_repo(dir: &std::path::Path) {
    copy_fixture_crate(dir);
    let repo = Repository::init(dir).unwrap();
    commit_all_at(&repo, "base", Some(1_780_000_000));
    let bench = std::fs::read_to_string(dir.join("benches/fixture.rs")).unwrap();
    let slower = bench.replace(
        "b.iter(|| critbench::checksum(&data, slow))",
        "b.iter(|| critbench::checksum(&data, slow) ^ injected_slowdown(&data))",
    );
    assert_ne!(bench, slower, "the fixture's sum benchmark changed shape");
    std::fs::write(dir.join("benches/fixture.rs"), slower + INJECTED).unwrap();
    commit_all_at(&repo, "slower sum", Some(1_780_000_100));
}

/// Whether profiling is unavailable (exit 3): a skip with a note, but a failure on CI.
fn unavailable(out: &std::process::Output) -> bool {
    if out.status.code() != Some(3) {
        return false;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set and profiling is unavailable: {}",
        stderr(out)
    );
    eprintln!("note: skipping: {}", stderr(out).trim());
    true
}

#[test]
fn the_injected_function_is_among_the_top_three() {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    scratch_repo(dir);
    let json = dir.join("explain.json");
    let md = dir.join("explain.md");
    let svg = dir.join("explain.svg");
    let out = perfgate()
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", common::repo().join("target"))
        .args([
            "explain",
            "fixture/sum",
            "--baseline-ref",
            "HEAD~1",
            "--json",
        ])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .arg("--svg")
        .arg(&svg)
        .args(["--", "--profile", "dev", "--features", "c08"])
        .output()
        .expect("run perfgate explain");
    if unavailable(&out) {
        return;
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["kind"], "perfgate-explain");
    assert_eq!(doc["schema_version"], 1);
    let top: Vec<&str> = doc["top_functions"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|f| f["function"].as_str().unwrap())
        .collect();
    assert!(
        top.iter().any(|f| f.ends_with("injected_slowdown")),
        "top 3: {top:?}\n{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("injected_slowdown"));
    // strace is optional here (the report says how to install it) but required on CI.
    match doc["syscalls"].as_array() {
        Some(calls) => {
            let names: Vec<&str> = calls.iter().map(|c| c["name"].as_str().unwrap()).collect();
            assert!(
                names.iter().any(|n| n.contains("stat")),
                "no stat call grew: {names:?}"
            );
        }
        None => assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and strace is missing: {}",
            doc["syscalls_note"]
        ),
    }
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("injected_slowdown"));
    let md_text = std::fs::read_to_string(&md).unwrap();
    assert!(md_text.starts_with("<details>"), "{md_text}");
}

#[test]
fn check_explains_its_confirmed_regression_without_changing_the_exit_code() {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if std::process::Command::new("perf")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and perf is missing"
        );
        eprintln!("note: perf is not installed; skipping check --explain");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    scratch_repo(dir);
    let md = dir.join("check.md");
    let out = perfgate()
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", common::repo().join("target"))
        .args(["check", "--ab", "HEAD~1", "--explain", "why", "--markdown"])
        .arg(&md)
        .args([
            "--",
            "--profile",
            "dev",
            "--features",
            "c08",
            "--",
            "--warm-up-time",
            "0.05",
            "--measurement-time",
            "0.1",
            "fixture/sum",
        ])
        .output()
        .expect("run perfgate check");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the regression still fails the check\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("injected_slowdown"),
        "{text}\n{}",
        stderr(&out)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("why/fixture_sum.json")).unwrap())
            .unwrap();
    assert_eq!(doc["kind"], "perfgate-explain");
    assert!(dir.join("why/fixture_sum.svg").is_file());
    let md_text = std::fs::read_to_string(&md).unwrap();
    assert!(
        md_text.contains("<details>\n<summary>Profile of `fixture/sum`"),
        "{md_text}"
    );
}
