//! `perfgate bisect` through the binary, on synthetic git repositories of the fixture criterion
//! crate: 16 commits, one of which makes `fixture/sum` four times slower.

mod common;

use std::path::Path;

use common::*;
use git2::Repository;

const CONFIG: &str = r#"
schema_version = 1
[defaults]
gate = ["throughput"]
thresholds = { throughput = -10.0 }
"#;

/// Commit times are fixed, so the same history has the same commit ids in every run and
/// every commit is checked out and built once across the runs of this file.
const T0: i64 = 1_780_000_000;

/// Writes a repository of `n` commits in `dir`: the fixture crate at commit 0, then one commit
/// per step that edits a changelog, where commit `bad` (and every later one) also makes
/// `fixture/sum` four times the work. Returns the commit ids, oldest first.
fn history(dir: &Path, n: usize, bad: usize) -> Vec<String> {
    copy_fixture_crate(dir);
    std::fs::write(dir.join("perfgate.toml"), CONFIG).unwrap();
    let repo = Repository::init(dir).unwrap();
    let bench = std::fs::read_to_string(dir.join("benches/fixture.rs")).unwrap();
    let slower = bench.replace(
        "critbench::checksum(&data, slow))",
        "critbench::checksum(&data, slow * 4))",
    );
    assert_ne!(bench, slower, "the fixture's sum benchmark changed shape");
    let mut ids = Vec::new();
    for i in 0..n {
        std::fs::write(dir.join("CHANGES"), format!("change {i}\n")).unwrap();
        if i == bad {
            std::fs::write(dir.join("benches/fixture.rs"), &slower).unwrap();
        }
        let msg = if i == bad {
            format!("change {i}: the slow one")
        } else {
            format!("change {i}")
        };
        ids.push(commit_all_at(&repo, &msg, Some(T0 + i as i64)).to_string());
    }
    ids
}

/// `perfgate bisect` in `dir` between its first commit and HEAD, with short rounds.
fn bisect(dir: &Path, bench: &str, extra: &[&str]) -> std::process::Output {
    let ab_target = repo().join("target/perfgate-test-bisect");
    let json = dir.join("bisect.json");
    let mut args: Vec<&str> = vec![
        "bisect",
        "--good",
        "HEAD~15",
        "--bench",
        bench,
        "--rounds",
        "8",
        "--json",
        json.to_str().unwrap(),
        "--ab-target-dir",
        ab_target.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
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
    ]);
    perfgate()
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", repo().join("target"))
        .args(&args)
        .output()
        .expect("run perfgate bisect")
}

#[test]
fn finds_the_bad_commit_among_sixteen_in_at_most_five_steps_in_ten_of_ten_runs() {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    // Ten runs, the bad commit at a different place in most of them, each run with its own
    // seed: every one must name it, within the premise and four search steps.
    let places = [9, 1, 15, 4, 12, 9, 7, 14, 2, 9];
    let mut found = 0;
    for (run, &bad) in places.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let ids = history(dir, 16, bad);
        let seed = (run + 1).to_string();
        let out = bisect(dir, "fixture/sum", &["--seed", &seed]);
        let text = stdout(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {run}: {text}\n{}",
            stderr(&out)
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("bisect.json")).unwrap())
                .unwrap();
        assert_eq!(doc["schema_version"], 1);
        assert_eq!(doc["kind"], "perfgate-bisect");
        assert_eq!(doc["commits"].as_array().unwrap().len(), 16);
        let steps = doc["steps"].as_array().unwrap();
        assert!(steps.len() <= 5, "run {run}: {} steps\n{text}", steps.len());
        assert_eq!(steps[0]["verdict"], "regressed", "run {run}: {text}");
        assert_eq!(doc["first_bad"], ids[bad], "run {run}, bad {bad}: {text}");
        assert!(
            text.starts_with(&format!("first bad commit: {}", ids[bad])),
            "{text}"
        );
        // A step the rounds left undecided was placed by its estimate; the answer must be
        // right all the same, and the count is printed.
        // The good commit is the same in every run: built in the first, kept for the others.
        if run > 0 {
            let built_already =
                format!("the benches of commit {} are built already", &ids[0][..12]);
            assert!(
                stderr(&out).contains(&built_already),
                "run {run}: {}",
                stderr(&out)
            );
        }
        let guessed = steps.iter().filter(|s| s["decided"] == false).count();
        found += 1;
        eprintln!(
            "run {run}: bad commit {bad} found in {} A/B steps ({guessed} placed by estimate), {:.0} s",
            steps.len(),
            doc["seconds"].as_f64().unwrap_or(0.0)
        );
    }
    assert_eq!(found, 10);
}

#[test]
fn a_range_without_the_regression_is_not_bisected_and_bad_input_is_one_line() {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The slow commit lies past HEAD's range: good and bad are alike.
    let ids = history(dir, 16, 99);
    let out = bisect(dir, "fixture/sum", &["--seed", "3"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(text.starts_with("nothing to bisect:"), "{text}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bisect.json")).unwrap()).unwrap();
    assert_eq!(doc["first_bad"], serde_json::Value::Null);
    assert_eq!(doc["steps"].as_array().unwrap().len(), 1);

    // --good that is not an ancestor, an unknown ref, the same commit twice, a benchmark the
    // commits do not have: one line naming the problem, exit 2, nothing built for the refs.
    let cases: [(&[&str], &str); 3] = [
        (
            &["bisect", "--good", "nosuchref", "--bench", "fixture/sum"],
            "cannot resolve \"nosuchref\"",
        ),
        (
            &["bisect", "--good", "HEAD", "--bench", "fixture/sum"],
            "are the same commit",
        ),
        (
            &[
                "bisect",
                "--good",
                &ids[3],
                "--bad",
                &ids[1],
                "--bench",
                "fixture/sum",
            ],
            "is not on the first-parent history",
        ),
    ];
    for (args, want) in cases {
        let out = run_in(dir, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let out = bisect(dir, "fixture/nonesuch", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no benchmark \"fixture/nonesuch\""),
        "{}",
        stderr(&out)
    );
}
