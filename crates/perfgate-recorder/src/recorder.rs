//! Per-operation latency recording for criterion benchmarks.
//!
//! Criterion's samples are batch means, so their percentiles are not operation percentiles.
//! A benchmark that wants real p50/p99/p999 times every operation with this recorder inside
//! `iter_custom`, using `SamplingMode::Flat`:
//!
//! ```no_run
//! # use perfgate_recorder::LatencyRecorder;
//! # fn operation() {}
//! // In a criterion bench:
//! // let mut group = c.benchmark_group("pool");
//! // group.sampling_mode(criterion::SamplingMode::Flat).sample_size(50);
//! let mut rec = LatencyRecorder::new("pool/roundtrip", 50);
//! // group.bench_function("roundtrip", |b| b.iter_custom(|iters| rec.time_ops(iters, operation)));
//! # let _ = rec.time_ops(10, operation);
//! rec.finish().expect("write latency log");
//! ```
//!
//! Criterion calls the closure once per sample, in order, after its warm-up calls, so the last
//! `sample_size` calls are the measured samples: the recorder keeps exactly those and, on
//! [`LatencyRecorder::finish`] (or drop), writes a small log next to criterion's output that
//! `perfgate collect` attaches to the benchmark with the same id.
//!
//! Without [`LatencyRecorder::with_dir`], the log goes where `perfgate collect` looks by
//! default, found without starting a process: `$PERFGATE_LATENCY_DIR`, else
//! `$CRITERION_HOME/.perfgate-latency`, else `$CARGO_TARGET_DIR/criterion/.perfgate-latency`,
//! else `<target>/criterion/.perfgate-latency` for the target directory the bench executable
//! was built in, else `target/criterion/.perfgate-latency` in the working directory
//! ([`crate::log_dir`] has the details).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use crate::alloc::{AllocLog, Counts, counts, is_counting};
use crate::error::{Error, Result};
use crate::histogram::{DENSE_SLOTS, Histogram, dense_index};
use crate::log_dir::LogDirSources;

/// Environment variable that overrides where latency logs are written.
pub const LATENCY_DIR_ENV: &str = "PERFGATE_LATENCY_DIR";
/// Schema version of the latency log.
pub const LOG_SCHEMA_VERSION: u32 = 1;
/// Name of the folder, inside the criterion root, that holds latency logs by default.
pub const LATENCY_SUBDIR: &str = ".perfgate-latency";

/// The file a recorder writes: one benchmark's operation latencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyLog {
    /// Always [`LOG_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Criterion's full id of the benchmark.
    pub id: String,
    /// When the log was written, as seconds since the Unix epoch.
    pub written_at_unix: f64,
    /// Iterations of each measured sample, in order (matches criterion's `sample.json`).
    pub iters: Vec<u64>,
    /// Number of operations timed.
    pub ops: u64,
    /// Median, ns (histogram resolution: within 1.6%).
    pub p50_ns: f64,
    /// 99th percentile, ns.
    pub p99_ns: f64,
    /// 99.9th percentile, ns.
    pub p999_ns: f64,
    /// Fastest operation, ns (exact).
    pub min_ns: u64,
    /// Slowest operation, ns (exact).
    pub max_ns: u64,
    /// The whole distribution.
    pub histogram: Histogram,
}

/// One call of the measured closure: its operation count, extremes and histogram.
#[derive(Debug)]
struct Call {
    ops: u64,
    min: u64,
    max: u64,
    counts: Box<[u64]>,
    /// What the call's operations allocated, when the counting allocator counted them.
    allocated: Option<Counts>,
}

impl Call {
    fn new() -> Self {
        Call {
            ops: 0,
            min: u64::MAX,
            max: 0,
            counts: vec![0; DENSE_SLOTS].into_boxed_slice(),
            allocated: None,
        }
    }

    #[inline]
    fn add(&mut self, ns: u64) {
        self.ops += 1;
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
        self.counts[dense_index(ns)] += 1;
    }
}

/// Times every operation of the measured samples of one criterion benchmark.
///
/// Operations go straight into a log-linear histogram (see [`crate::histogram`]), so
/// memory stays constant however many millions of operations a sample runs. When the bench
/// installs [`crate::CountingAllocator`], [`LatencyRecorder::time_ops`] also counts what each
/// sample allocated and writes an allocation log beside the latency log.
#[derive(Debug)]
pub struct LatencyRecorder {
    id: String,
    keep: usize,
    calls: VecDeque<Call>,
    dir: Option<PathBuf>,
    finished: bool,
}

