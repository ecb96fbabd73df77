//! `perfgate explain BENCH_ID`: profiles one benchmark on the baseline commit's build and on
//! the head build, interleaved, and reports what grew ([`crate::explain`]).
//!
//! The two profiling builds go to their own target directories under
//! [`Layout::explain_target`](super::layout::Layout::explain_target), with frame pointers and
//! line tables set through the environment of that build only: the measured builds (check's
//! baseline build, the user's own) keep their flags and stay fresh. Each side has a target
//! directory of its own so that neither rebuilds the other's crates on every run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Ctx, note, out, plan, warn};
use crate::confirm::bench::BenchBuild;
use crate::confirm::worktree;
use crate::error::{Error, Result};
use crate::explain::syscalls::{self, SyscallChange};
use crate::explain::{self, Folded, perf};
use crate::report::explain as view;
use crate::report::format::short_commit;
use crate::{EXIT_PASS, EXIT_PROFILING_UNAVAILABLE};

/// The functions listed.
const TOP: usize = 10;

/// Profiles, prints the result, writes the files, and returns 0; 3 when profiling cannot run
/// here.
pub(super) fn run(ctx: &Ctx, p: plan::Explain) -> Result<i32> {
    let perf = match perf::check() {
        Ok(p) => p,
        Err(why) => {
            note(&why.to_string());
            return Ok(EXIT_PROFILING_UNAVAILABLE);
        }
    };
    let source = plan::BaselineSource {
        file: None,
        git_ref: None,
        base_branch: None,
        dir: PathBuf::from("baselines"),
    };
    let rev = super::resolve_rev(ctx, &source, &p.baseline_ref)?;
    let (text, _) = explain(ctx, &perf, &p, &rev)?;
    out(&text)?;
    Ok(EXIT_PASS)
}

/// Explains each of `ids` (the confirmed regressions of a `check`) against `rev`, writing each
/// one's JSON, markdown and SVG into `dir`: the terminal text and the markdown sections, in
/// order. Never an error: profiling is an explanation, not part of the verdict, so a failure
/// is one warning line and the check's exit code stands.
pub(super) fn for_check(
    ctx: &Ctx,
    rev: &str,
    ids: &[String],
    cargo_args: &[String],
    dir: &Path,
) -> (String, String) {
    let (mut text, mut md) = (String::new(), String::new());
    if ids.is_empty() {
        return (text, md);
    }
    let perf = match perf::check() {
        Ok(p) => p,
        Err(why) => {
            warn(&format!("no profile of the regressions: {why}"));
            return (text, md);
        }
    };
    for id in ids {
        let stem = file_stem(id);
        let p = plan::Explain {
            bench_id: id.clone(),
            baseline_ref: rev.to_string(),
            profiles: DEFAULT_PROFILES,
            profile_seconds: DEFAULT_PROFILE_SECONDS,
            json: Some(dir.join(format!("{stem}.json"))),
            markdown: Some(dir.join(format!("{stem}.md"))),
            svg: Some(dir.join(format!("{stem}.svg"))),
            bench: plan::Bench {
                criterion_dir: None,
                quick: false,
                testbed: None,
                cargo_args: cargo_args.to_vec(),
            },
        };
        match explain(ctx, &perf, &p, rev) {
            Ok((t, m)) => {
                text.push_str(&t);
                md.push('\n');
                md.push_str(&m);
            }
            Err(e) => warn(&format!("no profile of {id}: {e}")),
        }
    }
    (text, md)
}

/// Profiles per side when `check` explains a regression (`explain --profiles`' default).
pub(super) const DEFAULT_PROFILES: u32 = 2;
/// Seconds per profile when `check` explains a regression (`explain --profile-time`'s
/// default).
pub(super) const DEFAULT_PROFILE_SECONDS: f64 = 2.0;

