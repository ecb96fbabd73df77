//! The command line (clap derive): parsing, and the conversion of the parsed arguments into
//! the plan types of [`crate::cmd`], so that nothing below this module sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline::shard::Shard;
use crate::cmd::{self, plan};
use crate::report::Format;

const EXIT_CODES: &str = "\
Exit codes:
  0  no regression (compare, check), or the command succeeded
  1  at least one gated regression, a missing benchmark configured to fail, or an undecided
     gated row with inconclusive = \"fail\"
  2  usage error or bad input: missing, empty, corrupt or incompatible file, no criterion
     output, failing `cargo bench`, bad config; also `check` when its A/B rounds fail (the
     first comparison's report is printed, with the error in its headline)
  3  explain: profiling is unavailable here (perf missing or forbidden; the message says how
     to enable it)
A closed output pipe (e.g. `| head`) is not an error.";

/// perfgate: fail the build when a change makes a benchmark slower.
#[derive(Debug, Parser)]
#[command(name = "perfgate", version, about, after_help = EXIT_CODES, after_long_help = EXIT_CODES)]
pub struct Cli {
    /// The thresholds file (default: perfgate.toml in the current directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When to use colours (auto: on a terminal, unless NO_COLOR is set).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Colour choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colours on a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Output formats of `compare` and `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A terminal table (comfy-table).
    Table,
    /// Machine-readable JSON (schema in the README).
    Json,
    /// GitHub-flavoured markdown (job summaries, pull request comments).
    Markdown,
    /// OpenMetrics text exposition (for a Prometheus Pushgateway or node_exporter's textfile
    /// collector).
    #[value(name = "openmetrics")]
    OpenMetrics,
    /// A self-contained HTML page with charts of every benchmark's distributions and change
    /// (opens offline; for a CI artifact).
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::OpenMetrics => Format::OpenMetrics,
            FormatArg::Html => Format::Html,
        }
    }
}

/// The subcommands.
// One value per process, parsed once and converted at once: the size of its largest variant
// costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run `cargo bench` and write a results file (target/perfgate/results.json).
    Run(RunArgs),
    /// Turn existing criterion output into a results file, without running anything.
    Collect(CollectArgs),
    /// Compare a results file with a baseline and print the verdicts.
    Compare(CompareArgs),
    /// Run the suite and compare it with the baseline: the gate.
    Check(CheckArgs),
    /// Manage baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Print the compiled-in default configuration (a commented perfgate.toml).
    Config,
    /// Measure the gate's false-alarm and detection rates on this machine with the calibration
    /// benchmark (benches/calibrate.rs), next to criterion's own verdicts.
    EvalNoise(EvalNoiseArgs),
    /// Find the steps in the committed baselines: every version of baselines/<testbed>.json
    /// on the first-parent history, one series per benchmark and metric, and its change points
    /// (E-Divisive means with Student's t-test), each with the first commit after it.
    #[command(after_help = HISTORY_HELP, after_long_help = HISTORY_HELP)]
    History(HistoryArgs),
    /// Find the commit that made a benchmark slower: a binary search over the first-parent
    /// commits from --good to --bad, each step a same-machine A/B of that commit's build
    /// against the good commit's, in paired rounds that stop as soon as they decide.
    #[command(after_help = BISECT_HELP, after_long_help = BISECT_HELP)]
    Bisect(BisectArgs),
    /// Merge the shard reports of a suite split across a CI matrix (`check --shard K/N`) into
    /// one verdict, table, markdown, job summary and comment.
    #[command(after_help = MERGE_HELP, after_long_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// Show where a benchmark got slower: profile it with perf on the baseline build and on
    /// head, interleaved, and report the functions whose self time grew most, with a
    /// differential flame graph (SVG).
    #[command(after_help = EXPLAIN_HELP, after_long_help = EXPLAIN_HELP)]
    Explain(ExplainArgs),
}

const EXPLAIN_HELP: &str = "\
Both sides are built for profiling in their own target directory (frame pointers and line
tables: target/perfgate/ab/explain-target), never in a measured build's. Needs perf
(docs/explain.md); profiling never changes a verdict.

