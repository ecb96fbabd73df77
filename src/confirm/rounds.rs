//! Paired rounds, interleaved benchmark by benchmark.
//!
//! A round measures every candidate once on each build. Within a round the two measurements of
//! one benchmark run back to back (seconds apart, not the length of a whole suite apart), and
//! the order of the pair alternates both from round to round and from benchmark to benchmark,
//! so neither build always runs first, and a disturbance that lasts a few seconds hits both
//! sides of one pair or neither. Pairing whole runs of the candidates was not enough: on a
//! shared machine consecutive runs jump between levels about 12% apart (docs/noise.md).

use std::time::{Duration, SystemTime};

use crate::baseline::schema::Snapshot;
use crate::error::Result;

/// Which build a measurement is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The baseline commit's build (or, in `eval-noise`, the unchanged code).
    Baseline,
    /// The current build (or the changed code).
    Current,
}

/// What the rounds need from the two builds.
pub trait PairedRunner {
    /// Whether `side`'s build has benchmark `id`.
    fn has(&self, side: Side, id: &str) -> bool;
    /// Runs benchmark `id` once on `side`.
    fn run(&mut self, side: Side, id: &str) -> Result<()>;
    /// The results `side` wrote since `since`.
    fn collect(&mut self, side: Side, since: SystemTime) -> Result<Snapshot>;
}

/// The order of the pair for the `k`-th benchmark of round `round`.
pub fn order(round: usize, k: usize) -> [Side; 2] {
    if (round + k).is_multiple_of(2) {
        [Side::Baseline, Side::Current]
    } else {
        [Side::Current, Side::Baseline]
    }
}

/// Measures `ids` in `rounds` paired rounds; returns, per round, the baseline side's results
/// and the current side's. Benchmarks that one of the builds lacks are left out (their rows
/// then say they were not re-measured).
pub fn measure(
    runner: &mut dyn PairedRunner,
    ids: &[String],
    rounds: usize,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<(Snapshot, Snapshot)>> {
    let ids: Vec<&String> = ids
        .iter()
        .filter(|id| runner.has(Side::Baseline, id) && runner.has(Side::Current, id))
        .collect();
    let mut out = Vec::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for round in 0..rounds {
        progress(&format!(
            "paired round {} of {rounds} ({} benchmark(s))",
            round + 1,
            ids.len()
        ));
        // File times come from the kernel's coarse clock, which can lag the precise clock by a
        // tick or two.
        let since = SystemTime::now() - Duration::from_millis(50);
        for (k, id) in ids.iter().enumerate() {
            for side in order(round, k) {
                runner.run(side, id)?;
            }
        }
        let base = runner.collect(Side::Baseline, since)?;
        let current = runner.collect(Side::Current, since)?;
        out.push((base, current));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake {
        log: Vec<(Side, String)>,
        missing: &'static str,
    }

    impl PairedRunner for Fake {
        fn has(&self, side: Side, id: &str) -> bool {
            !(side == Side::Baseline && id == self.missing)
        }
        fn run(&mut self, side: Side, id: &str) -> Result<()> {
            self.log.push((side, id.to_string()));
            Ok(())
        }
        fn collect(&mut self, side: Side, _since: SystemTime) -> Result<Snapshot> {
            let ids: Vec<_> = self
                .log
                .iter()
                .filter(|(s, _)| *s == side)
                .map(|(_, id)| crate::testutil::bench(id, vec![1.0, 1.0]))
                .collect();
            Ok(crate::testutil::snapshot("2026-11-24T00:00:00Z", ids))
        }
    }

    #[test]
    fn pairs_alternate_across_rounds_and_benchmarks() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "new",
        };
        let ids = vec!["a".to_string(), "new".to_string(), "b".to_string()];
        let mut lines = Vec::new();
        let pairs = measure(&mut f, &ids, 2, &mut |l| lines.push(l.to_string())).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(lines[0], "paired round 1 of 2 (2 benchmark(s))");
        use Side::*;
        let got: Vec<(Side, &str)> = f.log.iter().map(|(s, i)| (*s, i.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Baseline, "a"),
                (Current, "a"),
                (Current, "b"),
                (Baseline, "b"),
                (Current, "a"),
                (Baseline, "a"),
                (Baseline, "b"),
                (Current, "b"),
            ]
        );
        // Every pair runs back to back: each benchmark's two runs are adjacent.
        for w in got.chunks(2) {
            assert_eq!(w[0].1, w[1].1);
            assert_ne!(w[0].0, w[1].0);
        }
    }

    #[test]
    fn nothing_to_measure_runs_nothing() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "new",
        };
        let pairs = measure(&mut f, &["new".to_string()], 5, &mut |_| {}).unwrap();
        assert!(pairs.is_empty() && f.log.is_empty());
    }
}
