//! Which benchmarks shard K of N runs (`check --shard K/N`), when a suite is split across the
//! jobs of a CI matrix.
//!
//! Every shard runs both builds of its own benchmarks (the same-machine A/B), so no comparison
//! crosses machines; what the assignment must give is balance and stability:
//!
//! - A benchmark the stored baseline holds is placed by its stored duration: longest first, each
//!   on the shard with the least work so far (longest-processing-time, within 4/3 of the best
//!   split), ties broken by name. A benchmark the baseline lacks goes to the shard its stable
//!   hash names.
//! - The placement depends on the baseline alone, never on which benchmarks the current code
//!   has: a pull request that adds a benchmark moves only that one (to its hashed shard), one
//!   that removes a benchmark moves none. A baseline refresh may rebalance, which costs nothing:
//!   no shard compares with numbers another shard measured.
//!
//! The duration of a benchmark is the time its stored samples took plus a fixed start-up and
//! analysis cost ([`OVERHEAD_SECONDS`]): in the paired rounds every benchmark runs for a bounded
//! time, so the fixed part dominates and the split is close to one by count, weighted toward
//! the benchmarks whose iterations are long.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::schema::Snapshot;
use crate::stats::rng::{Rng, seed_from};

/// The most shards a suite can be split into.
pub const MAX_SHARDS: u32 = 256;

/// The per-benchmark cost besides its samples: process start, warm-up, analysis.
pub const OVERHEAD_SECONDS: f64 = 1.0;

