//! Confirmation: before failing a build, measure the benchmarks with the baseline commit's
//! build and the current build interleaved on the same machine, and judge on the paired rounds.
//!
//! A comparison against a stored baseline mixes the change under test with everything that
//! differs between the two runs (the time of day, the neighbours on a shared runner, a kernel
//! update). `perfgate check` therefore re-measures: the candidates the first comparison flags
//! (every gated benchmark that regressed, or is inconclusive with its point estimate beyond
//! the threshold), or, where the stored baseline is not comparable, every gated benchmark
//! ([`Selection`], config `ab`). Each round runs every undecided benchmark once on each build,
//! the two back to back, in a randomized order ([`rounds`]), straight from the bench binaries
//! ([`bench`]).
//!
//! The verdict rests on the per-round log ratios `ln(current / baseline)` through the robust,
//! sequential rule of [`crate::stats::paired`]: the Hodges-Lehmann estimate with its
//! signed-rank interval, looked at after every round with an O'Brien-Fleming-type
//! alpha-spending plan over the planned rounds, so that stopping early keeps the error rate at
//! the policy's alpha. A benchmark is settled when each of its gated metrics is `Different`
//! (regressed), `Better` (improved) or `Same` (a change beyond the threshold is ruled out); the
//! rest get the remaining rounds. What is still undecided at the end is inconclusive, with the
//! smallest change the rounds could have detected. Thresholds are the configured ones, not
//! widened for noise, since pairing cancels the drift between runs; the policy (threshold,
//! alpha) is the one the comparison resolved for the benchmark.

pub mod affinity;
pub mod bench;
pub mod rounds;
pub mod worktree;

use crate::baseline::schema::{Allocs, Benchmark, Snapshot};
use crate::compare::noise::metric_value;
use crate::compare::{
    Comparison, Confirmation, Metric, Remeasure, Replication, ReplicationOf, Row, Verdict,
};
use crate::config::Policy;
use crate::error::Result;
use crate::stats::paired::{Decision, PairedChange, Sequential, estimate_beyond};

/// Which benchmarks the paired rounds measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every benchmark with a gated metric.
    All,
    /// The candidates of the first comparison ([`candidates`]).
    Candidates,
}

/// The selection of `ab = "auto"`: every gated benchmark where the stored baseline is not
/// comparable with these results, the candidates otherwise. Not comparable: measured on a
/// shared runner (`shared_runner`: GitHub Actions), on a machine whose fingerprint differs, in
/// one run (no stored noise), too noisy to gate for some gated metric, or measured when the
/// machine ran at another speed ([`speed_shift`]). The reasons are returned for the report.
pub fn auto_selection(cmp: &Comparison, shared_runner: bool) -> (Selection, Vec<String>) {
    let mut why: Vec<String> = not_comparable(
        shared_runner,
        !cmp.machine_mismatch.is_empty(),
        cmp.notes.iter().any(|n| n == crate::compare::ONE_RUN_NOTE),
    )
    .into_iter()
    .map(String::from)
    .collect();
    if cmp.rows.iter().any(|r| r.gated && r.noise_capped) {
        why.push("benchmarks too noisy to gate against the stored baseline".into());
    }
    if let Some(shift) = speed_shift(cmp) {
        why.push(format!(
            "the machine runs at another speed than when the baseline was stored: the median gated throughput change is {:+.0}%",
            100.0 * shift
        ));
    }
    let sel = if why.is_empty() {
        Selection::Candidates
    } else {
        Selection::All
    };
    (sel, why)
}

/// The fewest gated throughput rows that [`speed_shift`] reads a shift from: with fewer, one
/// changed benchmark would be the median.
pub const SPEED_SHIFT_MIN_ROWS: usize = 5;

/// The machine's speed shift against the stored baseline, if it is large enough to bias the
/// candidate screen: the median throughput change of the gated benchmarks, when it is beyond
/// half the median configured throughput threshold. Same fingerprint, another speed (another
/// load, another kernel build, a neighbour on the host): a real regression then reads as
/// unchanged on a faster machine and is never re-measured, and an unchanged benchmark reads as
/// regressed on a slower one. A change the pull request makes moves some benchmarks, rarely
/// the median of all; and if it does, measuring every gated benchmark is the right answer
/// anyway. `None` with fewer than [`SPEED_SHIFT_MIN_ROWS`] rows.
pub fn speed_shift(cmp: &Comparison) -> Option<f64> {
    let rows: Vec<(f64, f64)> = cmp
        .rows
        .iter()
        .filter(|r| r.gated && r.metric == Some(Metric::Throughput))
        .filter_map(|r| Some((r.change?.estimate, r.configured_threshold?.abs())))
        .filter(|(c, t)| c.is_finite() && t.is_finite())
        .collect();
    if rows.len() < SPEED_SHIFT_MIN_ROWS {
        return None;
    }
    let changes: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let thresholds: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let shift = crate::stats::median(&changes);
    (shift.abs() > crate::stats::median(&thresholds) / 2.0).then_some(shift)
}

