//! Paired rounds, interleaved benchmark by benchmark.
//!
//! A round measures every candidate once on each build. Within a round the two measurements of
//! one benchmark run back to back (seconds apart, not the length of a whole suite apart), and
//! the order of the pair alternates both from round to round and from benchmark to benchmark,
//! so neither build always runs first, and a disturbance that lasts a few seconds hits both
//! sides of one pair or neither. Pairing whole runs of the candidates was not enough: on a
//! shared machine consecutive runs jump between levels about 12% apart (docs/noise.md).

use std::time::{Duration, Instant, SystemTime};

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

/// Rounds measured even when they overrun the time budget: fewer leave the paired interval
/// too wide (t(2) = 4.3) to confirm anything but a gross regression.
pub const MIN_ROUNDS: usize = 4;

/// How many rounds and how long.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Rounds wanted.
    pub rounds: usize,
    /// Stop adding rounds when the next one would end after this (but measure at least
    /// [`MIN_ROUNDS`], or `rounds` if fewer).
    pub budget: Option<Duration>,
}

impl Plan {
    /// Whether to measure another round after `done` rounds that took `elapsed`.
    pub fn another(&self, done: usize, elapsed: Duration) -> bool {
        if done >= self.rounds {
            return false;
        }
        if done < MIN_ROUNDS {
            return true;
        }
        match self.budget {
            None => true,
            Some(b) => elapsed + elapsed / done as u32 <= b,
        }
    }
}

/// Measures `ids` in paired rounds as `plan` says; returns, per round, the baseline side's
/// results and the current side's. Benchmarks that one of the builds lacks are left out (their
/// rows then say they were not re-measured).
pub fn measure(
    runner: &mut dyn PairedRunner,
    ids: &[String],
    plan: Plan,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<(Snapshot, Snapshot)>> {
    let rounds = plan.rounds;
    let t0 = Instant::now();
    let ids: Vec<&String> = ids
        .iter()
        .filter(|id| runner.has(Side::Baseline, id) && runner.has(Side::Current, id))
        .collect();
    let mut out = Vec::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut round = 0;
    while plan.another(round, t0.elapsed()) {
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
        round += 1;
    }
    if round < rounds {
        progress(&format!(
            "stopped after {round} of {rounds} rounds: the confirmation budget of {} s is spent",
            plan.budget.map_or(0, |b| b.as_secs())
        ));
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
        let plan = Plan {
            rounds: 2,
            budget: None,
        };
        let pairs = measure(&mut f, &ids, plan, &mut |l| lines.push(l.to_string())).unwrap();
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
    fn the_budget_ends_rounds_but_not_before_the_minimum() {
        let s = Duration::from_secs;
        let plan = Plan {
            rounds: 10,
            budget: Some(s(100)),
        };
        // 4 rounds of 30 s each overrun 100 s, but 4 is the minimum.
        assert!(plan.another(3, s(90)));
        assert!(!plan.another(4, s(120)));
        // 20 s a round: the 5th ends at 100 s, within the budget; the 6th would not.
        assert!(plan.another(4, s(80)));
        assert!(!plan.another(5, s(100)));
        assert!(!plan.another(10, s(1)));
        let few = Plan {
            rounds: 2,
            budget: Some(s(1)),
        };
        assert!(few.another(1, s(50)) && !few.another(2, s(50)));
        let unbounded = Plan {
            rounds: 10,
            budget: None,
        };
        assert!(unbounded.another(9, s(10_000)));
    }

    #[test]
    fn nothing_to_measure_runs_nothing() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "new",
        };
        let plan = Plan {
            rounds: 5,
            budget: None,
        };
        let pairs = measure(&mut f, &["new".to_string()], plan, &mut |_| {}).unwrap();
        assert!(pairs.is_empty() && f.log.is_empty());
    }
}
