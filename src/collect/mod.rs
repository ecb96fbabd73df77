//! Collect: criterion's output plus perfgate's latency logs, turned into a results
//! [`Snapshot`].

pub mod criterion;
pub mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::baseline::machine;
use crate::baseline::schema::{
    Allocs, Benchmark, Latency, Machine, SCHEMA_VERSION, Samples, Snapshot, SnapshotKind, Source,
    Summary, ToolVersions,
};
use crate::error::{Error, Result};
use crate::stats;
use criterion::RawResult;
use perfgate_recorder::alloc::{ALLOC_LOG_SCHEMA_VERSION, ALLOC_LOG_SUFFIX, AllocLog};
use perfgate_recorder::recorder::{LATENCY_SUBDIR, LOG_SCHEMA_VERSION, LatencyLog};

/// Results older than the next-newer one by more than this are taken to be from an earlier
/// `cargo bench` invocation when no `--since` is given: one invocation writes its benchmarks
/// back to back, and no single benchmark of a sane suite runs this long.
pub const DEFAULT_STALE_GAP: Duration = Duration::from_secs(10 * 60);

/// What to read and which results to keep.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The criterion root.
    pub criterion_dir: PathBuf,
    /// The result set: `new`, or a criterion `--save-baseline` name.
    pub criterion_baseline: String,
    /// Keep only results written at or after this time (the start of the invocation).
    pub since: Option<SystemTime>,
    /// Without `since`: the gap that separates invocations.
    pub stale_gap: Duration,
    /// Where latency logs are; defaults to `<criterion_dir>/.perfgate-latency`.
    pub latency_dir: Option<PathBuf>,
    /// The testbed name to record.
    pub testbed: Option<String>,
    /// The directory of the measured crate (for git metadata and the criterion version).
    pub project_dir: PathBuf,
}

/// A collected snapshot and what the user should know about how it was assembled.
#[derive(Debug)]
pub struct Collected {
    /// The results.
    pub snapshot: Snapshot,
    /// Stale results skipped, latency logs not attached, and similar notes.
    pub warnings: Vec<String>,
}