Examples:
  perfgate explain fixture/sum
  perfgate explain pool/roundtrip --baseline-ref origin/main --json explain.json -- --bench pool

Exit code 0 when the profiles were compared; 2 for bad input or a failed build or run; 3 when
profiling is unavailable here (perf missing, or forbidden by kernel.perf_event_paranoid), with
one line saying how to enable it.";

/// `perfgate explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The benchmark's full criterion id.
    #[arg(value_name = "BENCH_ID")]
    pub bench_id: String,
    /// The baseline revision; `merge-base` is the merge-base of HEAD with the main branch.
    #[arg(long, value_name = "REF", default_value = "merge-base")]
    pub baseline_ref: String,
    /// Profiles per side, interleaved (baseline, head, head, baseline, ...).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub profiles: u32,
    /// Seconds of each profile (criterion's --profile-time).
    #[arg(long, value_name = "S", default_value_t = 2.0, value_parser = parse_seconds)]
    pub profile_time: f64,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the result as a collapsed markdown section to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Where to write the differential flame graph (default:
    /// target/perfgate/explain/<benchmark>.svg).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=600.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in [0.1, 600]")),
    }
}

const MERGE_HELP: &str = "\
Every shard must be given: a missing shard is an error (exit 2), never a pass, and so are
shards of different commits, configs or splits, or written by another perfgate version.

Example (the last job of a matrix):
  perfgate merge shard-1-of-2.json shard-2-of-2.json --markdown report.md

Exit code 0 when nothing regressed, 1 on a regression, 2 for bad input or a shard whose
paired rounds failed.";

const BISECT_HELP: &str = "\
The first step checks the premise: the bad commit against the good one, at the benchmark's
configured threshold. Only a confirmed regression is bisected; every later step asks whether a
commit lies nearer the good or the bad side (docs/bisect.md). Each commit is checked out beside
the work tree and built once (its build is kept, like check's baseline build).

Examples:
  perfgate bisect --good v1.2.0 --bad HEAD --bench spawn/command/static
  perfgate bisect --good HEAD~16 --bad HEAD --bench pool/roundtrip --metric p99 -- --bench pool

Exit code 0 when the first bad commit is found; 1 when the bad commit is not slower than the
good one (nothing to bisect); 2 for bad input or a failed build or run.";

const HISTORY_HELP: &str = "\
A change point is where a series steps to a new level: a per-pull-request gate with a 5%
threshold lets ten 1% regressions through one at a time, and their sum shows here. Each is
reported with the first commit after it, its size with an interval, and its p-value. The
output depends only on the history: no random numbers.

Examples:
  perfgate history                                   # this testbed's baseline, all series
  perfgate history --bench 'pool/**' --metric p99 --since 90days
  perfgate history --format json > history.json --html history.html

Exit code 0 whatever is found (it reports, it does not gate); 2 for bad input.";

/// Metrics, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricArg {
    /// Throughput (from criterion's mean time).
    Throughput,
    /// Median operation latency (recorded benchmarks).
    P50,
    /// 99th percentile operation latency.
    P99,
    /// 99.9th percentile operation latency.
    P999,
    /// Heap allocations per operation (benchmarks run with perfgate's counting allocator).
    Allocs,
    /// Bytes allocated per operation.
    #[value(name = "alloc_bytes")]
    AllocBytes,
}

impl From<MetricArg> for crate::vocab::Metric {
    fn from(m: MetricArg) -> Self {
        use crate::vocab::Metric;
        match m {
            MetricArg::Throughput => Metric::Throughput,
            MetricArg::P50 => Metric::P50,
            MetricArg::P99 => Metric::P99,
            MetricArg::P999 => Metric::P999,
            MetricArg::Allocs => Metric::Allocs,
            MetricArg::AllocBytes => Metric::AllocBytes,
        }
    }
}

/// Views of `perfgate history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormatArg {
    /// Terminal tables, a sparkline per series.
    Table,
    /// Machine-readable JSON (kind "perfgate-history", schema in the README).
    Json,
    /// GitHub-flavoured markdown.
    Markdown,
    /// A self-contained HTML page, a chart per series, each point linked to its commit.
    Html,
}

