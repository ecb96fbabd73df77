//! Paired rounds, interleaved benchmark by benchmark, in randomized order, stopping each
//! benchmark as soon as it is decided.
//!
//! A round measures every undecided benchmark once on each build. Within a round the two
//! measurements of one benchmark run back to back (seconds apart, not the length of a whole
//! suite apart), so a disturbance that lasts a few seconds hits both sides of one pair or
//! neither; the order of the benchmarks and of the two sides of each pair is drawn at random
//! for every round from a recorded seed ([`order`]). Pairing whole runs of the candidates was
//! not enough: on a shared machine consecutive runs jump between levels about 12% apart
//! (docs/noise.md). After each round the caller decides which benchmarks are settled; the
//! others get the remaining rounds and time.

use std::time::{Duration, Instant, SystemTime};

use crate::baseline::schema::Snapshot;
use crate::error::Result;
use crate::stats::rng::Rng;

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
    /// Called before each round (e.g. to give the round fresh copies of the executables).
    fn begin_round(&mut self) -> Result<()> {
        Ok(())
    }
    /// Runs benchmark `id` once on `side`.
    fn run(&mut self, side: Side, id: &str) -> Result<()>;
    /// The results `side` wrote since `since`.
    fn collect(&mut self, side: Side, since: SystemTime) -> Result<Snapshot>;
}

/// The order of one round: the benchmarks (indices into the active list) in a random order,
/// each with its two sides in a random order, drawn from `seed` and the round number so that
/// a run can be repeated exactly (the seed is in the report). Randomized, not alternated:
/// a disturbance with a period (a cron job, a neighbour's build steps) cannot line up with one
/// side, and no benchmark always follows the same other one (randomized multiple interleaved
/// trials, Abedi and Brecht, ICPE 2017).
pub fn order(seed: u64, round: usize, n: usize) -> Vec<(usize, [Side; 2])> {
    let mut rng = Rng::new(seed ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut idx: Vec<usize> = (0..n).collect();
    // Fisher-Yates.
    for i in (1..n).rev() {
        idx.swap(i, rng.below(i + 1));
    }
    idx.into_iter()
        .map(|k| {
            let sides = if rng.next_u64() & 1 == 0 {
                [Side::Baseline, Side::Current]
            } else {
                [Side::Current, Side::Baseline]
            };
            (k, sides)
        })
        .collect()
}

/// How many rounds and how long.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Most rounds a benchmark gets.
    pub rounds: usize,
    /// Stop before a round that would end after this. A limit: no rule about a minimum number
    /// of rounds overrides it (the report says when it ended the rounds).
    pub budget: Option<Duration>,
    /// Seed of the randomized order.
    pub seed: u64,
    /// Most rounds of the replication that a benchmark called regressed gets (0: none), after
    /// the sequential rounds. The sequential rounds stop early enough to leave them time.
    pub replication: usize,
}

impl Plan {
    /// How many rounds the budget pays for, when a first round of every benchmark took
    /// `first`: later rounds measure fewer benchmarks, so this is a floor. At least one, at
    /// most the plan's rounds.
    pub fn looks_within_budget(&self, first: Duration) -> usize {
        match self.budget {
            Some(b) if !first.is_zero() => {
                let fits = (b.as_secs_f64() / first.as_secs_f64()).floor() as usize;
                fits.clamp(1, self.rounds.max(1))
            }
            _ => self.rounds,
        }
    }

    /// Whether to measure another round after `done` rounds that took `elapsed`, when the next
    /// one has `active` benchmarks and a benchmark's pair has taken `per_pair` so far.
    pub fn another(
        &self,
        done: usize,
        elapsed: Duration,
        active: usize,
        per_pair: Duration,
    ) -> bool {
        if done >= self.rounds || active == 0 {
            return false;
        }
        match self.budget {
            None => true,
            // The first round has no estimate of its own length: it runs, and tells.
            Some(_) if done == 0 => true,
            Some(b) => elapsed + per_pair * active as u32 <= b,
        }
    }
}