/// Reads criterion's output into a results snapshot.
pub fn collect(opts: &CollectOptions) -> Result<Collected> {
    let mut warnings = Vec::new();
    let raw = criterion::scan(&opts.criterion_dir, &opts.criterion_baseline)?;
    if raw.is_empty() {
        return Err(Error::NoCriterionOutput {
            path: opts.criterion_dir.clone(),
            message: format!(
                "no criterion results (no */{}/benchmark.json); run `cargo bench` first",
                opts.criterion_baseline
            ),
        });
    }
    let raw = dedupe(raw, &mut warnings);
    let raw = select_current(raw, opts.since, opts.stale_gap, &mut warnings);
    if raw.is_empty() {
        return Err(Error::NoCriterionOutput {
            path: opts.criterion_dir.clone(),
            message: "every criterion result here is older than this run: no benchmark ran (check the bench filter)".into(),
        });
    }
    let latency_dir = opts
        .latency_dir
        .clone()
        .unwrap_or_else(|| opts.criterion_dir.join(LATENCY_SUBDIR));
    let logs = read_latency_logs(&latency_dir, &mut warnings);
    let alloc_logs = read_alloc_logs(&latency_dir, &mut warnings);

    let mut benchmarks: Vec<Benchmark> = raw
        .iter()
        .map(|r| {
            let b = to_benchmark(r);
            // Its samples come from the set's sample.json: an error names that file.
            crate::baseline::store::validate_benchmark(&b)
                .map_err(|m| Error::invalid(r.dir.join("sample.json"), m))?;
            Ok((r, b))
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .map(|(r, mut b)| {
            if let Some(log) = logs.get(&b.id) {
                match attach(log, r) {
                    Ok(l) => b.latency = Some(l),
                    Err(why) => warnings.push(format!(
                        "latency log for {:?} ignored: {why}; its percentiles are omitted",
                        b.id
                    )),
                }
            }
            if let Some(log) = alloc_logs.get(&b.id) {
                match attach_allocs(log, r) {
                    Ok(a) => b.allocs = Some(a),
                    Err(why) => warnings.push(format!(
                        "allocation log for {:?} ignored: {why}; its allocation counts are omitted",
                        b.id
                    )),
                }
            }
            b
        })
        .collect();
    benchmarks.sort_by(|a, b| a.id.cmp(&b.id));

    let machine = Machine::current();
    let snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
        kind: SnapshotKind::Results,
        testbed: machine::testbed(opts.testbed.as_deref(), &machine),
        created_at: now_rfc3339(),
        git: crate::baseline::git::info(&opts.project_dir),
        tools: tool_versions(&opts.project_dir),
        machine,
        source: Source {
            criterion_baseline: opts.criterion_baseline.clone(),
            profile: None,
        },
        benchmarks,
    };
    crate::baseline::store::validate(&snapshot)
        .map_err(|m| Error::invalid(&opts.criterion_dir, m))?;
    Ok(Collected { snapshot, warnings })
}

/// Two directories with the same `full_id` can only be a stale leftover beside a fresh one
/// (criterion disambiguates live collisions): keep the newest.
fn dedupe(raw: Vec<RawResult>, warnings: &mut Vec<String>) -> Vec<RawResult> {
    let mut by_id: BTreeMap<String, RawResult> = BTreeMap::new();
    for r in raw {
        match by_id.get(&r.info.full_id) {
            Some(existing) if existing.written >= r.written => {
                warnings.push(format!(
                    "{:?} appears twice; ignoring the older copy in {}",
                    r.info.full_id,
                    r.dir.display()
                ));
            }
            Some(existing) => {
                warnings.push(format!(
                    "{:?} appears twice; ignoring the older copy in {}",
                    r.info.full_id,
                    existing.dir.display()
                ));
                by_id.insert(r.info.full_id.clone(), r);
            }
            None => {
                by_id.insert(r.info.full_id.clone(), r);
            }
        }
    }
    by_id.into_values().collect()
}

/// Keeps the results of the latest invocation only.
fn select_current(
    raw: Vec<RawResult>,
    since: Option<SystemTime>,
    gap: Duration,
    warnings: &mut Vec<String>,
) -> Vec<RawResult> {
    let cutoff = match since {
        Some(t) => t,
        None => {
            let mut times: Vec<SystemTime> = raw.iter().map(|r| r.written).collect();
            times.sort();
            let mut cutoff = times[0];
            for pair in times.windows(2) {
                if pair[1].duration_since(pair[0]).unwrap_or_default() > gap {
                    cutoff = pair[1];
                }
            }
            cutoff
        }
    };
    let (keep, stale): (Vec<_>, Vec<_>) = raw.into_iter().partition(|r| r.written >= cutoff);
    for r in &stale {
        warnings.push(format!(
            "skipping stale result {:?} (written before this run, in {})",
            r.info.full_id,
            r.dir.display()
        ));
    }
    keep
}

fn to_benchmark(r: &RawResult) -> Benchmark {
    let per_iter: Vec<f64> = r.times.iter().zip(&r.iters).map(|(t, n)| t / n).collect();
    let summary = Summary {
        mean_ns: stats::mean(&per_iter),
        median_ns: stats::median(&per_iter),
        std_dev_ns: stats::variance(&per_iter).sqrt(),
        min_ns: per_iter.iter().copied().fold(f64::INFINITY, f64::min),
        max_ns: per_iter.iter().copied().fold(0.0, f64::max),
    };
    Benchmark {
        id: r.info.full_id.clone(),
        group_id: r.info.group_id.clone(),
        function_id: r.info.function_id.clone(),
        value_str: r.info.value_str.clone(),
        throughput: r.info.throughput,
        samples: Samples {
            iters: r.iters.clone(),
            per_iter_ns: per_iter,
        },
        summary,
        latency: None,
        allocs: None,
        noise: None,
    }
}

fn read_latency_logs(dir: &Path, warnings: &mut Vec<String>) -> BTreeMap<String, LatencyLog> {
    read_logs(dir, false, "latency log", warnings, |log: LatencyLog| {
        if log.schema_version != LOG_SCHEMA_VERSION {
            Err(format!("unsupported schema version {}", log.schema_version))
        } else {
            log.histogram.validate().map(|_| (log.id.clone(), log))
        }
    })
}

fn read_alloc_logs(dir: &Path, warnings: &mut Vec<String>) -> BTreeMap<String, AllocLog> {
    read_logs(dir, true, "allocation log", warnings, |log: AllocLog| {
        if log.schema_version != ALLOC_LOG_SCHEMA_VERSION {
            Err(format!("unsupported schema version {}", log.schema_version))
        } else if log.allocs.len() != log.iters.len() || log.bytes.len() != log.iters.len() {
            Err("its counts and samples differ in length".into())
        } else {
            Ok((log.id.clone(), log))
        }
    })
}

/// Reads the logs of one kind in `dir` (allocation logs end in `.allocs.json`, latency logs in
/// any other `.json`), keyed by benchmark id, each checked by `check`; an unreadable one is a
/// warning naming its file, never an error: the criterion results stand without it.
fn read_logs<T: serde::de::DeserializeOwned>(
    dir: &Path,
    allocs: bool,
    what: &str,
    warnings: &mut Vec<String>,
    check: impl Fn(T) -> std::result::Result<(String, T), String>,
) -> BTreeMap<String, T> {
    let mut logs = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return logs;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(ALLOC_LOG_SUFFIX) == allocs
        })
        .collect();
    paths.sort();
    for path in paths {
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<T>(&b).map_err(|e| e.to_string()))
            .and_then(&check);
        match parsed {
            Ok((id, log)) => {
                logs.insert(id, log);
            }
            Err(e) => warnings.push(format!("{}: unreadable {what} ({e})", path.display())),
        }
    }
    logs
}

