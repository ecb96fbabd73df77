//! The bench binaries of a crate, built once with `cargo bench --no-run` and then run
//! directly, one benchmark per invocation.
//!
//! Confirmation interleaves the two builds benchmark by benchmark, dozens of times. Going
//! through `cargo bench` for each of those would pay cargo's start-up and freshness check every
//! time (about as long as a short benchmark) and would put a benchmark's two measurements
//! further apart in time, which is exactly what the interleaving is meant to avoid. Cargo's
//! JSON messages name each bench executable; running it as cargo would (`<exe> --bench
//! [harness args] <filter>`, in the package's directory) gives criterion the same arguments
//! `cargo bench -- ...` does.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::rounds::{PairedRunner, Side};
use crate::baseline::schema::Snapshot;
use crate::collect::run::{ListStyle, last_lines, parse_list_styled, split_args};
use crate::collect::{CollectOptions, DEFAULT_STALE_GAP};
use crate::error::{Error, Result};
use perfgate_recorder::profile::PROFILE_ENV;

/// One bench executable and the benchmark ids it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchBinary {
    /// The bench target's name (`cargo bench --bench NAME`).
    pub name: String,
    /// The executable.
    pub path: PathBuf,
    /// The package's directory: cargo runs benches there, and so do we.
    pub package_dir: PathBuf,
    /// Benchmark ids, from `<exe> --bench --list`.
    pub ids: Vec<String>,
    /// How the list was printed, which tells the criterion generation.
    pub style: ListStyle,
}

/// The bench binaries of one build of a crate.
#[derive(Debug, Clone)]
pub struct BenchBuild {
    /// The executables, in cargo's order.
    pub binaries: Vec<BenchBinary>,
    /// Harness arguments the user gave after `--`, passed to every invocation.
    pub harness_args: Vec<String>,
    /// Environment for every invocation.
    pub env: Vec<(String, String)>,
    /// Bench executables that could not list their benchmarks (not criterion harnesses, or
    /// broken): they are left out, and their benchmarks are not re-measured.
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    manifest_path: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// The bench executables named in cargo's `--message-format=json` output: artifacts of bench
/// targets that have an executable, as `(target name, executable, package directory)`.
pub fn parse_artifacts(json_lines: &str) -> Vec<(String, PathBuf, PathBuf)> {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Message>(l).ok())
        .filter(|m| m.reason == "compiler-artifact")
        .filter_map(|m| {
            let t = m.target?;
            if !t.kind.iter().any(|k| k == "bench") {
                return None;
            }
            let dir = m.manifest_path?.parent()?.to_path_buf();
            Some((t.name, m.executable?, dir))
        })
        .collect()
}

fn output_tail(bytes: &[u8], lines: usize) -> String {
    last_lines(&String::from_utf8_lossy(bytes), lines)
}

/// Criterion harness options that take a value (0.3 to 0.8), so that their value is not
/// mistaken for a filter.
const VALUE_OPTIONS: &[&str] = &[
    "-c",
    "--color",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
    "--format",
    "--logfile",
    "--skip",
];

/// How long each benchmark of a confirmation round runs on a side, through criterion's own
/// options. They replace the criterion-level defaults (a bench that sets times on a group in
/// code keeps them, and perfgate's own benches follow `PERFGATE_PROFILE`). Short: the verdict
/// comes from many paired rounds, not from one long measurement. Criterion 0.4 and later take
/// fractional seconds; 0.3 takes whole seconds only, so its rounds are longer.
pub fn round_timing(style: ListStyle) -> &'static [(&'static str, &'static str)] {
    match style {
        ListStyle::Modern => &[
            ("--warm-up-time", "0.2"),
            ("--measurement-time", "0.5"),
            ("--sample-size", "10"),
            ("--nresamples", "1000"),
        ],
        ListStyle::Criterion03 => &[
            ("--warm-up-time", "1"),
            ("--measurement-time", "1"),
            ("--sample-size", "10"),
            ("--nresamples", "1000"),
        ],
    }
}

