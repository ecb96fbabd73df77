//! Statistics: summaries, the Welch t-test, and bootstrap confidence intervals for the relative
//! change of a benchmark's throughput and of its latency percentiles.
//!
//! Every interval here is a percentile bootstrap. Throughput resamples criterion's per-iteration
//! sample times on both sides; percentiles use the exact bootstrap of an order statistic (the
//! k-th smallest of n draws from the empirical distribution is `F_n^-1(U)` with
//! `U ~ Beta(k, n + 1 - k)`), which costs one Beta draw per replicate instead of n, so the p99
//! of a million operations bootstraps as fast as a mean.

pub mod changepoint;
pub mod paired;
pub mod rng;

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use perfgate_recorder::histogram::{Cumulative, rank_index};
use rng::Rng;

/// Settings shared by every estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatsConfig {
    /// Confidence level of the intervals, e.g. 0.95.
    pub confidence: f64,
    /// Bootstrap replicates per interval.
    pub resamples: usize,
}

/// The smallest latency a percentile comparison distinguishes, in ns: the clock's resolution.
pub const TIMER_RESOLUTION_NS: f64 = 1.0;

/// A relative change (`current / baseline - 1` of the metric's own value) with its interval
/// and the p-value of the hypothesis "no change".
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// Point estimate.
    #[serde(with = "crate::vocab::lossless")]
    pub estimate: f64,
    /// Lower end of the confidence interval.
    #[serde(with = "crate::vocab::lossless")]
    pub ci_low: f64,
    /// Upper end of the confidence interval.
    #[serde(with = "crate::vocab::lossless")]
    pub ci_high: f64,
    /// Two-sided p-value.
    #[serde(with = "crate::vocab::lossless")]
    pub p_value: f64,
}

/// Arithmetic mean (NaN for an empty slice).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance (n - 1 denominator; 0 for fewer than two values).
pub fn variance(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64
}

/// Median (mean of the two middle values for an even count).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Two-sided p-value of Welch's unequal-variances t-test of equal means.
pub fn welch_p_value(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    if a.len() < 2 || b.len() < 2 {
        return 1.0;
    }
    let (ma, mb) = (mean(a), mean(b));
    let (va, vb) = (variance(a) / na, variance(b) / nb);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return if ma == mb { 1.0 } else { 0.0 };
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// The `(low, high)` percentile interval of bootstrap draws (sorted in place).
pub fn percentile_interval(draws: &mut [f64], confidence: f64) -> (f64, f64) {
    draws.sort_by(f64::total_cmp);
    let n = draws.len();
    let tail = (1.0 - confidence) / 2.0;
    let lo = ((tail * n as f64).floor() as usize).min(n - 1);
    let hi = (((1.0 - tail) * n as f64).ceil() as usize)
        .saturating_sub(1)
        .min(n - 1);
    (draws[lo], draws[hi])
}

fn resampled_mean(xs: &[f64], rng: &mut Rng) -> f64 {
    let mut sum = 0.0;
    for _ in 0..xs.len() {
        sum += xs[rng.below(xs.len())];
    }
    sum / xs.len() as f64
}

/// Relative change of throughput between two sets of per-iteration times (ns).
///
/// Throughput is inversely proportional to time, so the change is
/// `mean(base) / mean(current) - 1`: positive is faster. Both inputs must be non-empty.
pub fn throughput_change(base: &[f64], current: &[f64], cfg: &StatsConfig, seed: u64) -> Change {
    let estimate = mean(base) / mean(current) - 1.0;
    let mut rng = Rng::new(seed);
    let mut draws: Vec<f64> = (0..cfg.resamples.max(1))
        .map(|_| resampled_mean(base, &mut rng) / resampled_mean(current, &mut rng) - 1.0)
        .collect();
    let (ci_low, ci_high) = percentile_interval(&mut draws, cfg.confidence);
    Change {
        estimate,
        ci_low,
        ci_high,
        p_value: welch_p_value(base, current),
    }
}

/// The change of a count per operation (allocations, bytes allocated), with the rule it was
/// judged by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountChange {
    /// The relative change of the per-operation value (`current / baseline - 1`; `+inf` from
    /// a zero baseline to any count, 0 between two zeros).
    pub change: Change,
    /// Whether every sample of each side counted the same per operation, so the change is
    /// exact: its interval is the point and its p-value 0 (a change) or 1 (none).
    pub exact: bool,
}