/// The reasons a stored baseline is not comparable that are known before anything is
/// measured (a shared runner, another machine, a one-run baseline), for the report. `check`
/// asks before its first run, to skip a suite run whose numbers could not decide; the rest of
/// [`auto_selection`] needs the comparison.
pub fn not_comparable(
    shared_runner: bool,
    other_machine: bool,
    one_run_baseline: bool,
) -> Vec<&'static str> {
    [
        (shared_runner, "a shared CI runner"),
        (other_machine, "a machine that differs from the baseline's"),
        (one_run_baseline, "a baseline measured in one run"),
    ]
    .into_iter()
    .filter_map(|(yes, why)| yes.then_some(why))
    .collect()
}

/// The benchmarks a selection measures.
pub fn selected(cmp: &Comparison, selection: Selection) -> Vec<String> {
    match selection {
        Selection::Candidates => candidates(cmp),
        Selection::All => {
            let mut ids: Vec<String> = cmp
                .rows
                .iter()
                .filter(|r| r.gated && r.metric.is_some())
                .map(|r| r.benchmark.clone())
                .collect();
            ids.sort();
            ids.dedup();
            ids
        }
    }
}

/// The check flow after the first comparison, written once for `check`, `check --ab` and the
/// evaluation: select the benchmarks, have `measure` run them in paired rounds (it is handed
/// the selection and the function that says, after each round, whether a benchmark is
/// settled), re-judge their rows. `max_rounds` is the plan of the sequential rule. Returns the
/// selection.
pub fn confirm_candidates(
    cmp: &mut Comparison,
    selection: Selection,
    max_rounds: u32,
    seed: u64,
    measure: impl FnOnce(&[String], &mut Settled<'_>) -> Result<rounds::Measured>,
) -> Result<Vec<String>> {
    let ids = selected(cmp, selection);
    if max_rounds == 0 || ids.is_empty() {
        return Ok(ids);
    }
    let max = max_rounds as usize;
    let view: &Comparison = cmp;
    let mut settled = |id: &str, e: &Evidence<'_>| status(view, id, e);
    let m = measure(&ids, &mut settled)?;
    let looks = m.looks.clamp(1, max);
    apply(cmp, &ids, &m.rounds, looks, &m.replication);
    cmp.notes.extend(m.notes.iter().cloned());
    if let Some(note) = undecidable_plan_note(looks, cmp.alpha) {
        cmp.notes.push(note);
    }
    cmp.ab = Some(crate::compare::AbRun {
        seed,
        rounds: m.rounds.len(),
        benchmarks: m.benchmarks,
        all: selection == Selection::All,
        budget_spent: m.budget_spent,
        build_seconds: m.build_seconds,
    });
    Ok(ids)
}

/// Said when a plan of `looks` rounds can decide nothing at `alpha`: the signed-rank test
/// needs a minimum of rounds (docs/paired-statistics.md), and a budget that pays for fewer
/// leaves every re-measured row inconclusive, which a user must be told in plain words.
fn undecidable_plan_note(looks: usize, alpha: f64) -> Option<String> {
    let last = Sequential::new(looks, alpha)?.alpha_at(looks);
    (last <= 0.0).then(|| {
        format!(
            "only {looks} paired round(s) fit the budget, and the rank test needs at least {} to decide anything at alpha {alpha}: every re-measured row stays inconclusive (raise --confirm-budget, or gate fewer benchmarks)",
            crate::stats::paired::min_deciding_rounds(alpha)
        )
    })
}

/// Most rounds of a replication (see [`rounds::measure_from`]), the looks of its sequential
/// plan. Simulated at the flagship suite's spread (docs/paired-statistics.md), 16 looks
/// confirm a regression of twice the threshold in 83% of replications (12 looks: 69%, a
/// fixed 12 rounds: 70%), in 12.5 rounds on average, and a regression of four times the
/// threshold in 10.
pub const REPLICATION_ROUNDS: usize = 16;

/// The rounds a decision about one benchmark rests on.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'r> {
    /// The sequential rounds so far.
    pub rounds: &'r [(Snapshot, Snapshot)],
    /// The looks of the sequential plan ([`rounds::Measured::looks`]).
    pub looks: usize,
    /// The replication rounds so far, once the replication has begun.
    pub replication: Option<&'r [(Snapshot, Snapshot)]>,
}