/// `perfgate history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The testbed whose baseline to read (default: $PERFGATE_TESTBED, else this machine's).
    #[arg(long, value_name = "NAME")]
    pub testbed: Option<String>,
    /// The baseline file (default: baselines/<testbed>.json).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// The baselines directory.
    #[arg(long, value_name = "DIR", default_value = "baselines")]
    pub dir: PathBuf,
    /// The ref whose first-parent history is walked.
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub rev: String,
    /// Only commits from this time on: RFC 3339 (2026-11-24T10:00:00Z), a date (2026-11-24)
    /// or a duration before now (90days).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only benchmarks whose id matches GLOB (repeatable), e.g. 'pool/**'.
    #[arg(long = "bench", value_name = "GLOB")]
    pub benches: Vec<String>,
    /// Only these metrics (repeatable or comma-separated; default: every metric a benchmark
    /// has).
    #[arg(
        long = "metric",
        value_name = "METRIC",
        value_enum,
        value_delimiter = ','
    )]
    pub metrics: Vec<MetricArg>,
    /// Keep a change point only when Student's t-test of its two sides gives a p-value below
    /// this (Apache Otava's default; a history has many splits and many series).
    #[arg(long, value_name = "P", default_value_t = 0.001, value_parser = parse_p)]
    pub max_p_value: f64,
    /// Keep a change point only when its step is at least this many percent.
    #[arg(long, value_name = "PCT", default_value_t = 0.0, value_parser = parse_pct)]
    pub min_change: f64,
    /// Fewest versions on each side of a change point.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..=10000))]
    pub min_size: u32,
    /// The view on stdout.
    #[arg(long, value_enum, default_value_t = HistoryFormatArg::Table)]
    pub format: HistoryFormatArg,
    /// Also write the JSON document to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the markdown view to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the tables (without colours) to FILE.
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// Where the HTML page links each point's commit: a URL with {commit} for the full id,
    /// e.g. https://github.com/OWNER/REPO/commit/{commit} (default: the commit's row in the
    /// page's own commit table, so the page needs no network).
    #[arg(long, value_name = "TEMPLATE")]
    pub commit_url: Option<String>,
}

fn parse_p(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if p > 0.0 && p < 1.0 => Ok(p),
        _ => Err(format!("{s:?} is not a p-value in (0, 1)")),
    }
}

fn parse_pct(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..1000.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a percentage in [0, 1000)")),
    }
}

/// `perfgate eval-noise`.
#[derive(Debug, Args)]
pub struct EvalNoiseArgs {
    /// Rounds: each runs the unchanged code once as criterion's reference, then A/A and every
    /// A/B variant once (6 runs of the calibration bench per round).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rounds: u32,
    /// Runs of the unchanged code combined into the baseline (and its run-to-run noise).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub noise_runs: u32,
    /// Paired rounds confirming each candidate regression, as `check` does (0: judge on the
    /// first comparison alone, as `compare` does).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub confirm_rounds: u32,
    /// Throughput drops to inject, in percent.
    #[arg(
        long,
        value_name = "PCT",
        value_delimiter = ',',
        default_value = "3,5,10"
    )]
    pub drops: Vec<f64>,
    /// The injected tail: FRACTION:FACTOR (2% of operations 5x slower by default).
    #[arg(long, value_name = "F:M", default_value = "0.02:5")]
    pub tail: String,
    /// Short measurement (PERFGATE_PROFILE=quick): a smoke test of the procedure, not figures.
    #[arg(long)]
    pub quick: bool,
    /// Criterion's output directory.
    #[arg(long, value_name = "DIR")]
    pub criterion_dir: Option<PathBuf>,
}

/// Options for running `cargo bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Criterion's output directory (default: as criterion resolves it: CRITERION_HOME,
    /// CARGO_TARGET_DIR/criterion, or the cargo target dir + /criterion).
    #[arg(long, value_name = "DIR")]
    pub criterion_dir: Option<PathBuf>,
    /// Short measurement (sets PERFGATE_PROFILE=quick for benches that use perfgate's profile).
    #[arg(long)]
    pub quick: bool,
    /// The testbed name (default: $PERFGATE_TESTBED, else derived from the machine, e.g.
    /// linux-x86_64-2c-24g).
    #[arg(long, value_name = "NAME")]
    pub testbed: Option<String>,
    /// Arguments for `cargo bench`, after `--` (e.g. `-- --bench spawn -- spawn/true`).
    #[arg(last = true, value_name = "CARGO_BENCH_ARGS")]
    pub cargo_args: Vec<String>,
}