/// Flags added to every round's invocation: perfgate reads the samples and judges them
/// itself, so criterion's plots and HTML report (drawn by its plotters backend on every run
/// when gnuplot is absent) are wasted time, as is a long bootstrap of its own (`--nresamples`
/// above: 1,000, criterion's lowest without a warning, against 100,000 by default). About a
/// tenth of a spawn benchmark's invocation, measured here.
pub const ROUND_FLAGS: &[&str] = &["--noplot"];

/// The harness arguments of a confirmation round, from the user's: their options kept, their
/// filters dropped (each round selects one benchmark with an exact filter of its own, and
/// criterion takes one filter only; the user's filter already chose the candidates), and the
/// round's timing (for a bench of this list style) added where the user set none.
pub fn round_harness_args(user: &[String], style: ListStyle) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = user.iter();
    while let Some(a) = args.next() {
        if a == "--exact" {
            continue;
        }
        if !a.starts_with('-') {
            continue; // a filter
        }
        out.push(a.clone());
        if VALUE_OPTIONS.contains(&a.as_str())
            && let Some(v) = args.next()
        {
            out.push(v.clone());
        }
    }
    for flag in ROUND_FLAGS {
        if !out.iter().any(|a| a == flag) {
            out.push(flag.to_string());
        }
    }
    for (flag, value) in round_timing(style) {
        let given = out
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")));
        if !given {
            out.push(flag.to_string());
            out.push(value.to_string());
        }
    }
    out
}

/// The harness arguments of a profiling run: the user's options without their filters (as
/// for a round), `--noplot`, and `--profile-time` in place of the measurement's timing.
/// Criterion 0.3 takes whole seconds only.
pub fn profile_harness_args(user: &[String], style: ListStyle, seconds: f64) -> Vec<String> {
    let timing = [
        "--measurement-time",
        "--sample-size",
        "--nresamples",
        "--profile-time",
    ];
    let mut out = Vec::new();
    let mut args = user.iter();
    while let Some(a) = args.next() {
        let takes_value = VALUE_OPTIONS.contains(&a.as_str());
        if a == "--exact" || !a.starts_with('-') {
            continue;
        }
        let value = if takes_value { args.next() } else { None };
        if timing
            .iter()
            .any(|t| a == t || a.starts_with(&format!("{t}=")))
        {
            continue;
        }
        out.push(a.clone());
        out.extend(value.cloned());
    }
    if !out.iter().any(|a| a == "--noplot") {
        out.push("--noplot".into());
    }
    let secs = match style {
        ListStyle::Modern => format!("{seconds}"),
        ListStyle::Criterion03 => format!("{}", seconds.ceil().max(1.0)),
    };
    out.extend(["--profile-time".to_string(), secs]);
    out
}