/// One explanation against the resolved revision `rev`: builds, profiles, counts, writes the
/// plan's files, and returns the terminal text and the markdown section.
fn explain(ctx: &Ctx, perf: &perf::Perf, p: &plan::Explain, rev: &str) -> Result<(String, String)> {
    let started = Instant::now();
    let checkout = worktree::prepare(ctx.cwd(), rev, &ctx.layout.ab_dir())?;
    let head = head_label(ctx.cwd());
    let targets = ctx.layout.explain_target();
    let base_target = targets.join("base");
    worktree::claim_target(&checkout, &base_target)?;
    let phase = super::progress::Phase::new("build", None);
    phase.say(&format!(
        "building the benches of {} and of head for profiling (frame pointers, line tables)",
        short_commit(&checkout.commit)
    ));
    let base = build(&checkout.project_dir, &base_target, p, "the baseline")?;
    let head_build = build(ctx.cwd(), &targets.join("head"), p, "head")?;
    drop(phase);

    let dir = ctx.layout.explain_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let root = root_name(&base, &p.bench_id);
    let (mut base_folded, mut head_folded) = (Folded::default(), Folded::default());
    for i in 0..p.profiles {
        // ABBA: each side goes first as often as the other, so a drift of the machine over the
        // run does not land on one side.
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_base in order {
            let (build, name) = if is_base {
                (&base, "base")
            } else {
                (&head_build, "head")
            };
            note(&format!(
                "profiling {} on {name} ({} of {}, {} s)",
                p.bench_id,
                i + 1,
                p.profiles,
                p.profile_seconds
            ));
            let folded = profile(perf, build, p, &dir.join(format!("{name}-{i}.perf.data")))?;
            let folded = folded.with_root(&root);
            if is_base {
                base_folded.add(&folded);
            } else {
                head_folded.add(&folded);
            }
        }
    }
    if base_folded.is_empty() || head_folded.is_empty() {
        return Err(Error::Command(format!(
            "perf recorded no samples of {} (baseline {}, head {}): is --profile-time too short?",
            p.bench_id,
            base_folded.total(),
            head_folded.total()
        )));
    }
    for (name, f) in [("base", &base_folded), ("head", &head_folded)] {
        let path = dir.join(format!("{}.{name}.folded", file_stem(&p.bench_id)));
        crate::baseline::store::write_atomic(&path, f.to_text().as_bytes())?;
    }
    let top = explain::top_growth(&base_folded, &head_folded, TOP);
    let counted: Result<Vec<SyscallChange>, &str> = if syscalls::available() {
        note(&format!(
            "counting the system calls of one {} operation on each build (strace -c)",
            p.bench_id
        ));
        let base_ops = syscalls_per_op(&base, &p.bench_id, &dir, "base")?;
        let head_ops = syscalls_per_op(&head_build, &p.bench_id, &dir, "head")?;
        Ok(syscalls::grown(&base_ops, &head_ops))
    } else {
        note(syscalls::NOT_INSTALLED);
        Err(syscalls::NOT_INSTALLED)
    };
    let svg_path = ctx.layout.or_default(p.svg.as_deref(), || {
        dir.join(format!("{}.svg", file_stem(&p.bench_id)))
    });
    let title = format!(
        "{}: {} -> {}",
        p.bench_id,
        short_commit(&checkout.commit),
        head
    );
    let svg = explain::differential_svg(&base_folded, &head_folded, &title)
        .map_err(|e| Error::Command(format!("cannot draw the flame graph: {e}")))?;
    crate::baseline::store::write_atomic(&svg_path, svg.as_bytes())?;
    let svg_text = svg_path.display().to_string();
    let doc = view::Doc {
        bench_id: &p.bench_id,
        base_commit: &checkout.commit,
        head: &head,
        base_ns: base_folded.total(),
        head_ns: head_folded.total(),
        event: perf.event(),
        profiles: p.profiles,
        profile_seconds: p.profile_seconds,
        top: &top,
        syscalls: counted.as_deref().map_err(|e| *e),
        svg: &svg_text,
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Some(f) = &p.json {
        crate::baseline::store::write_atomic(f, view::json::render(&doc).as_bytes())?;
    }
    let md = view::markdown::render(&doc);
    if let Some(f) = &p.markdown {
        crate::baseline::store::write_atomic(f, md.as_bytes())?;
    }
    Ok((view::text::render(&doc, ctx.color), md))
}

/// The profiling build of the crate in `project_dir` into `target`: the user's cargo
/// arguments, with debug line tables, symbols kept, and frame pointers (added to the user's
/// own `RUSTFLAGS`, which still apply).
fn build(project_dir: &Path, target: &Path, p: &plan::Explain, side: &str) -> Result<BenchBuild> {
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if !rustflags.is_empty() {
        rustflags.push(' ');
    }
    rustflags.push_str("-C force-frame-pointers=yes");
    let env = vec![
        ("CARGO_TARGET_DIR".to_string(), target.display().to_string()),
        (
            "CARGO_PROFILE_BENCH_DEBUG".to_string(),
            "line-tables-only".to_string(),
        ),
        ("CARGO_PROFILE_BENCH_STRIP".to_string(), "none".to_string()),
        ("RUSTFLAGS".to_string(), rustflags),
    ];
    let build = BenchBuild::build(project_dir, &p.bench.cargo_args, &env)
        .map_err(|e| Error::Command(format!("{side}: {e}")))?;
    for w in &build.warnings {
        warn(&format!("{side}: {w}"));
    }
    if build.holding(&p.bench_id).next().is_none() {
        return Err(Error::Command(format!(
            "{side} has no benchmark {:?} (its benches list {} others)",
            p.bench_id,
            build.binaries.iter().map(|b| b.ids.len()).sum::<usize>()
        )));
    }
    Ok(build)
}

/// One profile of the benchmark on `build`, folded.
fn profile(
    perf: &perf::Perf,
    build: &BenchBuild,
    p: &plan::Explain,
    data: &Path,
) -> Result<Folded> {
    let env = vec![(
        perfgate_recorder::profile::PROFILE_ENV.to_string(),
        crate::confirm::bench::CONFIRM_PROFILE.to_string(),
    )];
    let Some(mut cmd) = build.profile_command(&p.bench_id, p.profile_seconds, &env) else {
        return Err(Error::Command(format!("no bench holds {:?}", p.bench_id)));
    };
    perf.record(&mut cmd, data)?;
    let script = perf::script(data)?;
    let folded = explain::fold_perf_script(&script)
        .map_err(|e| Error::Command(format!("cannot fold {}: {e}", data.display())))?;
    // The raw profile is folded into the side's stacks, which are kept (`*.folded`).
    let _ = std::fs::remove_file(data);
    Ok(folded)
}

/// The system calls of one operation of the benchmark on `build`: a one-iteration run under
/// strace less a run that selects nothing ([`syscalls`] says why).
fn syscalls_per_op(
    build: &BenchBuild,
    id: &str,
    dir: &Path,
    side: &str,
) -> Result<syscalls::Counts> {
    let (Some(one), Some(empty)) = (
        build.test_command(id, &[id.to_string()]),
        build.test_command(id, &[]),
    ) else {
        return Err(Error::Command(format!("no bench holds {id:?}")));
    };
    let one = syscalls::count(&one, &dir.join(format!("{side}.strace-one.txt")))?;
    let empty = syscalls::count(&empty, &dir.join(format!("{side}.strace-none.txt")))?;
    Ok(syscalls::per_operation(&one, &empty))
}

/// The root frame of both sides' stacks: the bench target's name.
fn root_name(build: &BenchBuild, id: &str) -> String {
    build
        .holding(id)
        .next()
        .map_or_else(|| "bench".to_string(), |b| b.name.clone())
}

/// The head side as the reports name it: `HEAD 0123abcd`, `+ changes` for a dirty tree.
fn head_label(dir: &Path) -> String {
    match crate::baseline::git::info(dir) {
        Some(g) if g.dirty => format!("HEAD {} + changes", short_commit(&g.commit)),
        Some(g) => format!("HEAD {}", short_commit(&g.commit)),
        None => "HEAD".to_string(),
    }
}

/// A benchmark id as a file name: every character but letters, digits, `-` and `.` becomes
/// `_`.
fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_ids_become_plain_file_names() {
        assert_eq!(file_stem("fixture/sized/64"), "fixture_sized_64");
        assert_eq!(file_stem("../x y"), ".._x_y");
    }
}