/// `perfgate run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Where to write the results (default: target/perfgate/results.json, in
    /// $CARGO_TARGET_DIR when set).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

/// `perfgate collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Criterion's output directory.
    #[arg(long, value_name = "DIR")]
    pub criterion_dir: Option<PathBuf>,
    /// Read a criterion baseline saved with `--save-baseline NAME` instead of the latest run.
    #[arg(long, value_name = "NAME", default_value = "new")]
    pub criterion_baseline: String,
    /// Where to write the results.
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,
    /// Keep only results written at or after this time (RFC 3339, e.g. 2026-11-24T10:00:00Z).
    /// Default: results of the latest invocation (results written more than 10 minutes
    /// before the next-newer one are stale and skipped).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// The testbed name to record.
    #[arg(long, value_name = "NAME")]
    pub testbed: Option<String>,
}

/// Reports written to files as well as the one on stdout, in the same run.
#[derive(Debug, Clone, Args)]
pub struct ReportFiles {
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the OpenMetrics report to FILE.
    #[arg(long, value_name = "FILE")]
    pub openmetrics: Option<PathBuf>,
    /// Also write the HTML report (one self-contained page with charts) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the terminal report (without colours) to FILE.
    #[arg(long, value_name = "FILE")]
    pub table: Option<PathBuf>,
    /// The terminal report as the full table of every row with its reason, instead of the
    /// compact report (failing rows, then the other benchmarks by verdict).
    #[arg(long, short)]
    pub verbose: bool,
}

impl ReportFiles {
    fn into_outputs(self, stdout: FormatArg) -> plan::Outputs {
        let files = [
            (Format::Json, self.json),
            (Format::Markdown, self.markdown),
            (Format::OpenMetrics, self.openmetrics),
            (Format::Html, self.html),
            (Format::Table, self.table),
        ]
        .into_iter()
        .filter_map(|(f, p)| Some((f, p?)))
        .collect();
        plan::Outputs {
            stdout: stdout.into(),
            files,
            verbose: self.verbose,
        }
    }
}

/// Where the baseline comes from.
#[derive(Debug, Clone, Args)]
pub struct BaselineSource {
    /// The baseline file (default: baselines/<testbed>.json).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Read the baseline file as it is at this git ref, without a checkout (e.g. origin/main).
    /// `merge-base` means the merge-base of HEAD with the main branch.
    #[arg(long, value_name = "REF")]
    pub baseline_ref: Option<String>,
    /// The branch `--baseline-ref merge-base` is taken against, tried as origin/BRANCH then
    /// BRANCH (default: $PERFGATE_BASE_BRANCH, else $GITHUB_BASE_REF, the pull request's base
    /// branch in GitHub Actions, else origin/main, origin/master, main, master).
    #[arg(long, value_name = "BRANCH")]
    pub base_branch: Option<String>,
    /// The baselines directory, where `baselines/<testbed>.json` is looked up.
    #[arg(long, value_name = "DIR", default_value = "baselines")]
    pub dir: PathBuf,
}

/// `perfgate compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub source: BaselineSource,
    /// The results file (default: target/perfgate/results.json, in $CARGO_TARGET_DIR when
    /// set).
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// The baseline's testbed, when --baseline is not given (default: the results' testbed).
    #[arg(long, value_name = "NAME")]
    pub testbed: Option<String>,
    /// Output format (on stdout).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub files: ReportFiles,
}

