//! Change-point detection over a time series of measurements: E-Divisive means with a
//! Student-t significance test, the method of Apache Otava (formerly Hunter; Fleming et al.,
//! "Hunter: Using Change Point Detection to Hunt for Performance Regressions", ICPE 2023),
//! which replaced the permutation test of MongoDB's E-Divisive (Daly et al., ICPE 2020;
//! Matteson and James, JASA 2014) with a t-test so that the same history always gives the
//! same answer.
//!
//! The series is analysed on the log scale, so a step is a ratio: a 5% drop is the same size
//! on a benchmark of 10 ns as on one of 10 ms, and the estimates are ratios of geometric means.
//!
//! The procedure, on the whole series first:
//! 1. in every segment between the change points found so far, the candidate split is the one
//!    that maximizes the energy divergence of the two sides (Székely's E-statistic with
//!    exponent 1, scaled by `m k / (m + k)`, as in E-Divisive);
//! 2. each candidate is tested with Student's t-test of the two sides it separates (up to the
//!    neighbouring change points);
//! 3. of the candidates significant at `max_p_value` (and at least `min_change` in size), the
//!    one with the largest divergence becomes a change point, and the search goes on; when none
//!    is, the search stops;
//! 4. finally, since a change point's sides shrink when neighbours are added, every change
//!    point is tested again against its final neighbours and the weakest one that no longer
//!    passes is dropped, until all pass.
//!
//! Nothing is random, and ties go to the earliest index, so the output is a function of the
//! input alone.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{mean, variance};

/// Settings of the detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// A change point is kept only when the t-test of its two sides gives a p-value below
    /// this (Otava's default is 0.001: a history has many splits and many series to look at).
    pub max_p_value: f64,
    /// A change point is kept only when its relative size is at least this (a fraction, 0:
    /// any significant step).
    pub min_change: f64,
    /// The fewest points on each side of a split.
    pub min_size: usize,
    /// Confidence level of each step's interval.
    pub confidence: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_p_value: 0.001,
            min_change: 0.0,
            min_size: 3,
            confidence: 0.95,
        }
    }
}

/// One detected step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// The index of the first point after the step.
    pub index: usize,
    /// Geometric mean of the points from the previous change point (or the start) to the step.
    pub before: f64,
    /// Geometric mean of the points from the step to the next change point (or the end).
    pub after: f64,
    /// The relative size of the step, `after / before - 1`.
    pub change: f64,
    /// Lower end of the interval of `change` (Student's interval on the log scale).
    pub ci_low: f64,
    /// Upper end of the interval of `change`.
    pub ci_high: f64,
    /// Two-sided p-value of Student's t-test of the two sides.
    pub p_value: f64,
    /// How many points are on each side: before, after.
    pub sides: (usize, usize),
}

/// Student's two-sample t-test (pooled variance) of two samples of log values: the
/// difference of means `b - a`, its confidence interval, and the two-sided p-value.
///
/// Pooled rather than Welch's: the split is chosen to make the sides differ, and a short side
/// that happens to be tight would otherwise lend the test a precision the series does not
/// have. With the pooled variance, the longer side's spread stands for both. (Otava tests with
/// scipy's `ttest_ind_from_stats`, which pools by default.)
fn student(a: &[f64], b: &[f64], confidence: f64) -> (f64, f64, f64, f64) {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let d = mean(b) - mean(a);
    if a.len() + b.len() < 3 || a.is_empty() || b.is_empty() {
        return (d, f64::NEG_INFINITY, f64::INFINITY, 1.0);
    }
    let df = na + nb - 2.0;
    let pooled = ((na - 1.0) * variance(a) + (nb - 1.0) * variance(b)) / df;
    let se = (pooled * (1.0 / na + 1.0 / nb)).sqrt();
    // A flat series on both sides: any difference is certain, none is no evidence at all.
    // The comparison is with a tolerance because the logs of equal values summed in another
    // order can differ in the last bits.
    if se <= 1e-12 {
        return if d.abs() <= 1e-12 {
            (d, d, d, 1.0)
        } else {
            (d, d, d, 0.0)
        };
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => {
            let t = d / se;
            let p = (2.0 * dist.cdf(-t.abs())).clamp(0.0, 1.0);
            let q = dist.inverse_cdf(0.5 + confidence / 2.0);
            (d, d - q * se, d + q * se, p)
        }
        Err(_) => (d, f64::NEG_INFINITY, f64::INFINITY, 1.0),
    }
}

