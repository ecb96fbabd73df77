//! The commands behind the CLI. Each returns the process exit code, or an error that the
//! binary prints as one line and turns into exit code 2.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::baseline::schema::Snapshot;
use crate::baseline::{self, Machine, git, machine, store};
use crate::cli::{
    BaselineCommand, BaselineSource, BenchArgs, CheckArgs, Cli, CollectArgs, ColorChoice, Command,
    CompareArgs, EvalNoiseArgs, RefreshArgs, RunArgs, ShowArgs,
};
use crate::collect::{self, CollectOptions, DEFAULT_STALE_GAP, run::BenchRun};
use crate::compare::{self, Comparison, Sources};
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::report::{self, Format, table::TableOptions};
use crate::{EXIT_PASS, EXIT_REGRESSION};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<i32> {
    let ctx = Ctx::new(&cli)?;
    match cli.command {
        Command::Run(a) => cmd_run(&ctx, a),
        Command::Collect(a) => cmd_collect(&ctx, a),
        Command::Compare(a) => cmd_compare(&ctx, a),
        Command::Check(a) => cmd_check(&ctx, a),
        Command::Baseline(BaselineCommand::Refresh(a)) => cmd_refresh(&ctx, a),
        Command::Baseline(BaselineCommand::Show(a)) => cmd_show(&ctx, a),
        Command::EvalNoise(a) => cmd_eval_noise(&ctx, a),
        Command::Config => {
            out(config::DEFAULT_CONFIG)?;
            Ok(EXIT_PASS)
        }
    }
}

/// State shared by the commands.
struct Ctx {
    config: Config,
    color: bool,
    terminal: bool,
    cwd: PathBuf,
}

impl Ctx {
    fn new(cli: &Cli) -> Result<Ctx> {
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let config = match &cli.config {
            Some(p) => Config::load(p, true)?,
            None => Config::load(&cwd.join(config::FILE_NAME), false)?,
        };
        let terminal = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !no_color,
        };
        Ok(Ctx {
            config,
            color,
            terminal,
            cwd,
        })
    }
}

