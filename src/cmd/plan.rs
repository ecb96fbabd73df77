//! What each command is asked to do, as plain data: the command line is converted into these
//! (in `crate::cli`), so the commands and everything below them never see clap.

use std::path::PathBuf;
use std::time::Duration;

use crate::report::Format;

/// When to use colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Options of every command.
#[derive(Debug, Clone)]
pub struct Global {
    /// The thresholds file named on the command line, if any (else `perfgate.toml` in the
    /// current directory, when present).
    pub config: Option<PathBuf>,
    /// When to use colours.
    pub color: Color,
}

/// How to run `cargo bench`.
#[derive(Debug, Clone, Default)]
pub struct Bench {
    /// Criterion's output directory, when not the default.
    pub criterion_dir: Option<PathBuf>,
    /// The quick measurement profile (`PERFGATE_PROFILE=quick`).
    pub quick: bool,
    /// The testbed name, when not derived from the machine.
    pub testbed: Option<String>,
    /// Arguments for `cargo bench` (criterion's after a `--`).
    pub cargo_args: Vec<String>,
}

/// Where the baseline comes from.
#[derive(Debug, Clone)]
pub struct BaselineSource {
    /// An explicit baseline file.
    pub file: Option<PathBuf>,
    /// Read the file at this git ref (`merge-base`: the merge-base with the main branch).
    pub git_ref: Option<String>,
    /// The branch `merge-base` is taken against.
    pub base_branch: Option<String>,
    /// The baselines directory.
    pub dir: PathBuf,
}

/// The reports of a comparison: one on stdout, and any number of files.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The format printed on stdout.
    pub stdout: Format,
    /// Files to write, each in its format (the table without colours).
    pub files: Vec<(Format, PathBuf)>,
    /// The terminal report as the full table of every row.
    pub verbose: bool,
}

/// `perfgate run`.
#[derive(Debug, Clone)]
pub struct Run {
    /// Where to write the results (default: the layout's results file).
    pub output: Option<PathBuf>,
    /// How to run the suite.
    pub bench: Bench,
}

/// `perfgate collect`.
#[derive(Debug, Clone)]
pub struct Collect {
    /// Criterion's output directory.
    pub criterion_dir: Option<PathBuf>,
    /// The criterion baseline to read (`new`: the latest run).
    pub criterion_baseline: String,
    /// Where to write the results.
    pub output: PathBuf,
    /// Keep only results written at or after this RFC 3339 time.
    pub since: Option<String>,
    /// The testbed name to record.
    pub testbed: Option<String>,
}

/// `perfgate compare`.
#[derive(Debug, Clone)]
pub struct Compare {
    /// The baseline.
    pub source: BaselineSource,
    /// The results file (default: the layout's results file).
    pub results: Option<PathBuf>,
    /// The baseline's testbed (default: the results').
    pub testbed: Option<String>,
    /// Where the reports go.
    pub outputs: Outputs,
}

/// `perfgate check`.
#[derive(Debug, Clone)]
pub struct Check {
    /// The baseline.
    pub source: BaselineSource,
    /// Compare this results file instead of running the suite.
    pub results: Option<PathBuf>,
    /// Where to write the results of the run (default: the layout's results file).
    pub output: Option<PathBuf>,
    /// Where the reports go.
    pub outputs: Outputs,
    /// Paired rounds that re-measure candidate regressions (0: none).
    pub confirm_rounds: u32,
    /// Time for the paired rounds.
    pub confirm_budget: Duration,
    /// Seed of the rounds' randomized order (default: drawn from the clock, and reported).
    pub seed: Option<u64>,
    /// Only prepare the baseline commit's checkout and build, then exit.
    pub prepare_only: bool,
    /// Environment for the current build's runs only (an evaluation's injected slowdown).
    pub current_env: Vec<(String, String)>,
    /// Measure this ref here instead of reading a stored baseline.
    pub ab: Option<String>,
    /// The target directory of the baseline commit's build (default: the layout's).
    pub ab_target_dir: Option<PathBuf>,
    /// The CPU the paired rounds' bench processes run on.
    pub pin_cpu: Option<usize>,
    /// Run only this shard of the suite.
    pub shard: Option<crate::baseline::shard::Shard>,
    /// Where the shard report goes (default: the layout's).
    pub shard_report: Option<PathBuf>,
    /// Profile every confirmed regression into this folder (`perfgate explain`'s files).
    pub explain: Option<PathBuf>,
    /// How to run the suite.
    pub bench: Bench,
}

/// `perfgate merge`.
#[derive(Debug, Clone)]
pub struct Merge {
    /// The shard reports.
    pub reports: Vec<PathBuf>,
    /// Where the reports go.
    pub outputs: Outputs,
}