/// The split of `x` (at least `2 * min_size` long) that maximizes the scaled energy
/// divergence of its two sides: `(divergence, split)`, the split being the first index of
/// the right side. O(n²) time, O(1) extra space: moving the split by one moves one point
/// from the right side to the left, and each of the three sums of distances changes by that
/// point's distances to one side.
fn best_split(x: &[f64], min_size: usize) -> Option<(f64, usize)> {
    let n = x.len();
    let min_size = min_size.max(1);
    if n < 2 * min_size {
        return None;
    }
    let dist_to = |i: usize, range: std::ops::Range<usize>| -> f64 {
        x[range].iter().map(|y| (x[i] - y).abs()).sum()
    };
    // Split at s: left = x[..s], right = x[s..]. Start from s = 0 and move points across.
    let mut within_left = 0.0;
    let mut within_right: f64 = (0..n).map(|i| dist_to(i, i + 1..n)).sum();
    let mut between = 0.0;
    let mut best: Option<(f64, usize)> = None;
    for s in 1..=n - min_size {
        // Move x[s - 1] from the right side to the left.
        let i = s - 1;
        let to_left = dist_to(i, 0..i);
        let to_right = dist_to(i, s..n);
        within_left += to_left;
        within_right -= to_right;
        between += to_right - to_left;
        if s < min_size {
            continue;
        }
        let (m, k) = (s as f64, (n - s) as f64);
        let pairs = |c: f64| if c > 1.0 { c * (c - 1.0) / 2.0 } else { 1.0 };
        let e = 2.0 * between / (m * k) - within_left / pairs(m) - within_right / pairs(k);
        let q = m * k / (m + k) * e;
        if best.is_none_or(|(b, _)| q > b) {
            best = Some((q, s));
        }
    }
    best
}

/// Tests a split of `logs[lo..hi]` at `at`.
fn test_split(logs: &[f64], lo: usize, at: usize, hi: usize, s: &Settings) -> ChangePoint {
    let (a, b) = (&logs[lo..at], &logs[at..hi]);
    let (d, dlo, dhi, p) = student(a, b, s.confidence);
    ChangePoint {
        index: at,
        before: mean(a).exp(),
        after: mean(b).exp(),
        change: d.exp_m1(),
        ci_low: dlo.exp_m1(),
        ci_high: dhi.exp_m1(),
        p_value: p,
        sides: (a.len(), b.len()),
    }
}

fn passes(c: &ChangePoint, s: &Settings) -> bool {
    c.p_value < s.max_p_value && c.change.abs() >= s.min_change
}

