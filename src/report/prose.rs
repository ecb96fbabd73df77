//! The words of a report, shared by every format: the headline, the verdict labels, the
//! reason of each row, the threshold label and the warnings. The comparison holds decisions
//! only; this module is where they become sentences.

use super::format::{format_count, format_p, format_pct, format_value, noise_pct};
use crate::compare::{Comparison, Remeasure, ReplicationOf, Row, Verdict};
use crate::stats::Change;
use crate::vocab::{Metric, Unit};

/// The one-line summary of a comparison.
pub fn headline(c: &Comparison) -> String {
    let n = &c.counts;
    let status = if c.error.is_some() {
        "ERROR"
    } else if c.failed() {
        "FAIL"
    } else {
        "PASS"
    };
    let mut parts = vec![format!(
        "{} failing of {} comparisons",
        n.failing,
        c.compared()
    )];
    for (count, what) in [
        (n.regressed, "regressed"),
        (n.inconclusive, "inconclusive"),
        (n.improved, "improved"),
        (n.new, "new"),
        (n.missing, "missing"),
        (n.ignored, "ignored"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {what}"));
        }
    }
    match &c.error {
        Some(e) => format!(
            "perfgate: {status}: {e}; first comparison: {}",
            parts.join(", ")
        ),
        None if nothing_decided(c) => format!(
            "perfgate: PASS, but nothing was decided: {}; {NOTHING_DECIDED}",
            parts.join(", ")
        ),
        None => format!("perfgate: {status}: {}", parts.join(", ")),
    }
}

/// The verdict of the whole run, as the exit code (0, 1, 2): `pass`, `fail` or `error` (the
/// JSON report's `verdict`, the OpenMetrics report's `perfgate_run_verdict`).
pub fn run_verdict(c: &Comparison) -> &'static str {
    if c.error.is_some() {
        "error"
    } else if c.failed() {
        "fail"
    } else {
        "pass"
    }
}

/// Every value of [`run_verdict`].
pub const RUN_VERDICTS: [&str; 3] = ["pass", "fail", "error"];

/// What the headline of a pass without a single decided gated comparison adds: such a pass
/// says nothing about speed, and the reader must not take it for a clean one.
pub const NOTHING_DECIDED: &str = "every gated comparison ended undecided, so this run shows neither a regression nor its absence: store the noise with more baseline runs (`perfgate baseline refresh --runs 5`), use a quieter runner, or judge on a same-machine A/B (`perfgate check --ab`) with a larger `--confirm-budget`";

/// Whether the comparison passed with every gated comparison inconclusive (and at least one).
pub fn nothing_decided(c: &Comparison) -> bool {
    let mut gated = c.rows.iter().filter(|r| r.gated && r.metric.is_some());
    !c.failed()
        && c.error.is_none()
        && gated.clone().next().is_some()
        && gated.all(|r| r.verdict == Verdict::Inconclusive)
}

