//! Bisection to the first bad commit: a binary search over the first-parent commits between a
//! known-good and a known-bad commit, each step a same-machine A/B of the step's build against
//! the good commit's build, in the paired rounds and with the sequential statistics of
//! [`crate::confirm`] (so a clear step is cheap: it stops as soon as it is decided).
//!
//! The search first checks its premise: the bad commit against the good one, judged against
//! the benchmark's configured threshold. Only a confirmed regression is bisected: a search on
//! a difference that is not there would name a commit at random. The size of that regression
//! then sets the threshold of every later step, at the geometric midpoint between no change and
//! the regression (`sqrt(1 + change) - 1`, never below the configured threshold): a step asks
//! "is this commit on the good side or the bad side?", and the midpoint answers that in the
//! fewest rounds for both kinds of commit. A search whose range holds several smaller
//! regressions besides one large one lands on the large one, which is the one the user saw.
//!
//! A step whose rounds run out undecided is judged by its estimate against the same midpoint,
//! and marked as such in the report: the search must go on, and the mark says which answer to
//! check first if the result is surprising.

use crate::error::Result;
use crate::stats::paired::{Decision, PairedChange, Sequential};
use crate::vocab::Metric;

/// One commit of the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full id.
    pub id: String,
    /// The first line of its message.
    pub summary: String,
}

/// What the search needs to judge a step.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The metric bisected.
    pub metric: Metric,
    /// The benchmark's configured threshold for it, signed in the bad direction.
    pub threshold: f64,
    /// Significance level of each step's sequential plan.
    pub alpha: f64,
    /// Most paired rounds per step (the looks of its sequential plan).
    pub rounds: usize,
}

/// Which side of the regression a commit is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Like the good commit.
    Good,
    /// Like the bad commit.
    Bad,
}

/// One A/B of a commit against the good commit.
#[derive(Debug, Clone)]
pub struct Step {
    /// The commit tested (an index into the range, 0 being the good commit).
    pub commit: usize,
    /// The side the rounds put it on.
    pub side: Side,
    /// The sequential rule's decision; `Unknown` when the rounds ran out and the estimate
    /// alone placed it.
    pub decision: Decision,
    /// The change against the good commit, when the rounds give one.
    pub change: Option<PairedChange>,
    /// The per-round ratios `current / good` of the metric.
    pub ratios: Vec<f64>,
    /// The threshold the step was judged against, signed in the bad direction.
    pub threshold: f64,
    /// Seconds the step took, its build included.
    pub seconds: f64,
}

/// The outcome of a bisection.
#[derive(Debug, Clone)]
pub struct Bisection {
    /// The range, oldest first: the good commit, then every first-parent commit up to the bad
    /// one.
    pub commits: Vec<Commit>,
    /// The settings judged with.
    pub settings: Settings,
    /// The premise: the bad commit against the good one.
    pub premise: Step,
    /// The search's steps, in order.
    pub steps: Vec<Step>,
    /// The first bad commit (an index into `commits`), when the premise held (its decision
    /// is `Different`; otherwise that decision says why there was no search).
    pub first_bad: Option<usize>,
}

impl Step {
    /// Whether the sequential rule decided the step (else its estimate placed it).
    pub fn decided(&self) -> bool {
        self.decision != Decision::Unknown
    }
}

impl Bisection {
    /// Every A/B of the run, the premise first.
    pub fn all_steps(&self) -> impl Iterator<Item = &Step> {
        std::iter::once(&self.premise).chain(&self.steps)
    }
}

/// Where a binary search over a range of `n` commits stands: `good` is known good, `bad` known
/// bad, and the first bad commit lies in `good + 1 ..= bad`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Search {
    good: usize,
    bad: usize,
}

impl Search {
    /// A search over `n >= 2` commits, the first good and the last bad.
    pub fn new(n: usize) -> Option<Search> {
        (n >= 2).then(|| Search {
            good: 0,
            bad: n - 1,
        })
    }

    /// The commit to test next, `None` when the first bad commit is known.
    pub fn next(&self) -> Option<usize> {
        (self.bad - self.good > 1).then(|| self.good + (self.bad - self.good) / 2)
    }

    /// Records the side of a tested commit.
    pub fn record(&mut self, commit: usize, side: Side) {
        match side {
            Side::Good => self.good = self.good.max(commit),
            Side::Bad => self.bad = self.bad.min(commit),
        }
    }

    /// The first bad commit, once the range is narrowed to it.
    pub fn first_bad(&self) -> Option<usize> {
        self.next().is_none().then_some(self.bad)
    }

    /// Commits still to choose among (the candidates for the first bad one).
    pub fn candidates(&self) -> usize {
        self.bad - self.good
    }