impl LatencyRecorder {
    /// A recorder for the benchmark whose criterion full id is `id` (for example
    /// `"pool/roundtrip"`), keeping the last `sample_size` calls: the group's sample size.
    pub fn new(id: impl Into<String>, sample_size: usize) -> Self {
        LatencyRecorder {
            id: id.into(),
            keep: sample_size.max(1),
            calls: VecDeque::new(),
            dir: None,
            finished: false,
        }
    }

    /// Writes the log into `dir` instead of the default location.
    pub fn with_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Runs `op` `iters` times, timing each run, and returns the total time for criterion.
    ///
    /// One clock read per operation: the end of one operation is the start of the next, so the
    /// durations add up exactly to the returned total. With the counting allocator installed,
    /// the allocations of the `iters` operations are counted too (the loop itself allocates
    /// nothing: the histogram is allocated before the first count is read).
    pub fn time_ops<F: FnMut()>(&mut self, iters: u64, mut op: F) -> Duration {
        let mut call = Call::new();
        let counting = is_counting();
        let before = counts();
        let start = Instant::now();
        let mut last = start;
        for _ in 0..iters {
            op();
            let now = Instant::now();
            call.add((now - last).as_nanos() as u64);
            last = now;
        }
        if counting {
            call.allocated = Some(counts().since(before));
        }
        self.push_call(call);
        last - start
    }

    /// Records one sample whose operations were timed by the caller (for operations that must
    /// be timed around a part of the work only). Returns their total for criterion. Its
    /// allocations are not counted (the recorder does not see the operations run): count them
    /// with a [`crate::AllocRecorder`] of the caller's.
    pub fn record_sample(&mut self, durations: Vec<Duration>) -> Duration {
        let mut call = Call::new();
        for d in &durations {
            call.add(d.as_nanos() as u64);
        }
        self.push_call(call);
        durations.iter().sum()
    }

    fn push_call(&mut self, call: Call) {
        push_bounded(&mut self.calls, self.keep, call);
    }

    /// Builds the log from the measured calls, without writing it.
    pub fn log(&self) -> Option<LatencyLog> {
        let ops: u64 = self.calls.iter().map(|c| c.ops).sum();
        if ops == 0 {
            return None;
        }
        let mut counts = vec![0u64; DENSE_SLOTS];
        for call in &self.calls {
            for (total, c) in counts.iter_mut().zip(call.counts.iter()) {
                *total += c;
            }
        }
        let histogram = Histogram::from_dense(&counts);
        let cum = histogram.cumulative();
        Some(LatencyLog {
            schema_version: LOG_SCHEMA_VERSION,
            id: self.id.clone(),
            written_at_unix: now_unix(),
            iters: self.calls.iter().map(|c| c.ops).collect(),
            ops,
            p50_ns: cum.quantile(0.5),
            p99_ns: cum.quantile(0.99),
            p999_ns: cum.quantile(0.999),
            min_ns: self.calls.iter().map(|c| c.min).min().unwrap_or(0),
            max_ns: self.calls.iter().map(|c| c.max).max().unwrap_or(0),
            histogram,
        })
    }

    /// Writes the log (and the allocation log, when allocations were counted) and returns the
    /// latency log's path (`None` if nothing was recorded).
    pub fn finish(mut self) -> Result<Option<PathBuf>> {
        self.finished = true;
        self.write()
    }

    /// The allocation log of the measured calls, when every one of them was counted.
    fn alloc_log(&self) -> Option<AllocLog> {
        let counted: Option<Vec<(u64, Counts)>> = self
            .calls
            .iter()
            .map(|c| Some((c.ops, c.allocated?)))
            .collect();
        AllocLog::of_samples(&self.id, counted?.into_iter())
    }

    fn write(&self) -> Result<Option<PathBuf>> {
        if let Some(allocs) = self.alloc_log() {
            allocs.write(self.dir.as_deref())?;
        }
        let Some(log) = self.log() else {
            return Ok(None);
        };
        write_log(self.dir.as_deref(), &log_file_name(&self.id), &log).map(Some)
    }
}

/// Appends `item`, dropping the oldest beyond `keep`: the last `keep` calls of criterion's
/// closure are its measured samples.
pub(crate) fn push_bounded<T>(q: &mut VecDeque<T>, keep: usize, item: T) {
    if q.len() == keep {
        q.pop_front();
    }
    q.push_back(item);
}