/// `perfgate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: BaselineSource,
    /// Compare this results file instead of running the suite.
    #[arg(long, value_name = "FILE")]
    pub results: Option<PathBuf>,
    /// Where to write the results of the run (default: target/perfgate/results.json, in
    /// $CARGO_TARGET_DIR when set).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format (on stdout).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub files: ReportFiles,
    /// Most paired rounds of the same-machine A/B (the baseline commit's build and the current
    /// build interleaved on this machine): each benchmark stops as soon as it is decided (0: no
    /// A/B, judge on the first comparison alone). The default, 9, is the plan whose looks
    /// (rounds 7, 8 and 9 at 5%) end a whole check of the flagship suite here within 2.5 times
    /// the suite's own run; 12 looks start deciding only at round 8 and took a fifth longer
    /// (docs/paired-statistics.md, "The default, 9 looks").
    #[arg(long, value_name = "N", default_value_t = 9, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub confirm_rounds: u32,
    /// Time for the paired rounds, in seconds: a limit; the rounds stop when the next one would
    /// overrun it, and the report says which benchmarks were left undecided. The first round
    /// also fixes how many looks the sequential plan has. The default pays for about 9 rounds
    /// of the whole flagship suite here, the fewest at which the rank test decides a clear
    /// change with a round to spare (docs/eval/README.md).
    #[arg(long, value_name = "SECONDS", default_value_t = 480, value_parser = clap::value_parser!(u64).range(1..))]
    pub confirm_budget: u64,
    /// Seed of the paired rounds' randomized order (default: drawn from the clock; the report
    /// gives the seed, so a run can be repeated).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// No stored baseline: build and measure REF here, next to the current code (default REF:
    /// the merge-base of HEAD with the main branch). For a machine without a baseline of its
    /// own, or whose fingerprint differs from the baseline's.
    #[arg(long, value_name = "REF", num_args = 0..=1, default_missing_value = "merge-base", conflicts_with_all = ["baseline", "baseline_ref", "results"])]
    pub ab: Option<String>,
    /// NAME=VALUE in the environment of the current build's runs only, never the baseline
    /// commit's (repeatable): how an evaluation injects a known slowdown into one side, e.g.
    /// PERFGATE_WORKLOAD_SLOWDOWN=spawn=1.2 with `-- --features inject`.
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_env_pair)]
    pub current_env: Vec<(String, String)>,
    /// Only check out and build the benches of the baseline commit (the merge-base, or REF of
    /// --ab) in perfgate's A/B folder, then exit: what a CI cache of that build is made from.
    #[arg(long)]
    pub prepare_only: bool,
    /// The target directory for building the baseline commit, kept between runs (default:
    /// target/perfgate/ab/target, in $CARGO_TARGET_DIR when set).
    #[arg(long, value_name = "DIR")]
    pub ab_target_dir: Option<PathBuf>,
    /// Run every bench process of the paired rounds on CPU N, both sides alike: a much
    /// smaller spread between rounds on a small shared machine, at the price of a benchmark's
    /// threads sharing that CPU (docs/noise.md, "Pinning").
    #[arg(long, value_name = "N", env = "PERFGATE_PIN_CPU")]
    pub pin_cpu: Option<usize>,
    /// Run only shard K of N of the suite (a CI matrix job): the benchmarks placed on it by
    /// their stored durations (new ones by a stable hash), each judged on a same-machine A/B
    /// of its own. Needs the A/B of every gated benchmark (`ab = "always"`, or `"auto"` where
    /// the stored baseline is not comparable, as under GitHub Actions). `perfgate merge` makes
    /// one verdict of the shards' --shard-report files.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Where the shard's report for `perfgate merge` goes (default:
    /// target/perfgate/shard-K-of-N.json).
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub shard_report: Option<PathBuf>,
    /// After the verdict, profile every confirmed regression as `perfgate explain` does
    /// (against the build it was confirmed against) and write each one's JSON, markdown and
    /// flame graph into DIR; the text follows the report, and each markdown report file gets
    /// the collapsed sections. Never changes the exit code; without perf, one warning.
    #[arg(long, value_name = "DIR")]
    pub explain: Option<PathBuf>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

/// `perfgate merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard reports of one split (`check --shard K/N --shard-report FILE`), all of them.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Output format (on stdout).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    #[command(flatten)]
    pub files: ReportFiles,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse()
}