/// What the rounds so far say about one benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// Nothing more to measure in this stage: in the sequential rounds, every gated metric is
    /// decided; in the replication, every metric called regressed is confirmed or refuted.
    pub settled: bool,
    /// Some gated metric is called regressed by the sequential rounds: the benchmark is
    /// replicated.
    pub regressed: bool,
    /// Some gated metric is undecided with its estimate beyond the threshold in the bad
    /// direction: if the sequential rounds end so, the benchmark gets fresh rounds as a
    /// replication does, and they decide the metric (see [`ReplicationOf`]).
    pub doubtful: bool,
}

/// After each round: what the rounds say about a benchmark.
pub type Settled<'a> = dyn FnMut(&str, &Evidence<'_>) -> Status + 'a;

/// The benchmarks worth re-measuring: those with a gated metric that regressed, or that is
/// inconclusive with its point estimate worse than the configured threshold.
pub fn candidates(cmp: &Comparison) -> Vec<String> {
    let mut ids: Vec<String> = cmp
        .rows
        .iter()
        .filter(|r| r.gated && r.metric.is_some())
        .filter(|r| match r.verdict {
            Verdict::Regressed => true,
            Verdict::Inconclusive => worse_than_configured(r),
            _ => false,
        })
        .map(|r| r.benchmark.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn worse_than_configured(r: &Row) -> bool {
    let (Some(m), Some(c), Some(t)) = (r.metric, r.change, r.configured_threshold) else {
        return false;
    };
    let c = c.estimate;
    let badness = if m.higher_is_better() { -c } else { c };
    badness > t.abs()
}

/// One round's value of `metric` for one side. Throughput is taken at the median of the
/// round's per-iteration sample times, not their mean: a round is short (ten samples of a few
/// milliseconds on the flagship suite), and one sample caught by a scheduler stall moves the
/// mean of ten by a tenth of the stall. Measured on the spawn benchmarks, the per-invocation
/// spread of the median was about half that of the mean (scripts/invocation-noise.py,
/// docs/paired-statistics.md). The ratio of two medians estimates the same change as the ratio
/// of two means when the change scales every iteration alike. Latency quantiles come from the
/// recorder's histogram, as in the first comparison.
pub fn round_value(b: &Benchmark, metric: Metric) -> Option<f64> {
    match metric {
        Metric::Throughput if !b.samples.per_iter_ns.is_empty() => {
            Some(b.throughput_per_sec(crate::stats::median(&b.samples.per_iter_ns)))
        }
        _ => metric_value(b, metric),
    }
}

/// The ratios `current / baseline` of `metric` ([`round_value`]) in the rounds where both sides
/// have a positive value.
pub fn paired_ratios(metric: Metric, pairs: &[(&Benchmark, &Benchmark)]) -> Vec<f64> {
    pairs
        .iter()
        .filter_map(|(b, c)| Some((round_value(b, metric)?, round_value(c, metric)?)))
        .filter(|(b, c)| *b > 0.0 && *c > 0.0)
        .map(|(b, c)| c / b)
        .collect()
}

/// The log ratios `ln(current / baseline)` of `metric` for benchmark `id`, over the rounds
/// that measured it on both sides with a positive value.
pub fn log_ratios(metric: Metric, id: &str, rounds: &[(Snapshot, Snapshot)]) -> Vec<f64> {
    let pairs: Vec<(&Benchmark, &Benchmark)> = rounds
        .iter()
        .filter_map(|(b, c)| Some((find(b, id)?, find(c, id)?)))
        .collect();
    paired_ratios(metric, &pairs)
        .into_iter()
        .map(f64::ln)
        .collect()
}

/// The sequential plan of a benchmark's rounds under its policy.
fn plan(policy: &Policy, max_rounds: usize) -> Option<Sequential> {
    Sequential::new(max_rounds.max(1), policy.alpha)
}

/// The decision on one gated row after the rounds so far, with the change it rests on.
fn decide(
    row: &Row,
    policy: &Policy,
    rounds: &[(Snapshot, Snapshot)],
    max_rounds: usize,
) -> Option<(Decision, Option<PairedChange>, usize, Vec<f64>)> {
    let metric = row.metric?;
    let logs = log_ratios(metric, &row.benchmark, rounds);
    let plan = plan(policy, max_rounds)?;
    let threshold = *policy.thresholds.get(metric);
    let (d, c) = plan.decide(logs.len(), &logs, threshold, metric.higher_is_better());
    Some((d, c, logs.len(), logs))
}

/// The plan of a replication under a benchmark's policy.
fn replication_plan(policy: &Policy) -> Option<Sequential> {
    Sequential::new(REPLICATION_ROUNDS, policy.alpha)
}

/// Whether the sequential rounds' `decision` on `row` (with the change it rests on) sends the
/// row to fresh rounds, and why: called regressed, or left undecided with its estimate beyond
/// the threshold.
fn replication_of(
    row: &Row,
    policy: &Policy,
    decision: Decision,
    change: Option<&PairedChange>,
) -> Option<ReplicationOf> {
    let metric = row.metric?;
    match decision {
        Decision::Different => Some(ReplicationOf::Regressed),
        Decision::Unknown
            if change.is_some_and(|c| {
                estimate_beyond(c, *policy.thresholds.get(metric), metric.higher_is_better())
            }) =>
        {
            Some(ReplicationOf::Undecided)
        }
        _ => None,
    }
}

/// The decision of the fresh rounds on a row sent to them for the reason `of`: the milder
/// rule of a replication after a regression, the sequential rule itself after an undecided
/// row (see [`ReplicationOf`]).
fn replicated(
    row: &Row,
    policy: &Policy,
    replication: &[(Snapshot, Snapshot)],
    of: ReplicationOf,
) -> Option<(Decision, Option<PairedChange>, Vec<f64>)> {
    let metric = row.metric?;
    let logs = log_ratios(metric, &row.benchmark, replication);
    let threshold = *policy.thresholds.get(metric);
    let plan = replication_plan(policy)?;
    let hib = metric.higher_is_better();
    let (d, c) = match of {
        ReplicationOf::Regressed => plan.replicate(logs.len(), &logs, threshold, hib),
        ReplicationOf::Undecided => plan.decide(logs.len(), &logs, threshold, hib),
    };
    Some((d, c, logs))
}

/// Whether the fresh rounds' decision `d` ends them for a row sent for the reason `of`: a
/// replication ends when it confirms or refutes the regression, an undecided row's fresh
/// rounds at any decision.
fn replication_settled(of: ReplicationOf, d: Decision) -> bool {
    match of {
        ReplicationOf::Regressed => matches!(d, Decision::Different | Decision::Same),
        ReplicationOf::Undecided => d != Decision::Unknown,
    }
}

/// What the rounds so far say about `id` (see [`Status`]).
fn status(cmp: &Comparison, id: &str, e: &Evidence<'_>) -> Status {
    let mut st = Status {
        settled: true,
        regressed: false,
        doubtful: false,
    };
    let Some(policy) = cmp.policies.get(id) else {
        return st;
    };
    // A count is judged on the rounds' samples as they come (`apply`): it never asks for more.
    for r in cmp
        .rows
        .iter()
        .filter(|r| r.benchmark == id && r.gated && r.metric.is_some_and(|m| !m.is_count()))
    {
        let decided = decide(r, policy, e.rounds, e.looks);
        let d = decided.as_ref().map(|(d, ..)| *d);
        let of = decided
            .as_ref()
            .and_then(|(d, c, ..)| replication_of(r, policy, *d, c.as_ref()));
        st.regressed |= of == Some(ReplicationOf::Regressed);
        st.doubtful |= of == Some(ReplicationOf::Undecided);
        st.settled &= match (e.replication, of) {
            (None, _) => d.is_some_and(|d| d != Decision::Unknown),
            (Some(rep), Some(of)) => {
                replicated(r, policy, rep, of).is_some_and(|(d, ..)| replication_settled(of, d))
            }
            (Some(_), None) => true,
        };
    }
    st
}

/// Re-judges the gated rows of `benchmarks` on the paired rounds `(baseline run, current run)`
/// by the sequential rule (at the look of the rounds each benchmark got, of a plan of
/// `max_rounds`), each under the policy the comparison resolved for it, and recounts the
/// comparison. A row the sequential rule calls regressed is regressed only when the
/// `replication` rounds confirm it, and inconclusive otherwise.
pub fn apply(
    cmp: &mut Comparison,
    benchmarks: &[String],
    rounds: &[(Snapshot, Snapshot)],
    max_rounds: usize,
    replication: &[(Snapshot, Snapshot)],
) {
    for row in cmp.rows.iter_mut() {
        let Some(metric) = row.metric else { continue };
        if !row.gated || !benchmarks.contains(&row.benchmark) {
            continue;
        }
        let Some(policy) = cmp.policies.get(&row.benchmark) else {
            continue;
        };
        if metric.is_count() {
            rejudge_count(row, policy, rounds);
            continue;
        }
        let Some((decision, change, n, logs)) = decide(row, policy, rounds, max_rounds) else {
            continue;
        };
        let Some(change) = change else {
            row.remeasure = Some(Remeasure::TooFewRounds(n));
            continue;
        };
        let of = replication_of(row, policy, decision, Some(&change));
        let rep = of
            .and_then(|of| replicated(row, policy, replication, of))
            // An undecided row without fresh rounds (none asked for, or no time left) is
            // shown as the sequential rounds left it.
            .filter(|(_, _, logs)| of == Some(ReplicationOf::Regressed) || !logs.is_empty());
        let verdict = match (decision, &rep) {
            (Decision::Different, Some((Decision::Different, ..))) => Verdict::Regressed,
            (Decision::Different, _) => Verdict::Inconclusive,
            (Decision::Unknown, Some((fresh, ..))) => verdict_of(*fresh),
            (d, _) => verdict_of(d),
        };
        // An unconfirmed regression's detectable change is the replication's, where it had
        // rounds enough for one: what the fresh rounds could have confirmed.
        let rep_mde = rep.as_ref().and_then(|(_, _, logs)| {
            replication_plan(policy)?.min_detectable_effect(
                logs.len(),
                logs,
                0.8,
                metric.higher_is_better(),
            )
        });
        row.mde = (verdict == Verdict::Inconclusive)
            .then(|| {
                rep_mde.or_else(|| {
                    plan(policy, max_rounds)?.min_detectable_effect(
                        n,
                        &logs,
                        0.8,
                        metric.higher_is_better(),
                    )
                })
            })
            .flatten()
            .map(f64::abs);
        row.remeasure = Some(Remeasure::Judged(Confirmation {
            rounds: n,
            first_verdict: row.verdict,
            first_change: row.change.map(|c| c.estimate),
            ratios: logs.iter().map(|l| l.exp()).collect(),
            confidence: change.confidence,
            replication: of
                .filter(|_| rep.is_some() || decision == Decision::Different)
                .map(|of| {
                    let (d, c, logs) = rep.clone().unwrap_or((Decision::Unknown, None, vec![]));
                    Replication {
                        of,
                        ratios: logs.iter().map(|l| l.exp()).collect(),
                        change: c.map(|c| c.change()),
                        confirmed: d == Decision::Different,
                    }
                }),
        }));
        row.verdict = verdict;
        row.fails = row.gated && crate::compare::fails(policy, verdict);
        row.change = Some(change.change());
        row.threshold = Some(*policy.thresholds.get(metric));
    }
    cmp.recount();
}

/// The verdict a decision of the paired rounds gives a row.
fn verdict_of(d: Decision) -> Verdict {
    match d {
        Decision::Different => Verdict::Regressed,
        Decision::Better => Verdict::Improved,
        Decision::Same => Verdict::Unchanged,
        Decision::Unknown => Verdict::Inconclusive,
    }
}

/// Re-judges a count row on the rounds: each side's samples of every round taken together, by
/// the rule of the first comparison (exact when every sample counts the same). Counts need no
/// pairing: they do not drift with the machine's speed, which is what pairing cancels.
fn rejudge_count(row: &mut Row, policy: &Policy, rounds: &[(Snapshot, Snapshot)]) {
    let Some(metric) = row.metric else { return };
    let side = |current: bool| {
        Allocs::pooled(rounds.iter().filter_map(|(b, c)| {
            find(if current { c } else { b }, &row.benchmark)?
                .allocs
                .as_ref()
        }))
    };
    let (Some(base), Some(cur)) = (side(false), side(true)) else {
        return;
    };
    let seed = crate::stats::rng::seed_from(&[&row.benchmark, metric.name(), "rounds"]);
    let c = crate::compare::count_values(&base, &cur, metric, &policy.stats(), seed);
    let threshold = *policy.thresholds.get(metric);
    let verdict = crate::compare::judge(metric, &c.change.change, threshold, policy.alpha);
    row.baseline = Some(c.baseline);
    row.current = Some(c.current);
    row.change = Some(c.change.change);
    row.exact = c.change.exact;
    row.samples = c.samples;
    row.threshold = Some(threshold);
    row.verdict = verdict;
    row.fails = row.gated && crate::compare::fails(policy, verdict);
}

fn find<'a>(s: &'a Snapshot, id: &str) -> Option<&'a Benchmark> {
    s.benchmarks.iter().find(|b| b.id == id)
}

