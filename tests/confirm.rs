//! Confirmation through the binary, on a tiny git repository holding the fixture criterion
//! crate: `check` re-measures candidate regressions with the baseline commit's build and the
//! current build interleaved, and `check --ab` measures both builds without a stored baseline.

mod common;

use std::path::Path;

use common::*;
use git2::Repository;
use perfgate::baseline::schema::{GitInfo, SnapshotKind};

const CONFIG: &str = r#"
schema_version = 1
[defaults]
gate = ["throughput"]
thresholds = { throughput = -20.0 }
"#;

/// A repository with the fixture crate at its root: `main` at the original code, HEAD on `pr`
/// where `fixture/sum` does four times the work and every other benchmark is unchanged.
fn fixture_repo(dir: &Path) -> git2::Oid {
    copy_fixture_crate(dir);
    std::fs::write(dir.join("perfgate.toml"), CONFIG).unwrap();
    let repo = Repository::init(dir).unwrap();
    let base = commit_all(&repo, "base");
    let c = repo.find_commit(base).unwrap();
    repo.branch("main", &c, true).unwrap();
    let pr = repo.branch("pr", &c, true).unwrap();
    repo.set_head(pr.get().name().unwrap()).unwrap();
    let bench = std::fs::read_to_string(dir.join("benches/fixture.rs")).unwrap();
    let slower = bench.replace(
        "critbench::checksum(&data, slow))",
        "critbench::checksum(&data, slow * 4))",
    );
    assert_ne!(bench, slower, "the fixture's sum benchmark changed shape");
    std::fs::write(dir.join("benches/fixture.rs"), slower).unwrap();
    commit_all(&repo, "make fixture/sum slower");
    base
}

/// Runs `check` in `dir`. The caller holds `FIXTURE_LOCK` from before it writes the fixture
/// copy: the copy shares the fixture's target directory and cargo's metadata hash, so a build
/// of the original fixture by another test between the copy's writing and its build would
/// leave a dep-info newer than the copy's sources, and cargo would reuse the wrong binary.
fn check(dir: &Path, args: &[&str]) -> std::process::Output {
    check_with(dir, args, &[])
}