/// Attaches a latency log to a result if it belongs to the same measurement.
fn attach(log: &LatencyLog, r: &RawResult) -> std::result::Result<Latency, String> {
    same_measurement(&log.iters, log.written_at_unix, r)?;
    Ok(Latency::from_histogram(
        log.histogram.clone(),
        log.min_ns as f64,
        log.max_ns as f64,
    ))
}

/// Attaches an allocation log to a result if it belongs to the same measurement.
fn attach_allocs(log: &AllocLog, r: &RawResult) -> std::result::Result<Allocs, String> {
    same_measurement(&log.iters, log.written_at_unix, r)?;
    Allocs::from_samples(&log.iters, &log.allocs, &log.bytes)
        .ok_or_else(|| "it counts no operations".to_string())
}

/// Whether a log of samples of `iters` operations written at `written_at_unix` belongs to the
/// criterion result `r`: same iteration counts, written after criterion's samples and not long
/// after.
fn same_measurement(
    iters: &[u64],
    written_at_unix: f64,
    r: &RawResult,
) -> std::result::Result<(), String> {
    let expected: Vec<u64> = r.iters.iter().map(|&n| n as u64).collect();
    if iters != expected.as_slice() {
        return Err("its samples do not match criterion's (a different run, or not Flat sampling with the group's sample size)".into());
    }
    let written = Duration::try_from_secs_f64(written_at_unix)
        .ok()
        .and_then(|d| SystemTime::UNIX_EPOCH.checked_add(d))
        .ok_or_else(|| format!("its written_at_unix ({written_at_unix}) is not a time"))?;
    let sample = r.written;
    let slack = Duration::from_secs(5);
    if written + slack < sample || written > sample + DEFAULT_STALE_GAP {
        return Err("it was written at a different time than the criterion results".into());
    }
    Ok(())
}

impl Latency {
    /// The latency summary of a histogram: percentiles with their 95% intervals.
    pub fn from_histogram(
        histogram: perfgate_recorder::histogram::Histogram,
        min_ns: f64,
        max_ns: f64,
    ) -> Latency {
        let c = histogram.cumulative();
        let ci = |q: f64| {
            let (lo, hi) = stats::quantile_interval(&c, q, 0.95);
            [lo, hi]
        };
        Latency {
            ops: c.count(),
            p50_ns: c.quantile(0.5),
            p99_ns: c.quantile(0.99),
            p999_ns: c.quantile(0.999),
            p50_ci_ns: ci(0.5),
            p99_ci_ns: ci(0.99),
            p999_ci_ns: ci(0.999),
            min_ns,
            max_ns,
            histogram,
        }
    }
}