/// What the reader must know besides the rows: the comparison's own notes, how the A/B was
/// run, the undecided gated comparisons and what they could have detected, and benchmarks too
/// noisy to gate against the stored baseline.
pub fn notes(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(ab) = &c.ab {
        out.push(format!(
            "same-machine A/B of {} benchmark(s){}: up to {} paired round(s) in randomized order (seed {}){}",
            ab.benchmarks,
            if ab.all { ", every gated one" } else { ", the candidates" },
            ab.rounds,
            ab.seed,
            if ab.budget_spent {
                "; the time budget ended the rounds before every benchmark was decided"
            } else {
                ""
            }
        ));
        if let Some(s) = ab.build_seconds {
            out.push(format!(
                "building both sides' benches took {s:.0} s before the rounds, outside the budget (the first build of a baseline commit is the long one; later checks reuse it)"
            ));
        }
    }
    out.extend(c.notes.iter().cloned());
    let undecided: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.gated && r.verdict == Verdict::Inconclusive)
        .collect();
    if !undecided.is_empty() {
        let mut mdes: Vec<f64> = undecided.iter().filter_map(|r| r.mde).collect();
        mdes.sort_by(f64::total_cmp);
        let detectable = match mdes.get(mdes.len() / 2) {
            Some(m) => format!(
                "; the median smallest change these runs could detect is {}",
                format_pct(*m).trim_start_matches('+')
            ),
            None => String::new(),
        };
        let policy = c
            .policies
            .get(&undecided[0].benchmark)
            .map(|p| p.inconclusive);
        let effect = match policy {
            Some(crate::config::OnInconclusive::Fail) => "they fail the build",
            _ => "they do not fail the build",
        };
        out.push(format!(
            "{} gated comparison(s) undecided: {effect}{detectable}",
            undecided.len()
        ));
    }
    let varying: Vec<String> = c
        .rows
        .iter()
        .filter(|r| r.gated && r.metric.is_some_and(Metric::is_count) && !r.exact)
        .filter(|r| r.change.is_some())
        .map(|r| format!("{} {}", r.benchmark, r.metric.map_or("", Metric::name)))
        .collect();
    if !varying.is_empty() {
        out.push(format!(
            "allocation counts that varied between samples, judged by the statistical rule instead of the exact one: {}",
            varying.join(", ")
        ));
    }
    let capped = c.rows.iter().filter(|r| r.noise_capped && r.gated).count();
    if capped > 0 {
        out.push(format!(
            "{capped} gated comparison(s) too noisy to gate against the stored baseline: their run-to-run noise would widen the threshold beyond noise_cap (a same-machine A/B judges them against the configured threshold)"
        ));
    }
    out
}

/// The verdict as shown: upper case when the row fails the build.
pub fn verdict_label(r: &Row) -> String {
    match (r.verdict, r.fails, r.gated) {
        (Verdict::Regressed, true, _) => "REGRESSED".into(),
        (Verdict::Missing, true, _) => "MISSING".into(),
        (Verdict::Regressed, false, false) => "regressed (not gated)".into(),
        (v, _, _) => v.name().into(),
    }
}

/// The threshold as shown in reports: `-5.0%`, or `-12% (3 x noise 4.0%)` when the
/// benchmark's run-to-run noise widened it, so the reader sees why.
pub fn threshold_label(r: &Row, noise_factor: f64) -> String {
    let Some(t) = r.threshold else {
        return "-".into();
    };
    match (r.configured_threshold, r.noise) {
        (Some(_), Some(n)) if r.noise_capped => {
            format!("{} (capped; noise {})", format_pct(t), noise_pct(n))
        }
        (Some(c), Some(n)) if c != t => {
            format!(
                "{} ({noise_factor} x noise {})",
                format_pct(t),
                noise_pct(n)
            )
        }
        _ => format_pct(t),
    }
}

/// The machine-mismatch banner lines, empty when the machines match.
pub fn mismatch_banner(c: &Comparison) -> Vec<String> {
    if c.machine_mismatch.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!(
        "WARNING: the baseline was measured on a different machine (testbed {:?}, here {:?}); timings are not comparable:",
        c.baseline_testbed, c.results_testbed
    )];
    lines.extend(c.machine_mismatch.iter().map(|d| format!("  - {d}")));
    lines.push(
        "  Refresh the baseline on this kind of machine (`perfgate baseline refresh`), or compare against the baseline of this testbed (--testbed)."
            .to_string(),
    );
    lines
}

/// The warning for a comparison of two perfgate profiles (see
/// [`crate::compare::profile_mismatch`]).
pub fn profile_warning((baseline, results): (&str, &str)) -> String {
    format!(
        "the baseline was measured with the {baseline:?} profile and these results with the {results:?} profile; their figures are not comparable, so expect spurious verdicts (refresh a baseline with the same profile, or run without/with --quick to match)"
    )
}