impl BenchBuild {
    /// Builds the bench targets of the crate in `project_dir` (`cargo bench --no-run` with the
    /// cargo part of `cargo_args`, and `env`, e.g. `CARGO_TARGET_DIR`) and lists each one's
    /// benchmarks.
    pub fn build(
        project_dir: &Path,
        cargo_args: &[String],
        env: &[(String, String)],
    ) -> Result<BenchBuild> {
        let (cargo_part, harness_args) = split_args(cargo_args);
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "bench",
                "--no-run",
                "--message-format=json-render-diagnostics",
            ])
            .args(&cargo_part)
            .current_dir(project_dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Command(format!("cannot run cargo bench --no-run: {e}")))?;
        if !out.status.success() {
            return Err(Error::Command(format!(
                "cargo bench --no-run in {} failed ({}):\n{}",
                project_dir.display(),
                out.status,
                output_tail(&out.stderr, 20)
            )));
        }
        let mut binaries = Vec::new();
        let mut warnings = Vec::new();
        for (name, path, package_dir) in parse_artifacts(&String::from_utf8_lossy(&out.stdout)) {
            match BenchBinary::listed(name.clone(), path, package_dir, env) {
                Ok(b) => binaries.push(b),
                Err(e) => warnings.push(format!("bench {name} left out of confirmation: {e}")),
            }
        }
        Ok(BenchBuild {
            binaries,
            harness_args,
            env: env.to_vec(),
            warnings,
        })
    }

    /// Copies the bench executables into `dir` and runs them from there: a later build in the
    /// same target directory (another commit's) overwrites the files cargo wrote. A manifest
    /// written last ([`BenchBuild::kept`] reads it) names them and the cargo arguments they
    /// were built with.
    pub fn keep_in(&mut self, dir: &Path, cargo_args: &[String]) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut manifest = KeptBuild {
            schema_version: KEPT_SCHEMA_VERSION,
            cargo_args: cargo_args.to_vec(),
            binaries: Vec::new(),
        };
        for b in &mut self.binaries {
            let file = b
                .path
                .file_name()
                .map_or_else(|| b.name.clone(), |f| f.to_string_lossy().into_owned());
            let kept = dir.join(&file);
            std::fs::copy(&b.path, &kept).map_err(|e| Error::io(&kept, e))?;
            b.path = kept;
            manifest.binaries.push(KeptBinary {
                name: b.name.clone(),
                file,
                package_dir: b.package_dir.clone(),
            });
        }
        let path = dir.join(KEPT_MANIFEST);
        let text = serde_json::to_string_pretty(&manifest).expect("plain data serializes");
        crate::baseline::store::write_atomic(&path, text.as_bytes())
    }

    /// The build kept in `dir` by [`BenchBuild::keep_in`] with the same `cargo_args`, its
    /// benchmarks listed again; `None` when there is none (or it was made with other
    /// arguments, or by another version of this format, or a file is gone): build it.
    pub fn kept(
        dir: &Path,
        cargo_args: &[String],
        env: &[(String, String)],
    ) -> Result<Option<BenchBuild>> {
        let Ok(text) = std::fs::read_to_string(dir.join(KEPT_MANIFEST)) else {
            return Ok(None);
        };
        let Ok(m) = serde_json::from_str::<KeptBuild>(&text) else {
            return Ok(None);
        };
        if m.schema_version != KEPT_SCHEMA_VERSION || m.cargo_args != cargo_args {
            return Ok(None);
        }
        let (_, harness_args) = split_args(cargo_args);
        let mut binaries = Vec::new();
        for k in m.binaries {
            let path = dir.join(&k.file);
            if !path.is_file() || !k.package_dir.is_dir() {
                return Ok(None);
            }
            binaries.push(BenchBinary::listed(k.name, path, k.package_dir, env)?);
        }
        Ok(Some(BenchBuild {
            binaries,
            harness_args,
            env: env.to_vec(),
            warnings: Vec::new(),
        }))
    }

    /// The benchmark ids the user's own harness arguments select (their filter, `--exact`),
    /// in the binaries' order: criterion's `--list` with those arguments, so that its own
    /// matching decides, not a reimplementation of it. All ids when they give no filter.
    pub fn user_selection(&self) -> Result<Vec<String>> {
        let filtered = self.harness_args.iter().any(|a| !a.starts_with('-'));
        let mut ids: Vec<String> = Vec::new();
        for b in &self.binaries {
            let listed = if filtered {
                b.list_with(&self.env, &self.harness_args)?.0
            } else {
                b.ids.clone()
            };
            for id in listed {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    /// The bytes a run of `b` with `extra_env` puts on the new process's stack before its
    /// first instruction: the strings of its path, arguments and environment (this process's,
    /// with the build's and `extra_env` on top), and a pointer to each. Arguments are counted
    /// without the benchmark filter, which is the same on both sides of a pair.
    pub fn footprint(&self, b: &BenchBinary, extra_env: &[(String, String)]) -> usize {
        let mut env: std::collections::BTreeMap<std::ffi::OsString, std::ffi::OsString> =
            std::env::vars_os().collect();
        env.insert("CARGO_MANIFEST_DIR".into(), b.package_dir.clone().into());
        for (k, v) in self.env.iter().chain(extra_env) {
            env.insert(k.into(), v.into());
        }
        env.remove(std::ffi::OsStr::new(PAD_ENV));
        const POINTER: usize = std::mem::size_of::<usize>();
        let path = b.path.as_os_str().len() + 1;
        let args: usize = round_harness_args(&self.harness_args, b.style)
            .iter()
            .map(|a| a.len() + 1 + POINTER)
            .sum();
        let vars: usize = env
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2 + POINTER)
            .sum();
        // The path twice: as the program name the kernel records and as argv[0].
        2 * path + POINTER + "--bench".len() + 1 + POINTER + args + vars
    }

    /// The binaries that hold benchmark `id`.
    pub fn holding<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a BenchBinary> + 'a {
        self.binaries
            .iter()
            .filter(move |b| b.ids.iter().any(|i| i == id))
    }

    /// The command that runs exactly benchmark `id` in the first binary holding it for
    /// `seconds` of criterion's `--profile-time` (iterations with no analysis: the way to
    /// run one benchmark under a profiler), with the user's harness options but not their
    /// filter, and `extra_env` on top of the build's environment. `None` when no binary
    /// holds it.
    pub fn profile_command(
        &self,
        id: &str,
        seconds: f64,
        extra_env: &[(String, String)],
    ) -> Option<Command> {
        let b = self.holding(id).next()?;
        let mut cmd = b.command(&self.env);
        cmd.envs(extra_env.iter().map(|(k, v)| (k, v)))
            .arg("--bench")
            .args(profile_harness_args(&self.harness_args, b.style, seconds))
            .arg(super::exact_filter(&[id.to_string()]));
        Some(cmd)
    }

    /// The command that runs the binary holding benchmark `id` in criterion's test mode
    /// (`--test`: each selected benchmark's routine called once, one iteration) with the
    /// exact filter of `selected` (none: the run selects nothing). `None` when no binary
    /// holds `id`.
    pub fn test_command(&self, id: &str, selected: &[String]) -> Option<Command> {
        let b = self.holding(id).next()?;
        let mut cmd = b.command(&self.env);
        cmd.args(["--bench", "--test"])
            .arg(super::exact_filter(selected));
        Some(cmd)
    }

    /// Runs exactly benchmark `id` once in every binary that holds it, with `extra_env` on top
    /// of the build's environment, appending the output to `log`.
    ///
    /// `pad` gives, per binary, how many bytes of [`PAD_ENV`] to add: a paired run makes the
    /// two sides' process start-up images the same size with it ([`BuildPair`]).
    pub fn run(
        &self,
        id: &str,
        extra_env: &[(String, String)],
        pad: &dyn Fn(&BenchBinary) -> Option<usize>,
        log: &File,
        log_path: &Path,
    ) -> Result<()> {
        let filter = super::exact_filter(&[id.to_string()]);
        for b in self.holding(id) {
            let err = log.try_clone().map_err(|e| Error::io(log_path, e))?;
            let out = log.try_clone().map_err(|e| Error::io(log_path, e))?;
            let mut cmd = b.command(&self.env);
            cmd.envs(extra_env.iter().map(|(k, v)| (k, v)));
            if let Some(n) = pad(b) {
                cmd.env(PAD_ENV, "x".repeat(n));
            }
            let status = cmd
                .arg("--bench")
                .args(round_harness_args(&self.harness_args, b.style))
                .arg(&filter)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .status()
                .map_err(|e| Error::Command(format!("cannot run {}: {e}", b.path.display())))?;
            if !status.success() {
                return Err(Error::Command(format!(
                    "bench {} failed on {id:?} ({status}); its output is in {}",
                    b.name,
                    log_path.display()
                )));
            }
        }
        Ok(())
    }
}

