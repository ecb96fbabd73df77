//! `perfgate history`: the committed baselines of one testbed read as a time series, one
//! series per benchmark and metric, and the steps in each found by change-point detection
//! ([`crate::stats::changepoint`]). A per-pull-request gate with a 5% threshold lets ten 1%
//! regressions through one at a time; their sum is a step in this series.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::baseline::history::Versions;
use crate::baseline::schema::Benchmark;
use crate::error::{Error, Result};
use crate::stats::changepoint::{self, ChangePoint, Settings};
use crate::vocab::{Metric, Unit, Verdict};

/// What to analyse.
#[derive(Debug, Clone)]
pub struct Options {
    /// Globs over benchmark ids; empty: every benchmark.
    pub benches: Vec<String>,
    /// The metrics to follow; empty: every metric a benchmark has.
    pub metrics: Vec<Metric>,
    /// The detector's settings.
    pub settings: Settings,
}

/// One commit that wrote a version of the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitPoint {
    /// Full commit id.
    pub id: String,
    /// Commit time, seconds since the Unix epoch.
    pub time: i64,
    /// First line of the message.
    pub summary: String,
    /// The commit the stored baseline says it measured, when it says so and it differs from
    /// `id` (a refresh commits the measurement of its parent).
    pub measured: Option<String>,
}

/// One value of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Index into [`History::commits`].
    pub commit: usize,
    /// The metric's value in that version (throughput per second, or latency in ns).
    pub value: f64,
}

/// One detected step of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Index into [`Series::points`] of the first point after the step.
    pub point: usize,
    /// Index into [`History::commits`] of the first commit after the step.
    pub commit: usize,
    /// Index into [`History::commits`] of the last commit before it.
    pub previous: usize,
    /// Regressed or improved, from the metric's direction.
    pub verdict: Verdict,
    /// The statistics of the step.
    pub change: ChangePoint,
}

/// A benchmark's metric across the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The benchmark id.
    pub benchmark: String,
    /// The metric.
    pub metric: Metric,
    /// The unit of the values (of the latest version's throughput declaration).
    pub unit: Unit,
    /// The values, oldest first; a version without the benchmark has no point.
    pub points: Vec<Point>,
    /// The steps, oldest first.
    pub steps: Vec<Step>,
}

/// The analysed history of one baseline file.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The file, as named to the user.
    pub source: String,
    /// The ref whose first-parent history was walked.
    pub rev: String,
    /// The commits that wrote a version, oldest first.
    pub commits: Vec<CommitPoint>,
    /// One series per benchmark and metric, sorted by benchmark then metric.
    pub series: Vec<Series>,
    /// Versions that could not be read, one line each.
    pub skipped: Vec<String>,
    /// The detector's settings.
    pub settings: Settings,
}

impl History {
    /// Every step of every series, with its series.
    pub fn steps(&self) -> impl Iterator<Item = (&Series, &Step)> {
        self.series
            .iter()
            .flat_map(|s| s.steps.iter().map(move |st| (s, st)))
    }

    /// How many steps are regressions.
    pub fn regressions(&self) -> usize {
        self.steps()
            .filter(|(_, s)| s.verdict == Verdict::Regressed)
            .count()
    }
}

fn globs(patterns: &[String]) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| Error::Usage(format!("--bench {p:?}: {e}")))?);
    }
    b.build()
        .map(Some)
        .map_err(|e| Error::Usage(format!("--bench: {e}")))
}

/// The value of `metric` in one version of a benchmark, when it has one: the summary the
/// version stored (what `baseline show` prints for it), not one recomputed from its samples
/// and histogram as `compare::noise::metric_value` does for a fresh run, so that a point of
/// the history is the number that commit published, and a walk of 1,000 versions reads
/// fields instead of rebuilding histograms.
pub fn value(b: &Benchmark, metric: Metric) -> Option<f64> {
    match metric {
        Metric::Throughput => Some(b.throughput_per_sec(b.summary.mean_ns)),
        Metric::P50 => b.latency.as_ref().map(|l| l.p50_ns),
        Metric::P99 => b.latency.as_ref().map(|l| l.p99_ns),
        Metric::P999 => b.latency.as_ref().map(|l| l.p999_ns),
        Metric::Allocs | Metric::AllocBytes => b.allocs.as_ref()?.per_op(metric),
    }
}

