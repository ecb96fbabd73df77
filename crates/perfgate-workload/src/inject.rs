//! Known slowdowns in the real code paths, for measuring a regression gate (cargo feature
//! `inject`; without it every call here compiles to the wrapped code alone).
//!
//! `PERFGATE_WORKLOAD_SLOWDOWN=spawn=1.2,pipe-copy=1.1,pool-dispatch=1.1` stretches each named
//! site by its factor: the site's own code is timed and then, before returning, the thread
//! spins for `(factor - 1)` times that time. A factor of 1.2 on `spawn` makes every spawn take
//! 1.2 times as long, whatever the machine, so a gate evaluation knows which benchmarks were
//! slowed and by about how much (a benchmark that does more than the site gets a smaller
//! effect). The sites:
//!
//! - `spawn`: [`crate::spawn::Spawn::spawn`] (building the child's argument block, the clone or
//!   `posix_spawn`, the stdio plumbing);
//! - `pipe-copy`: [`crate::pipe::write_all`] and [`crate::pipe::read_full`], both sides of the
//!   copy path: the writer and the reader run on their own threads, so slowing one side alone
//!   mostly overlaps with the other and barely moves the throughput (measured: `pipe-copy=1.3`
//!   on the writer alone moved `pipe/copy/64KiB` by -2.6%, scripts/inject-effect.py);
//! - `pool-dispatch`: queueing a task in [`crate::pool::Pool`] (on this path the two clock
//!   reads that time the site, some 40 ns, add to the slowdown);
//! - `pool-answer`: the worker's side of a task, in [`crate::pool::worker::serve`]: running the
//!   whole requests of one read and writing their answers. Dispatch is a small part of a round
//!   trip (pinned, `pool-dispatch=2` to `=6` moved `pool/roundtrip` by only -2.5% to -4.7%),
//!   so a slowdown of the round trip's size needs this site. Its effect is not proportional
//!   to the factor (pinned, 1.15 moved `pool/roundtrip` by -4.5%, 1.2 by -13%, 2 by -51%):
//!   the worker's write wakes the parent, which may run before the site's clock is read
//!   again, so the stretched span sometimes holds the parent's turn too. Hence the calibration
//!   (scripts/inject-effect.py), not the factor, says how much a benchmark was slowed. It runs
//!   in the worker process, which inherits the variable from the pool's parent.
//!
//! The variable is read once per process. An unknown site or a factor that is not a number of
//! at least 1 is ignored with one line on stderr: an evaluation must not silently run without
//! the slowdown it asked for, nor abort the bench.

/// Environment variable naming the sites to slow and their factors.
pub const ENV: &str = "PERFGATE_WORKLOAD_SLOWDOWN";

/// A code path that can be slowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// Spawning a child.
    Spawn,
    /// The write side of the pipe copy path.
    PipeCopy,
    /// Queueing a task in the pool.
    PoolDispatch,
    /// A pool worker running the requests of one read and writing their answers.
    PoolAnswer,
}

impl Site {
    /// Every site.
    pub const ALL: [Site; 4] = [
        Site::Spawn,
        Site::PipeCopy,
        Site::PoolDispatch,
        Site::PoolAnswer,
    ];

    /// The name used in [`ENV`].
    pub fn name(self) -> &'static str {
        match self {
            Site::Spawn => "spawn",
            Site::PipeCopy => "pipe-copy",
            Site::PoolDispatch => "pool-dispatch",
            Site::PoolAnswer => "pool-answer",
        }
    }
}

/// Parses a [`ENV`] value: the factor of each site, and what was ignored.
pub fn parse(spec: &str) -> ([Option<f64>; Site::ALL.len()], Vec<String>) {
    let mut factors = [None; Site::ALL.len()];
    let mut ignored = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parsed = part.split_once('=').and_then(|(name, f)| {
            let i = Site::ALL.iter().position(|s| s.name() == name.trim())?;
            let f: f64 = f.trim().parse().ok()?;
            (f.is_finite() && f >= 1.0).then_some((i, f))
        });
        match parsed {
            Some((i, f)) => factors[i] = Some(f),
            None => ignored.push(part.to_string()),
        }
    }
    (factors, ignored)
}

/// Runs `f`, the code of `site`, stretched by the site's factor when [`ENV`] names it.
#[inline(always)]
pub fn timed<R>(site: Site, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "inject")]
    if let Some(k) = active::factor(site) {
        let t0 = std::time::Instant::now();
        let r = f();
        active::spin(t0.elapsed().mul_f64(k - 1.0));
        return r;
    }
    #[cfg(not(feature = "inject"))]
    let _ = site;
    f()
}

#[cfg(feature = "inject")]
mod active {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use super::{ENV, Site, parse};

    static FACTORS: OnceLock<[Option<f64>; Site::ALL.len()]> = OnceLock::new();

    pub(super) fn factor(site: Site) -> Option<f64> {
        let all = FACTORS.get_or_init(|| {
            let spec = std::env::var(ENV).unwrap_or_default();
            let (factors, ignored) = parse(&spec);
            for part in ignored {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "perfgate-workload: {ENV}: ignored {part:?} (want SITE=FACTOR, SITE one of {}, FACTOR >= 1)",
                    Site::ALL.map(Site::name).join(", ")
                );
            }
            factors
        });
        all[site as usize]
    }

    /// Busy-waits: a sleep would give the core away and change what is measured.
    pub(super) fn spin(d: Duration) {
        let t0 = Instant::now();
        while t0.elapsed() < d {
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sites_and_factors_and_names_what_it_ignores() {
        let (f, ignored) =
            parse("spawn=1.2, pool-dispatch=1.05,pipe-copy=0.5,what=2,spawn,pool-answer=3");
        assert_eq!(f, [Some(1.2), None, Some(1.05), Some(3.0)]);
        assert_eq!(ignored, ["pipe-copy=0.5", "what=2", "spawn"]);
        assert_eq!(parse("").0, [None; 4]);
    }

    #[test]
    fn an_unnamed_site_runs_the_code_alone() {
        assert_eq!(timed(Site::Spawn, || 7), 7);
    }
}