/// [`check`] with harness arguments (after cargo's `--`).
fn check_with(dir: &Path, args: &[&str], harness: &[&str]) -> std::process::Output {
    let ab_target = repo().join("target/perfgate-test-ab");
    let mut all: Vec<&str> = vec!["check", "--ab-target-dir", ab_target.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--", "--profile", "dev", "--features", "c08"]);
    if !harness.is_empty() {
        all.push("--");
        all.extend_from_slice(harness);
    }
    perfgate()
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", repo().join("target"))
        .args(&all)
        .output()
        .expect("run perfgate check")
}

#[test]
fn check_confirms_a_real_regression_and_overturns_a_false_one() {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base_commit = fixture_repo(dir);

    // The stored baseline says the base commit ran both benchmarks at 1 µs; the results say
    // both are 50% slower now. Only fixture/sum really is.
    let mut base = snapshot(
        SnapshotKind::Baseline,
        vec![
            bench("fixture/sum", samples(1, 30, 1000.0, 0.01), None, None),
            bench("standalone", samples(2, 30, 1000.0, 0.01), None, None),
        ],
    );
    base.git = Some(GitInfo {
        commit: base_commit.to_string(),
        branch: Some("main".into()),
        dirty: false,
        commit_time: "2026-11-24T00:00:00Z".into(),
    });
    let res = snapshot(
        SnapshotKind::Results,
        vec![
            bench("fixture/sum", samples(3, 30, 1500.0, 0.01), None, None),
            bench("standalone", samples(4, 30, 1500.0, 0.01), None, None),
        ],
    );
    write(&dir.join("base.json"), &base);
    write(&dir.join("res.json"), &res);

    let out = check(
        dir,
        &[
            "--baseline",
            "base.json",
            "--results",
            "res.json",
            "--confirm-rounds",
            "8",
            "--seed",
            "1",
            "--format",
            "json",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let row = |id: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["benchmark"] == id && r["metric"] == "throughput")
            .unwrap()
            .clone()
    };
    let sum = row("fixture/sum");
    assert_eq!(sum["verdict"], "regressed", "{sum}");
    // The sequential rule stops a benchmark once it is decided: a clear 4x slowdown needs the
    // 7th look of an 8-round plan under O'Brien-Fleming spending, at most all 8.
    let n = sum["confirmation"]["rounds"].as_u64().unwrap() as usize;
    assert!((6..=8).contains(&n), "{sum}");
    assert_eq!(sum["confirmation"]["first_verdict"], "regressed");
    assert!(
        sum["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("confirmed in {n} paired rounds: throughput -")),
        "{sum}"
    );
    // Four times the work: throughput is a quarter or so, in every paired round.
    assert!(sum["change"].as_f64().unwrap() < -0.5, "{sum}");
    let ratios = sum["confirmation"]["ratios"].as_array().unwrap();
    assert_eq!(ratios.len(), n, "{sum}");
    assert!(ratios.iter().all(|r| r.as_f64().unwrap() < 0.5), "{sum}");
    // Fresh rounds replicated it: a replication plan of 16 looks confirms so clear a
    // regression at its first deciding look, the 9th.
    let rep = &sum["confirmation"]["replication"];
    assert_eq!(rep["confirmed"], true, "{sum}");
    let k = rep["rounds"].as_u64().unwrap() as usize;
    assert_eq!(
        (k, rep["ratios"].as_array().unwrap().len()),
        (9, 9),
        "{sum}"
    );
    assert!(rep["change"].as_f64().unwrap() < -0.5, "{sum}");
    assert_eq!(report["ab"]["seed"], 1, "{report}");
    assert_eq!(
        report["ab"]["all"], true,
        "a one-run baseline is not comparable: {report}"
    );
    let standalone = row("standalone");
    assert_ne!(standalone["verdict"], "regressed", "{standalone}");
    let m = standalone["confirmation"]["rounds"].as_u64().unwrap() as usize;
    assert!(
        standalone["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("not confirmed in {m} paired rounds")),
        "{standalone}"
    );
    // The rounds ran the bench binaries directly, one benchmark per invocation: each side's
    // criterion output holds each benchmark once per round it was measured in.
    for side in ["confirm-base", "confirm-current"] {
        let log = std::fs::read_to_string(
            repo()
                .join("target/perfgate/ab")
                .join(side)
                .join("bench.log"),
        )
        .unwrap();
        for (id, runs) in [("fixture/sum", n + k), ("standalone", m)] {
            let got = log
                .lines()
                .filter(|l| l.starts_with(&format!("Benchmarking {id}: Analyzing")))
                .count();
            assert_eq!(got, runs, "{side}: {id}\n{log}");
        }
    }
    assert_eq!(report["counts"]["failing"], 1);
    // The checkout of the base commit is kept for the next run, in perfgate's folder of the
    // target directory (CARGO_TARGET_DIR, which this test points at perfgate's own), which lies
    // outside the scratch work tree.
    let root = perfgate::confirm::worktree::checkout_root(
        &dir.canonicalize().unwrap(),
        &repo().join("target/perfgate/ab"),
    )
    .unwrap();
    assert_eq!(root, repo().join("target/perfgate/ab"));
    let marker = root.join(format!(
        "src-{}/.perfgate-commit",
        &base_commit.to_string()[..12]
    ));
    assert!(marker.is_file(), "{}", marker.display());

    // Without a stored baseline: both builds measured here; the merge-base with main is the
    // default reference. Every gated benchmark is judged on the A/B, so no whole-suite run:
    // the first paired round is the first comparison. The user's filter selects the
    // benchmarks, through criterion's own matching.
    let out = check_with(dir, &["--ab", "--confirm-rounds", "8"], &["fixture/"]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(text.contains("measured here"), "{text}");
    assert!(text.contains("confirmed in "), "{text}");
    assert!(text.contains("1 failing"), "{text}");
    assert!(
        text.contains("the first comparison is the first paired round"),
        "{text}"
    );
    assert!(
        err.contains("paired round 1 (2 benchmark(s)): the first comparison"),
        "{err}"
    );
    assert!(!err.contains("building and listing"), "a suite run: {err}");
    assert!(
        text.contains("fixture/sized/64") && !text.contains("standalone"),
        "{text}"
    );

    // A one-run stored baseline is not comparable, which is known before measuring anything:
    // no whole-suite run, the A/B against the commit the baseline records decides.
    let out = check_with(
        dir,
        &["--baseline", "base.json", "--confirm-rounds", "8"],
        &["fixture/sum"],
    );
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(
        text.contains("not comparable here (") && text.contains("a baseline measured in one run"),
        "{text}"
    );
    assert!(text.contains("confirmed in "), "{text}");
    assert!(!err.contains("building and listing"), "a suite run: {err}");
    // The baseline side is the baseline's commit, not the enclosing repository's HEAD.
    let short = &base_commit.to_string()[..12];
    assert!(
        text.contains(&format!("measured here (commit {short})")),
        "{text}"
    );
}

#[test]
fn the_baseline_commit_is_checked_out_beside_the_work_tree_and_reused() {
    use perfgate::confirm::worktree::prepare;
    let tmp = tempfile::tempdir().unwrap();
    let repo_dir = tmp.path().join("repo");
    std::fs::create_dir_all(repo_dir.join("sub")).unwrap();
    let repo = Repository::init(&repo_dir).unwrap();
    std::fs::write(repo_dir.join("sub/f.txt"), "old").unwrap();
    let first = commit_all(&repo, "old");
    std::fs::write(repo_dir.join("sub/f.txt"), "new").unwrap();
    commit_all(&repo, "new");
    let cache = tmp.path().join("cache");
    let co = prepare(&repo_dir.join("sub"), &first.to_string(), &cache).unwrap();
    assert_eq!(co.commit, first.to_string());
    assert!(co.project_dir.ends_with("sub"));
    assert_eq!(
        std::fs::read_to_string(co.project_dir.join("f.txt")).unwrap(),
        "old"
    );
    // The work tree and the repository's refs are untouched; a second call reuses the checkout.
    assert_eq!(
        std::fs::read_to_string(repo_dir.join("sub/f.txt")).unwrap(),
        "new"
    );
    assert_eq!(repo.branches(None).unwrap().count(), 1);
    assert!(repo.worktrees().unwrap().is_empty());
    // The repository's index still matches HEAD: nothing the user staged is touched.
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(false);
    let statuses = repo.statuses(Some(&mut opts)).unwrap();
    let changed: Vec<_> = statuses
        .iter()
        .filter_map(|s| s.path().map(str::to_string))
        .collect();
    assert!(
        changed.is_empty(),
        "the checkout changed the index: {changed:?}"
    );
    std::fs::write(co.project_dir.join("scratch"), "x").unwrap();
    let again = prepare(&repo_dir.join("sub"), "HEAD~1", &cache).unwrap();
    assert!(again.project_dir.join("scratch").exists());
    // An incomplete checkout (no marker) is replaced.
    std::fs::remove_file(co.project_dir.parent().unwrap().join(".perfgate-commit")).unwrap();
    let fresh = prepare(&repo_dir.join("sub"), "HEAD~1", &cache).unwrap();
    assert!(!fresh.project_dir.join("scratch").exists());
    let e = prepare(&repo_dir, "no-such-ref", &cache)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no-such-ref"), "{e}");
    // A cache inside the work tree (the default, `target/perfgate/ab`): the checkout goes
    // outside it, where no configuration of the work tree applies, with the commit's time on
    // every file so that a checkout made again leaves cargo's fingerprints fresh.
    let inside = prepare(&repo_dir, "HEAD~1", &repo_dir.join("build/perfgate/ab")).unwrap();
    let canonical = repo_dir.canonicalize().unwrap();
    assert!(
        !inside.project_dir.starts_with(&canonical),
        "{}",
        inside.project_dir.display()
    );
    let when = repo.find_commit(first).unwrap().time().seconds() as u64;
    let mtime = std::fs::metadata(inside.project_dir.join("sub/f.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        mtime,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(when)
    );
    // The checkout root is this test's own (named after its temporary work tree).
    std::fs::remove_dir_all(inside.project_dir.parent().unwrap()).unwrap();
    // A `target` that is a symbolic link (say, committed by the pull request under test) would
    // put the checkout wherever it points: refused, and nothing is written there.
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, repo_dir.join("target")).unwrap();
    let e = prepare(&repo_dir, "HEAD~1", &repo_dir.join("target/perfgate/ab"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a symbolic link"), "{e}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}

/// The rounds' invocation of a bench executable works on criterion 0.3, 0.5 and 0.8 with the
/// README's argument shape (`--bench NAME -- FILTER`): the user's filter is dropped (criterion
/// takes one filter, and the round's exact filter selects the benchmark), and the round's
/// timing options are accepted by every version.
#[test]
fn rounds_run_one_benchmark_on_criterion_0_3_0_5_and_0_8_with_a_user_filter() {
    use perfgate::confirm::bench::BenchBuild;
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let env = vec![(
        "CARGO_TARGET_DIR".to_string(),
        repo().join("target").display().to_string(),
    )];
    for features in ["c03", "c05", "c08"] {
        let args: Vec<String> = [
            "--profile",
            "dev",
            "--features",
            features,
            "--bench",
            "fixture",
            "--",
            "fixture/",
        ]
        .map(String::from)
        .to_vec();
        let build = BenchBuild::build(&fixture_dir(), &args, &env)
            .unwrap_or_else(|e| panic!("{features}: {e}"));
        assert!(
            build.warnings.is_empty(),
            "{features}: {:?}",
            build.warnings
        );
        let log_path = tmp.path().join(format!("{features}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let home = vec![(
            "CRITERION_HOME".to_string(),
            tmp.path().join(features).display().to_string(),
        )];
        build
            .run("fixture/sum", &home, &|_| None, &log, &log_path)
            .unwrap_or_else(|e| {
                panic!(
                    "{features}: {e}\n{}",
                    std::fs::read_to_string(&log_path).unwrap()
                )
            });
        let text = std::fs::read_to_string(&log_path).unwrap();
        let analysed: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("Benchmarking ") && l.ends_with(": Analyzing"))
            .collect();
        assert_eq!(
            analysed,
            ["Benchmarking fixture/sum: Analyzing"],
            "{features}: {text}"
        );
    }
}

/// `check --shard K/N` on each half of the suite, then `perfgate merge`: the shards measure
/// disjoint benchmarks that together are the suite, and the merge is one verdict of them all.
/// A missing shard is an error, never a pass.
#[test]
fn a_sharded_check_merges_into_one_verdict() {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fixture_repo(dir);
    let json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_str(&stdout(out)).unwrap_or_else(|e| {
            panic!("{e}\n{}\n{}", stdout(out), stderr(out));
        })
    };
    let benchmarks = |v: &serde_json::Value| -> std::collections::BTreeSet<String> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["benchmark"].as_str().unwrap().to_string())
            .collect()
    };
    let mut shards = Vec::new();
    let mut codes = Vec::new();
    let mut failing = 0;
    for k in 1..=2 {
        let report = dir.join(format!("shard-{k}.json"));
        let spec = format!("{k}/2");
        let out = check(
            dir,
            &[
                "--ab",
                "--confirm-rounds",
                "4",
                "--shard",
                &spec,
                "--shard-report",
                report.to_str().unwrap(),
                "--format",
                "json",
            ],
        );
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        let v = json(&out);
        assert!(
            v["notes"]
                .to_string()
                .contains(&format!("shard {spec} of the suite")),
            "{v}"
        );
        failing += v["counts"]["failing"].as_u64().unwrap();
        codes.push(code);
        shards.push(benchmarks(&v));
        assert!(report.is_file());
    }
    assert!(shards[0].is_disjoint(&shards[1]), "{shards:?}");
    let all: std::collections::BTreeSet<String> = shards[0].union(&shards[1]).cloned().collect();
    assert!(
        all.contains("fixture/sum") && all.contains("standalone"),
        "{all:?}"
    );

    let merge = |files: &[&str]| {
        perfgate()
            .current_dir(dir)
            .arg("merge")
            .args(files)
            .args(["--format", "json"])
            .output()
            .unwrap()
    };
    // In either order: the shards are sorted.
    let out = merge(&["shard-2.json", "shard-1.json"]);
    let want = if codes.contains(&Some(1)) { 1 } else { 0 };
    assert_eq!(out.status.code(), Some(want), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(benchmarks(&v), all);
    assert_eq!(v["counts"]["failing"].as_u64(), Some(failing));
    assert!(
        v["notes"].to_string().contains("merged from 2 shard(s)"),
        "{v}"
    );

    let out = merge(&["shard-1.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("shard 2/2 missing"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "no report without every shard");

    // Where the verdict would not rest on the A/B of every benchmark, sharding is refused.
    let out = check(dir, &["--ab", "--confirm-rounds", "0", "--shard", "1/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--shard needs every gated benchmark"),
        "{}",
        stderr(&out)
    );
}