/// What the rounds measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Per round, the baseline side's results and the current side's, of the benchmarks still
    /// undecided in that round.
    pub rounds: Vec<(Snapshot, Snapshot)>,
    /// Benchmarks measured (both builds have them).
    pub benchmarks: usize,
    /// The looks of the sequential plan: the plan's rounds, or fewer when the first round
    /// showed that the budget cannot pay for them all. Set from the first round's length
    /// alone, before any decision, so the error rates of the plan hold; a plan of looks that
    /// never come would spend its alpha on them and leave the last look nearly powerless
    /// (docs/paired-statistics.md).
    pub looks: usize,
    /// The replication rounds, after the sequential ones, of the benchmarks the sequential
    /// rounds called regressed or left undecided beyond a threshold (only those benchmarks in
    /// them).
    pub replication: Vec<(Snapshot, Snapshot)>,
    /// Whether the time budget ended the rounds while some benchmark was undecided.
    pub budget_spent: bool,
    /// What the report must say about the rounds (benchmarks one build lacks, benches left
    /// out), in plain words.
    pub notes: Vec<String>,
    /// How long building the two sides' benches took before the rounds, when the caller built
    /// them (set by the caller: it is not part of the budget).
    pub build_seconds: Option<f64>,
}

/// Rounds already measured, which later rounds continue (`check --ab`, whose first comparison
/// is its first paired round).
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// The rounds, oldest first.
    pub rounds: Vec<(Snapshot, Snapshot)>,
    /// How long they took.
    pub elapsed: Duration,
    /// How many pairs they ran.
    pub pairs: u32,
}

/// Measures `ids` in paired rounds as `plan` says, each round in a randomized order. After
/// each round, `decided` is asked about every benchmark still measured, with all the rounds so
/// far; a benchmark it calls decided is not measured again, and the remaining time goes to the
/// others. Benchmarks that one of the builds lacks are left out (their rows then say they were
/// not re-measured).
pub fn measure(
    runner: &mut dyn PairedRunner,
    ids: &[String],
    plan: Plan,
    decided: &mut super::Settled<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<Measured> {
    measure_from(runner, ids, plan, Prior::default(), decided, progress)
}

/// Drops from `active` the benchmarks `decided` calls settled after the sequential rounds
/// so far, keeping those it called regressed in `regressed`. Returns those still active that
/// it calls regressed on some metric: replicated too if the rounds end with them undecided.
fn settle<'i>(
    decided: &mut super::Settled<'_>,
    active: &mut Vec<&'i String>,
    regressed: &mut Vec<&'i String>,
    rounds: &[(Snapshot, Snapshot)],
    looks: usize,
) -> Vec<&'i String> {
    let mut pending = Vec::new();
    active.retain(|id| {
        let s = decided(
            id,
            &super::Evidence {
                rounds,
                looks,
                replication: None,
            },
        );
        if s.settled && s.regressed {
            regressed.push(id);
        }
        if !s.settled && s.regressed {
            pending.push(*id);
        }
        !s.settled
    });
    pending
}

/// The first paired round of `ids`, where a benchmark only one build has runs once on that
/// build (so that a comparison of the round's two sides shows it as new or missing).
pub fn first_round(
    runner: &mut dyn PairedRunner,
    ids: &[String],
    seed: u64,
    progress: &mut dyn FnMut(&str),
) -> Result<Prior> {
    let t0 = Instant::now();
    progress(&format!(
        "paired round 1 ({} benchmark(s)): the first comparison",
        ids.len()
    ));
    let ids: Vec<&String> = ids.iter().collect();
    let ((base, current), pairs) = one_round(runner, &ids, seed, 0)?;
    Ok(Prior {
        rounds: vec![(base, current)],
        elapsed: t0.elapsed(),
        pairs,
    })
}

