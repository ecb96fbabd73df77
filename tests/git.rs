//! Baselines and git: reading a baseline from a ref without a checkout, the merge-base with the
//! main branch, refusing a dirty work tree, and the metadata recorded in a baseline.

mod common;

use std::path::Path;

use common::*;
use git2::Repository;
use perfgate::baseline::schema::SnapshotKind;

fn baseline_with(dir: &Path, center: f64, seed: u64) {
    std::fs::create_dir_all(dir.join("baselines")).unwrap();
    write(
        &dir.join("baselines/tb.json"),
        &snapshot(
            SnapshotKind::Baseline,
            vec![bench("g/a", samples(seed, 30, center, 0.01), None, None)],
        ),
    );
}

#[test]
fn baseline_ref_reads_the_committed_version_and_merge_base() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let repo = Repository::init(dir).unwrap();
    // main: the baseline at 1000 ns.
    baseline_with(dir, 1000.0, 1);
    let base_commit = commit_all(&repo, "baseline");
    repo.branch("main", &repo.find_commit(base_commit).unwrap(), true)
        .unwrap();
    // A PR branch edits the baseline to hide a 2x slowdown.
    repo.set_head("refs/heads/main").unwrap();
    let pr = repo
        .branch("pr", &repo.find_commit(base_commit).unwrap(), true)
        .unwrap();
    repo.set_head(pr.get().name().unwrap()).unwrap();
    baseline_with(dir, 2000.0, 2);
    commit_all(&repo, "edit baseline");
    let res = dir.join("res.json");
    write(
        &res,
        &snapshot(
            SnapshotKind::Results,
            vec![bench("g/a", samples(3, 30, 2000.0, 0.01), None, None)],
        ),
    );

    // The PR's own baseline would pass...
    let own = run_in(
        dir,
        &[
            "compare",
            "--baseline",
            "baselines/tb.json",
            "--results",
            "res.json",
        ],
    );
    assert_eq!(own.status.code(), Some(0), "{}", stdout(&own));
    // ...but the merge-base's catches the regression, read straight from git.
    for r in ["main", "merge-base"] {
        let out = run_in(
            dir,
            &[
                "compare",
                "--baseline-ref",
                r,
                "--testbed",
                "tb",
                "--results",
                "res.json",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{r}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stdout(&out).contains(&format!("baselines/tb.json@{r}")),
            "{}",
            stdout(&out)
        );
    }
    // A ref without the file, and a ref that does not exist, are input errors naming them.
    let out = run_in(
        dir,
        &[
            "compare",
            "--baseline-ref",
            "main",
            "--testbed",
            "other",
            "--results",
            "res.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("main:baselines/other.json"),
        "{}",
        stderr(&out)
    );
    let out = run_in(
        dir,
        &[
            "compare",
            "--baseline-ref",
            "nope",
            "--testbed",
            "tb",
            "--results",
            "res.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope"), "{}", stderr(&out));
}

#[test]
fn merge_base_follows_the_pull_requests_base_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let repo = Repository::init(dir).unwrap();
    // main: the baseline at 2000 ns (a slower past); develop, the PR's base: 1000 ns.
    baseline_with(dir, 2000.0, 1);
    let main = commit_all(&repo, "main baseline");
    repo.branch("main", &repo.find_commit(main).unwrap(), true)
        .unwrap();
    let develop = repo
        .branch("develop", &repo.find_commit(main).unwrap(), true)
        .unwrap();
    repo.set_head(develop.get().name().unwrap()).unwrap();
    baseline_with(dir, 1000.0, 2);
    let dev = commit_all(&repo, "develop baseline");
    let pr = repo
        .branch("pr", &repo.find_commit(dev).unwrap(), true)
        .unwrap();
    repo.set_head(pr.get().name().unwrap()).unwrap();
    // The PR edits the baseline to hide its 2x slowdown.
    baseline_with(dir, 2000.0, 3);
    commit_all(&repo, "pr hides its slowdown");
    let res = dir.join("res.json");
    write(
        &res,
        &snapshot(
            SnapshotKind::Results,
            vec![bench("g/a", samples(4, 30, 2000.0, 0.01), None, None)],
        ),
    );
    let compare = |env: &[(&str, &str)], extra: &[&str]| {
        let mut c = perfgate();
        c.current_dir(dir).args([
            "compare",
            "--baseline-ref",
            "merge-base",
            "--testbed",
            "tb",
            "--results",
            "res.json",
        ]);
        c.args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // Against main (the default) the PR looks fine; against its base branch it regresses,
    // whether the branch comes from GitHub's variable, perfgate's own, or the flag.
    assert_eq!(compare(&[], &[]).status.code(), Some(0));
    for (env, extra) in [
        (vec![("GITHUB_BASE_REF", "develop")], vec![]),
        (vec![("PERFGATE_BASE_BRANCH", "develop")], vec![]),
        (
            vec![("GITHUB_BASE_REF", "main")],
            vec!["--base-branch", "develop"],
        ),
    ] {
        let out = compare(&env, &extra);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{env:?} {extra:?}: {}",
            stderr(&out)
        );
    }
    // An empty variable (GitHub sets GITHUB_BASE_REF to "" outside pull requests) is unset.
    assert_eq!(
        compare(&[("GITHUB_BASE_REF", "")], &[]).status.code(),
        Some(0)
    );
    // A base branch that does not exist is an error naming it, never a fall-back to main.
    let out = compare(&[("GITHUB_BASE_REF", "release")], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("\"release\" not found (tried origin/release, release)"),
        "{err}"
    );
}