/// The change of a count per operation between the per-sample values `base` and `current`,
/// whose values over every operation are `base_value` and `current_value`.
///
/// Deterministic code counts the same in every sample, and then no statistics are needed: the
/// change is exact, so a single extra allocation per operation is a certain regression. When a
/// side's samples differ (allocations that depend on timing, a buffer that grows now and then),
/// the change of the means is judged like a timing's, with a bootstrap interval and Welch's
/// test; a zero side is still exact, since nothing varies in a count of zero.
pub fn count_change(
    base: &[f64],
    current: &[f64],
    base_value: f64,
    current_value: f64,
    cfg: &StatsConfig,
    seed: u64,
) -> CountChange {
    let constant = |xs: &[f64]| xs.windows(2).all(|w| w[0] == w[1]);
    let relative = if base_value == 0.0 {
        if current_value == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        current_value / base_value - 1.0
    };
    let exact = (constant(base) && constant(current))
        || base_value == 0.0
        || current_value == 0.0
        || base.len() < 2
        || current.len() < 2;
    if exact {
        return CountChange {
            change: Change {
                estimate: relative,
                ci_low: relative,
                ci_high: relative,
                p_value: if relative == 0.0 { 1.0 } else { 0.0 },
            },
            exact: true,
        };
    }
    // A growth of the mean count is a drop of "operations per count": the throughput rule
    // with the sides swapped gives `mean(current) / mean(base) - 1` and its interval.
    CountChange {
        change: throughput_change(current, base, cfg, seed),
        exact: false,
    }
}

/// The distribution-free confidence interval of the `q` quantile: the order statistics at ranks
/// `nq -/+ z sqrt(nq(1-q))` (normal approximation of the binomial count below the quantile).
pub fn quantile_interval(c: &Cumulative, q: f64, confidence: f64) -> (f64, f64) {
    let n = c.count() as f64;
    let z = Normal::standard().inverse_cdf(0.5 + confidence / 2.0);
    let half = z * (n * q * (1.0 - q)).sqrt();
    let rank = |r: f64| (r.round().clamp(1.0, n) as u64) - 1;
    (
        c.at_index(rank(n * q - half)),
        c.at_index(rank(n * q + half + 1.0)),
    )
}

fn bootstrap_quantile(c: &Cumulative, q: f64, rng: &mut Rng) -> f64 {
    let n = c.count();
    let k = rank_index(q, n) + 1;
    let u = rng.beta(k as f64, (n + 1 - k) as f64);
    c.at_index(((u * n as f64).ceil() as u64).clamp(1, n) - 1)
}

/// Relative change of the `q` quantile of operation latency (`current / base - 1`: positive
/// is slower). The p-value is a z-test of the log ratio with its bootstrap standard error.
/// Both histograms must be non-empty.
pub fn quantile_change(
    base: &Cumulative,
    current: &Cumulative,
    q: f64,
    cfg: &StatsConfig,
    seed: u64,
) -> Change {
    // An operation faster than the clock reads as 0 ns; a ratio with it is 0/0 or x/0 (a
    // "+NaN%" or "+inf%" change). Below the timer's resolution a latency counts as that.
    let floor = |v: f64| v.max(TIMER_RESOLUTION_NS);
    let estimate = floor(current.quantile(q)) / floor(base.quantile(q)) - 1.0;
    let mut rng = Rng::new(seed);
    let mut logs = Vec::with_capacity(cfg.resamples.max(2));
    let mut draws: Vec<f64> = (0..cfg.resamples.max(2))
        .map(|_| {
            let ratio = floor(bootstrap_quantile(current, q, &mut rng))
                / floor(bootstrap_quantile(base, q, &mut rng));
            logs.push(ratio.ln());
            ratio - 1.0
        })
        .collect();
    let (ci_low, ci_high) = percentile_interval(&mut draws, cfg.confidence);
    let se = variance(&logs).sqrt();
    let log_est = (estimate + 1.0).ln();
    let p_value = if se > 0.0 {
        let z = (log_est / se).abs();
        let normal = Normal::standard();
        (2.0 * (1.0 - normal.cdf(z))).clamp(0.0, 1.0)
    } else if log_est == 0.0 {
        1.0
    } else {
        0.0
    };
    Change {
        estimate,
        ci_low,
        ci_high,
        p_value,
    }
}

#[cfg(test)]
mod tests {
    use super::rng::Rng;
    use super::*;
    use perfgate_recorder::histogram::Histogram;
    use proptest::prelude::*;

    #[test]
    fn one_more_allocation_per_operation_is_an_exact_regression() {
        let c = count_change(&[0.0; 10], &[1.0; 10], 0.0, 1.0, &TEST_CFG, 1);
        assert!(c.exact);
        assert_eq!(c.change.estimate, f64::INFINITY);
        assert_eq!(c.change.p_value, 0.0);
        let same = count_change(&[2.0; 5], &[2.0; 5], 2.0, 2.0, &TEST_CFG, 1);
        assert!(same.exact);
        assert_eq!((same.change.estimate, same.change.p_value), (0.0, 1.0));
        let gone = count_change(&[3.0, 2.0], &[0.0, 0.0], 2.5, 0.0, &TEST_CFG, 1);
        assert!(gone.exact && gone.change.estimate == -1.0);
    }