/// `perfgate bisect`.
#[derive(Debug, Args)]
pub struct BisectArgs {
    /// A revision where the benchmark is fast (a commit, tag or branch).
    #[arg(long, value_name = "REF")]
    pub good: String,
    /// A revision where it is slow, a first-parent descendant of --good.
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub bad: String,
    /// The benchmark's full criterion id.
    #[arg(long = "bench", value_name = "ID")]
    pub bench_id: String,
    /// The metric bisected.
    #[arg(long, value_enum, default_value_t = MetricArg::Throughput)]
    pub metric: MetricArg,
    /// Most paired rounds per step; a step stops as soon as it is decided.
    #[arg(long, value_name = "N", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,
    /// Seed of the paired rounds' randomized order (default: drawn from the clock; the output
    /// gives it).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The target directory of the commits' builds, kept between runs (default:
    /// target/perfgate/ab/bisect-target, apart from check's baseline build).
    #[arg(long, value_name = "DIR")]
    pub ab_target_dir: Option<PathBuf>,
    /// Run every bench process of the paired rounds on CPU N, both sides alike: a much
    /// smaller spread between rounds on a small shared machine, at the price of a benchmark's
    /// threads sharing that CPU (docs/noise.md, "Pinning").
    #[arg(long, value_name = "N", env = "PERFGATE_PIN_CPU")]
    pub pin_cpu: Option<usize>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

/// `perfgate baseline ...`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Measure the suite (or take --from RESULTS) and write baselines/<testbed>.json.
    Refresh(RefreshArgs),
    /// Print a stored baseline as a table.
    Show(ShowArgs),
}

/// `perfgate baseline refresh`.
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Use this results file instead of running the suite. Repeat it (`--from a --from b`)
    /// to measure run-to-run noise from several runs, as `--runs` does.
    #[arg(long, value_name = "RESULTS", conflicts_with = "runs")]
    pub from: Vec<PathBuf>,
    /// Run the suite this many times and store each benchmark's run-to-run noise in the
    /// baseline (from 2 runs; 5 or more give a usable estimate). The baseline keeps, per
    /// benchmark, the run with the median mean time.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// The baselines directory.
    #[arg(long, value_name = "DIR", default_value = "baselines")]
    pub dir: PathBuf,
    /// Refresh even if tracked files have uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Remove benchmarks of the previous baseline that are not in the new results (without it
    /// they are kept, and listed).
    #[arg(long)]
    pub prune: bool,
    /// Also write the summary to FILE as markdown, in a code fence that nothing in it can
    /// close (e.g. a pull request body).
    #[arg(long, value_name = "FILE")]
    pub summary_md: Option<PathBuf>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

/// `perfgate baseline show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub source: BaselineSource,
    /// The testbed whose baseline to show (default: this machine's).
    #[arg(long, value_name = "NAME")]
    pub testbed: Option<String>,
}

/// `NAME=VALUE`, with a non-empty name without `=` or NUL.
fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !k.contains('\0') && !v.contains('\0') => {
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(format!("{s:?} is not NAME=VALUE")),
    }
}

impl From<BenchArgs> for plan::Bench {
    fn from(a: BenchArgs) -> Self {
        plan::Bench {
            criterion_dir: a.criterion_dir,
            quick: a.quick,
            testbed: a.testbed,
            cargo_args: a.cargo_args,
        }
    }
}

impl From<BaselineSource> for plan::BaselineSource {
    fn from(a: BaselineSource) -> Self {
        plan::BaselineSource {
            file: a.baseline,
            git_ref: a.baseline_ref,
            base_branch: a.base_branch,
            dir: a.dir,
        }
    }
}

impl From<ColorChoice> for plan::Color {
    fn from(c: ColorChoice) -> Self {
        match c {
            ColorChoice::Auto => plan::Color::Auto,
            ColorChoice::Always => plan::Color::Always,
            ColorChoice::Never => plan::Color::Never,
        }
    }
}