/// `perfgate baseline refresh`.
#[derive(Debug, Clone)]
pub struct Refresh {
    /// Results files to use instead of running the suite.
    pub from: Vec<PathBuf>,
    /// Runs of the suite (noise is measured from 2).
    pub runs: u32,
    /// The baselines directory.
    pub dir: PathBuf,
    /// Refresh with uncommitted changes.
    pub allow_dirty: bool,
    /// Remove benchmarks absent from the new results.
    pub prune: bool,
    /// Also write the summary as markdown to this file.
    pub summary_md: Option<PathBuf>,
    /// How to run the suite.
    pub bench: Bench,
}

/// `perfgate baseline show`.
#[derive(Debug, Clone)]
pub struct Show {
    /// The baseline.
    pub source: BaselineSource,
    /// The testbed (default: this machine's).
    pub testbed: Option<String>,
}

/// `perfgate eval-noise`.
#[derive(Debug, Clone)]
pub struct EvalNoise {
    /// Rounds.
    pub rounds: u32,
    /// Runs combined into the baseline.
    pub noise_runs: u32,
    /// Paired rounds confirming each candidate (0: none).
    pub confirm_rounds: u32,
    /// Throughput drops to inject, in percent.
    pub drops: Vec<f64>,
    /// The injected tail, `FRACTION:FACTOR`.
    pub tail: String,
    /// The quick profile.
    pub quick: bool,
    /// Criterion's output directory.
    pub criterion_dir: Option<PathBuf>,
}

/// The views of `perfgate history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFormat {
    /// Terminal tables with a sparkline per series.
    Table,
    /// The JSON document (`kind: "perfgate-history"`).
    Json,
    /// GitHub-flavoured markdown.
    Markdown,
    /// A self-contained HTML page with a chart per series.
    Html,
}

/// `perfgate history`.
#[derive(Debug, Clone)]
pub struct History {
    /// The baseline file (default: `<dir>/<testbed>.json`).
    pub file: Option<PathBuf>,
    /// The baselines directory.
    pub dir: PathBuf,
    /// The testbed (default: this machine's).
    pub testbed: Option<String>,
    /// The ref whose first-parent history is walked.
    pub rev: String,
    /// Only commits from this time on (RFC 3339, a date, or a duration ago such as `90days`).
    pub since: Option<String>,
    /// Globs over benchmark ids (empty: all).
    pub benches: Vec<String>,
    /// Metrics to follow (empty: all).
    pub metrics: Vec<crate::vocab::Metric>,
    /// Largest p-value of a kept change point.
    pub max_p_value: f64,
    /// Smallest relative step kept (a fraction).
    pub min_change: f64,
    /// Fewest points on each side of a change point.
    pub min_size: usize,
    /// The view on stdout.
    pub stdout: HistoryFormat,
    /// Views also written to files.
    pub files: Vec<(HistoryFormat, PathBuf)>,
    /// Where the HTML page links a commit: a template with `{commit}` (default: the page's
    /// own commit table).
    pub commit_url: Option<String>,
}

/// `perfgate bisect`.
#[derive(Debug, Clone)]
pub struct Bisect {
    /// The known-good revision.
    pub good: String,
    /// The known-bad revision (a first-parent descendant of `good`).
    pub bad: String,
    /// The benchmark id bisected.
    pub bench_id: String,
    /// The metric bisected.
    pub metric: crate::vocab::Metric,
    /// Most paired rounds per step.
    pub rounds: u32,
    /// Seed of the rounds' randomized order (default: drawn from the clock, and reported).
    pub seed: Option<u64>,
    /// Also write the JSON document here.
    pub json: Option<PathBuf>,
    /// The target directory of the commits' builds (default: the layout's A/B target).
    pub ab_target_dir: Option<PathBuf>,
    /// The CPU the paired rounds' bench processes run on.
    pub pin_cpu: Option<usize>,
    /// How to build and run the benches.
    pub bench: Bench,
}

/// `perfgate explain`.
#[derive(Debug, Clone)]
pub struct Explain {
    /// The benchmark's full criterion id.
    pub bench_id: String,
    /// The baseline revision (`merge-base`: the merge-base of HEAD with the main branch).
    pub baseline_ref: String,
    /// Profiles per side, interleaved.
    pub profiles: u32,
    /// Seconds of each profile (criterion's `--profile-time`).
    pub profile_seconds: f64,
    /// Also write the JSON document here.
    pub json: Option<PathBuf>,
    /// Also write the markdown section here.
    pub markdown: Option<PathBuf>,
    /// Where to write the flame graph (default: under the layout's explain folder).
    pub svg: Option<PathBuf>,
    /// How to build and run the benches.
    pub bench: Bench,
}