impl BenchBinary {
    /// The bench executable at `path` with the benchmarks its `--list` names.
    fn listed(
        name: String,
        path: PathBuf,
        package_dir: PathBuf,
        env: &[(String, String)],
    ) -> Result<BenchBinary> {
        let mut b = BenchBinary {
            name,
            path,
            package_dir,
            ids: Vec::new(),
            style: ListStyle::Modern,
        };
        let (ids, style) = b.list(env)?;
        b.ids = ids;
        b.style = style.unwrap_or(ListStyle::Modern);
        Ok(b)
    }

    fn command(&self, env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(&self.path);
        // Cargo runs a bench in its package's directory with the manifest directory set.
        cmd.current_dir(&self.package_dir)
            .env("CARGO_MANIFEST_DIR", &self.package_dir)
            .envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn list(&self, env: &[(String, String)]) -> Result<(Vec<String>, Option<ListStyle>)> {
        self.list_with(env, &[])
    }

    fn list_with(
        &self,
        env: &[(String, String)],
        harness_args: &[String],
    ) -> Result<(Vec<String>, Option<ListStyle>)> {
        let out = self
            .command(env)
            .args(["--bench", "--list"])
            .args(harness_args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Command(format!("cannot run {}: {e}", self.path.display())))?;
        if !out.status.success() {
            return Err(Error::Command(format!(
                "{} --bench --list failed ({}): {}",
                self.path.display(),
                out.status,
                output_tail(&out.stderr, 5)
            )));
        }
        Ok(parse_list_styled(&String::from_utf8_lossy(&out.stdout)))
    }
}

/// Padding in a paired run's environment, so that both sides start with the same number of
/// bytes on the stack ([`BenchBuild::footprint`]).
pub const PAD_ENV: &str = "PERFGATE_PAD";

/// The manifest of a kept build ([`BenchBuild::keep_in`]).
const KEPT_MANIFEST: &str = "perfgate-build.json";
/// Its format's version.
const KEPT_SCHEMA_VERSION: u32 = 1;

/// A kept build: what [`BenchBuild::kept`] needs to run it again without cargo.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeptBuild {
    schema_version: u32,
    cargo_args: Vec<String>,
    binaries: Vec<KeptBinary>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeptBinary {
    name: String,
    file: String,
    package_dir: PathBuf,
}

/// The measurement profile of confirmation rounds: many short rounds interleave the two builds
/// more finely than a few long ones (benches that do not read `PERFGATE_PROFILE` keep their
/// own length).
pub const CONFIRM_PROFILE: &str = "quick";

/// One side of a confirmation: a build and where its runs write, in the [`CONFIRM_PROFILE`].
#[derive(Debug)]
pub struct SideRuns {
    /// The build.
    pub build: BenchBuild,
    /// The crate's directory (for the git metadata of the collected results).
    pub project_dir: PathBuf,
    /// `CRITERION_HOME` of this side's runs; latency logs go beside it.
    pub criterion_home: PathBuf,
    /// Environment on top of the build's and the profile (e.g. calibration settings).
    pub extra_env: Vec<(String, String)>,
    /// Where the benches' output is appended.
    pub log_path: PathBuf,
    log: Option<File>,
    /// The build's own executables; each round runs fresh copies of them ([`SideRuns::restage`]).
    originals: Vec<PathBuf>,
    stage_dir: PathBuf,
}

impl SideRuns {
    /// A side writing under `dir` (`dir/criterion`, `dir/bench.log`), which is emptied first
    /// so that results of an earlier confirmation cannot be mistaken for this one's.
    pub fn new(
        build: BenchBuild,
        project_dir: &Path,
        dir: &Path,
        extra_env: Vec<(String, String)>,
    ) -> Result<SideRuns> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let criterion_home = dir.join("criterion");
        std::fs::create_dir_all(&criterion_home).map_err(|e| Error::io(&criterion_home, e))?;
        let originals = build.binaries.iter().map(|b| b.path.clone()).collect();
        Ok(SideRuns {
            build,
            project_dir: project_dir.to_path_buf(),
            criterion_home,
            extra_env,
            log_path: dir.join("bench.log"),
            log: None,
            originals,
            stage_dir: dir.join("exe"),
        })
    }