/// Writes a log as JSON into `dir` (the default log directory when `None`), atomically, and
/// returns its path.
pub(crate) fn write_log<T: Serialize>(
    dir: Option<&std::path::Path>,
    file_name: &str,
    log: &T,
) -> Result<PathBuf> {
    let dir = dir.map_or_else(default_log_dir, PathBuf::from);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
    let path = dir.join(file_name);
    let text = serde_json::to_string(log).map_err(|source| Error::Encode {
        path: path.clone(),
        source,
    })?;
    crate::atomic::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Says on stderr that a log could not be written from a recorder's drop: a panic there would
/// abort the bench, and a closed stderr is no reason for one.
pub(crate) fn warn_unwritten(what: &str, id: &str, e: &Error) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "perfgate: could not write {what} for {id:?}: {e}"
    );
}

impl Drop for LatencyRecorder {
    fn drop(&mut self) {
        if !self.finished
            && let Err(e) = self.write()
        {
            warn_unwritten("latency log", &self.id, &e);
        }
    }
}

/// Seconds since the Unix epoch (0 on a clock before it), for the logs' `written_at_unix`.
pub(crate) fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The log's file name for a benchmark id: readable prefix plus a hash, because ids may hold
/// any character and two ids may sanitize to the same prefix. Only ASCII letters, digits, `-`
/// and `_` appear before `.json`, so any id gives a valid, portable file name.
pub fn log_file_name(id: &str) -> String {
    let readable: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    format!("{readable}-{:016x}.json", fnv1a_64(id.as_bytes()))
}

/// 64-bit FNV-1a of `bytes`: tiny, dependency-free and fixed by its published constants, so a
/// benchmark's log keeps its file name across runs, platforms and versions of this crate (std's
/// hashers promise none of that). 64 bits make a clash between two ids of one suite
/// vanishingly unlikely; it is not meant to resist ids crafted to collide.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xCBF2_9CE4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    bytes
        .iter()
        .fold(OFFSET_BASIS, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

/// Where latency logs go when no directory is given, resolved from this process's environment
/// and executable path in the order documented in [`crate::log_dir`].
pub fn default_log_dir() -> PathBuf {
    LogDirSources::from_process().resolve()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_sample_size_calls() {
        let mut rec = LatencyRecorder::new("g/f", 3);
        for iters in [1, 2, 4, 8, 5, 5, 5] {
            rec.time_ops(iters, || {
                std::hint::black_box(1 + 1);
            });
        }
        let log = rec.log().unwrap();
        assert_eq!(log.iters, vec![5, 5, 5]);
        assert_eq!(log.ops, 15);
        assert_eq!(log.histogram.count(), 15);
        assert!(log.min_ns <= log.max_ns && log.p50_ns <= log.p99_ns && log.p99_ns <= log.p999_ns);
    }

    #[test]
    fn returned_total_is_the_sum_of_operations() {
        let mut rec = LatencyRecorder::new("x", 10);
        let total = rec.time_ops(3, || std::thread::sleep(Duration::from_millis(1)));
        assert!(total >= Duration::from_millis(3));
        let call = &rec.calls[0];
        assert_eq!(call.ops, 3);
        assert!(call.min >= 1_000_000 && call.max as u128 <= total.as_nanos());
    }

    #[test]
    fn writes_a_readable_log_on_finish() {
        let dir = crate::test_dir::TestDir::new("recorder-finish");
        let mut rec = LatencyRecorder::new("group/fn with spaces", 2).with_dir(dir.path());
        rec.record_sample(vec![Duration::from_micros(10), Duration::from_micros(30)]);
        let path = rec.finish().unwrap().unwrap();
        let log: LatencyLog = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(log.id, "group/fn with spaces");
        assert_eq!((log.min_ns, log.max_ns), (10_000, 30_000));
        assert!((log.p50_ns - 10_000.0).abs() < 200.0, "{}", log.p50_ns);
        assert_ne!(log_file_name("a/b"), log_file_name("a_b"));
    }

    #[test]
    fn file_names_are_stable_and_safe_for_any_id() {
        // Published FNV-1a 64 test vectors: the hash, and so every file name, must not drift.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(
            log_file_name("pool/roundtrip"),
            log_file_name("pool/roundtrip")
        );
        let long = "x".repeat(500);
        let hostile = [
            "../../etc/passwd",
            "",
            "a\0b",
            "nul\u{0}byte",
            "µs \u{1b}[31m",
            "C:\\con",
            long.as_str(),
        ];
        let mut names = std::collections::BTreeSet::new();
        for id in hostile {
            let name = log_file_name(id);
            let stem = name.strip_suffix(".json").expect("ends in .json");
            assert!(
                stem.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{name:?}"
            );
            assert!(name.len() <= 64 + 1 + 16 + 5, "{name:?}");
            names.insert(name);
        }
        assert_eq!(names.len(), hostile.len(), "distinct ids, distinct names");
    }
}