/// Round `round` of `ids` in its randomized order: each benchmark on each side that has it,
/// the two back to back. Returns both sides' results and how many benchmarks ran on both.
fn one_round(
    runner: &mut dyn PairedRunner,
    ids: &[&String],
    seed: u64,
    round: usize,
) -> Result<((Snapshot, Snapshot), u32)> {
    // File times come from the kernel's coarse clock, which can lag the precise clock by a
    // tick or two.
    runner.begin_round()?;
    let since = SystemTime::now() - Duration::from_millis(50);
    let mut pairs = 0;
    for (k, sides) in order(seed, round, ids.len()) {
        let mut both = true;
        for side in sides {
            if runner.has(side, ids[k]) {
                runner.run(side, ids[k])?;
            } else {
                both = false;
            }
        }
        pairs += u32::from(both);
    }
    let base = runner.collect(Side::Baseline, since)?;
    let current = runner.collect(Side::Current, since)?;
    Ok(((base, current), pairs))
}

/// [`measure`], continuing the rounds of `prior` (counted in the plan's rounds and budget).
///
/// Two stages. The sequential rounds measure every benchmark until `decided` calls it
/// settled, the plan's rounds are done, or the next round would leave too little of the budget
/// for the replications of the regressions found so far.
/// Then every benchmark it called regressed, or left undecided with some metric's estimate
/// beyond its threshold ([`super::Status::doubtful`]), gets up to `plan.replication` fresh
/// rounds of its own (the replication), until `decided`, shown those rounds too, calls it
/// settled, or the whole budget is spent.
pub fn measure_from(
    runner: &mut dyn PairedRunner,
    ids: &[String],
    plan: Plan,
    prior: Prior,
    decided: &mut super::Settled<'_>,
    progress: &mut dyn FnMut(&str),
) -> Result<Measured> {
    let rounds = plan.rounds;
    let start = Instant::now();
    let before = prior.elapsed;
    let elapsed = || start.elapsed() + before;
    let (mut active, lacking): (Vec<&String>, Vec<&String>) = ids
        .iter()
        .partition(|id| runner.has(Side::Baseline, id) && runner.has(Side::Current, id));
    let mut out = Measured {
        rounds: prior.rounds,
        benchmarks: active.len(),
        looks: plan.rounds,
        replication: Vec::new(),
        budget_spent: false,
        notes: Vec::new(),
        build_seconds: None,
    };
    if !lacking.is_empty() {
        let names: Vec<&str> = lacking.iter().map(|s| s.as_str()).collect();
        out.notes.push(format!(
            "not re-measured, since one of the two builds does not have them: {}",
            names.join(", ")
        ));
    }
    let mut pairs_run = prior.pairs;
    let mut round = out.rounds.len();
    let mut plan = plan;
    // The benchmarks the sequential rounds called regressed, for the replication.
    let mut regressed: Vec<&String> = Vec::new();
    let mut pending = Vec::new();
    if round > 0 {
        plan.rounds = plan.looks_within_budget(before);
        out.looks = plan.rounds;
        pending = settle(decided, &mut active, &mut regressed, &out.rounds, out.looks);
    }
    loop {
        let per_pair = elapsed().checked_div(pairs_run).unwrap_or_default();
        // Time the replications of the regressions found so far would take at most: stopping
        // the sequential rounds before their planned last look only lowers their error
        // rates, and a regression that cannot be replicated does not fail the build.
        let reserve = per_pair * ((regressed.len() + pending.len()) * plan.replication) as u32;
        if !plan.another(round, elapsed() + reserve, active.len(), per_pair) {
            break;
        }
        progress(&format!(
            "paired round {} of at most {rounds} ({} benchmark(s) undecided)",
            round + 1,
            active.len()
        ));
        let (results, pairs) = one_round(runner, &active, plan.seed, round)?;
        pairs_run += pairs;
        out.rounds.push(results);
        round += 1;
        if round == 1 {
            plan.rounds = plan.looks_within_budget(elapsed());
            out.looks = plan.rounds;
        }
        pending = settle(decided, &mut active, &mut regressed, &out.rounds, out.looks);
    }
    if out.looks < rounds {
        out.notes.push(format!(
            "the budget of {} s pays for {} of the {rounds} rounds asked for at the first round's length, so the sequential plan has {} looks",
            plan.budget.map_or(0, |b| b.as_secs()),
            out.looks,
            out.looks
        ));
    }
    let undecided = active.len();
    if undecided > 0 && round < rounds {
        out.budget_spent = true;
        progress(&format!(
            "stopped after {round} of {rounds} rounds with {undecided} benchmark(s) undecided: the confirmation budget of {} s is spent",
            plan.budget.map_or(0, |b| b.as_secs())
        ));
    }
    // Undecided at the end, but called regressed on some metric, or undecided with its
    // estimate beyond the threshold: replicated too.
    let evidence = super::Evidence {
        rounds: &out.rounds,
        looks: out.looks,
        replication: None,
    };
    regressed.extend(active.iter().copied().filter(|id| {
        let s = decided(id, &evidence);
        s.regressed || s.doubtful
    }));
    if plan.replication == 0 {
        return Ok(out);
    }
    let mut replicating = regressed;
    let mut done = 0;
    while done < plan.replication && !replicating.is_empty() {
        let per_pair = elapsed().checked_div(pairs_run).unwrap_or_default();
        if let Some(b) = plan.budget
            && elapsed() + per_pair * replicating.len() as u32 > b
        {
            out.budget_spent = true;
            progress(&format!(
                "stopped the replication after {done} of {} rounds with {} benchmark(s) not yet replicated: the confirmation budget of {} s is spent",
                plan.replication,
                replicating.len(),
                b.as_secs()
            ));
            break;
        }
        progress(&format!(
            "replication round {} of at most {} ({} benchmark(s) called regressed, or undecided beyond a threshold)",
            done + 1,
            plan.replication,
            replicating.len()
        ));
        // Round numbers go on from the sequential ones, so the order is a fresh draw.
        let (results, pairs) = one_round(runner, &replicating, plan.seed, round + done)?;
        pairs_run += pairs;
        out.replication.push(results);
        done += 1;
        replicating.retain(|id| {
            !decided(
                id,
                &super::Evidence {
                    rounds: &out.rounds,
                    looks: out.looks,
                    replication: Some(&out.replication),
                },
            )
            .settled
        });
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
    fn each_pair_runs_back_to_back_in_a_seeded_random_order() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "new",
        };
        let ids: Vec<String> = ["a", "new", "b", "c", "d"].map(String::from).to_vec();
        let mut lines = Vec::new();
        let plan = Plan {
            rounds: 40,
            budget: None,
            seed: 7,
            replication: 0,
        };
        let m = measure(
            &mut f,
            &ids,
            plan,
            &mut |_, _| crate::confirm::Status::default(),
            &mut |l| lines.push(l.to_string()),
        )
        .unwrap();
        assert_eq!(
            (m.rounds.len(), m.benchmarks, m.budget_spent),
            (40, 4, false)
        );
        assert_eq!(
            lines[0],
            "paired round 1 of at most 40 (4 benchmark(s) undecided)"
        );
        // Every pair runs back to back: each benchmark's two runs are adjacent.
        assert_eq!(f.log.len(), 40 * 4 * 2);
        for w in f.log.chunks(2) {
            assert_eq!(w[0].1, w[1].1);
            assert_ne!(w[0].0, w[1].0);
        }
        // Neither side is always first, and the benchmarks do not keep one order.
        let base_first = f.log.chunks(2).filter(|w| w[0].0 == Side::Baseline).count();
        assert!((50..=110).contains(&base_first), "{base_first} of 160");
        let firsts: std::collections::BTreeSet<&str> =
            f.log.chunks(8).map(|r| r[0].1.as_str()).collect();
        assert!(firsts.len() > 1, "{firsts:?}");
        // The same seed gives the same order; another seed another.
        assert_eq!(order(7, 3, 4), order(7, 3, 4));
        assert_ne!(
            (0..10).map(|r| order(7, r, 4)).collect::<Vec<_>>(),
            (0..10).map(|r| order(8, r, 4)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn decided_benchmarks_stop_and_the_rest_go_on() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "none",
        };
        let ids: Vec<String> = ["quick", "slow"].map(String::from).to_vec();
        let plan = Plan {
            rounds: 5,
            budget: None,
            seed: 1,
            replication: 0,
        };
        let m = measure(
            &mut f,
            &ids,
            plan,
            &mut |id, e| crate::confirm::Status {
                settled: id == "quick" && e.rounds.len() >= 2,
                regressed: false,
                doubtful: false,
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(m.rounds.len(), 5);
        let runs = |id: &str| f.log.iter().filter(|(_, i)| i == id).count();
        assert_eq!((runs("quick"), runs("slow")), (2 * 2, 5 * 2));
    }

    #[test]
    fn a_regressed_benchmark_gets_fresh_rounds_of_its_own_until_they_settle_it() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "none",
        };
        let ids: Vec<String> = ["r", "u", "late"].map(String::from).to_vec();
        let plan = Plan {
            rounds: 4,
            budget: None,
            seed: 5,
            replication: 6,
        };
        let mut replication_looks = Vec::new();
        let m = measure(
            &mut f,
            &ids,
            plan,
            &mut |id, e| match e.replication {
                // Sequential rounds: `r` regressed and `u` unchanged after two rounds; `late`
                // is never settled, but called regressed at the end.
                None => crate::confirm::Status {
                    settled: id != "late" && e.rounds.len() >= 2,
                    regressed: id != "u",
                    doubtful: false,
                },
                Some(rep) => {
                    replication_looks.push((id.to_string(), rep.len()));
                    crate::confirm::Status {
                        settled: rep.len() >= if id == "r" { 3 } else { 6 },
                        regressed: true,
                        doubtful: false,
                    }
                }
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((m.rounds.len(), m.replication.len()), (4, 6));
        let runs = |id: &str| f.log.iter().filter(|(_, i)| i == id).count();
        assert_eq!(
            (runs("r"), runs("u"), runs("late")),
            (2 * (2 + 3), 2 * 2, 2 * (4 + 6))
        );
        // The replication saw only its own rounds, from the first.
        assert_eq!(replication_looks[0].1, 1);
        assert!(!m.budget_spent);
        // Nothing to replicate without a plan for it.
        let none = Plan {
            replication: 0,
            ..plan
        };
        let m = measure(
            &mut f,
            &ids,
            none,
            &mut |_, _| crate::confirm::Status {
                settled: true,
                regressed: true,
                doubtful: false,
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((m.rounds.len(), m.replication.len()), (1, 0));
    }

    #[test]
    fn a_benchmark_left_undecided_beyond_its_threshold_gets_fresh_rounds_too() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "none",
        };
        // `d` ends the sequential rounds undecided beyond a threshold, `u` merely undecided,
        // `s` settled; a doubt while `d` is still being measured reserves no time.
        let ids: Vec<String> = ["d", "u", "s"].map(String::from).to_vec();
        let plan = Plan {
            rounds: 4,
            budget: None,
            seed: 9,
            replication: 5,
        };
        let m = measure(
            &mut f,
            &ids,
            plan,
            &mut |id, e| match e.replication {
                None => crate::confirm::Status {
                    settled: id == "s",
                    regressed: false,
                    doubtful: id == "d" || (id == "u" && e.rounds.len() < 4),
                },
                Some(rep) => crate::confirm::Status {
                    settled: rep.len() >= 3,
                    regressed: false,
                    doubtful: true,
                },
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((m.rounds.len(), m.replication.len()), (4, 3));
        let runs = |id: &str| f.log.iter().filter(|(_, i)| i == id).count();
        assert_eq!((runs("d"), runs("u"), runs("s")), (2 * (4 + 3), 2 * 4, 2));
    }

    #[test]
    fn a_first_round_runs_lone_benchmarks_once_and_later_rounds_continue_it() {
        let mut f = Fake {
            log: Vec::new(),
            missing: "new",
        };
        let ids: Vec<String> = ["a", "new", "b"].map(String::from).to_vec();
        let prior = first_round(&mut f, &ids, 3, &mut |_| {}).unwrap();
        // `new` is missing on the baseline side: it runs on the current side only.
        let runs = |log: &[(Side, String)], id: &str| {
            (
                log.iter()
                    .filter(|(s, i)| *s == Side::Baseline && i == id)
                    .count(),
                log.iter()
                    .filter(|(s, i)| *s == Side::Current && i == id)
                    .count(),
            )
        };
        assert_eq!(runs(&f.log, "new"), (0, 1));
        assert_eq!(runs(&f.log, "a"), (1, 1));
        assert_eq!((prior.rounds.len(), prior.pairs), (1, 2));
        let plan = Plan {
            rounds: 4,
            budget: None,
            seed: 3,
            replication: 0,
        };
        let mut seen = Vec::new();
        let m = measure_from(
            &mut f,
            &ids,
            plan,
            prior,
            &mut |id, e| {
                seen.push((id.to_string(), e.rounds.len()));
                crate::confirm::Status {
                    settled: id == "a",
                    regressed: false,
                    doubtful: false,
                }
            },
            &mut |_| {},
        )
        .unwrap();
        // The first round counts as one of the four; `a`, decided on it, is not run again.
        assert_eq!(m.rounds.len(), 4);
        assert_eq!(runs(&f.log, "a"), (1, 1));
        assert_eq!(runs(&f.log, "b"), (4, 4));
        assert_eq!(runs(&f.log, "new"), (0, 1));
        assert_eq!(seen[0], ("a".to_string(), 1));
    }

    #[test]
    fn the_budget_is_a_limit() {
        let s = Duration::from_secs;
        let plan = Plan {
            rounds: 10,
            budget: Some(s(100)),
            seed: 0,
            replication: 0,
        };
        // The first round always runs: nothing tells its length before.
        assert!(plan.another(0, s(0), 50, s(0)));
        // 3 benchmarks at 10 s a pair: 30 s a round; after 80 s the next would end at 110 s.
        assert!(!plan.another(2, s(80), 3, s(10)));
        assert!(plan.another(2, s(60), 3, s(10)));
        // Fewer undecided benchmarks make the next round shorter.
        assert!(plan.another(2, s(80), 2, s(10)));
        assert!(!plan.another(10, s(1), 1, s(0)));
        assert!(!plan.another(1, s(1), 0, s(0)));
        let unbounded = Plan {
            rounds: 10,
            budget: None,
            seed: 0,
            replication: 0,
        };
        assert!(unbounded.another(9, s(10_000), 5, s(100)));
        // The plan's looks: what the budget pays for at the first round's length.
        assert_eq!(plan.looks_within_budget(s(30)), 3);
        assert_eq!(plan.looks_within_budget(s(7)), 10);
        assert_eq!(plan.looks_within_budget(s(500)), 1);
        assert_eq!(unbounded.looks_within_budget(s(500)), 10);
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
            seed: 0,
            replication: 0,
        };
        let m = measure(
            &mut f,
            &["new".to_string()],
            plan,
            &mut |_, _| crate::confirm::Status::default(),
            &mut |_| {},
        )
        .unwrap();
        assert!(m.rounds.is_empty() && f.log.is_empty() && !m.budget_spent);
    }
}