    /// Replaces the executables this side runs with fresh copies of the build's.
    ///
    /// Why: two byte-identical executables at two paths ran 5-10% apart on the pipe benchmarks
    /// for a whole evaluation run, the same side slower in every round (docs/noise.md). A file's
    /// pages stay in the page cache, at the same physical addresses, from one run to the next,
    /// so whatever the placement of a side's code does to the caches, it does in every round:
    /// a bias that pairing cannot remove. A new copy gets new pages, which turns the placement
    /// into per-round noise that the paired statistics account for. Copying costs a few
    /// milliseconds per megabyte.
    pub fn restage(&mut self) -> Result<()> {
        std::fs::create_dir_all(&self.stage_dir).map_err(|e| Error::io(&self.stage_dir, e))?;
        for (b, orig) in self.build.binaries.iter_mut().zip(&self.originals) {
            let name = orig.file_name().unwrap_or(std::ffi::OsStr::new(&b.name));
            let staged = self.stage_dir.join(name);
            // Removed first: writing over a file a finished run mapped would keep its pages.
            if staged.exists() {
                std::fs::remove_file(&staged).map_err(|e| Error::io(&staged, e))?;
            }
            std::fs::copy(orig, &staged).map_err(|e| Error::io(&staged, e))?;
            // On disk before the round: the kernel's writeback of the copies' dirty pages
            // would otherwise run during the round's measurements.
            File::open(&staged)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(&staged, e))?;
            b.path = staged;
        }
        Ok(())
    }

    /// The environment of this side's runs, on top of the build's.
    fn run_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "CRITERION_HOME".to_string(),
                self.criterion_home.display().to_string(),
            ),
            (
                perfgate_recorder::recorder::LATENCY_DIR_ENV.to_string(),
                self.latency_dir().display().to_string(),
            ),
            (PROFILE_ENV.to_string(), CONFIRM_PROFILE.to_string()),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// [`BenchBuild::footprint`] of this side's run of its binary `name`.
    fn footprint(&self, name: &str) -> Option<usize> {
        let env = self.run_env();
        self.build
            .binaries
            .iter()
            .find(|b| b.name == name)
            .map(|b| self.build.footprint(b, &env))
    }

    fn latency_dir(&self) -> PathBuf {
        self.criterion_home
            .join(perfgate_recorder::recorder::LATENCY_SUBDIR)
    }

    /// Runs `id`, with `pads` bytes of padding in the environment of each binary it names.
    fn run(&mut self, id: &str, pads: &[(String, usize)]) -> Result<()> {
        if self.log.is_none() {
            let f = File::create(&self.log_path).map_err(|e| Error::io(&self.log_path, e))?;
            self.log = Some(f);
        }
        let env = self.run_env();
        let pad = |b: &BenchBinary| pads.iter().find(|(n, _)| *n == b.name).map(|p| p.1);
        let log = self.log.as_ref().expect("opened above");
        self.build.run(id, &env, &pad, log, &self.log_path)
    }

    fn collect(&self, since: SystemTime, testbed: Option<&str>) -> Result<Snapshot> {
        let opts = CollectOptions {
            criterion_dir: self.criterion_home.clone(),
            criterion_baseline: "new".into(),
            since: Some(since),
            stale_gap: DEFAULT_STALE_GAP,
            latency_dir: Some(self.latency_dir()),
            testbed: testbed.map(str::to_string),
            project_dir: self.project_dir.clone(),
        };
        Ok(crate::collect::collect(&opts)?.snapshot)
    }
}