/// The current time as RFC 3339 UTC, to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// perfgate's, rustc's and the locked criterion's versions.
pub fn tool_versions(project_dir: &Path) -> ToolVersions {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let rustc = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    ToolVersions {
        perfgate: env!("CARGO_PKG_VERSION").to_string(),
        rustc,
        criterion: locked_criterion_version(project_dir),
    }
}

/// The criterion version in the nearest `Cargo.lock` at or above `dir`.
pub fn locked_criterion_version(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let lock = dir
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(lock).ok()?;
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
        version: String,
    }
    let lock: Lock = toml::from_str(&text).ok()?;
    let versions: Vec<String> = lock
        .package
        .into_iter()
        .filter(|p| p.name == "criterion")
        .map(|p| p.version)
        .collect();
    (!versions.is_empty()).then(|| versions.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_log_with_an_impossible_time_is_refused_not_a_panic() {
        let r = raw("a", 1_000);
        for t in [1e300, f64::NAN, f64::INFINITY, -5.0] {
            let log = LatencyLog {
                schema_version: LOG_SCHEMA_VERSION,
                id: "a".into(),
                written_at_unix: t,
                iters: vec![1, 2],
                ops: 3,
                p50_ns: 1.0,
                p99_ns: 1.0,
                p999_ns: 1.0,
                min_ns: 1,
                max_ns: 1,
                histogram: perfgate_recorder::Histogram {
                    buckets: vec![[1, 3]],
                },
            };
            let e = attach(&log, &r).unwrap_err();
            assert!(e.contains("is not a time"), "{t}: {e}");
        }
    }

    #[test]
    fn criterion_versions_come_from_the_nearest_lock_file() {
        let tmp = tempfile::tempdir().unwrap();
        let sub = tmp.path().join("crate/benches");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            tmp.path().join("Cargo.lock"),
            "version = 4\n\n[[package]]\nname = \"criterion\"\nversion = \"0.5.1\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"criterion\"\nversion = \"0.8.2\"\nsource = \"registry+https://example.invalid\"\n",
        )
        .unwrap();
        assert_eq!(
            locked_criterion_version(&sub).as_deref(),
            Some("0.5.1, 0.8.2")
        );
        std::fs::write(tmp.path().join("Cargo.lock"), "not toml [").unwrap();
        assert_eq!(locked_criterion_version(&sub), None);
    }

    fn raw(id: &str, secs: u64) -> RawResult {
        RawResult {
            dir: PathBuf::from(id),
            info: criterion::BenchmarkJson {
                group_id: id.into(),
                function_id: None,
                value_str: None,
                throughput: None,
                full_id: id.into(),
            },
            iters: vec![1.0, 2.0],
            times: vec![10.0, 20.0],
            written: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    #[test]
    fn stale_results_are_split_off_by_gap_or_since() {
        let mut w = Vec::new();
        let all = vec![raw("old", 100), raw("a", 5000), raw("b", 5100)];
        let kept = select_current(all.clone(), None, DEFAULT_STALE_GAP, &mut w);
        assert_eq!(kept.len(), 2);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("old"));
        let since = SystemTime::UNIX_EPOCH + Duration::from_secs(5050);
        let kept = select_current(all, Some(since), DEFAULT_STALE_GAP, &mut w);
        assert_eq!(
            kept.iter()
                .map(|r| r.info.full_id.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
    }

    #[test]
    fn duplicates_keep_the_newest() {
        let mut w = Vec::new();
        let mut newer = raw("x", 200);
        newer.dir = PathBuf::from("x_2");
        let kept = dedupe(vec![raw("x", 100), newer], &mut w);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].dir, PathBuf::from("x_2"));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn per_iteration_times_and_summary() {
        let b = to_benchmark(&raw("x", 1));
        assert_eq!(b.samples.per_iter_ns, vec![10.0, 10.0]);
        assert_eq!(b.summary.mean_ns, 10.0);
        assert_eq!(b.summary.std_dev_ns, 0.0);
    }
}
