//! Helpers shared by the integration tests: running the real binary, building the fixture
//! criterion crate, and synthetic snapshots.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use perfgate::baseline::schema::{
    Benchmark, Latency, Machine, SCHEMA_VERSION, Samples, Snapshot, SnapshotKind, Source, Summary,
    Throughput, ToolVersions,
};
use perfgate::stats::rng::Rng;
use perfgate_recorder::histogram::Histogram;

pub mod promtool;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture criterion crate.
pub fn fixture_dir() -> PathBuf {
    repo().join("tests/fixtures/critbench")
}

/// The perfgate binary, with a clean environment for the variables perfgate reads.
pub fn perfgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    for v in [
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
        "GITHUB_BASE_REF",
        "PERFGATE_BASE_BRANCH",
        "PERFGATE_TESTBED",
        "CRITERION_HOME",
        "PERFGATE_LATENCY_DIR",
        "PERFGATE_PROFILE",
    ] {
        c.env_remove(v);
    }
    c.env("NO_COLOR", "1");
    c
}

/// Runs perfgate in `dir` with `args`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    perfgate()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run perfgate")
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `perfgate compare` of `base.json` against `res.json` in the working directory.
pub const COMPARE: &[&str] = &[
    "compare",
    "--baseline",
    "base.json",
    "--results",
    "res.json",
];

/// Copies the fixture crate to `dir` (its manifest, lock file, library and bench, and a
/// `.gitignore` of `/target`), for a test that makes a git repository of it. Without the
/// latency feature: the copy cannot reach perfgate-recorder by relative path.
pub fn copy_fixture_crate(dir: &Path) {
    let src = fixture_dir();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("benches")).unwrap();
    let manifest = std::fs::read_to_string(src.join("Cargo.toml"))
        .unwrap()
        .replace("latency = [\"dep:perfgate-recorder\"]", "latency = []")
        .lines()
        .filter(|l| !l.starts_with("perfgate-recorder ="))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    for f in ["Cargo.lock", "src/lib.rs", "benches/fixture.rs"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join(".gitignore"), "/target\n").unwrap();
}

/// Builds of the fixture share cargo's target dir and must not interleave with each other.
pub static FIXTURE_LOCK: Mutex<()> = Mutex::new(());

/// Runs `perfgate run` on the fixture crate with the given criterion features, writing
/// criterion output under `criterion_dir` and results to `output`. `slowdown` multiplies the
/// fixture's work. Extra args go to `cargo bench` (after `--`).
pub fn run_fixture(
    criterion_dir: &Path,
    output: &Path,
    features: &str,
    slowdown: u32,
    extra: &[&str],
) -> Output {
    run_fixture_env(criterion_dir, output, features, slowdown, extra, &[])
}

/// [`run_fixture`] with extra environment variables for the benches (such as
/// `CRITBENCH_EXTRA_ALLOCS`).
pub fn run_fixture_env(
    criterion_dir: &Path,
    output: &Path,
    features: &str,
    slowdown: u32,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let _guard = FIXTURE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let mut args: Vec<String> = vec![
        "run".into(),
        "--criterion-dir".into(),
        criterion_dir.display().to_string(),
        "--output".into(),
        output.display().to_string(),
        "--testbed".into(),
        "fixture".into(),
        "--".into(),
        "--profile".into(),
        "dev".into(),
        "--features".into(),
        features.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    perfgate()
        .current_dir(fixture_dir())
        // Share the test build's artifacts: the fixture's dependencies are perfgate's own.
        .env("CARGO_TARGET_DIR", repo().join("target"))
        .env("CRITBENCH_SLOWDOWN", slowdown.to_string())
        .envs(env.iter().copied())
        .args(&args)
        .output()
        .expect("run perfgate run")
}

/// The machine of synthetic snapshots.
pub fn machine() -> Machine {
    Machine {
        os: "linux".into(),
        arch: "x86_64".into(),
        cpu_model: "Test CPU".into(),
        cores: 2,
        kernel: "6.1.0".into(),
        memory_mib: 24_000,
    }
}

/// Noisy per-iteration samples around `center` ns with the given coefficient of variation.
pub fn samples(seed: u64, n: usize, center: f64, cv: f64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| center * (1.0 + cv * rng.normal()).max(0.1))
        .collect()
}

/// A benchmark with the given per-iteration samples and, optionally, operation latencies.
pub fn bench(
    id: &str,
    per_iter: Vec<f64>,
    throughput: Option<Throughput>,
    ops: Option<Vec<u64>>,
) -> Benchmark {
    let mean = per_iter.iter().sum::<f64>() / per_iter.len() as f64;
    let latency = ops.map(|ops| {
        Latency::from_histogram(
            Histogram::from_values(&ops),
            *ops.iter().min().unwrap() as f64,
            *ops.iter().max().unwrap() as f64,
        )
    });
    Benchmark {
        id: id.into(),
        group_id: id.split('/').next().unwrap().into(),
        function_id: None,
        value_str: None,
        throughput,
        samples: Samples {
            iters: vec![100.0; per_iter.len()],
            per_iter_ns: per_iter.clone(),
        },
        summary: Summary {
            mean_ns: mean,
            median_ns: mean,
            std_dev_ns: 0.0,
            min_ns: per_iter.iter().copied().fold(f64::INFINITY, f64::min),
            max_ns: per_iter.iter().copied().fold(0.0, f64::max),
        },
        latency,
        allocs: None,
        noise: None,
    }
}

/// Exponential-ish operation latencies with mean `mean` ns above a floor of `floor` ns.
pub fn ops(seed: u64, n: usize, floor: f64, mean: f64) -> Vec<u64> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| (floor - rng.uniform().ln() * mean) as u64)
        .collect()
}

/// A snapshot of the given benchmarks (sorted by id).
pub fn snapshot(kind: SnapshotKind, mut benchmarks: Vec<Benchmark>) -> Snapshot {
    benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
    Snapshot {
        schema_version: SCHEMA_VERSION,
        kind,
        testbed: "test-bed".into(),
        created_at: "2026-11-24T00:00:00Z".into(),
        git: None,
        tools: ToolVersions {
            perfgate: "0.1.0".into(),
            rustc: None,
            criterion: None,
        },
        machine: machine(),
        source: Source {
            criterion_baseline: "new".into(),
            profile: None,
        },
        benchmarks,
    }
}

/// One benchmark per name, 30 samples of about `1000 x scale` ns each (1% noise, seeds from
/// `seed` on), with no throughput and no latency.
pub fn plain_benches(names: &[&str], seed: u64, scale: f64) -> Vec<Benchmark> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            bench(
                n,
                samples(seed + i as u64, 30, 1000.0 * scale, 0.01),
                None,
                None,
            )
        })
        .collect()
}

/// Writes a snapshot as perfgate does.
pub fn write(path: &Path, s: &Snapshot) {
    perfgate::baseline::store::write_snapshot(path, s).expect("write snapshot");
}

/// Commits every file of the work tree on top of HEAD (the first commit when there is none).
pub fn commit_all(repo: &git2::Repository, msg: &str) -> git2::Oid {
    commit_all_at(repo, msg, None)
}

/// [`commit_all`] at a fixed commit time (seconds since the epoch), so that the same history
/// always has the same commit ids; `None` is now. Files deleted from the work tree leave the
/// commit too.
pub fn commit_all_at(repo: &git2::Repository, msg: &str, time: Option<i64>) -> git2::Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = match time {
        Some(t) => git2::Signature::new("t", "t@example.com", &git2::Time::new(t, 0)),
        None => git2::Signature::now("t", "t@example.com"),
    }
    .unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &parents)
        .unwrap()
}