impl Cli {
    /// The global options and the command's plan.
    pub fn into_plan(self) -> (plan::Global, cmd::Command) {
        let global = plan::Global {
            config: self.config,
            color: self.color.into(),
        };
        let command = match self.command {
            Command::Run(a) => cmd::Command::Run(plan::Run {
                output: a.output,
                bench: a.bench.into(),
            }),
            Command::Collect(a) => cmd::Command::Collect(plan::Collect {
                criterion_dir: a.criterion_dir,
                criterion_baseline: a.criterion_baseline,
                output: a.output,
                since: a.since,
                testbed: a.testbed,
            }),
            Command::Compare(a) => cmd::Command::Compare(plan::Compare {
                source: a.source.into(),
                results: a.results,
                testbed: a.testbed,
                outputs: a.files.into_outputs(a.format),
            }),
            Command::Check(a) => cmd::Command::Check(plan::Check {
                source: a.source.into(),
                results: a.results,
                output: a.output,
                outputs: a.files.into_outputs(a.format),
                confirm_rounds: a.confirm_rounds,
                confirm_budget: std::time::Duration::from_secs(a.confirm_budget),
                seed: a.seed,
                prepare_only: a.prepare_only,
                current_env: a.current_env,
                ab: a.ab,
                ab_target_dir: a.ab_target_dir,
                pin_cpu: a.pin_cpu,
                shard: a.shard,
                shard_report: a.shard_report,
                explain: a.explain,
                bench: a.bench.into(),
            }),
            Command::Merge(a) => cmd::Command::Merge(plan::Merge {
                reports: a.reports,
                outputs: a.files.into_outputs(a.format),
            }),
            Command::Baseline(BaselineCommand::Refresh(a)) => {
                cmd::Command::Refresh(plan::Refresh {
                    from: a.from,
                    runs: a.runs,
                    dir: a.dir,
                    allow_dirty: a.allow_dirty,
                    prune: a.prune,
                    summary_md: a.summary_md,
                    bench: a.bench.into(),
                })
            }
            Command::Baseline(BaselineCommand::Show(a)) => cmd::Command::Show(plan::Show {
                source: a.source.into(),
                testbed: a.testbed,
            }),
            Command::Config => cmd::Command::Config,
            Command::EvalNoise(a) => cmd::Command::EvalNoise(plan::EvalNoise {
                rounds: a.rounds,
                noise_runs: a.noise_runs,
                confirm_rounds: a.confirm_rounds,
                drops: a.drops,
                tail: a.tail,
                quick: a.quick,
                criterion_dir: a.criterion_dir,
            }),
            Command::History(a) => cmd::Command::History(a.into()),
            Command::Bisect(a) => cmd::Command::Bisect(plan::Bisect {
                good: a.good,
                bad: a.bad,
                bench_id: a.bench_id,
                metric: a.metric.into(),
                rounds: a.rounds,
                seed: a.seed,
                json: a.json,
                ab_target_dir: a.ab_target_dir,
                pin_cpu: a.pin_cpu,
                bench: a.bench.into(),
            }),
            Command::Explain(a) => cmd::Command::Explain(plan::Explain {
                bench_id: a.bench_id,
                baseline_ref: a.baseline_ref,
                profiles: a.profiles,
                profile_seconds: a.profile_time,
                json: a.json,
                markdown: a.markdown,
                svg: a.svg,
                bench: a.bench.into(),
            }),
        };
        (global, command)
    }
}

impl From<HistoryFormatArg> for plan::HistoryFormat {
    fn from(f: HistoryFormatArg) -> Self {
        match f {
            HistoryFormatArg::Table => plan::HistoryFormat::Table,
            HistoryFormatArg::Json => plan::HistoryFormat::Json,
            HistoryFormatArg::Markdown => plan::HistoryFormat::Markdown,
            HistoryFormatArg::Html => plan::HistoryFormat::Html,
        }
    }
}

impl From<HistoryArgs> for plan::History {
    fn from(a: HistoryArgs) -> Self {
        use plan::HistoryFormat as F;
        let files = [
            (F::Json, a.json),
            (F::Markdown, a.markdown),
            (F::Html, a.html),
            (F::Table, a.table),
        ]
        .into_iter()
        .filter_map(|(f, p)| Some((f, p?)))
        .collect();
        plan::History {
            file: a.baseline,
            dir: a.dir,
            testbed: a.testbed,
            rev: a.rev,
            since: a.since,
            benches: a.benches,
            metrics: a.metrics.into_iter().map(Into::into).collect(),
            max_p_value: a.max_p_value,
            min_change: a.min_change / 100.0,
            min_size: a.min_size as usize,
            stdout: a.format.into(),
            files,
            commit_url: a.commit_url,
        }
    }
}
