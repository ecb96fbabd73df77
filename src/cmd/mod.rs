//! The commands, one file each, over the plan types of [`plan`]. Each returns the process
//! exit code, or an error that the binary prints as one line and turns into exit code 2.

pub mod bisect;
pub mod check;
pub mod collect;
pub mod compare;
pub mod config;
pub mod console;
pub mod eval;
pub mod explain;
pub mod history;
pub mod layout;
mod lock;
pub mod merge;
pub mod plan;
mod progress;
pub mod refresh;
pub mod run;
pub mod show;
mod suite;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::baseline::schema::Snapshot;
use crate::baseline::{self, git, store};
use crate::compare::Comparison;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::{self, Format, html::Sides, table::TableOptions};
use crate::{EXIT_PASS, EXIT_REGRESSION};
use layout::Layout;

/// A command and its plan.
#[derive(Debug, Clone)]
pub enum Command {
    /// `perfgate run`.
    Run(plan::Run),
    /// `perfgate collect`.
    Collect(plan::Collect),
    /// `perfgate compare`.
    Compare(plan::Compare),
    /// `perfgate check`.
    Check(plan::Check),
    /// `perfgate baseline refresh`.
    Refresh(plan::Refresh),
    /// `perfgate baseline show`.
    Show(plan::Show),
    /// `perfgate config`.
    Config,
    /// `perfgate eval-noise`.
    EvalNoise(plan::EvalNoise),
    /// `perfgate history`.
    History(plan::History),
    /// `perfgate bisect`.
    Bisect(plan::Bisect),
    /// `perfgate merge`.
    Merge(plan::Merge),
    /// `perfgate explain`.
    Explain(plan::Explain),
}

/// Runs a command.
pub fn run(global: plan::Global, command: Command) -> Result<i32> {
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    if let Command::Config = command {
        // Needs no valid config: it is what a user reads to mend a broken one.
        return config::run(&global, &cwd);
    }
    let ctx = Ctx::new(&global, cwd)?;
    // The commands that write under <target>/perfgate hold its lock for their whole run
    // (a refresh from given results files runs nothing there).
    let _lock = match &command {
        Command::Refresh(p) if !p.from.is_empty() => None,
        Command::Run(_)
        | Command::Check(_)
        | Command::Refresh(_)
        | Command::EvalNoise(_)
        | Command::Bisect(_)
        | Command::Explain(_) => Some(lock::acquire(&ctx.layout.perfgate_dir())?),
        _ => None,
    };
    match command {
        Command::Run(p) => run::run(&ctx, p),
        Command::Collect(p) => collect::run(&ctx, p),
        Command::Compare(p) => compare::run(&ctx, p),
        Command::Check(p) => check::run(&ctx, p),
        Command::Refresh(p) => refresh::run(&ctx, p),
        Command::Show(p) => show::run(&ctx, p),
        Command::EvalNoise(p) => eval::run(&ctx, p),
        Command::History(p) => history::run(&ctx, p),
        Command::Bisect(p) => bisect::run(&ctx, p),
        Command::Merge(p) => merge::run(&ctx, p),
        Command::Explain(p) => explain::run(&ctx, p),
        Command::Config => unreachable!("handled above"),
    }
}

/// The stream of a command's workflow commands under GitHub Actions (see [`console`]): stdout
/// when it carries a table for people (`compare` and `check` with the table format, where the
/// annotations have always gone, `baseline show`, `eval-noise`, `history` with its tables), so
/// that the stop, the annotations and the resume keep their places among the table's lines;
/// stderr otherwise, so that a document on stdout (JSON, markdown, the config, the refresh
/// summary, often redirected to a file) stays exactly that document.
pub fn command_stream(command: &Command) -> console::Stream {
    match command {
        Command::Compare(plan::Compare { outputs, .. })
        | Command::Check(plan::Check { outputs, .. })
            if outputs.stdout == Format::Table =>
        {
            console::Stream::Stdout
        }
        Command::History(plan::History { stdout, .. }) if *stdout == plan::HistoryFormat::Table => {
            console::Stream::Stdout
        }
        Command::Show(_) | Command::EvalNoise(_) => console::Stream::Stdout,
        _ => console::Stream::Stderr,
    }
}

/// State shared by the commands.
struct Ctx {
    config: Config,
    color: bool,
    terminal: bool,
    layout: Layout,
}

impl Ctx {
    fn new(global: &plan::Global, cwd: PathBuf) -> Result<Ctx> {
        let config = load_config(global, &cwd)?;
        let terminal = std::io::stdout().is_terminal();
        let color = match global.color {
            plan::Color::Always => true,
            plan::Color::Never => false,
            // anstream's rule: a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
            plan::Color::Auto => {
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
            }
        };
        Ok(Ctx {
            config,
            color,
            terminal,
            layout: Layout::new(&cwd),
        })
    }

    fn cwd(&self) -> &Path {
        self.layout.cwd()
    }
}

/// The configuration: the file named with `--config`, else `perfgate.toml` here if present,
/// over the compiled-in defaults.
fn load_config(global: &plan::Global, cwd: &Path) -> Result<Config> {
    match &global.config {
        Some(p) => Config::load(p, true),
        None => Config::load(&cwd.join(crate::config::FILE_NAME), false),
    }
}

/// Writes to stdout. A closed pipe is not an error: the reader has seen what it wanted.
pub fn out(text: &str) -> Result<()> {
    console::wrote_stdout(text);
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("<stdout>", e)),
    }
}

