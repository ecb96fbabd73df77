//! Running `cargo bench` with progress: the current benchmark, how many remain, elapsed time
//! and an estimate of the time left, read from criterion's own progress lines.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::error::{Error, Result};
use perfgate_recorder::profile::PROFILE_ENV;
use perfgate_recorder::recorder::LATENCY_DIR_ENV;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchRun {
    /// The crate to bench (cargo's working directory).
    pub project_dir: PathBuf,
    /// Arguments for `cargo bench`, as the user gave them (may contain `--` and criterion args).
    pub cargo_args: Vec<String>,
    /// Sets `PERFGATE_PROFILE=quick`.
    pub quick: bool,
    /// `CRITERION_HOME` for the run, if the user chose the criterion directory.
    pub criterion_home: Option<PathBuf>,
    /// Where the latency recorder writes (`PERFGATE_LATENCY_DIR`): beside criterion's output,
    /// where `collect` looks by default.
    pub latency_dir: PathBuf,
    /// Where the full output of `cargo bench` is kept.
    pub log_path: PathBuf,
    /// Extra environment for `cargo bench` (e.g. `CARGO_TARGET_DIR`, calibration settings).
    pub env: Vec<(String, String)>,
}

/// The outcome of a run.
#[derive(Debug)]
pub struct RunOutcome {
    /// When the run started: results written before it are stale.
    pub started: SystemTime,
    /// Benchmark ids criterion reported as analysed, in order.
    pub completed: Vec<String>,
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Splits user args into cargo's and the bench harness's (after the first `--`).
pub fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    match args.iter().position(|a| a == "--") {
        Some(i) => (args[..i].to_vec(), args[i + 1..].to_vec()),
        None => (args.to_vec(), Vec::new()),
    }
}

/// The generation of criterion a `--list` output came from: 0.3 prints `id: bench`, 0.4 and
/// later print `id: benchmark`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStyle {
    /// `id: bench` (criterion 0.3): its timing options take whole seconds.
    Criterion03,
    /// `id: benchmark` (criterion 0.4 and later): timing options take fractional seconds.
    Modern,
}

/// Reads a criterion harness's `--list` output (`id: benchmark` per line, `id: bench` from
/// criterion 0.3).
pub fn parse_list(stdout: &str) -> Vec<String> {
    parse_list_styled(stdout).0
}

/// [`parse_list`], with the style the ids were listed in (`None` when there were none).
pub fn parse_list_styled(stdout: &str) -> (Vec<String>, Option<ListStyle>) {
    let mut style = None;
    let ids = stdout
        .lines()
        .filter_map(|l| {
            if let Some(id) = l.strip_suffix(": benchmark") {
                style = Some(ListStyle::Modern);
                Some(id.to_string())
            } else if let Some(id) = l.strip_suffix(": bench") {
                style.get_or_insert(ListStyle::Criterion03);
                Some(id.to_string())
            } else {
                None
            }
        })
        .collect();
    (ids, style)
}