/// The change points of a series of positive values, in order. Values that are not positive
/// and finite have no logarithm: a series with any is reported as having no change points
/// (the snapshot validation rejects such values before they get here).
pub fn detect(values: &[f64], s: &Settings) -> Vec<ChangePoint> {
    if values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Vec::new();
    }
    let logs: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    let n = logs.len();
    let min_size = s.min_size.max(2);
    // Change points as indices, sorted; segment i is bounds[i]..bounds[i + 1].
    let mut cps: Vec<usize> = Vec::new();
    loop {
        let mut bounds = vec![0];
        bounds.extend(&cps);
        bounds.push(n);
        let mut chosen: Option<(f64, usize)> = None;
        for w in bounds.windows(2) {
            let (lo, hi) = (w[0], w[1]);
            let Some((q, at)) = best_split(&logs[lo..hi], min_size) else {
                continue;
            };
            let at = lo + at;
            if passes(&test_split(&logs, lo, at, hi, s), s) && chosen.is_none_or(|(b, _)| q > b) {
                chosen = Some((q, at));
            }
        }
        match chosen {
            Some((_, at)) => {
                let pos = cps.partition_point(|&c| c < at);
                cps.insert(pos, at);
            }
            None => break,
        }
    }
    // Re-test every change point against its final neighbours; drop the weakest failing one
    // and test again, until every one passes.
    loop {
        let tested: Vec<ChangePoint> = (0..cps.len())
            .map(|i| {
                let lo = if i == 0 { 0 } else { cps[i - 1] };
                let hi = cps.get(i + 1).copied().unwrap_or(n);
                test_split(&logs, lo, cps[i], hi, s)
            })
            .collect();
        let weakest = tested
            .iter()
            .enumerate()
            .filter(|(_, c)| !passes(c, s))
            .max_by(|a, b| a.1.p_value.total_cmp(&b.1.p_value).then(b.0.cmp(&a.0)));
        match weakest {
            Some((i, _)) => {
                cps.remove(i);
            }
            None => return tested,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Rng;

    fn noisy(seed: u64, n: usize, cv: f64, steps: &[(usize, f64)]) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|i| {
                let level: f64 = steps
                    .iter()
                    .filter(|(at, _)| i >= *at)
                    .map(|(_, f)| 1.0 + f)
                    .product();
                1000.0 * level * (1.0 + cv * rng.normal())
            })
            .collect()
    }

    #[test]
    fn a_flat_series_has_no_change_point() {
        assert!(detect(&[5.0; 40], &Settings::default()).is_empty());
        assert!(detect(&noisy(1, 40, 0.01, &[]), &Settings::default()).is_empty());
        assert!(detect(&[], &Settings::default()).is_empty());
        assert!(detect(&[1.0], &Settings::default()).is_empty());
    }

    #[test]
    fn finds_one_clear_step_where_it_is() {
        let x = noisy(2, 40, 0.01, &[(17, -0.05)]);
        let cps = detect(&x, &Settings::default());
        assert_eq!(cps.len(), 1, "{cps:?}");
        let c = cps[0];
        assert_eq!(c.index, 17);
        assert!((c.change + 0.05).abs() < 0.01, "{c:?}");
        assert!(c.ci_low < c.change && c.change < c.ci_high, "{c:?}");
        assert!(c.ci_high < 0.0 && c.p_value < 1e-6, "{c:?}");
        assert_eq!(c.sides, (17, 23));
    }

    #[test]
    fn finds_three_steps_of_3_5_and_10_percent() {
        let x = noisy(3, 60, 0.005, &[(12, -0.03), (30, 0.05), (45, -0.10)]);
        let idx: Vec<usize> = detect(&x, &Settings::default())
            .iter()
            .map(|c| c.index)
            .collect();
        assert_eq!(idx, [12, 30, 45]);
    }

    #[test]
    fn a_noiseless_step_is_certain() {
        let mut x = vec![100.0; 10];
        x.extend([90.0; 10]);
        let cps = detect(&x, &Settings::default());
        assert_eq!(cps.len(), 1);
        assert_eq!(cps[0].index, 10);
        assert_eq!(cps[0].p_value, 0.0);
        assert!((cps[0].change + 0.1).abs() < 1e-12);
    }

    #[test]
    fn min_change_drops_small_steps() {
        let x = noisy(4, 40, 0.002, &[(20, 0.02)]);
        assert_eq!(detect(&x, &Settings::default()).len(), 1);
        let s = Settings {
            min_change: 0.05,
            ..Settings::default()
        };
        assert!(detect(&x, &s).is_empty());
    }

    #[test]
    fn values_without_a_logarithm_give_no_change_points() {
        let mut x = noisy(5, 20, 0.01, &[(10, 0.5)]);
        x[3] = 0.0;
        assert!(detect(&x, &Settings::default()).is_empty());
        x[3] = f64::NAN;
        assert!(detect(&x, &Settings::default()).is_empty());
    }

    #[test]
    fn best_split_matches_the_direct_formula() {
        let x = noisy(6, 15, 0.05, &[(6, 0.2)]);
        let direct = |s: usize| {
            let (l, r) = (&x[..s], &x[s..]);
            let (m, k) = (l.len() as f64, r.len() as f64);
            let sum = |a: &[f64], b: &[f64]| -> f64 {
                a.iter()
                    .flat_map(|p| b.iter().map(move |q| (p - q).abs()))
                    .sum()
            };
            let e = 2.0 * sum(l, r) / (m * k)
                - sum(l, l) / 2.0 / (m * (m - 1.0) / 2.0)
                - sum(r, r) / 2.0 / (k * (k - 1.0) / 2.0);
            m * k / (m + k) * e
        };
        let (q, at) = best_split(&x, 3).unwrap();
        let (dq, dat) = (3..=12)
            .map(|s| (direct(s), s))
            .fold((f64::NEG_INFINITY, 0), |b, c| if c.0 > b.0 { c } else { b });
        assert_eq!(at, dat);
        assert!((q - dq).abs() < 1e-9 * dq.abs().max(1.0), "{q} {dq}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 128,
            rng_seed: proptest::test_runner::RngSeed::Fixed(14),
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The output is a function of the input: the same series twice, and the series in
        /// another unit (times a constant), give the same change points.
        #[test]
        fn deterministic_and_scale_free(
            seed in 0u64..1000,
            n in 0usize..80,
            at in 0usize..80,
            step in -0.3f64..0.3,
            scale in 0.001f64..1000.0,
        ) {
            let x = noisy(seed, n, 0.01, &[(at, step)]);
            let s = Settings::default();
            let a = detect(&x, &s);
            proptest::prop_assert_eq!(&a, &detect(&x, &s));
            let scaled: Vec<f64> = x.iter().map(|v| v * scale).collect();
            let b = detect(&scaled, &s);
            proptest::prop_assert_eq!(
                a.iter().map(|c| c.index).collect::<Vec<_>>(),
                b.iter().map(|c| c.index).collect::<Vec<_>>()
            );
            for (c, d) in a.iter().zip(&b) {
                proptest::prop_assert!((c.change - d.change).abs() < 1e-9);
            }
        }

        /// Every reported step passes the test, lies inside the series with at least
        /// `min_size` points on each side, and the steps are in order; the interval holds
        /// the estimate.
        #[test]
        fn every_step_is_inside_significant_and_ordered(
            seed in 0u64..1000,
            n in 0usize..80,
            steps in proptest::collection::vec((0usize..80, -0.2f64..0.2), 0..4),
            cv in 0.0f64..0.05,
        ) {
            let x = noisy(seed, n, cv, &steps);
            let s = Settings::default();
            let cps = detect(&x, &s);
            let mut prev = 0;
            for c in &cps {
                proptest::prop_assert!(c.index >= prev + s.min_size, "{:?}", cps);
                proptest::prop_assert!(c.index + s.min_size <= n, "{:?}", cps);
                proptest::prop_assert!(c.p_value < s.max_p_value);
                proptest::prop_assert!(c.ci_low <= c.change && c.change <= c.ci_high);
                prev = c.index;
            }
        }

        /// A step far larger than the noise, with room on both sides, is found exactly, and
        /// is the largest step found. (Not always the only one: the best split of a stretch of
        /// noise is chosen to look like a step, and now and then one passes the test; the
        /// false-alarm rate on synthetic histories is in docs/history.md.)
        #[test]
        fn a_clear_step_is_found_exactly(
            seed in 0u64..1000,
            n in 12usize..80,
            frac in 0.2f64..0.8,
            step in proptest::prop_oneof![-0.5f64..-0.05, 0.05f64..0.5],
        ) {
            let at = ((n as f64 * frac) as usize).clamp(4, n - 4);
            let x = noisy(seed, n, 0.002, &[(at, step)]);
            let cps = detect(&x, &Settings::default());
            let largest = cps
                .iter()
                .max_by(|a, b| a.change.abs().total_cmp(&b.change.abs()));
            proptest::prop_assert_eq!(largest.map(|c| c.index), Some(at), "{:?}", cps);
        }
    }
}