/// The verdict of a row in plain words.
pub fn reason(r: &Row, confidence: f64) -> String {
    let Some(metric) = r.metric else {
        return match (r.verdict, r.fails) {
            (Verdict::New, _) => "new benchmark: not in the baseline".to_string(),
            (_, true) => "in the baseline but not in these results (configured to fail: `missing = \"fail\"`)".to_string(),
            _ => "in the baseline but not in these results".to_string(),
        };
    };
    let threshold = r.threshold.unwrap_or(0.0);
    if r.exact
        && let (Some(b), Some(c), Some(u)) = (r.baseline, r.current, r.unit)
    {
        return exact_reason(r.verdict, b, c, u, threshold);
    }
    if let Some(Remeasure::Judged(conf)) = &r.remeasure
        && let Some(change) = &r.change
    {
        // A row the fresh rounds decided was undecided after the sequential ones: their part
        // of the reason says so, and the fresh rounds' part what they found.
        let sequential = match &conf.replication {
            Some(rep) if rep.of == ReplicationOf::Undecided => Verdict::Inconclusive,
            _ => r.verdict,
        };
        let text = confirmed_reason(
            metric,
            sequential,
            change,
            threshold,
            conf.confidence,
            conf.rounds,
            conf.first_change,
            conf.first_verdict,
        );
        let text = match &conf.replication {
            Some(rep) => format!("{text}; {}", replication_text(rep, r.verdict)),
            None => text,
        };
        return match r.mde {
            Some(m) if r.verdict == Verdict::Inconclusive => format!(
                "{text}; these rounds could detect {} or more",
                format_pct(if metric.higher_is_better() { -m } else { m })
            ),
            _ => text,
        };
    }
    let value = |v: Option<f64>| match (v, r.unit) {
        (Some(v), Some(u)) => format_value(v, u),
        _ => "-".to_string(),
    };
    let first = first_reason(
        metric,
        r.verdict,
        r.change.as_ref(),
        value(r.baseline),
        value(r.current),
        threshold,
        confidence,
        r.samples,
    );
    let first = if r.noise_capped {
        format!(
            "{first}; stored run-to-run noise {} is too high to gate against the stored baseline",
            noise_pct(r.noise.unwrap_or(0.0))
        )
    } else {
        first
    };
    match &r.remeasure {
        Some(Remeasure::TooFewRounds(k)) => {
            format!("{first}; not re-measured: only {k} paired round(s) have it")
        }
        _ => first,
    }
}

/// The reason of a count judged by the exact rule: `allocs/op 0 -> 1, the same in every
/// sample: exceeds +0.00%`.
fn exact_reason(verdict: Verdict, base: f64, cur: f64, unit: Unit, threshold: f64) -> String {
    let how = match verdict {
        Verdict::Regressed => "exceeds",
        Verdict::Improved => "better than",
        _ => "within",
    };
    format!(
        "{} {} -> {}, the same in every sample: {how} {}",
        unit.symbol(),
        format_count(base),
        format_count(cur),
        format_pct(threshold.abs())
    )
}

#[allow(clippy::too_many_arguments)]
fn first_reason(
    metric: Metric,
    verdict: Verdict,
    change: Option<&Change>,
    base: String,
    cur: String,
    threshold: f64,
    confidence: f64,
    n: usize,
) -> String {
    let Some(c) = change else {
        return format!("{metric} {base} -> {cur}: only {n} sample(s), too few to tell");
    };
    let head = format!(
        "{metric} {} ({base} -> {cur}, {:.0}% CI {}..{})",
        format_pct(c.estimate),
        confidence * 100.0,
        format_pct(c.ci_low),
        format_pct(c.ci_high)
    );
    let thr = format_pct(threshold);
    match verdict {
        Verdict::Regressed => format!("{head} exceeds {thr}"),
        Verdict::Improved => format!("{head} better than {}", format_pct(-threshold)),
        Verdict::Unchanged => format!("{head} within {thr}"),
        _ => format!("{head} may exceed {thr}: too noisy to tell"),
    }
}

