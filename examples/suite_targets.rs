//! Checks the flagship suite's targets (issue 3) against one results file, so that every ratio
//! comes from a single run on one machine:
//!
//! ```sh
//! cargo run --release -- run                       # the suite -> target/perfgate/results.json
//! cargo run --release --example suite_targets      # or: ... -- path/to/results-or-baseline.json
//! ```
//!
//! Prints a markdown table (target, the two sides, the ratio, the limit) and exits 1 when a
//! target is missed, 2 when a benchmark it needs is absent or the file is unreadable.

use std::path::PathBuf;
use std::process::ExitCode;

use perfgate::baseline::schema::{Benchmark, Snapshot};
use perfgate::baseline::store::read_snapshot;
use perfgate::report::format::format_ns;

/// Which figure of a benchmark a target reads.
#[derive(Clone, Copy)]
enum Figure {
    /// Per-operation median from the latency recorder, ns (lower is better).
    P50,
    /// Throughput per second from criterion's samples (higher is better).
    Rate,
}

/// A target: the best of `num` divided by `den` (or that best value alone when `den` is
/// `None`) compared with `limit`, which is a maximum for latencies and a minimum for rates.
struct Target {
    what: &'static str,
    num: &'static [&'static str],
    den: Option<&'static str>,
    figure: Figure,
    limit: f64,
}

const fn t(
    what: &'static str,
    num: &'static [&'static str],
    den: Option<&'static str>,
    figure: Figure,
    limit: f64,
) -> Target {
    Target {
        what,
        num,
        den,
        figure,
        limit,
    }
}

const TARGETS: &[Target] = &[
    t(
        "spawn: best method vs raw vfork+exec, tiny static child (p50)",
        &["spawn/clone_vfork/static", "spawn/posix_spawn/static"],
        Some("spawn/raw_vfork/static"),
        Figure::P50,
        1.15,
    ),
    t(
        "spawn: best method vs raw vfork+exec, /bin/true (p50)",
        &["spawn/clone_vfork/true", "spawn/posix_spawn/true"],
        Some("spawn/raw_vfork/true"),
        Figure::P50,
        1.15,
    ),
    t(
        "spawn: from a 1 GiB parent vs a small parent (p50)",
        &["spawn/clone_vfork/static_1GiB_parent"],
        Some("spawn/clone_vfork/static"),
        Figure::P50,
        1.2,
    ),
    t(
        "pipe: copy path vs raw write/read, 4 KiB",
        &["pipe/copy/4KiB"],
        Some("pipe/raw_copy/4KiB"),
        Figure::Rate,
        0.9,
    ),
    t(
        "pipe: copy path vs raw write/read, 64 KiB",
        &["pipe/copy/64KiB"],
        Some("pipe/raw_copy/64KiB"),
        Figure::Rate,
        0.9,
    ),
    t(
        "pipe: copy path vs raw write/read, 1 MiB",
        &["pipe/copy/1MiB"],
        Some("pipe/raw_copy/1MiB"),
        Figure::Rate,
        0.9,
    ),
    t(
        "pipe: zero-copy (vmsplice) vs copy path, 64 KiB",
        &["pipe/vmsplice/64KiB"],
        Some("pipe/copy/64KiB"),
        Figure::Rate,
        2.5,
    ),
    t(
        "pool: round trip vs raw pipe ping-pong (p50)",
        &["pool/roundtrip"],
        Some("pool/roundtrip_raw"),
        Figure::P50,
        1.3,
    ),
    t(
        "pool: pipelined tasks/s, one worker",
        &["pool/pipelined_1_worker"],
        None,
        Figure::Rate,
        2_000_000.0,
    ),
    t(
        "pool: pipelined (one worker) vs spawn per task",
        &["pool/pipelined_1_worker"],
        Some("pool/spawn_per_task"),
        Figure::Rate,
        1000.0,
    ),
];

fn value(b: &Benchmark, figure: Figure) -> Result<f64, String> {
    match figure {
        Figure::P50 => b
            .latency
            .as_ref()
            .map(|l| l.p50_ns)
            .ok_or_else(|| format!("{}: no per-operation latency recorded", b.id)),
        Figure::Rate => Ok(b.throughput_per_sec(b.summary.mean_ns)),
    }
}

fn show(v: f64, figure: Figure) -> String {
    match figure {
        Figure::P50 => format_ns(v),
        Figure::Rate if v >= 1e9 => format!("{:.2} G/s", v / 1e9),
        Figure::Rate if v >= 1e6 => format!("{:.2} M/s", v / 1e6),
        Figure::Rate => format!("{v:.0} /s"),
    }
}

fn run(snap: &Snapshot) -> Result<bool, String> {
    let find = |id: &str| {
        snap.benchmarks
            .iter()
            .find(|b| b.id == id)
            .ok_or_else(|| format!("benchmark {id:?} is not in the file"))
    };
    println!("| target | measured | against | ratio | limit | met |");
    println!("|---|---|---|---|---|---|");
    let mut all_met = true;
    for target in TARGETS {
        let mut best: Option<(&str, f64)> = None;
        for id in target.num {
            let v = value(find(id)?, target.figure)?;
            let better = match (best, target.figure) {
                (None, _) => true,
                (Some((_, b)), Figure::P50) => v < b,
                (Some((_, b)), Figure::Rate) => v > b,
            };
            if better {
                best = Some((id, v));
            }
        }
        let (num_id, num) = best.ok_or("a target without benchmarks")?;
        let (against, measured) = match target.den {
            Some(den) => {
                let d = value(find(den)?, target.figure)?;
                (format!("`{den}` {}", show(d, target.figure)), num / d)
            }
            None => ("-".to_string(), num),
        };
        let met = match target.figure {
            Figure::P50 => measured <= target.limit,
            Figure::Rate => measured >= target.limit,
        };
        all_met &= met;
        let (ratio, limit) = match (target.den, target.figure) {
            (None, _) => (
                show(measured, target.figure),
                show(target.limit, target.figure),
            ),
            (Some(_), Figure::P50) => (format!("{measured:.2}x"), format!("<= {}x", target.limit)),
            (Some(_), Figure::Rate) => (format!("{measured:.2}x"), format!(">= {}x", target.limit)),
        };
        println!(
            "| {} | `{}` {} | {against} | {ratio} | {limit} | {} |",
            target.what,
            num_id,
            show(num, target.figure),
            if met { "yes" } else { "**no**" }
        );
    }
    Ok(all_met)
}

fn main() -> ExitCode {
    let path = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from("target/perfgate/results.json"),
        PathBuf::from,
    );
    let outcome = read_snapshot(&path)
        .map_err(|e| e.to_string())
        .and_then(|snap| run(&snap).map_err(|e| format!("{}: {e}", path.display())));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("suite_targets: error: {e}");
            ExitCode::from(2)
        }
    }
}