    /// Steps still needed at most: `ceil(log2(candidates))`.
    pub fn steps_left(&self) -> usize {
        let c = self.candidates();
        (usize::BITS - (c - 1).leading_zeros()) as usize
    }
}

/// What the caller reports before each A/B.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// The commit about to be tested.
    pub commit: usize,
    /// Whether this is the premise (the bad commit against the good).
    pub premise: bool,
    /// Commits still to choose among.
    pub candidates: usize,
    /// Steps still needed at most after this one.
    pub steps_left: usize,
}

/// Runs one A/B of commit `commit` against the good commit (index 0): paired rounds until the
/// given function, shown the log ratios of the rounds so far, says they settle it (or the
/// rounds run out). Returns the log ratios and the seconds it took.
pub type Measure<'a> =
    dyn FnMut(usize, &mut dyn FnMut(&[f64]) -> bool) -> Result<(Vec<f64>, f64)> + 'a;

/// Bisects `commits` (oldest first, the first good, the last bad): the premise, then the
/// binary search. `progress` is told before each A/B.
pub fn bisect(
    commits: Vec<Commit>,
    settings: Settings,
    measure: &mut Measure<'_>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Bisection> {
    let n = commits.len();
    let mut search = Search::new(n).ok_or_else(|| {
        crate::error::Error::Git("the range holds no commit after the good one".into())
    })?;
    progress(&Progress {
        commit: n - 1,
        premise: true,
        candidates: search.candidates(),
        steps_left: search.steps_left(),
    });
    let premise = step(n - 1, settings.threshold, &settings, measure)?;
    let mut out = Bisection {
        commits,
        settings,
        premise,
        steps: Vec::new(),
        first_bad: None,
    };
    if out.premise.decision != Decision::Different {
        return Ok(out);
    }
    let regression = out
        .premise
        .change
        .map_or(settings.threshold, |c| c.estimate);
    let midpoint = midpoint_threshold(settings.threshold, regression);
    while let Some(k) = search.next() {
        // Either answer leaves at most half the candidates (rounded up): one step fewer.
        progress(&Progress {
            commit: k,
            premise: false,
            candidates: search.candidates(),
            steps_left: search.steps_left() - 1,
        });
        let s = step(k, midpoint, &settings, measure)?;
        search.record(k, s.side);
        out.steps.push(s);
    }
    out.first_bad = search.first_bad();
    Ok(out)
}

/// The threshold of the search's steps: the geometric midpoint between no change and the
/// premise's `regression` (both relative changes, `regression` in the bad direction), never
/// smaller than the configured `threshold`, signed like it.
pub fn midpoint_threshold(threshold: f64, regression: f64) -> f64 {
    let mid = (1.0 + regression).max(f64::MIN_POSITIVE).sqrt() - 1.0;
    threshold.signum() * mid.abs().max(threshold.abs())
}

/// The sequential decision after `look` rounds with `logs`, against `threshold` (`Unknown`
/// when the plan or the rounds give none).
fn decision(
    plan: Option<&Sequential>,
    metric: Metric,
    look: usize,
    logs: &[f64],
    threshold: f64,
) -> (Decision, Option<PairedChange>) {
    match plan {
        Some(plan) => plan.decide(look, logs, threshold, metric.higher_is_better()),
        None => (Decision::Unknown, None),
    }
}

/// One A/B of commit `k` against the good commit, judged against `threshold`.
fn step(k: usize, threshold: f64, settings: &Settings, measure: &mut Measure<'_>) -> Result<Step> {
    let plan = Sequential::new(settings.rounds.max(1), settings.alpha);
    let m = settings.metric;
    let mut settle = |logs: &[f64]| {
        decision(plan.as_ref(), m, logs.len(), logs, threshold).0 != Decision::Unknown
    };
    let (logs, seconds) = measure(k, &mut settle)?;
    let (decision, change) = decision(plan.as_ref(), m, logs.len(), &logs, threshold);
    // The estimate at the plan's last look, when the sequential rule left it undecided: the
    // interval is the plan's, the point estimate the same Hodges-Lehmann one.
    let change =
        change.or_else(|| crate::stats::paired::hodges_lehmann(&logs, 1.0 - settings.alpha));
    let side = match decision {
        Decision::Different => Side::Bad,
        Decision::Same | Decision::Better => Side::Good,
        Decision::Unknown if change.is_some_and(|c| badness(c.estimate, m) > threshold.abs()) => {
            Side::Bad
        }
        Decision::Unknown => Side::Good,
    };
    Ok(Step {
        commit: k,
        side,
        decision,
        change,
        ratios: logs.iter().map(|l| l.exp()).collect(),
        threshold,
        seconds,
    })
}