/// Builds the series of every selected benchmark and metric from the versions of a baseline
/// file, and detects the steps in each.
pub fn analyse(source: &str, rev: &str, v: Versions, opts: &Options) -> Result<History> {
    use std::collections::BTreeMap;
    let select = globs(&opts.benches)?;
    let metrics: Vec<Metric> = if opts.metrics.is_empty() {
        Metric::ALL.to_vec()
    } else {
        Metric::ALL
            .into_iter()
            .filter(|m| opts.metrics.contains(m))
            .collect()
    };
    let mut commits = Vec::with_capacity(v.versions.len());
    // Keyed by (benchmark, metric) so the series come out sorted whatever the file order.
    let mut series: BTreeMap<(String, Metric), (Unit, Vec<Point>)> = BTreeMap::new();
    for (ci, version) in v.versions.into_iter().enumerate() {
        let measured = version
            .snapshot
            .git
            .as_ref()
            .map(|g| g.commit.clone())
            .filter(|m| *m != version.commit);
        for b in &version.snapshot.benchmarks {
            if select.as_ref().is_some_and(|g| !g.is_match(&b.id)) {
                continue;
            }
            for &m in &metrics {
                let Some(value) = value(b, m) else { continue };
                let unit = match m {
                    Metric::Throughput => b.throughput_unit(),
                    _ => m.count_unit().unwrap_or(Unit::Nanos),
                };
                let e = series
                    .entry((b.id.clone(), m))
                    .or_insert_with(|| (unit, Vec::new()));
                e.0 = unit;
                e.1.push(Point { commit: ci, value });
            }
        }
        commits.push(CommitPoint {
            id: version.commit,
            time: version.time,
            summary: version.summary,
            measured,
        });
    }
    let series = series
        .into_iter()
        .map(|((benchmark, metric), (unit, points))| {
            let values: Vec<f64> = points.iter().map(|p| p.value).collect();
            let steps = changepoint::detect(&values, &opts.settings)
                .into_iter()
                .map(|c| {
                    let worse = if metric.higher_is_better() {
                        c.change < 0.0
                    } else {
                        c.change > 0.0
                    };
                    Step {
                        point: c.index,
                        commit: points[c.index].commit,
                        previous: points[c.index - 1].commit,
                        verdict: if worse {
                            Verdict::Regressed
                        } else {
                            Verdict::Improved
                        },
                        change: c,
                    }
                })
                .collect();
            Series {
                benchmark,
                metric,
                unit,
                points,
                steps,
            }
        })
        .collect();
    Ok(History {
        source: source.to_string(),
        rev: rev.to_string(),
        commits,
        series,
        skipped: v.skipped,
        settings: opts.settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::history::Version;
    use crate::testutil::{bench, snapshot};

    fn versions(levels: &[(f64, f64)]) -> Versions {
        Versions {
            versions: levels
                .iter()
                .enumerate()
                .map(|(i, &(a, b))| {
                    let mut benches = vec![bench("g/a", vec![a; 3])];
                    if b > 0.0 {
                        benches.push(bench("g/b", vec![b; 3]));
                    }
                    Version {
                        commit: format!("{i:040x}"),
                        time: i as i64,
                        summary: format!("c{i}"),
                        snapshot: snapshot("2026-01-01T00:00:00Z", benches),
                    }
                })
                .collect(),
            ..Versions::default()
        }
    }

    fn opts(benches: &[&str]) -> Options {
        Options {
            benches: benches.iter().map(|s| s.to_string()).collect(),
            metrics: Vec::new(),
            settings: Settings::default(),
        }
    }

    #[test]
    fn a_slower_time_is_a_throughput_regression_at_its_commit() {
        // g/a takes 10% longer from version 8; g/b is absent from versions 0-1, so its points
        // are fewer and its step, at version 12, is at its point 10.
        let levels: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                let a = if i >= 8 { 110.0 } else { 100.0 };
                let b = match i {
                    0 | 1 => 0.0,
                    i if i >= 12 => 50.0,
                    _ => 100.0,
                };
                (a, b)
            })
            .collect();
        let h = analyse("f.json", "HEAD", versions(&levels), &opts(&[])).unwrap();
        assert_eq!(h.commits.len(), 20);
        assert_eq!(h.series.len(), 2, "no latency metrics without latency");
        let a = &h.series[0];
        assert_eq!(
            (a.benchmark.as_str(), a.metric),
            ("g/a", Metric::Throughput)
        );
        assert_eq!(a.steps.len(), 1);
        let s = a.steps[0];
        assert_eq!((s.point, s.commit, s.previous), (8, 8, 7));
        assert_eq!(s.verdict, Verdict::Regressed);
        assert!((s.change.change + 1.0 / 11.0).abs() < 1e-9);
        let b = &h.series[1];
        assert_eq!(b.points.len(), 18);
        assert_eq!((b.steps[0].point, b.steps[0].commit), (10, 12));
        assert_eq!(b.steps[0].verdict, Verdict::Improved);
        assert_eq!(h.regressions(), 1);
    }

    #[test]
    fn bench_globs_select_and_a_bad_glob_is_a_usage_error() {
        let levels = vec![(100.0, 100.0); 5];
        let h = analyse("f.json", "HEAD", versions(&levels), &opts(&["*/b"])).unwrap();
        assert_eq!(h.series.len(), 1);
        assert_eq!(h.series[0].benchmark, "g/b");
        let e = analyse("f.json", "HEAD", versions(&levels), &opts(&["a[b"])).unwrap_err();
        assert!(
            matches!(e, Error::Usage(_)) && e.to_string().contains("--bench"),
            "{e}"
        );
    }
}