    #[test]
    fn a_count_that_varies_falls_back_to_the_statistical_rule() {
        let base = [1.0, 1.5, 1.0, 1.25, 1.0, 1.5];
        let cur = [2.0, 2.5, 2.0, 2.25, 2.0, 2.5];
        let c = count_change(&base, &cur, mean(&base), mean(&cur), &TEST_CFG, 7);
        assert!(!c.exact);
        assert!((c.change.estimate - (mean(&cur) / mean(&base) - 1.0)).abs() < 1e-12);
        assert!(c.change.ci_low < c.change.estimate && c.change.estimate < c.change.ci_high);
        assert!(c.change.ci_low > 0.0 && c.change.p_value < 0.01, "{c:?}");
    }

    #[test]
    fn zero_latencies_compare_as_the_timer_resolution() {
        let zeros = Histogram::from_values(&[0; 100]);
        let c = quantile_change(&zeros.cumulative(), &zeros.cumulative(), 0.99, &TEST_CFG, 1);
        assert_eq!(
            (c.estimate, c.ci_low, c.ci_high, c.p_value),
            (0.0, 0.0, 0.0, 1.0)
        );
        let fives = Histogram::from_values(&[5; 100]);
        let c = quantile_change(&zeros.cumulative(), &fives.cumulative(), 0.5, &TEST_CFG, 1);
        assert!(c.estimate.is_finite() && c.estimate > 3.0, "{c:?}");
    }

    /// The settings the tests were written for (the compiled-in defaults' values).
    const TEST_CFG: StatsConfig = StatsConfig {
        confidence: 0.95,
        resamples: 1000,
    };

    fn noisy(rng: &mut Rng, n: usize, center: f64, cv: f64) -> Vec<f64> {
        (0..n)
            .map(|_| center * (1.0 + cv * rng.normal()).max(0.05))
            .collect()
    }