#[test]
fn refresh_refuses_a_dirty_tree_and_records_git_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let repo = Repository::init(dir).unwrap();
    std::fs::write(dir.join("lib.rs"), "fn a() {}\n").unwrap();
    let res = dir.join("res.json");
    write(
        &res,
        &snapshot(
            SnapshotKind::Results,
            vec![bench("g/a", samples(1, 20, 1000.0, 0.01), None, None)],
        ),
    );
    std::fs::write(dir.join(".gitignore"), "res.json\n").unwrap();
    let head = commit_all(&repo, "one");

    std::fs::write(dir.join("lib.rs"), "fn a() { changed() }\n").unwrap();
    let refresh = |extra: &[&str]| {
        let mut a = vec![
            "baseline",
            "refresh",
            "--from",
            "res.json",
            "--testbed",
            "tb",
        ];
        a.extend_from_slice(extra);
        run_in(dir, &a)
    };
    let out = refresh(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("uncommitted changes"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("baselines/tb.json").exists());

    let out = refresh(&["--allow-dirty"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("baselines/tb.json").is_file());

    // A baseline records the git metadata its results were collected with; check what
    // `collect` records on a clean tree, and the dirty flag.
    std::fs::write(dir.join("lib.rs"), "fn a() {}\n").unwrap();
    let info = perfgate::baseline::git::info(dir).expect("git info");
    assert_eq!(info.commit, head.to_string());
    assert!(!info.dirty);
    assert!(info.commit_time.ends_with('Z'));
    std::fs::write(dir.join("lib.rs"), "fn b() {}\n").unwrap();
    assert!(perfgate::baseline::git::info(dir).unwrap().dirty);
}

#[test]
fn a_missing_git_object_is_an_error_naming_the_file_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let repo = Repository::init(dir).unwrap();
    baseline_with(dir, 1000.0, 1);
    let commit = commit_all(&repo, "baseline");
    // Remove the baseline's blob from the object store, as a broken clone would.
    let blob = repo
        .find_commit(commit)
        .unwrap()
        .tree()
        .unwrap()
        .get_path(Path::new("baselines/tb.json"))
        .unwrap()
        .id()
        .to_string();
    std::fs::remove_file(dir.join(".git/objects").join(&blob[..2]).join(&blob[2..])).unwrap();
    let res = dir.join("res.json");
    write(
        &res,
        &snapshot(
            SnapshotKind::Results,
            vec![bench("g/a", samples(3, 30, 1000.0, 0.01), None, None)],
        ),
    );
    let out = run_in(
        dir,
        &[
            "compare",
            "--baseline-ref",
            "HEAD",
            "--testbed",
            "tb",
            "--results",
            "res.json",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("HEAD:baselines/tb.json"), "{err}");
}