/// What the fresh rounds of a row the sequential rounds called regressed, or left undecided
/// beyond the threshold, found.
fn replication_text(rep: &crate::compare::Replication, verdict: Verdict) -> String {
    let n = rep.ratios.len();
    let change = rep
        .change
        .map(|c| format!(" ({})", format_pct(c.estimate)))
        .unwrap_or_default();
    if rep.of == ReplicationOf::Undecided {
        let found = match verdict {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "within the threshold",
            _ => "still undecided",
        };
        return format!("measured again in {n} fresh round(s){change}: {found}");
    }
    match (rep.confirmed, n) {
        (true, _) => format!("replicated in {n} fresh round(s){change}"),
        (false, 0) => "not replicated: no time was left for fresh rounds".to_string(),
        (false, _) if verdict == Verdict::Inconclusive => {
            format!("not replicated in {n} fresh round(s){change}, so it does not fail")
        }
        (false, _) => format!("not replicated in {n} fresh round(s){change}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn confirmed_reason(
    metric: Metric,
    verdict: Verdict,
    change: &Change,
    threshold: f64,
    confidence: f64,
    n: usize,
    first_change: Option<f64>,
    first_verdict: Verdict,
) -> String {
    let first = format!(
        "first run {}{}",
        first_change.map_or("-".into(), format_pct),
        if first_verdict == verdict {
            String::new()
        } else {
            format!(", {}", first_verdict.name())
        }
    );
    // The sequential rule's intervals are at the level of their look, rarely a round number.
    let level = confidence * 100.0;
    let level = if (level - level.round()).abs() < 0.05 {
        format!("{level:.0}")
    } else {
        format!("{level:.1}")
    };
    let interval =
        if change.ci_low.is_finite() && change.ci_high.is_finite() && change.ci_low > -1.0 {
            format!(
                "{level}% CI {}..{}",
                format_pct(change.ci_low),
                format_pct(change.ci_high)
            )
        } else {
            "too few rounds for an interval".to_string()
        };
    let head = format!(
        "{metric} {} ({interval}, p {})",
        format_pct(change.estimate),
        format_p(change.p_value),
    );
    let thr = format_pct(threshold);
    match verdict {
        Verdict::Regressed => {
            format!("confirmed in {n} paired rounds: {head} exceeds {thr} ({first})")
        }
        Verdict::Improved => format!("improved in {n} paired rounds: {head} ({first})"),
        Verdict::Unchanged => {
            format!("not confirmed in {n} paired rounds: {head} within {thr} ({first})")
        }
        _ => format!(
            "not confirmed in {n} paired rounds: {head} may exceed {thr}: too noisy to tell ({first})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::profile_mismatch;
    use crate::testutil::change as ch;

    #[test]
    fn reason_reads_like_the_issue() {
        let r = first_reason(
            Metric::P99,
            Verdict::Regressed,
            Some(&ch(0.38, 0.31, 0.45, 0.001)),
            "12.1 µs".into(),
            "16.7 µs".into(),
            0.10,
            0.95,
            100,
        );
        assert_eq!(
            r,
            "p99 +38% (12.1 µs -> 16.7 µs, 95% CI +31%..+45%) exceeds +10%"
        );
    }

    #[test]
    fn profiles_that_differ_are_named() {
        let mut base = crate::testutil::snapshot("2026-11-24T00:00:00Z", vec![]);
        let mut cur = base.clone();
        assert_eq!(profile_mismatch(&base, &cur), None);
        base.source.profile = Some("default".into());
        assert_eq!(profile_mismatch(&base, &cur), None);
        cur.source.profile = Some("default".into());
        assert_eq!(profile_mismatch(&base, &cur), None);
        cur.source.profile = Some("quick".into());
        let w = profile_warning(profile_mismatch(&base, &cur).unwrap());
        assert!(
            w.contains("\"default\" profile") && w.contains("\"quick\" profile"),
            "{w}"
        );
    }
}