/// The two sides of a confirmation, run directly from their bench binaries.
#[derive(Debug)]
pub struct BuildPair {
    /// The baseline commit's build (or the unchanged code).
    pub baseline: SideRuns,
    /// The current build (or the changed code).
    pub current: SideRuns,
    /// The testbed name recorded in the collected results.
    pub testbed: Option<String>,
    /// The CPU every bench process of the rounds runs on (`--pin-cpu`), if any.
    pub pin_cpu: Option<usize>,
}

impl BuildPair {
    /// For each binary of `side` that holds `id`, the bytes of padding that bring its run's
    /// footprint up to the other side's (none for the larger of the two).
    fn pads(&self, side: Side, id: &str) -> Vec<(String, usize)> {
        let (runs, other) = match side {
            Side::Baseline => (&self.baseline, &self.current),
            Side::Current => (&self.current, &self.baseline),
        };
        runs.build
            .holding(id)
            .filter_map(|b| {
                let own = runs.footprint(&b.name)?;
                Some((
                    b.name.clone(),
                    other.footprint(&b.name)?.saturating_sub(own),
                ))
            })
            .collect()
    }

    fn side(&mut self, side: Side) -> &mut SideRuns {
        match side {
            Side::Baseline => &mut self.baseline,
            Side::Current => &mut self.current,
        }
    }
}