/// A relative change as badness: positive is worse, whatever the metric's direction.
fn badness(change: f64, metric: Metric) -> f64 {
    if metric.higher_is_better() {
        -change
    } else {
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Rng;

    fn commits(n: usize) -> Vec<Commit> {
        (0..n)
            .map(|i| Commit {
                id: format!("{i:040x}"),
                summary: format!("commit {i}"),
            })
            .collect()
    }

    fn settings() -> Settings {
        Settings {
            metric: Metric::Throughput,
            threshold: -0.05,
            alpha: 0.05,
            rounds: 8,
        }
    }

    /// A fake lab: commits from `bad` on are `factor` times slower, every round's log ratio
    /// has normal noise of `sd`.
    fn lab(
        bad: usize,
        factor: f64,
        sd: f64,
        seed: u64,
        tested: &mut Vec<usize>,
    ) -> Box<Measure<'_>> {
        let mut rng = Rng::new(seed);
        Box::new(move |k, settle| {
            tested.push(k);
            let truth = if k >= bad { -(factor.ln()) } else { 0.0 };
            let mut logs = Vec::new();
            for _ in 0..8 {
                logs.push(truth + sd * rng.normal());
                if settle(&logs) {
                    break;
                }
            }
            Ok((logs, 1.0))
        })
    }

    #[test]
    fn the_search_halves_the_range_and_counts_its_steps() {
        let mut s = Search::new(16).unwrap();
        assert_eq!((s.candidates(), s.steps_left()), (15, 4));
        assert_eq!(s.next(), Some(7));
        s.record(7, Side::Bad);
        assert_eq!((s.candidates(), s.steps_left(), s.next()), (7, 3, Some(3)));
        s.record(3, Side::Good);
        assert_eq!(s.next(), Some(5));
        s.record(5, Side::Good);
        assert_eq!(s.next(), Some(6));
        s.record(6, Side::Bad);
        assert_eq!((s.next(), s.first_bad()), (None, Some(6)));
        assert!(Search::new(1).is_none());
        assert_eq!(Search::new(2).unwrap().first_bad(), Some(1));
    }

    #[test]
    fn finds_every_bad_commit_of_sixteen_in_at_most_five_a_b_runs() {
        for bad in 1..16 {
            for seed in 0..5 {
                let mut tested = Vec::new();
                let b = {
                    let mut m = lab(bad, 2.0, 0.03, seed * 31 + bad as u64, &mut tested);
                    bisect(commits(16), settings(), &mut m, &mut |_| {}).unwrap()
                };
                assert_eq!(b.first_bad, Some(bad), "bad {bad}, seed {seed}: {tested:?}");
                assert!(tested.len() <= 5, "bad {bad}: {tested:?}");
                assert_eq!(tested[0], 15, "the premise comes first");
                assert!(
                    b.all_steps().all(|s| s.decided()),
                    "bad {bad}: {:?}",
                    b.steps
                );
            }
        }
    }

    #[test]
    fn no_regression_between_good_and_bad_stops_before_the_search() {
        let mut tested = Vec::new();
        let b = {
            let mut m = lab(99, 1.0, 0.01, 3, &mut tested);
            bisect(commits(8), settings(), &mut m, &mut |_| {}).unwrap()
        };
        assert_eq!(b.premise.decision, Decision::Same);
        assert_eq!((b.first_bad, b.steps.len(), tested), (None, 0, vec![7]));
        // Noise far wider than the threshold: the premise cannot be established.
        let mut tested = Vec::new();
        let b = {
            let mut m = lab(7, 1.02, 0.5, 4, &mut tested);
            bisect(commits(8), settings(), &mut m, &mut |_| {}).unwrap()
        };
        assert_eq!(b.premise.decision, Decision::Unknown);
    }

    #[test]
    fn the_midpoint_lies_between_no_change_and_the_regression() {
        // Half the throughput: the midpoint in log space is 1/sqrt(2).
        assert!((midpoint_threshold(-0.05, -0.5) - (0.5f64.sqrt() - 1.0)).abs() < 1e-12);
        // Twice the latency.
        assert!((midpoint_threshold(0.10, 1.0) - (2f64.sqrt() - 1.0)).abs() < 1e-12);
        // Never below the configured threshold.
        assert_eq!(midpoint_threshold(-0.05, -0.06), -0.05);
    }

    #[test]
    fn progress_counts_down() {
        let mut seen = Vec::new();
        let mut tested = Vec::new();
        {
            let mut m = lab(11, 3.0, 0.02, 9, &mut tested);
            bisect(commits(16), settings(), &mut m, &mut |p| {
                seen.push((p.premise, p.candidates, p.steps_left))
            })
            .unwrap();
        }
        assert_eq!(seen[0], (true, 15, 4));
        assert_eq!(seen[1], (false, 15, 3));
        assert_eq!(seen.last().unwrap().2, 0);
    }
}
