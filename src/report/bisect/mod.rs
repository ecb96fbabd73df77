//! `perfgate bisect`'s output: the first bad commit with its paired evidence, and every step.
//! One file per format; the words they share are here.

pub mod json;
pub mod text;

use crate::bisect::{Bisection, Side, Step};
use crate::report::format::{format_p, format_pct, short_commit};
use crate::stats::paired::Decision;

/// What a bisection's output shows.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    /// The bisection.
    pub bisection: &'a Bisection,
    /// The benchmark bisected.
    pub bench_id: &'a str,
    /// The seed of the rounds' randomized order.
    pub seed: u64,
    /// Seconds the whole run took.
    pub seconds: f64,
}

/// The one-line answer.
pub fn headline(d: &Doc<'_>) -> String {
    let b = d.bisection;
    let good = short_commit(&b.commits[0].id);
    let bad = short_commit(&b.commits[b.commits.len() - 1].id);
    let m = b.settings.metric;
    match (b.first_bad, b.premise.decision) {
        (Some(k), _) => format!(
            "first bad commit: {} {} ({} {}, {} A/B step(s) over {} commits)",
            b.commits[k].id,
            b.commits[k].summary,
            d.bench_id,
            m,
            b.steps.len() + 1,
            b.commits.len()
        ),
        (None, Decision::Same) => format!(
            "nothing to bisect: {} {m} at {bad} (bad) is not worse than at {good} (good) beyond {}",
            d.bench_id,
            format_pct(b.settings.threshold)
        ),
        (None, Decision::Better) => format!(
            "nothing to bisect: {} {m} is better at {bad} (bad) than at {good} (good)",
            d.bench_id
        ),
        (None, _) => format!(
            "nothing to bisect: {} rounds could not tell whether {} {m} at {bad} (bad) is worse than at {good} (good); raise --rounds, or bisect on a quieter machine",
            b.premise.ratios.len(),
            d.bench_id
        ),
    }
}

/// A step's change with its interval and p-value, `-48% (95.0% CI -52%..-44%, p 0.031)`.
pub fn evidence(s: &Step) -> String {
    match s.change {
        Some(c) if c.bounded() => format!(
            "{} ({:.1}% CI {}..{}, p {})",
            format_pct(c.estimate),
            c.coverage * 100.0,
            format_pct(c.ci_low),
            format_pct(c.ci_high),
            format_p(c.p_value)
        ),
        Some(c) => format!(
            "{} (interval unbounded, p {})",
            format_pct(c.estimate),
            format_p(c.p_value)
        ),
        None => "no estimate".to_string(),
    }
}

/// A step's verdict in a word or two.
pub fn verdict(s: &Step, premise: bool) -> &'static str {
    match (premise, s.side, s.decided()) {
        (true, _, _) => match s.decision {
            Decision::Different => "regressed",
            Decision::Same => "unchanged",
            Decision::Better => "improved",
            Decision::Unknown => "undecided",
        },
        (false, Side::Bad, true) => "bad",
        (false, Side::Good, true) => "good",
        (false, Side::Bad, false) => "bad (by estimate)",
        (false, Side::Good, false) => "good (by estimate)",
    }
}