/// A criterion filter matching exactly the given benchmark ids (criterion's filter is a
/// regular expression over the full id, of the `regex` crate's syntax, whose own escaping is
/// used here).
pub fn exact_filter(ids: &[String]) -> String {
    let escaped: Vec<String> = ids.iter().map(|id| regex_syntax::escape(id)).collect();
    format!("^(?:{})$", escaped.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(id: &str, mean: f64) -> Benchmark {
        crate::testutil::bench(id, vec![mean, mean])
    }

    /// A comparison of benchmark `a` (throughput gated at -5%) and `rounds` paired rounds in
    /// which the machine drifts and the current build runs at `factor(round)` of the baseline's
    /// speed.
    fn judged(drift: &[f64], factor: impl Fn(usize) -> f64) -> Row {
        judged_with(drift, &factor, &factor)
    }

    /// [`judged`], with the replication rounds (the drift in reverse) at `replica(round)`.
    fn judged_with(
        drift: &[f64],
        factor: &dyn Fn(usize) -> f64,
        replica: &dyn Fn(usize) -> f64,
    ) -> Row {
        let reversed: Vec<f64> = drift.iter().rev().copied().collect();
        judged_in(12, drift, factor, &reversed, replica)
    }

    /// [`judged_with`] under a plan of `looks`, with the replication rounds drifting as
    /// `fresh_drift` says.
    fn judged_in(
        looks: usize,
        drift: &[f64],
        factor: &dyn Fn(usize) -> f64,
        fresh_drift: &[f64],
        replica: &dyn Fn(usize) -> f64,
    ) -> Row {
        let cfg = crate::config::Config::default_config();
        let snap = |mean: f64| crate::testutil::snapshot("x", vec![bench("a", mean)]);
        let mut cmp = crate::compare::compare(
            &snap(1000.0),
            &snap(1500.0),
            &cfg,
            &crate::compare::Sources {
                baseline: "b".into(),
                results: "r".into(),
            },
        );
        let rounds: Vec<(Snapshot, Snapshot)> = drift
            .iter()
            .enumerate()
            .map(|(k, d)| (snap(1000.0 * d), snap(1000.0 * d / factor(k))))
            .collect();
        let replication: Vec<(Snapshot, Snapshot)> = fresh_drift
            .iter()
            .enumerate()
            .map(|(k, d)| (snap(1000.0 * d), snap(1000.0 * d / replica(k))))
            .collect();
        apply(&mut cmp, &["a".to_string()], &rounds, looks, &replication);
        cmp.rows
            .into_iter()
            .find(|r| r.metric == Some(Metric::Throughput))
            .unwrap()
    }

    #[test]
    fn counts_are_judged_on_every_round_together_and_never_ask_for_more() {
        use crate::baseline::schema::Allocs;
        let counted = |mean: f64, allocs: u64| {
            let mut b = bench("a", mean);
            b.allocs = Allocs::from_samples(&[10, 10], &[allocs * 10; 2], &[allocs * 160; 2]);
            crate::testutil::snapshot("x", vec![b])
        };
        let cfg = crate::config::Config::default_config();
        let sources = crate::compare::Sources {
            baseline: "b".into(),
            results: "r".into(),
        };
        // The first comparison sees the same count; the rounds see one more per operation.
        let mut cmp =
            crate::compare::compare(&counted(1000.0, 0), &counted(1000.0, 0), &cfg, &sources);
        let allocs = |c: &Comparison| {
            c.rows
                .iter()
                .find(|r| r.metric == Some(Metric::Allocs))
                .cloned()
                .unwrap()
        };
        assert_eq!(allocs(&cmp).verdict, Verdict::Unchanged);
        assert!(allocs(&cmp).exact);
        let rounds: Vec<(Snapshot, Snapshot)> = (0..3)
            .map(|k| (counted(1000.0 + k as f64, 0), counted(1000.0 - k as f64, 1)))
            .collect();
        apply(&mut cmp, &["a".to_string()], &rounds, 12, &[]);
        let row = allocs(&cmp);
        assert_eq!(row.verdict, Verdict::Regressed);
        assert!(row.exact && row.fails);
        assert_eq!(
            (row.baseline, row.current, row.samples),
            (Some(0.0), Some(1.0), 6)
        );
        // A count row never keeps a benchmark's rounds going.
        let e = Evidence {
            rounds: &rounds,
            looks: 12,
            replication: None,
        };
        let counts_only = Comparison {
            rows: cmp
                .rows
                .iter()
                .filter(|r| r.metric.is_some_and(Metric::is_count))
                .cloned()
                .collect(),
            ..cmp.clone()
        };
        assert!(status(&counts_only, "a", &e).settled);
    }

    const DRIFT: [f64; 12] = [
        1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.2, 0.85, 1.0, 1.1, 0.92, 1.03,
    ];

    #[test]
    fn paired_rounds_cancel_drift_and_survive_an_outlier_round() {
        // A steady 35% throughput loss (0.64-0.68 of the baseline's speed), with one round at
        // 1.01: the round that made the mean's t-interval useless.
        let r = judged(&DRIFT, |k| {
            if k == 3 {
                1.01
            } else {
                0.64 + 0.02 * (k % 3) as f64
            }
        });
        assert_eq!(r.verdict, Verdict::Regressed, "{r:?}");
        assert!(r.fails);
        let c = r.change.unwrap();
        assert!(
            c.ci_high < -0.05 && (c.estimate + 0.34).abs() < 0.03,
            "{c:?}"
        );
        assert_eq!(r.confirmation().unwrap().rounds, 12);

        // The same code, whatever the drift: no regression, and a change beyond 5% ruled out.
        let r = judged(&DRIFT, |k| 1.0 + 0.004 * ((k % 5) as f64 - 2.0));
        assert_eq!(r.verdict, Verdict::Unchanged, "{r:?}");
        assert!(!r.fails && r.mde.is_none());
    }

    #[test]
    fn a_regression_fails_only_when_fresh_rounds_replicate_it() {
        let steady = |k: usize| 0.64 + 0.02 * (k % 3) as f64;
        let r = judged(&DRIFT, steady);
        let rep = r.confirmation().unwrap().replication.clone().unwrap();
        assert!(rep.confirmed && rep.ratios.len() == 12, "{rep:?}");
        assert_eq!(r.verdict, Verdict::Regressed);

        // The same sequential rounds, but the fresh rounds see no change: inconclusive, with
        // what the fresh rounds could have confirmed.
        let same = |k: usize| 1.0 + 0.004 * ((k % 5) as f64 - 2.0);
        let r = judged_with(&DRIFT, &steady, &same);
        assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
        assert!(!r.fails);
        let rep = r.confirmation().unwrap().replication.clone().unwrap();
        assert!(!rep.confirmed, "{rep:?}");
        assert!(r.mde.is_some_and(|m| m < 0.05), "{r:?}");

        // No fresh rounds at all (the budget ended first): inconclusive too.
        let r = judged_with(&DRIFT, &steady, &|_| f64::NAN);
        assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");

        // A row the sequential rounds did not call regressed has no replication.
        let r = judged(&DRIFT, same);
        assert_eq!(r.verdict, Verdict::Unchanged);
        assert!(r.confirmation().unwrap().replication.is_none());
    }

    #[test]
    fn a_row_undecided_beyond_the_threshold_is_decided_by_fresh_rounds() {
        // The rounds of a real miss (`spawn/posix_spawn/true` twice as slow, 2026-12-07): all
        // near 0.87 but one far-off round at 1.36, which keeps the signed-rank interval of 9
        // rounds from clearing no change although the estimate is -13%.
        let seen = [0.86, 1.36, 0.86, 0.86, 0.81, 0.88, 0.88, 0.87, 0.87];
        let sequential = |k: usize| seen[k];
        let (drift, fresh) = (&DRIFT[..9], &DRIFT[..]);
        let none = judged_in(9, drift, &sequential, &[], &|_| 1.0);
        assert_eq!(none.verdict, Verdict::Inconclusive, "{none:?}");
        let c = none.change.unwrap();
        assert!(c.estimate < -0.10 && c.ci_high > 0.0, "{c:?}");
        // Without fresh rounds it stays as the sequential rounds left it.
        assert!(none.confirmation().unwrap().replication.is_none());

        // Fresh rounds that see the same steady loss decide it regressed.
        let steady = |k: usize| 0.86 + 0.01 * (k % 3) as f64;
        let r = judged_in(9, drift, &sequential, fresh, &steady);
        assert_eq!(r.verdict, Verdict::Regressed, "{r:?}");
        assert!(r.fails);
        let rep = r.confirmation().unwrap().replication.clone().unwrap();
        assert_eq!(rep.of, ReplicationOf::Undecided);
        assert!(rep.confirmed && rep.ratios.len() == 12, "{rep:?}");
        // The row's own change stays the sequential rounds'; the fresh rounds' is theirs.
        assert_eq!(r.change.unwrap().estimate, c.estimate);
        assert!(rep.change.unwrap().ci_high < -0.05, "{rep:?}");

        // Fresh rounds that see no change rule out a change beyond the threshold.
        let same = |k: usize| 1.0 + 0.004 * ((k % 5) as f64 - 2.0);
        let r = judged_in(9, drift, &sequential, fresh, &same);
        assert_eq!(r.verdict, Verdict::Unchanged, "{r:?}");
        assert!(!r.fails && r.mde.is_none());
        let rep = r.confirmation().unwrap().replication.clone().unwrap();
        assert!(
            !rep.confirmed && rep.of == ReplicationOf::Undecided,
            "{rep:?}"
        );

        // Fresh rounds too few to decide: still inconclusive, with what they could detect.
        let r = judged_in(9, drift, &sequential, &DRIFT[..3], &steady);
        assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
        assert_eq!(
            r.confirmation()
                .unwrap()
                .replication
                .as_ref()
                .unwrap()
                .ratios
                .len(),
            3
        );

        // An undecided row whose estimate lies within the threshold gets no fresh rounds.
        let mild = |k: usize| if k == 1 { 1.36 } else { 0.97 };
        let r = judged_in(9, drift, &mild, fresh, &steady);
        assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
        assert!(r.confirmation().unwrap().replication.is_none());
    }

    #[test]
    fn too_few_rounds_leave_the_row_undecided_with_what_it_could_detect() {
        let r = judged(&DRIFT[..3], |_| 0.7);
        assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
        // Three rounds of a signed-rank test can never be significant: nothing detectable.
        assert_eq!(r.mde, None);
        let r = judged(&DRIFT[..0], |_| 0.7);
        assert_eq!(r.remeasure, Some(Remeasure::TooFewRounds(0)));
    }

    #[test]
    fn a_plan_too_short_to_decide_is_said() {
        let note = undecidable_plan_note(4, 0.05).unwrap();
        assert!(
            note.starts_with("only 4 paired round(s) fit the budget"),
            "{note}"
        );
        assert!(note.contains("at least 6"), "{note}");
        assert_eq!(undecidable_plan_note(12, 0.05), None);
    }

    /// A comparison of `n` benchmarks whose per-iteration time changed by `slower[k]` (1.25:
    /// 25% slower), with per-iteration samples of a little noise.
    fn comparison_of(slower: &[f64]) -> Comparison {
        let snap = |scale: &dyn Fn(usize) -> f64| {
            let benches = (0..slower.len())
                .map(|k| {
                    let t = 1000.0 * scale(k);
                    crate::testutil::bench(&format!("b{k}"), vec![t, t * 1.01, t * 0.99, t])
                })
                .collect();
            crate::testutil::snapshot("x", benches)
        };
        crate::compare::compare(
            &snap(&|_| 1.0),
            &snap(&|k| slower[k]),
            &crate::config::Config::default_config(),
            &crate::compare::Sources {
                baseline: "b".into(),
                results: "r".into(),
            },
        )
    }

    #[test]
    fn a_machine_at_another_speed_makes_the_stored_baseline_not_comparable() {
        // The baseline stored on a 25% faster (or slower) run: every benchmark reads the shift.
        for speed in [1.25, 0.8] {
            let cmp = comparison_of(&[speed; 8]);
            let shift = speed_shift(&cmp).expect("a shift");
            assert!((shift - (1.0 / speed - 1.0)).abs() < 0.02, "{shift}");
            let (sel, why) = auto_selection(&cmp, false);
            assert_eq!(sel, Selection::All, "{why:?}");
            assert!(why.iter().any(|w| w.contains("another speed")), "{why:?}");
        }
        // One pull request slowing two benchmarks of eight a lot does not move the median.
        let cmp = comparison_of(&[2.0, 1.5, 1.0, 1.0, 1.01, 0.99, 1.0, 1.0]);
        assert_eq!(speed_shift(&cmp), None);
        // Half the median threshold (2.5% of the default -5%) is the limit.
        assert_eq!(speed_shift(&comparison_of(&[1.02; 8])), None);
        assert!(speed_shift(&comparison_of(&[1.04; 8])).is_some());
        // Too few benchmarks to tell a shift from one change.
        assert_eq!(speed_shift(&comparison_of(&[1.25; 4])), None);
    }

    #[test]
    fn filter_matches_exactly() {
        assert_eq!(
            exact_filter(&["pool/roundtrip".into(), "a.b (x)".into()]),
            "^(?:pool/roundtrip|a\\.b \\(x\\))$"
        );
    }
}