impl BenchRun {
    fn command(&self, harness_extra: &[&str]) -> Command {
        let (cargo_args, mut harness) = split_args(&self.cargo_args);
        harness.extend(harness_extra.iter().map(|s| s.to_string()));
        let mut cmd = Command::new(cargo());
        cmd.arg("bench").args(&cargo_args);
        if !harness.is_empty() {
            cmd.arg("--").args(&harness);
        }
        cmd.current_dir(&self.project_dir)
            .env(LATENCY_DIR_ENV, &self.latency_dir)
            .env(PROFILE_ENV, if self.quick { "quick" } else { "default" });
        if let Some(home) = &self.criterion_home {
            cmd.env("CRITERION_HOME", home);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Asks the bench binaries for their benchmark list (`-- --list`), to know how many will run.
    /// `None` when the list cannot be had (a harness that does not support it): progress then
    /// shows counts without a total.
    pub fn list(&self) -> Option<Vec<String>> {
        let out = self
            .command(&["--list"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        Some(parse_list(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Runs `cargo bench`, telling `progress` how it goes, and keeps its output in `log_path`.
    pub fn run(&self, progress: &mut dyn FnMut(Event<'_>)) -> Result<RunOutcome> {
        if let Some(parent) = self.log_path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        // Logs of earlier runs may stay: collect attaches a log only to the result with the same
        // id and iteration counts, written at the same time.
        std::fs::create_dir_all(&self.latency_dir).map_err(|e| Error::io(&self.latency_dir, e))?;
        progress(Event::Building);
        let total = self.list().map(|ids| ids.len());

        let started = SystemTime::now();
        let mut log =
            std::fs::File::create(&self.log_path).map_err(|e| Error::io(&self.log_path, e))?;
        let mut child = self
            .command(&[])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Command(format!("cannot run cargo bench: {e}")))?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let mut readers = Vec::new();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).split(b'\n').map_while(|l| l.ok()) {
                    let text = String::from_utf8_lossy(&line);
                    // criterion rewrites its progress line with \r on a terminal.
                    for part in text.split('\r') {
                        if tx.send(part.to_string()).is_err() {
                            return;
                        }
                    }
                }
            }));
        }
        drop(tx);
        let mut completed = Vec::new();
        for line in rx {
            let _ = writeln!(log, "{line}");
            if let Some(rest) = line.strip_prefix("Benchmarking ") {
                if let Some(id) = rest.strip_suffix(": Analyzing") {
                    completed.push(id.to_string());
                } else if !rest.contains(": ") {
                    progress(Event::Started {
                        id: rest,
                        done: completed.len(),
                        total,
                    });
                }
            }
        }
        for r in readers {
            let _ = r.join();
        }
        let status = child
            .wait()
            .map_err(|e| Error::Command(format!("cargo bench: {e}")))?;
        progress(Event::Finished {
            done: completed.len(),
        });
        if !status.success() {
            return Err(Error::Command(format!(
                "`cargo bench` failed ({status}); last lines of {}:\n{}",
                self.log_path.display(),
                tail(&self.log_path, 20)
            )));
        }
        Ok(RunOutcome { started, completed })
    }
}

fn tail(path: &Path, n: usize) -> String {
    last_lines(&std::fs::read_to_string(path).unwrap_or_default(), n)
}

/// The last `n` lines of `text`, for error messages that quote a command's output.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// What a run reports as it goes, for the caller to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The benches are being built and their benchmarks listed.
    Building,
    /// Criterion started benchmark `id`; `done` were analysed before it, of `total` if known.
    Started {
        /// Criterion's id of the benchmark.
        id: &'a str,
        /// Benchmarks finished so far.
        done: usize,
        /// Benchmarks in the run, when the listing worked.
        total: Option<usize>,
    },
    /// The run ended with `done` benchmarks analysed.
    Finished {
        /// Benchmarks finished.
        done: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_of_criterion_0_3_and_later() {
        let modern = "\nWarning: x\nfixture/sum: benchmark\nweird |a|: benchmark\n";
        assert_eq!(
            parse_list_styled(modern),
            (
                vec!["fixture/sum".to_string(), "weird |a|".to_string()],
                Some(ListStyle::Modern)
            )
        );
        let old = "WARNING: HTML report generation\nfixture/sum: bench\nfixture/sized/64: bench\n";
        assert_eq!(
            parse_list_styled(old),
            (
                vec!["fixture/sum".to_string(), "fixture/sized/64".to_string()],
                Some(ListStyle::Criterion03)
            )
        );
        assert_eq!(parse_list_styled("nothing\n"), (vec![], None));
    }

    #[test]
    fn splits_cargo_and_harness_args() {
        let args: Vec<String> = ["--bench", "spawn", "--", "spawn/true"]
            .map(String::from)
            .to_vec();
        let (c, h) = split_args(&args);
        assert_eq!(c, ["--bench", "spawn"]);
        assert_eq!(h, ["spawn/true"]);
        assert_eq!(split_args(&[]).0.len(), 0);
    }
}
