//! Run-to-run noise: measuring it from several runs of a suite, and the rule that widens a
//! noisy benchmark's threshold.
//!
//! One run's confidence interval only sees the variation between the samples of that run.
//! Between two `cargo bench` invocations on a shared machine, a benchmark can shift by more than
//! that interval (CPU frequency, cache and page placement, neighbours): an A/A comparison of two
//! runs of the same code then reports a "significant" change. `baseline refresh --runs N`
//! measures that shift per benchmark and metric, as the relative standard deviation `s` of the
//! metric's value across the N runs, and stores it in the baseline ([`Noise`]).
//!
//! The widening rule: the threshold a comparison is judged against is
//! `max(|threshold|, k * s)`, signed like the threshold, with `k = noise_factor` (default 3).
//! The difference of two independent runs has a standard deviation of `sqrt(2) * s`, so a
//! change of `3 s` is about 2.1 of those standard deviations, before the confidence interval
//! (which must lie wholly beyond the threshold) adds its own margin. A benchmark quieter than
//! `|threshold| / k` keeps its configured threshold. The widening stops at `noise_cap` times
//! the configured threshold ([`capped_threshold`]): beyond that the stored baseline cannot
//! gate the benchmark, and the report says so instead of passing it silently.

use crate::baseline::schema::{Benchmark, Noise, Snapshot};
use crate::stats;
use crate::vocab::Metric;

/// The widened threshold, never beyond `cap` times the configured one: a stored noise large
/// enough to widen it further would switch the gate off for that benchmark without a word.
/// The flag says whether the cap was hit, so the report can say the benchmark is too noisy to
/// gate against the stored baseline.
pub fn capped_threshold(threshold: f64, noise: Option<f64>, factor: f64, cap: f64) -> (f64, bool) {
    let widened = effective_threshold(threshold, noise, factor);
    let limit = cap * threshold.abs();
    if widened.abs() > limit || widened.is_nan() {
        (limit.copysign(threshold), true)
    } else {
        (widened, false)
    }
}

/// The threshold a comparison is judged against: `threshold` widened to `factor * noise` when
/// that is larger, keeping the threshold's sign (negative for throughput).
pub fn effective_threshold(threshold: f64, noise: Option<f64>, factor: f64) -> f64 {
    let widened = noise.map_or(0.0, |s| factor * s);
    if widened > threshold.abs() {
        widened.copysign(threshold)
    } else {
        threshold
    }
}

/// A metric's value in one run: throughput per second, the latency quantile in ns, or the
/// count per operation.
pub fn metric_value(b: &Benchmark, m: Metric) -> Option<f64> {
    if m.is_count() {
        return b.allocs.as_ref()?.per_op(m);
    }
    match m.quantile() {
        None => Some(b.throughput_per_sec(stats::mean(&b.samples.per_iter_ns))),
        Some(q) => b
            .latency
            .as_ref()
            .map(|l| l.histogram.cumulative().quantile(q)),
    }
}

/// Standard deviation over mean (sample standard deviation, n - 1 denominator).
pub fn relative_sd(values: &[f64]) -> f64 {
    let m = stats::mean(values);
    if values.len() < 2 || m == 0.0 {
        return 0.0;
    }
    stats::variance(values).sqrt() / m.abs()
}

/// The noise of one benchmark measured in several runs (`None` for fewer than two).
pub fn measure(runs: &[&Benchmark]) -> Option<Noise> {
    if runs.len() < 2 {
        return None;
    }
    let of = |m: Metric| -> Option<f64> {
        let values: Option<Vec<f64>> = runs.iter().map(|b| metric_value(b, m)).collect();
        values.map(|v| relative_sd(&v))
    };
    Some(Noise {
        runs: runs.len() as u32,
        throughput: of(Metric::Throughput)?,
        p50: of(Metric::P50),
        p99: of(Metric::P99),
        p999: of(Metric::P999),
    })
}

/// Combines several runs of a suite into one snapshot: for each benchmark, the run with the
/// median mean time (so that one disturbed run does not become the baseline) with the noise
/// measured over every run that has the benchmark. The metadata is the last run's.
/// `runs` must not be empty.
pub fn combine(runs: Vec<Snapshot>) -> Snapshot {
    let mut by_id: std::collections::BTreeMap<&str, Vec<&Benchmark>> = Default::default();
    for s in &runs {
        for b in &s.benchmarks {
            by_id.entry(b.id.as_str()).or_default().push(b);
        }
    }
    let benchmarks: Vec<Benchmark> = by_id
        .values()
        .map(|all| {
            let mut sorted = all.clone();
            sorted.sort_by(|a, b| a.summary.mean_ns.total_cmp(&b.summary.mean_ns));
            let mut chosen = sorted[(sorted.len() - 1) / 2].clone();
            chosen.noise = measure(all);
            chosen
        })
        .collect();
    let mut out = runs.into_iter().last().expect("at least one run");
    out.benchmarks = benchmarks;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(mean: f64) -> Benchmark {
        crate::testutil::bench("a/b", vec![mean * 0.99, mean, mean * 1.01])
    }

    #[test]
    fn widening_rule() {
        assert_eq!(effective_threshold(-0.05, None, 3.0), -0.05);
        assert_eq!(effective_threshold(-0.05, Some(0.01), 3.0), -0.05);
        assert!((effective_threshold(-0.05, Some(0.04), 3.0) + 0.12).abs() < 1e-12);
        assert!((effective_threshold(0.10, Some(0.05), 3.0) - 0.15).abs() < 1e-12);
        assert_eq!(effective_threshold(0.10, Some(0.05), 0.0), 0.10);
    }

    #[test]
    fn widening_is_capped() {
        assert_eq!(
            capped_threshold(-0.05, Some(0.04), 3.0, 3.0),
            (-0.12, false)
        );
        // Pipe copy 64 KiB: 27% stored noise would make the threshold -81%.
        assert!(capped_threshold(-0.05, Some(0.27), 3.0, 3.0).1);
        assert!((capped_threshold(-0.05, Some(0.27), 3.0, 3.0).0 + 0.15).abs() < 1e-12);
        assert!(capped_threshold(0.10, Some(1e308), 3.0, 3.0).1);
        assert!((capped_threshold(0.10, Some(1e308), 3.0, 3.0).0 - 0.30).abs() < 1e-12);
        assert_eq!(capped_threshold(0.10, None, 3.0, 3.0), (0.10, false));
    }

    #[test]
    fn relative_sd_of_runs() {
        assert_eq!(relative_sd(&[5.0]), 0.0);
        assert_eq!(relative_sd(&[2.0, 2.0, 2.0]), 0.0);
        // sd of [90, 100, 110] is 10, mean 100.
        assert!((relative_sd(&[90.0, 100.0, 110.0]) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn combine_keeps_the_median_run_and_measures_noise() {
        let snap = |mean: f64| crate::testutil::snapshot(&format!("{mean}"), vec![bench(mean)]);
        let out = combine(vec![snap(100.0), snap(300.0), snap(110.0)]);
        assert_eq!(out.created_at, "110");
        let b = &out.benchmarks[0];
        assert_eq!(b.summary.mean_ns, 110.0);
        let n = b.noise.unwrap();
        assert_eq!(n.runs, 3);
        assert_eq!(n.p99, None);
        // Throughputs 1e7, 1e7/3, 1e7/1.1: a large relative spread.
        let t = [1e7, 1e7 / 3.0, 1e7 / 1.1];
        assert!((n.throughput - relative_sd(&t)).abs() < 1e-9);
        assert!(measure(&[&bench(1.0)]).is_none());
    }
}