/// Writes to stdout. A closed pipe is not an error: the reader has seen what it wanted.
pub fn out(text: &str) -> Result<()> {
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

fn warn(msg: &str) {
    eprintln!("perfgate: warning: {msg}");
}

fn criterion_dir(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    match explicit {
        Some(d) => Ok(d.to_path_buf()),
        None => collect::criterion::default_root(cwd),
    }
}

/// Runs the suite in the current directory and collects its results into `output`.
fn run_suite(ctx: &Ctx, bench: &BenchArgs, output: &Path) -> Result<Snapshot> {
    run_suite_in(bench, output, &ctx.cwd, &[])
}

/// Runs the suite of the crate in `project_dir`, with extra environment for `cargo bench`, and
/// collects its results into `output`.
fn run_suite_in(
    bench: &BenchArgs,
    output: &Path,
    project_dir: &Path,
    env: &[(String, String)],
) -> Result<Snapshot> {
    let crit = criterion_dir(bench.criterion_dir.as_deref(), project_dir)?;
    let perfgate_dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let runner = BenchRun {
        project_dir: project_dir.to_path_buf(),
        cargo_args: bench.cargo_args.clone(),
        quick: bench.quick,
        criterion_home: bench.criterion_dir.clone(),
        latency_dir: crit.join(perfgate_recorder::recorder::LATENCY_SUBDIR),
        log_path: perfgate_dir.join("bench.log"),
        env: env.to_vec(),
    };
    let outcome = runner.run()?;
    let opts = CollectOptions {
        criterion_dir: crit,
        criterion_baseline: "new".into(),
        // File times come from the kernel's coarse clock, which can lag the precise clock by a
        // tick or two; 50 ms covers that while staying far below the time between two runs.
        since: Some(outcome.started - std::time::Duration::from_millis(50)),
        stale_gap: DEFAULT_STALE_GAP,
        latency_dir: Some(runner.latency_dir.clone()),
        testbed: bench.testbed.clone(),
        project_dir: project_dir.to_path_buf(),
    };
    let mut collected = collect::collect(&opts)?;
    for w in &collected.warnings {
        warn(w);
    }
    collected.snapshot.source.profile = Some(if bench.quick { "quick" } else { "default" }.into());
    let ran: std::collections::BTreeSet<&str> =
        outcome.completed.iter().map(String::as_str).collect();
    for b in &collected.snapshot.benchmarks {
        if !ran.is_empty() && !ran.contains(b.id.as_str()) {
            warn(&format!(
                "{:?} has fresh results but criterion did not report running it",
                b.id
            ));
        }
    }
    store::write_snapshot(output, &collected.snapshot)?;
    let with_latency = collected
        .snapshot
        .benchmarks
        .iter()
        .filter(|b| b.latency.is_some())
        .count();
    eprintln!(
        "perfgate: {} benchmark(s), {with_latency} with per-operation latency -> {}",
        collected.snapshot.benchmarks.len(),
        output.display()
    );
    Ok(collected.snapshot)
}

fn cmd_run(ctx: &Ctx, a: RunArgs) -> Result<i32> {
    run_suite(ctx, &a.bench, &a.output)?;
    Ok(EXIT_PASS)
}

fn parse_since(s: &str) -> Result<SystemTime> {
    humantime::parse_rfc3339_weak(s)
        .map_err(|e| Error::Usage(format!("--since {s:?}: not an RFC 3339 time ({e})")))
}

fn cmd_collect(ctx: &Ctx, a: CollectArgs) -> Result<i32> {
    let crit = criterion_dir(a.criterion_dir.as_deref(), &ctx.cwd)?;
    let opts = CollectOptions {
        latency_dir: None,
        criterion_dir: crit,
        criterion_baseline: a.criterion_baseline,
        since: a.since.as_deref().map(parse_since).transpose()?,
        stale_gap: DEFAULT_STALE_GAP,
        testbed: a.testbed,
        project_dir: ctx.cwd.clone(),
    };
    let collected = collect::collect(&opts)?;
    for w in &collected.warnings {
        warn(w);
    }
    store::write_snapshot(&a.output, &collected.snapshot)?;
    eprintln!(
        "perfgate: {} benchmark(s) -> {}",
        collected.snapshot.benchmarks.len(),
        a.output.display()
    );
    Ok(EXIT_PASS)
}

/// Loads the baseline named by `source` for `testbed`, with a label for reports.
fn load_baseline(
    ctx: &Ctx,
    source: &BaselineSource,
    dir: &Path,
    testbed: &str,
) -> Result<(Snapshot, String)> {
    let path = source
        .baseline
        .clone()
        .unwrap_or_else(|| baseline::path_for(dir, testbed));
    match source.baseline_ref.as_deref() {
        Some(r) => {
            let rev = if r == "merge-base" {
                git::merge_base(&ctx.cwd, base_branch(source).as_deref())?
            } else {
                r.to_string()
            };
            let snap = git::read_snapshot_at(&ctx.cwd, &rev, &path)?;
            Ok((snap, format!("{}@{r}", path.display())))
        }
        None => {
            if source.baseline.is_none() && !path.exists() {
                return Err(no_baseline(dir, testbed, &path));
            }
            Ok((store::read_snapshot(&path)?, path.display().to_string()))
        }
    }
}

/// The branch `merge-base` is taken against: `--base-branch`, else `$PERFGATE_BASE_BRANCH`,
/// else `$GITHUB_BASE_REF` (the pull request's base branch, set by GitHub Actions on
/// `pull_request` events and empty on others); `None` means the main-branch candidates.
fn base_branch(source: &BaselineSource) -> Option<String> {
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

fn render(ctx: &Ctx, cmp: &Comparison, format: Format) -> String {
    match format {
        Format::Table => report::table::render(
            cmp,
            TableOptions {
                color: ctx.color,
                width: None,
                terminal: ctx.terminal,
            },
        ),
        Format::Json => report::json::render(cmp),
        Format::Markdown => report::markdown::render(cmp),
    }
}

fn finish_comparison(
    ctx: &Ctx,
    baseline: &Snapshot,
    label: String,
    current: &Snapshot,
    results_label: String,
    format: Format,
) -> Result<i32> {
    let sources = Sources {
        baseline: label,
        results: results_label,
    };
    warn_profile_mismatch(baseline, current);
    let cmp = compare::compare(baseline, current, &ctx.config, &sources);
    report_comparison(ctx, &cmp, format)
}

fn warn_profile_mismatch(baseline: &Snapshot, current: &Snapshot) {
    if let Some(w) = compare::profile_mismatch(baseline, current) {
        warn(&w);
    }
}

/// Prints a comparison and returns the exit code.
fn report_comparison(ctx: &Ctx, cmp: &Comparison, format: Format) -> Result<i32> {
    if format != Format::Table {
        for line in report::table::mismatch_banner(cmp) {
            eprintln!("perfgate: {line}");
        }
    }
    let github = report::github::GithubEnv::from_env();
    if github.active {
        github.write_files(cmp)?;
        // The runner reads workflow commands on stdout and stderr alike; when stdout carries a
        // JSON or markdown document (often redirected to a file), they go to stderr instead.
        let notes = report::github::annotations(cmp);
        if format == Format::Table {
            out(&notes)?;
        } else {
            eprint!("{notes}");
        }
    }
    out(&render(ctx, cmp, format))?;
    Ok(if cmp.failed() {
        EXIT_REGRESSION
    } else {
        EXIT_PASS
    })
}

fn cmd_compare(ctx: &Ctx, a: CompareArgs) -> Result<i32> {
    let current = store::read_snapshot(&a.results)?;
    let testbed = a.testbed.clone().unwrap_or_else(|| current.testbed.clone());
    let (base, label) = load_baseline(ctx, &a.source, Path::new("baselines"), &testbed)?;
    finish_comparison(
        ctx,
        &base,
        label,
        &current,
        a.results.display().to_string(),
        a.format,
    )
}

/// Where `check` keeps the baseline commit's checkout and the confirmation runs.
const AB_DIR: &str = "target/perfgate/ab";

fn cmd_check(ctx: &Ctx, a: CheckArgs) -> Result<i32> {
    if let Some(rev) = &a.ab {
        return cmd_check_ab(ctx, &a, rev);
    }
    // Resolve the baseline first: a missing baseline should fail before minutes of benchmarks.
    let machine = Machine::current();
    let testbed = machine::testbed(a.bench.testbed.as_deref(), &machine);
    let (base, label) = load_baseline(ctx, &a.source, Path::new("baselines"), &testbed)?;
    let (current, results_label) = match &a.results {
        Some(p) => (store::read_snapshot(p)?, p.display().to_string()),
        None => (
            run_suite(ctx, &a.bench, &a.output)?,
            a.output.display().to_string(),
        ),
    };
    let sources = Sources {
        baseline: label,
        results: results_label,
    };
    warn_profile_mismatch(&base, &current);
    let mut cmp = compare::compare(&base, &current, &ctx.config, &sources);
    let candidates = crate::confirm::candidates(&cmp);
    if a.confirm_rounds > 0 && !candidates.is_empty() {
        match &base.git {
            Some(g) => {
                if g.dirty {
                    warn(
                        "the baseline was measured with uncommitted changes; its commit is re-measured as committed",
                    );
                }
                let checkout =
                    crate::confirm::worktree::prepare(&ctx.cwd, &g.commit, Path::new(AB_DIR))?;
                confirm(ctx, &a, &checkout, &candidates, &mut cmp)?;
            }
            None => warn(
                "the baseline records no commit, so candidate regressions cannot be re-measured against it; the verdicts rest on one comparison",
            ),
        }
    }
    report_comparison(ctx, &cmp, a.format)
}

/// `check --ab REF`: the whole suite measured on both builds here, then the candidates
/// confirmed in paired rounds.
fn cmd_check_ab(ctx: &Ctx, a: &CheckArgs, rev: &str) -> Result<i32> {
    let rev = if rev == "merge-base" {
        git::merge_base_with_main(&ctx.cwd)?
    } else {
        rev.to_string()
    };
    let checkout = crate::confirm::worktree::prepare(&ctx.cwd, &rev, Path::new(AB_DIR))?;
    eprintln!(
        "perfgate: measuring {rev} (commit {}) and the current code on this machine",
        &checkout.commit[..12]
    );
    let base = run_side(&a.bench, &a.ab_target_dir, &checkout)?;
    let current = run_suite(ctx, &a.bench, &a.output)?;
    let sources = Sources {
        baseline: format!("{rev} (commit {}), measured here", &checkout.commit[..12]),
        results: a.output.display().to_string(),
    };
    let mut cmp = compare::compare(&base, &current, &ctx.config, &sources);
    let candidates = crate::confirm::candidates(&cmp);
    if a.confirm_rounds > 0 && !candidates.is_empty() {
        confirm(ctx, a, &checkout, &candidates, &mut cmp)?;
    }
    report_comparison(ctx, &cmp, a.format)
}

/// One run of the whole suite with the baseline commit's build.
fn run_side(
    bench: &BenchArgs,
    target_dir: &Path,
    checkout: &crate::confirm::worktree::Checkout,
) -> Result<Snapshot> {
    let target = std::path::absolute(target_dir).map_err(|e| Error::io(target_dir, e))?;
    let mut b = bench.clone();
    b.criterion_dir = Some(ab_path("criterion-base")?);
    let env = [("CARGO_TARGET_DIR".to_string(), target.display().to_string())];
    run_suite_in(&b, &ab_path("base.json")?, &checkout.project_dir, &env)
}

/// `dir` under [`AB_DIR`], absolute: bench binaries run in their package's directory.
fn ab_path(name: &str) -> Result<PathBuf> {
    let p = Path::new(AB_DIR).join(name);
    std::path::absolute(&p).map_err(|e| Error::io(&p, e))
}

/// Re-measures `candidates` in paired rounds (the baseline commit's build and the current
/// build, benchmark by benchmark, in alternating order) and re-judges their rows.
fn confirm(
    ctx: &Ctx,
    a: &CheckArgs,
    checkout: &crate::confirm::worktree::Checkout,
    candidates: &[String],
    cmp: &mut Comparison,
) -> Result<()> {
    use crate::confirm::bench::{BenchBuild, BuildPair, SideRuns};
    eprintln!(
        "perfgate: {} candidate regression(s); confirming in {} paired rounds against commit {}",
        candidates.len(),
        a.confirm_rounds,
        &checkout.commit[..12]
    );
    let target =
        std::path::absolute(&a.ab_target_dir).map_err(|e| Error::io(&a.ab_target_dir, e))?;
    let base_env = [("CARGO_TARGET_DIR".to_string(), target.display().to_string())];
    eprintln!(
        "perfgate: building the benches of commit {}",
        &checkout.commit[..12]
    );
    let base_build = BenchBuild::build(&checkout.project_dir, &a.bench.cargo_args, &base_env)?;
    let current_build = BenchBuild::build(&ctx.cwd, &a.bench.cargo_args, &[])?;
    for w in base_build.warnings.iter().chain(&current_build.warnings) {
        warn(w);
    }
    let mut pair = BuildPair {
        baseline: SideRuns::new(
            base_build,
            &checkout.project_dir,
            &ab_path("confirm-base")?,
            Vec::new(),
        )?,
        current: SideRuns::new(
            current_build,
            &ctx.cwd,
            &ab_path("confirm-current")?,
            Vec::new(),
        )?,
        testbed: a.bench.testbed.clone(),
    };
    let plan = crate::confirm::rounds::Plan {
        rounds: a.confirm_rounds as usize,
        budget: Some(std::time::Duration::from_secs(a.confirm_budget)),
    };
    let rounds = crate::confirm::rounds::measure(&mut pair, candidates, plan, &mut |m| {
        eprintln!("perfgate: {m}")
    })?;
    crate::confirm::apply(cmp, candidates, &rounds, ctx.config.alpha);
    Ok(())
}

fn cmd_refresh(ctx: &Ctx, a: RefreshArgs) -> Result<i32> {
    match git::dirty(&ctx.cwd) {
        Ok(true) if !a.allow_dirty => {
            return Err(Error::Usage(
                "the work tree has uncommitted changes to tracked files: a baseline must describe a commit. Commit first, or pass --allow-dirty".into(),
            ));
        }
        Ok(_) => {}
        Err(e) => warn(&format!("no git metadata for the baseline ({e})")),
    }
    let runs: Vec<Snapshot> = if a.from.is_empty() {
        (1..=a.runs)
            .map(|i| {
                if a.runs > 1 {
                    eprintln!("perfgate: run {i} of {}", a.runs);
                }
                run_suite(ctx, &a.bench, Path::new("target/perfgate/results.json"))
            })
            .collect::<Result<_>>()?
    } else {
        a.from
            .iter()
            .map(|p| store::read_snapshot(p))
            .collect::<Result<_>>()?
    };
    let results = crate::compare::noise::combine(runs);
    let testbed = a
        .bench
        .testbed
        .clone()
        .unwrap_or_else(|| results.testbed.clone());
    let path = baseline::path_for(&a.dir, &testbed);
    let previous = if path.exists() {
        // A baseline that cannot be read is never overwritten: it is the user's committed data.
        Some(store::read_snapshot(&path).map_err(|e| {
            Error::Usage(format!(
                "{e}; the previous baseline is unreadable, fix or delete it before refreshing"
            ))
        })?)
    } else {
        None
    };
    let refreshed = crate::baseline::refresh::merge(previous.as_ref(), results, &testbed, a.prune);
    store::write_snapshot(&path, &refreshed.snapshot)?;
    out(&crate::baseline::refresh::summary(&refreshed, &path))?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if size > 500 * 1024 {
        warn(&format!(
            "{} is {} KB, above the 500 KB budget",
            path.display(),
            size / 1024
        ));
    }
    Ok(EXIT_PASS)
}

fn cmd_eval_noise(ctx: &Ctx, a: EvalNoiseArgs) -> Result<i32> {
    let cal = crate::eval::calibrate::Calibration::parse(None, Some(&a.tail))
        .map_err(|e| Error::Usage(format!("--tail: {e}")))?;
    let tail = cal.tail.unwrap_or((0.0, 1.0));
    if let Some(d) = a.drops.iter().find(|d| !(**d > 0.0 && **d < 90.0)) {
        return Err(Error::Usage(format!(
            "--drops: {d} is not a percentage in (0, 90)"
        )));
    }
    let drops: Vec<f64> = a.drops.iter().map(|d| d / 100.0).collect();
    let opts = crate::eval::EvalOptions {
        rounds: a.rounds,
        noise_runs: a.noise_runs,
        confirm_rounds: a.confirm_rounds,
        variants: crate::eval::variants(&drops, tail),
    };
    let output = Path::new("target/perfgate/eval/results.json");
    let mut run = |env: &[(String, String)], harness: &[String]| {
        let mut cargo_args = vec!["--bench".to_string(), "calibrate".to_string()];
        if !harness.is_empty() {
            cargo_args.push("--".into());
            cargo_args.extend(harness.iter().cloned());
        }
        let bench = BenchArgs {
            criterion_dir: a.criterion_dir.clone(),
            quick: a.quick,
            testbed: None,
            cargo_args,
        };
        let snap = run_suite_in(&bench, output, &ctx.cwd, env)?;
        let log_path = output.with_file_name("bench.log");
        let log = std::fs::read_to_string(&log_path).map_err(|e| Error::io(&log_path, e))?;
        Ok((snap, log))
    };
    // Confirmation as `check` does it, except that both sides are the same build and only the
    // environment (the injected regression) differs.
    let mut build: Option<crate::confirm::bench::BenchBuild> = None;
    let mut confirm = |v: &crate::eval::Variant,
                       candidates: &[String],
                       rounds: u32,
                       progress: &mut dyn FnMut(&str)| {
        use crate::confirm::bench::{BenchBuild, BuildPair, SideRuns};
        if build.is_none() {
            build = Some(BenchBuild::build(
                &ctx.cwd,
                &["--bench".into(), "calibrate".into()],
                &[],
            )?);
        }
        let b = build.clone().expect("built above");
        let dir = std::path::absolute("target/perfgate/eval")
            .map_err(|e| Error::io("target/perfgate/eval", e))?;
        let mut pair = BuildPair {
            baseline: SideRuns::new(b.clone(), &ctx.cwd, &dir.join("confirm-base"), Vec::new())?,
            current: SideRuns::new(b, &ctx.cwd, &dir.join("confirm-variant"), v.env.clone())?,
            testbed: None,
        };
        let plan = crate::confirm::rounds::Plan {
            rounds: rounds as usize,
            budget: None,
        };
        crate::confirm::rounds::measure(&mut pair, candidates, plan, progress)
    };
    let eval = crate::eval::evaluate(&opts, &ctx.config, &mut run, &mut confirm, &mut |m| {
        eprintln!("perfgate: eval-noise: {m}")
    })?;
    if !eval.paired.is_empty() {
        let path = Path::new("target/perfgate/eval/paired-rounds.txt");
        std::fs::write(path, eval.paired.join("\n") + "\n").map_err(|e| Error::io(path, e))?;
        eprintln!(
            "perfgate: eval-noise: the paired rounds of every confirmation -> {}",
            path.display()
        );
    }
    out(&crate::eval::render(&eval))?;
    Ok(EXIT_PASS)
}

fn cmd_show(ctx: &Ctx, a: ShowArgs) -> Result<i32> {
    let machine = Machine::current();
    let testbed = machine::testbed(a.testbed.as_deref(), &machine);
    let (snap, label) = load_baseline(ctx, &a.source, &a.dir, &testbed)?;
    out(&report::show::render(&snap, &label, ctx.color))?;
    Ok(EXIT_PASS)
}