/// Shard `index` of `count`, 1-based as written (`--shard 2/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// 1 to `count`.
    pub index: u32,
    /// How many shards the suite is split into.
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not K/N (e.g. 1/2)"))?;
        let parse = |v: &str, what: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| format!("{s:?}: {what} {v:?} is not a whole number"))
        };
        let (index, count) = (parse(k, "K")?, parse(n, "N")?);
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{s:?}: N must be 1 to {MAX_SHARDS}"));
        }
        if index == 0 || index > count {
            return Err(format!("{s:?}: K must be 1 to N ({count})"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The stored duration of each benchmark of `baseline`, in seconds.
pub fn durations(baseline: &Snapshot) -> Vec<(String, f64)> {
    baseline
        .benchmarks
        .iter()
        .map(|b| {
            let ns: f64 = b
                .samples
                .iters
                .iter()
                .zip(&b.samples.per_iter_ns)
                .map(|(i, t)| i * t)
                .filter(|v| v.is_finite() && *v > 0.0)
                .sum();
            (b.id.clone(), OVERHEAD_SECONDS + ns / 1e9)
        })
        .collect()
}

/// The placement of benchmarks on `count` shards.
#[derive(Debug, Clone)]
pub struct Assignment {
    count: u32,
    /// 0-based shard of each benchmark of the baseline.
    placed: BTreeMap<String, u32>,
}

impl Assignment {
    /// The placement for a suite with these stored `durations` (none: every benchmark by hash).
    pub fn new(durations: &[(String, f64)], count: u32) -> Assignment {
        let count = count.max(1);
        let mut order: Vec<&(String, f64)> = durations.iter().collect();
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut load = vec![0.0f64; count as usize];
        let mut placed = BTreeMap::new();
        for (id, d) in order {
            if placed.contains_key(id) {
                continue;
            }
            // The least loaded shard; the lowest index among equals.
            let (k, _) = load
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
                .expect("at least one shard");
            load[k] += d.max(0.0);
            placed.insert(id.clone(), k as u32);
        }
        Assignment { count, placed }
    }

    /// The 1-based shard that runs benchmark `id`.
    pub fn shard_of(&self, id: &str) -> u32 {
        1 + match self.placed.get(id) {
            Some(k) => *k,
            None => {
                (Rng::new(seed_from(&["perfgate-shard", id])).next_u64() % u64::from(self.count))
                    as u32
            }
        }
    }

    /// Whether `shard` runs benchmark `id`.
    pub fn runs(&self, shard: Shard, id: &str) -> bool {
        self.shard_of(id) == shard.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each shard's summed duration under `a`, and their mean.
    fn loads(a: &Assignment, d: &[(String, f64)], count: u32) -> (Vec<f64>, f64) {
        let mut load = vec![0.0; count as usize];
        for (id, t) in d {
            load[(a.shard_of(id) - 1) as usize] += t;
        }
        let mean = load.iter().sum::<f64>() / f64::from(count);
        (load, mean)
    }

    fn suite(n: usize) -> Vec<(String, f64)> {
        (0..n)
            .map(|i| (format!("g/b{i}"), 1.0 + (i * 7 % 5) as f64))
            .collect()
    }

    #[test]
    fn parses_and_refuses_shard_specs() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!("2/4".parse::<Shard>().unwrap().to_string(), "2/4");
        for bad in [
            "",
            "2",
            "0/2",
            "3/2",
            "1/0",
            "a/2",
            "1/-2",
            "1/99999999999",
            "1/257",
        ] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_benchmark_has_exactly_one_shard() {
        let d = suite(30);
        let a = Assignment::new(&d, 4);
        for (id, _) in &d {
            let owners: Vec<u32> = (1..=4)
                .filter(|&k| a.runs(Shard { index: k, count: 4 }, id))
                .collect();
            assert_eq!(owners.len(), 1, "{id}");
        }
    }

    #[test]
    fn one_shard_runs_everything() {
        let a = Assignment::new(&suite(5), 1);
        assert!(a.runs(Shard { index: 1, count: 1 }, "anything/new"));
    }

    /// The flagship suite's committed baseline, split 2 to 4 ways: the busiest shard within
    /// 1.3x of the mean.
    #[test]
    fn the_flagship_suite_splits_evenly() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/baselines/linux-x86_64-2c-24g.json"
        );
        let snap = crate::baseline::store::read_snapshot(std::path::Path::new(path)).unwrap();
        let d = durations(&snap);
        assert!(d.len() >= 40, "{}", d.len());
        for count in 2..=4u32 {
            let a = Assignment::new(&d, count);
            let (load, mean) = loads(&a, &d, count);
            let max = load.iter().cloned().fold(0.0, f64::max);
            assert!(max <= 1.3 * mean, "{count} shards: {load:?}");
        }
    }

    proptest! {
        /// A benchmark the baseline lacks moves nothing else; the baseline's placement does not
        /// depend on which benchmarks the code has, so removing one moves none either.
        #[test]
        fn adding_a_benchmark_moves_only_that_one(n in 1usize..60, count in 1u32..6, new in "[a-z/]{1,12}") {
            let d = suite(n);
            let a = Assignment::new(&d, count);
            let before: Vec<u32> = d.iter().map(|(id, _)| a.shard_of(id)).collect();
            // The new benchmark is not in the baseline: hashed, and the others unchanged.
            let k = a.shard_of(&new);
            prop_assert!((1..=count).contains(&k));
            let after: Vec<u32> = d.iter().map(|(id, _)| a.shard_of(id)).collect();
            prop_assert_eq!(before, after);
        }

        /// Longest-processing-time: no shard carries more than the mean plus the longest job.
        #[test]
        fn the_split_is_balanced(durs in proptest::collection::vec(0.1f64..10.0, 1..80), count in 1u32..6) {
            let d: Vec<(String, f64)> = durs.iter().enumerate().map(|(i, t)| (format!("b{i}"), *t)).collect();
            let a = Assignment::new(&d, count);
            let (load, mean) = loads(&a, &d, count);
            let longest = durs.iter().cloned().fold(0.0, f64::max);
            let max = load.iter().cloned().fold(0.0, f64::max);
            prop_assert!(max <= mean + longest + 1e-9, "{load:?}");
        }
    }
}