    #[test]
    fn summaries() {
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
        assert_eq!(variance(&[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(variance(&[5.0]), 0.0);
    }

    #[test]
    fn welch_matches_a_known_value() {
        // Two groups whose Welch t is 2.0 with df = 18: two-sided p = 0.0608.
        let a: Vec<f64> = (0..10)
            .map(|i| 10.0 + if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let b: Vec<f64> = a
            .iter()
            .map(|x| x + 2.0 * (0.2f64).sqrt() * (10.0f64 / 9.0).sqrt())
            .collect();
        let p = welch_p_value(&a, &b);
        assert!((p - 0.0608).abs() < 0.002, "{p}");
        assert_eq!(welch_p_value(&[1.0, 1.0], &[1.0, 1.0]), 1.0);
        assert_eq!(welch_p_value(&[1.0, 1.0], &[2.0, 2.0]), 0.0);
    }

    #[test]
    fn throughput_interval_covers_the_true_ratio_at_about_its_nominal_rate() {
        let cfg = TEST_CFG;
        let mut rng = Rng::new(42);
        let trials = 400;
        let truth = 1.0 / 1.07 - 1.0;
        let covered = (0..trials)
            .filter(|&t| {
                let base = noisy(&mut rng, 50, 1000.0, 0.05);
                let cur = noisy(&mut rng, 50, 1070.0, 0.05);
                let c = throughput_change(&base, &cur, &cfg, t as u64);
                c.ci_low <= truth && truth <= c.ci_high
            })
            .count();
        let rate = covered as f64 / trials as f64;
        assert!((0.90..=0.985).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn quantile_interval_covers_the_true_quantile_ratio_at_about_its_nominal_rate() {
        let cfg = TEST_CFG;
        let mut rng = Rng::new(9);
        // Exponential latencies: the p99 is mean * ln(100), so the true ratio is the mean ratio.
        let draw = |rng: &mut Rng, n: usize, mean: f64| -> Vec<u64> {
            (0..n)
                .map(|_| (-rng.uniform().ln() * mean) as u64 + 1000)
                .collect()
        };
        let trials = 300;
        let truth = (1000.0 + 13_000.0 * 100f64.ln()) / (1000.0 + 10_000.0 * 100f64.ln()) - 1.0;
        let covered = (0..trials)
            .filter(|&t| {
                let b = Histogram::from_values(&draw(&mut rng, 20_000, 10_000.0)).cumulative();
                let c = Histogram::from_values(&draw(&mut rng, 20_000, 13_000.0)).cumulative();
                let ch = quantile_change(&b, &c, 0.99, &cfg, t as u64);
                ch.ci_low <= truth && truth <= ch.ci_high
            })
            .count();
        let rate = covered as f64 / trials as f64;
        assert!((0.89..=0.99).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn quantile_interval_brackets_the_quantile_and_narrows_with_n() {
        let mut rng = Rng::new(5);
        let small: Vec<u64> = (0..1_000)
            .map(|_| (-rng.uniform().ln() * 1e4) as u64 + 1)
            .collect();
        let large: Vec<u64> = (0..100_000)
            .map(|_| (-rng.uniform().ln() * 1e4) as u64 + 1)
            .collect();
        let (s, l) = (
            Histogram::from_values(&small).cumulative(),
            Histogram::from_values(&large).cumulative(),
        );
        let (slo, shi) = quantile_interval(&s, 0.99, 0.95);
        let (llo, lhi) = quantile_interval(&l, 0.99, 0.95);
        assert!(slo <= s.quantile(0.99) && s.quantile(0.99) <= shi);
        assert!(llo <= l.quantile(0.99) && l.quantile(0.99) <= lhi);
        assert!(lhi - llo < shi - slo);
        // The true p99 of Exp(mean 1e4) is 1e4 * ln(100) = 46 052.
        assert!(
            llo < 46_052.0 * 1.02 && lhi > 46_052.0 * 0.98,
            "{llo}..{lhi}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(1), ..ProptestConfig::default() })]

        /// Constant counts are judged exactly: the point change of the two values, and a
        /// p-value that says whether they differ at all.
        #[test]
        fn constant_counts_are_exact(b in 0u32..1000, c in 0u32..1000, n in 2usize..30) {
            let (bv, cv) = (f64::from(b), f64::from(c));
            let got = count_change(&vec![bv; n], &vec![cv; n], bv, cv, &TEST_CFG, 3);
            prop_assert!(got.exact);
            prop_assert_eq!(got.change.ci_low, got.change.estimate);
            prop_assert_eq!(got.change.ci_high, got.change.estimate);
            prop_assert_eq!(got.change.p_value == 0.0, b != c);
            if b > 0 {
                prop_assert!((got.change.estimate - (cv / bv - 1.0)).abs() < 1e-12);
            } else {
                prop_assert_eq!(got.change.estimate > 0.0, c > 0);
            }
        }

        #[test]
        fn identical_samples_show_no_significant_change(
            xs in prop::collection::vec(1.0f64..1e6, 2..60), seed in any::<u64>()
        ) {
            let c = throughput_change(&xs, &xs, &TEST_CFG, seed);
            prop_assert_eq!(c.estimate, 0.0);
            prop_assert!(c.p_value > 0.99);
            prop_assert!(c.ci_low <= 0.0 && c.ci_high >= 0.0);
        }

        #[test]
        fn a_clean_2x_slowdown_is_always_significant(
            xs in prop::collection::vec(100.0f64..200.0, 10..60), seed in any::<u64>()
        ) {
            let slow: Vec<f64> = xs.iter().map(|x| x * 2.0).collect();
            let c = throughput_change(&xs, &slow, &TEST_CFG, seed);
            prop_assert!((c.estimate + 0.5).abs() < 1e-9);
            prop_assert!(c.p_value < 0.001);
            prop_assert!(c.ci_high < -0.3);
        }

        #[test]
        fn interval_contains_the_point_estimate(
            a in prop::collection::vec(1.0f64..1e3, 5..40),
            b in prop::collection::vec(1.0f64..1e3, 5..40),
            seed in any::<u64>(),
        ) {
            let c = throughput_change(&a, &b, &TEST_CFG, seed);
            prop_assert!(c.ci_low <= c.ci_high);
            prop_assert!((0.0..=1.0).contains(&c.p_value));
            prop_assert!(c.ci_low <= c.estimate * 1.5 + 0.5 && c.estimate <= c.ci_high * 1.5 + 0.5);
        }

        #[test]
        fn identical_latency_histograms_never_change(
            xs in prop::collection::vec(1u64..10_000_000, 1..2000), seed in any::<u64>()
        ) {
            let c = Histogram::from_values(&xs).cumulative();
            let ch = quantile_change(&c, &c, 0.99, &TEST_CFG, seed);
            prop_assert_eq!(ch.estimate, 0.0);
            prop_assert!(ch.ci_low <= 0.0 && ch.ci_high >= 0.0);
        }

        #[test]
        fn a_doubled_latency_distribution_is_always_significant(
            xs in prop::collection::vec(1_000u64..2_000, 500..3000), seed in any::<u64>()
        ) {
            let slow: Vec<u64> = xs.iter().map(|x| x * 2).collect();
            let b = Histogram::from_values(&xs).cumulative();
            let c = Histogram::from_values(&slow).cumulative();
            let ch = quantile_change(&b, &c, 0.99, &TEST_CFG, seed);
            prop_assert!(ch.estimate > 0.9);
            prop_assert!(ch.ci_low > 0.5);
            prop_assert!(ch.p_value < 0.001);
        }
    }
}