/// Writes one line to stderr, escaped for the terminal. A closed stderr is ignored: nobody
/// is there to read it, and the exit code still tells.
pub fn note(line: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "perfgate: {}",
        report::terminal_safe(line)
    );
}

/// The seed of a randomized order of paired rounds: the one asked for, else one drawn from the
/// clock (the output gives it, so any run can be repeated).
fn seed_or_clock(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    })
}

fn warn(msg: &str) {
    note(&format!("warning: {msg}"));
}

/// A revision as the user names it: `merge-base` is the merge-base of HEAD with the base
/// branch ([`base_branch`]), anything else is passed to git as it is. The one place where
/// `merge-base` is resolved, for reading a baseline and for building one alike.
fn resolve_rev(ctx: &Ctx, source: &plan::BaselineSource, rev: &str) -> Result<String> {
    if rev == "merge-base" {
        git::merge_base(ctx.cwd(), base_branch(source).as_deref())
    } else {
        Ok(rev.to_string())
    }
}

/// A baseline as loaded: the snapshot, its label for reports, and the revision it was read
/// at (with `--baseline-ref`), resolved.
struct Loaded {
    snapshot: Snapshot,
    label: String,
    rev: Option<String>,
}

/// Loads the baseline named by `source` for `testbed`.
fn load_baseline(ctx: &Ctx, source: &plan::BaselineSource, testbed: &str) -> Result<Loaded> {
    let dir = &source.dir;
    let path = match &source.file {
        Some(f) => f.clone(),
        None => baseline::path_for(dir, testbed)?,
    };
    match source.git_ref.as_deref() {
        Some(r) => {
            let rev = resolve_rev(ctx, source, r)?;
            Ok(Loaded {
                snapshot: git::read_snapshot_at(ctx.cwd(), &rev, &path)?,
                label: format!("{}@{r}", path.display()),
                rev: Some(rev),
            })
        }
        None => {
            if source.file.is_none() && !path.exists() {
                return Err(no_baseline(dir, testbed, &path));
            }
            Ok(Loaded {
                snapshot: store::read_snapshot(&path)?,
                label: path.display().to_string(),
                rev: None,
            })
        }
    }
}

/// The branch `merge-base` is taken against: `--base-branch`, else `$PERFGATE_BASE_BRANCH`,
/// else `$GITHUB_BASE_REF` (the pull request's base branch, set by GitHub Actions on
/// `pull_request` events and empty on others); `None` means the main-branch candidates.
fn base_branch(source: &plan::BaselineSource) -> Option<String> {
    source
        .base_branch
        .clone()
        .filter(|b| !b.is_empty())
        .or_else(|| {
            ["PERFGATE_BASE_BRANCH", "GITHUB_BASE_REF"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|b| !b.is_empty()))
        })
}

fn no_baseline(dir: &Path, testbed: &str, path: &Path) -> Error {
    let mut others: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_suffix(".json")
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    others.sort();
    let hint = if others.is_empty() {
        "create one with `perfgate baseline refresh`".to_string()
    } else {
        format!(
            "baselines exist for: {} (pick one with --testbed, and expect a machine-mismatch warning), or create this testbed's with `perfgate baseline refresh`",
            others.join(", ")
        )
    };
    Error::Invalid {
        path: path.to_path_buf(),
        message: format!("no baseline for testbed {testbed:?}; {hint}"),
    }
}

fn warn_profile_mismatch(baseline: &Snapshot, current: &Snapshot) {
    if let Some(m) = crate::compare::profile_mismatch(baseline, current) {
        warn(&report::prose::profile_warning(m));
    }
}

fn render(
    ctx: &Ctx,
    cmp: &Comparison,
    sides: Sides<'_>,
    format: Format,
    to_file: bool,
    verbose: bool,
) -> String {
    match format {
        Format::Table => report::table::render(
            cmp,
            TableOptions {
                color: ctx.color && !to_file,
                width: None,
                terminal: ctx.terminal && !to_file,
                verbose,
            },
        ),
        Format::Json => report::json::render(cmp),
        Format::Markdown => report::markdown::render(cmp),
        Format::OpenMetrics => report::openmetrics::render(cmp),
        Format::Html => report::html::render(cmp, sides),
    }
}

/// Writes the report files, prints a comparison (and, under GitHub Actions, its summary,
/// outputs and annotations) and returns the exit code. `sides` are the snapshots the
/// comparison was made from, whose distributions the HTML report draws.
fn report_comparison(
    ctx: &Ctx,
    cmp: &Comparison,
    sides: Sides<'_>,
    outputs: &plan::Outputs,
) -> Result<i32> {
    for (f, path) in &outputs.files {
        // Atomic: a report a later step reads is whole or absent, never half-written.
        store::write_atomic(
            path,
            render(ctx, cmp, sides, *f, true, outputs.verbose).as_bytes(),
        )?;
    }
    let format = outputs.stdout;
    if format != Format::Table {
        for line in report::prose::mismatch_banner(cmp) {
            note(&line);
        }
    }
    let github = report::github::GithubEnv::from_env();
    if github.active {
        github.write_files(cmp)?;
        // On the stream `command_stream` chose: stdout before the table, stderr when stdout
        // carries a JSON, markdown, OpenMetrics or HTML document.
        console::commands(&report::github::annotations(cmp));
    }
    out(&render(ctx, cmp, sides, format, false, outputs.verbose))?;
    Ok(if cmp.failed() {
        EXIT_REGRESSION
    } else {
        EXIT_PASS
    })
}