impl PairedRunner for BuildPair {
    fn has(&self, side: Side, id: &str) -> bool {
        let s = match side {
            Side::Baseline => &self.baseline,
            Side::Current => &self.current,
        };
        s.build.holding(id).next().is_some()
    }

    fn begin_round(&mut self) -> Result<()> {
        self.baseline.restage()?;
        self.current.restage()
    }

    /// Runs `id` on `side` with the environment padded so that both sides' runs of a binary
    /// start with the same stack footprint: the sides differ in paths (a checkout and the work
    /// tree, each side's output directory) and in the build's variables, and the length of the
    /// environment moves the stack, which alone can change a benchmark's speed (Mytkowicz et
    /// al., "Producing wrong data without doing anything obviously wrong!", ASPLOS 2009).
    fn run(&mut self, side: Side, id: &str) -> Result<()> {
        let pads = self.pads(side, id);
        let _pinned = self.pin_cpu.map(super::affinity::Pinned::to).transpose()?;
        self.side(side).run(id, &pads)
    }

    fn collect(&mut self, side: Side, since: SystemTime) -> Result<Snapshot> {
        let testbed = self.testbed.clone();
        self.side(side).collect(since, testbed.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bench_executables_in_cargo_messages() {
        let json = r#"{"reason":"compiler-artifact","package_id":"x","manifest_path":"/w/p/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"p","src_path":"/w/p/src/lib.rs"},"executable":null,"fresh":true}
{"reason":"compiler-artifact","package_id":"x","manifest_path":"/w/p/Cargo.toml","target":{"kind":["bench"],"crate_types":["bin"],"name":"spawn","src_path":"/w/p/benches/spawn.rs"},"executable":"/w/t/release/deps/spawn-0123","fresh":true}
{"reason":"compiler-artifact","package_id":"x","manifest_path":"/w/p/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"tool","src_path":"/w/p/src/main.rs"},"executable":"/w/t/release/tool","fresh":true}
not json at all
{"reason":"build-finished","success":true}
"#;
        assert_eq!(
            parse_artifacts(json),
            vec![(
                "spawn".to_string(),
                PathBuf::from("/w/t/release/deps/spawn-0123"),
                PathBuf::from("/w/p")
            )]
        );
    }

    #[test]
    fn round_arguments_drop_filters_and_bound_the_timing() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        // The README's shape: `-- --bench NAME -- FILTER` leaves the filter for the harness.
        assert_eq!(
            round_harness_args(&s(&["spawn/"]), ListStyle::Modern),
            s(&[
                "--noplot",
                "--warm-up-time",
                "0.2",
                "--measurement-time",
                "0.5",
                "--sample-size",
                "10",
                "--nresamples",
                "1000"
            ])
        );
        assert_eq!(
            round_harness_args(
                &s(&[
                    "--noplot",
                    "--save-baseline",
                    "pr",
                    "--exact",
                    "fixture/sum",
                    "--measurement-time",
                    "2",
                    "--sample-size=30"
                ]),
                ListStyle::Modern
            ),
            s(&[
                "--noplot",
                "--save-baseline",
                "pr",
                "--measurement-time",
                "2",
                "--sample-size=30",
                "--warm-up-time",
                "0.2",
                "--nresamples",
                "1000"
            ])
        );
    }

    #[test]
    fn profile_arguments_keep_options_and_replace_the_timing() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(
            profile_harness_args(
                &s(&[
                    "--warm-up-time",
                    "0.05",
                    "--measurement-time",
                    "0.1",
                    "sum",
                    "--exact"
                ]),
                ListStyle::Modern,
                2.5
            ),
            s(&[
                "--warm-up-time",
                "0.05",
                "--noplot",
                "--profile-time",
                "2.5"
            ])
        );
        assert_eq!(
            profile_harness_args(&[], ListStyle::Criterion03, 2.5),
            s(&["--noplot", "--profile-time", "3"])
        );
    }

    #[test]
    fn criterion_0_3_rounds_get_whole_seconds() {
        let args = round_harness_args(&[], ListStyle::Criterion03);
        assert_eq!(
            args,
            [
                "--noplot",
                "--warm-up-time",
                "1",
                "--measurement-time",
                "1",
                "--sample-size",
                "10",
                "--nresamples",
                "1000"
            ]
        );
    }

    fn build_at(exe: &Path, env: Vec<(String, String)>) -> BenchBuild {
        BenchBuild {
            binaries: vec![BenchBinary {
                name: "pipe".into(),
                path: exe.to_path_buf(),
                package_dir: exe.parent().unwrap().to_path_buf(),
                ids: vec!["pipe/copy/4096".into()],
                style: ListStyle::Modern,
            }],
            harness_args: Vec::new(),
            env,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn both_sides_start_with_the_same_footprint_and_fresh_executables() {
        let tmp = tempfile::tempdir().unwrap();
        let short = tmp.path().join("a");
        let long = tmp.path().join("a-much-longer-checkout-directory");
        for d in [&short, &long] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("pipe-0123"), b"#!/bin/sh\n").unwrap();
        }
        let mut pair = BuildPair {
            baseline: SideRuns::new(
                build_at(
                    &long.join("pipe-0123"),
                    vec![("CARGO_TARGET_DIR".into(), "/somewhere/target".into())],
                ),
                &long,
                &tmp.path().join("confirm-base"),
                Vec::new(),
            )
            .unwrap(),
            current: SideRuns::new(
                build_at(&short.join("pipe-0123"), Vec::new()),
                &short,
                &tmp.path().join("confirm-current"),
                vec![("SLOWDOWN".into(), "1.5".into())],
            )
            .unwrap(),
            testbed: None,
            pin_cpu: None,
        };
        pair.begin_round().unwrap();
        let staged = pair.baseline.build.binaries[0].path.clone();
        assert!(
            staged.starts_with(tmp.path().join("confirm-base/exe")),
            "{staged:?}"
        );
        assert_eq!(std::fs::read(&staged).unwrap(), b"#!/bin/sh\n");
        let id = "pipe/copy/4096";
        let (pb, pc) = (pair.pads(Side::Baseline, id), pair.pads(Side::Current, id));
        let own = |s: &SideRuns| s.footprint("pipe").unwrap();
        let (b, c) = (own(&pair.baseline), own(&pair.current));
        assert_ne!(b, c, "the sides differ before padding");
        // Only the smaller side is padded, up to the larger one's footprint.
        assert_eq!(b + pb[0].1, b.max(c));
        assert_eq!(c + pc[0].1, b.max(c));
        assert_eq!(pb[0].1.min(pc[0].1), 0);
        // A byte of padding is a byte of footprint, so the padded sides are equal.
        let padded = |s: &SideRuns, n: usize| {
            let mut env = s.run_env();
            env.push(("PERFGATE_PAD_PROBE".into(), "x".repeat(n)));
            s.build.footprint(&s.build.binaries[0], &env)
        };
        assert_eq!(
            padded(&pair.baseline, pb[0].1),
            padded(&pair.current, pc[0].1)
        );
    }

    #[test]
    fn reads_criterion_lists() {
        let out = "spawn/true/posix_spawn: benchmark\npipe/copy/4096: benchmark\n\nWarning: x\n";
        assert_eq!(
            crate::collect::run::parse_list(out),
            vec!["spawn/true/posix_spawn", "pipe/copy/4096"]
        );
    }
}
