//! The README's quick start for another crate, followed line by line as written, on a git
//! repository holding a copy of the fixture criterion crate: install, config, a baseline of five
//! runs, commit, `check` passing on the unchanged tree, and failing once a benchmark is made four
//! times slower.
//!
//! What differs from a user's shell, and why: `/path/to/perfgate` is this repository;
//! `cargo install` gets `--debug --root <tmp>` so that it installs into the test's own directory
//! from the debug build `cargo test` has made already (CARGO_TARGET_DIR is this repository's
//! target directory), not a release build of its own; `your-crate` is the fixture copy, whose
//! manifest makes criterion 0.8 its default feature, as a user's crate has criterion as a plain
//! dev-dependency.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The shell lines between the quick start's markers, comments dropped.
fn quickstart_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("<!-- quickstart: tests/quickstart.rs")
        .expect("the README's quick start marker");
    let end = readme[start..]
        .find("<!-- quickstart: end -->")
        .expect("the quick start's end marker")
        + start;
    let block = &readme[start..end];
    let body = block
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block between the markers");
    body.lines()
        .map(|l| l.split("   #").next().unwrap_or(l).trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn sh(dir: &Path, line: &str, path: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", repo().join("target"))
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("PERFGATE_TESTBED")
        .env_remove("CRITERION_HOME")
        .env_remove("CI")
        .output()
        .expect("run sh")
}

#[test]
fn the_quick_start_gates_a_crate_from_nothing() {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path().join("your-crate");
    copy_fixture_crate(&krate);
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    let manifest = manifest.replace("default = []", "default = [\"c08\"]");
    assert!(manifest.contains("default = [\"c08\"]"));
    std::fs::write(krate.join("Cargo.toml"), manifest).unwrap();
    let git = git2::Repository::init(&krate).unwrap();
    commit_all(&git, "the crate");

    let root = tmp.path().join("root");
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let lines = quickstart_lines();
    assert!(lines.len() >= 5, "{lines:?}");
    assert!(lines[0].starts_with("cargo install --locked --path /path/to/perfgate"));
    let mut cwd = tmp.path().to_path_buf();
    for line in &lines {
        let line = line.replace("/path/to/perfgate", repo().to_str().unwrap());
        if let Some(d) = line.strip_prefix("cd ") {
            cwd = cwd.join(d.trim());
            assert!(cwd.is_dir(), "{line}");
            continue;
        }
        let line = if line.starts_with("cargo install ") {
            format!("{line} --debug --root {}", root.display())
        } else {
            line
        };
        let out = sh(&cwd, &line, &path);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{line}\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
    }
    assert!(krate.join("perfgate.toml").is_file());
    let baselines: Vec<_> = std::fs::read_dir(krate.join("baselines"))
        .unwrap()
        .collect();
    assert_eq!(baselines.len(), 1, "one baseline, of this testbed");

    // A change that makes one benchmark four times slower: the last line of the quick start,
    // `perfgate check`, now fails the build with exit code 1 and names it.
    let bench = std::fs::read_to_string(krate.join("benches/fixture.rs")).unwrap();
    let slower = bench.replace(
        "critbench::checksum(&data, slow))",
        "critbench::checksum(&data, slow * 4))",
    );
    assert_ne!(bench, slower);
    std::fs::write(krate.join("benches/fixture.rs"), slower).unwrap();
    let last = lines.last().unwrap();
    assert!(last.starts_with("perfgate check"), "{last}");
    let out = sh(&krate, last, &path);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(text.contains("fixture/sum"), "{text}");
}
