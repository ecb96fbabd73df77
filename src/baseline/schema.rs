//! The versioned file format shared by results files and baselines.
//!
//! A results file (`perfgate collect`, `perfgate run`) and a baseline (`baselines/<testbed>.json`)
//! are the same [`Snapshot`] with a different [`SnapshotKind`], so that `baseline refresh --from`
//! is a relabelling and `compare` accepts either on both sides. Field order is fixed by the
//! structs and benchmarks are kept sorted by id, so that the JSON is diff-friendly.

use serde::{Deserialize, Serialize};

use crate::vocab::{Metric, Unit};
use perfgate_recorder::histogram::Histogram;

/// The schema version this build writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of a benchmark suite, as a results file or as a committed baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// Whether this is a results file or a baseline.
    pub kind: SnapshotKind,
    /// The kind of machine this was measured on; baselines are stored per testbed.
    pub testbed: String,
    /// When the snapshot was made (RFC 3339, UTC).
    pub created_at: String,
    /// The commit the measured code came from, when it was measured inside a git repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
    /// Versions of the tools involved.
    pub tools: ToolVersions,
    /// Where it was measured.
    pub machine: Machine,
    /// Which criterion results it was read from.
    pub source: Source,
    /// Every benchmark, sorted by id.
    pub benchmarks: Vec<Benchmark>,
}

/// What a [`Snapshot`] file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    /// Written by `collect` or `run`.
    Results,
    /// Written by `baseline refresh`.
    Baseline,
}

/// Git metadata of the measured code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitInfo {
    /// Full commit hash of HEAD.
    pub commit: String,
    /// Branch name, if HEAD is on a branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Whether tracked files had uncommitted changes.
    pub dirty: bool,
    /// Commit time of HEAD (RFC 3339, UTC).
    pub commit_time: String,
}

/// Versions of the tools involved in a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolVersions {
    /// perfgate's own version.
    pub perfgate: String,
    /// `rustc --version`, if it could be run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rustc: Option<String>,
    /// The criterion version locked by the measured crate, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
}

/// A fingerprint of the machine a snapshot was measured on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// Operating system (`std::env::consts::OS`).
    pub os: String,
    /// CPU architecture (`std::env::consts::ARCH`).
    pub arch: String,
    /// CPU model name.
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub cores: u32,
    /// Kernel release.
    pub kernel: String,
    /// Total memory, in MiB.
    pub memory_mib: u64,
}

/// Which criterion output a snapshot was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The criterion result set: `new` for the latest run, or a `--save-baseline` name.
    pub criterion_baseline: String,
    /// perfgate's measurement profile (`default`, or `quick` for `--quick`) when perfgate ran
    /// the benches; absent for results collected from a run it did not start. Results of
    /// different profiles are not comparable (the quick profile measures far fewer operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// Criterion's throughput declaration, exactly as `benchmark.json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Throughput {
    /// Bytes per iteration, shown in binary multiples.
    Bytes(u64),
    /// Bytes per iteration, shown in decimal multiples.
    BytesDecimal(u64),
    /// Elements per iteration.
    Elements(u64),
    /// Bits per iteration.
    Bits(u64),
    /// Both elements and bytes per iteration.
    ElementsAndBytes {
        /// Elements per iteration.
        elements: u64,
        /// Bytes per iteration.
        bytes: u64,
    },
}

impl Snapshot {
    /// Whether no benchmark stores run-to-run noise: a baseline made from one run, against
    /// which a drift between runs reads as a change.
    pub fn stores_no_noise(&self) -> bool {
        !self.benchmarks.is_empty() && self.benchmarks.iter().all(|b| b.noise.is_none())
    }
}

impl Throughput {
    /// The amount per iteration and its unit, for reporting a rate (`<unit>/s`).
    /// Elements-and-bytes reports bytes, which is what criterion plots.
    pub fn per_iteration(&self) -> (f64, &'static str) {
        match *self {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n as f64, "B"),
            Throughput::Elements(n) => (n as f64, "elem"),
            Throughput::Bits(n) => (n as f64, "bit"),
            Throughput::ElementsAndBytes { bytes, .. } => (bytes as f64, "B"),
        }
    }
}

/// One benchmark's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benchmark {
    /// Criterion's `full_id`: the benchmark's identity and the baseline key.
    pub id: String,
    /// Criterion's `group_id`.
    pub group_id: String,
    /// Criterion's `function_id`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_id: Option<String>,
    /// Criterion's `value_str`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_str: Option<String>,
    /// Declared throughput per iteration, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// The raw samples.
    pub samples: Samples,
    /// Summary statistics of the per-iteration sample times.
    pub summary: Summary,
    /// Per-operation latency, when the benchmark used perfgate's recorder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// Allocations per operation, when the bench ran with perfgate's counting allocator.
    /// Optional, so schema version 1 files without it read as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocs: Option<Allocs>,
    /// Run-to-run variation measured by `baseline refresh --runs N` (baselines only). Optional,
    /// so schema version 1 files without it read as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<Noise>,
}

impl Benchmark {
    /// The unit of this benchmark's throughput.
    pub fn throughput_unit(&self) -> Unit {
        match self.throughput {
            Some(Throughput::Bytes(_)) => Unit::BytesPerSec { binary: true },
            Some(Throughput::BytesDecimal(_)) | Some(Throughput::ElementsAndBytes { .. }) => {
                Unit::BytesPerSec { binary: false }
            }
            Some(Throughput::Elements(_)) => Unit::ElementsPerSec,
            Some(Throughput::Bits(_)) => Unit::BitsPerSec,
            None => Unit::IterationsPerSec,
        }
    }

    /// Throughput per second for a mean per-iteration time.
    pub fn throughput_per_sec(&self, mean_ns: f64) -> f64 {
        let per_iter = self.throughput.map_or(1.0, |t| t.per_iteration().0);
        per_iter * 1e9 / mean_ns
    }
}

impl Noise {
    /// The relative run-to-run standard deviation of one metric, when measured.
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Throughput => Some(self.throughput),
            Metric::P50 => self.p50,
            Metric::P99 => self.p99,
            Metric::P999 => self.p999,
            // Counts are judged by the exact rule, or against their own samples: never widened
            // by a timing noise.
            Metric::Allocs | Metric::AllocBytes => None,
        }
    }
}

/// How much a benchmark's metrics vary between whole runs of the suite on the same machine:
/// the relative standard deviation (standard deviation / mean) of each metric's value across
/// `runs` runs. This is the drift one run's confidence interval cannot see (frequency, cache
/// and scheduler state that changes between `cargo bench` invocations).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// How many runs the figures come from (at least 2).
    pub runs: u32,
    /// Relative standard deviation of throughput across runs.
    pub throughput: f64,
    /// Relative standard deviation of the median latency, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// Relative standard deviation of the 99th percentile, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
    /// Relative standard deviation of the 99.9th percentile, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p999: Option<f64>,
}

/// Criterion's samples: sample i ran `iters[i]` iterations, each taking `per_iter_ns[i]` on average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Samples {
    /// Iterations per sample.
    pub iters: Vec<f64>,
    /// Per-iteration time of each sample, in nanoseconds (`times[i] / iters[i]`).
    pub per_iter_ns: Vec<f64>,
}

/// Summary statistics of per-iteration sample times (of batch means, not of operations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Mean per-iteration time, ns.
    pub mean_ns: f64,
    /// Median per-iteration time, ns.
    pub median_ns: f64,
    /// Standard deviation of per-iteration times, ns.
    pub std_dev_ns: f64,
    /// Fastest sample, ns per iteration.
    pub min_ns: f64,
    /// Slowest sample, ns per iteration.
    pub max_ns: f64,
}

/// Per-operation latency recorded by [`perfgate_recorder::LatencyRecorder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Number of operations timed in the measured samples.
    pub ops: u64,
    /// Median (histogram resolution, within 1.6%), ns.
    pub p50_ns: f64,
    /// 99th percentile, ns.
    pub p99_ns: f64,
    /// 99.9th percentile, ns.
    pub p999_ns: f64,
    /// 95% confidence interval of the median, ns (`[low, high]`).
    pub p50_ci_ns: [f64; 2],
    /// 95% confidence interval of the 99th percentile, ns.
    pub p99_ci_ns: [f64; 2],
    /// 95% confidence interval of the 99.9th percentile, ns.
    pub p999_ci_ns: [f64; 2],
    /// Fastest operation, ns.
    pub min_ns: f64,
    /// Slowest operation, ns.
    pub max_ns: f64,
    /// The distribution, for bootstrapping percentiles again.
    pub histogram: Histogram,
}

/// What the measured samples of a benchmark allocated, counted by
/// [`perfgate_recorder::CountingAllocator`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocs {
    /// Operations counted (the measured samples' iterations).
    pub ops: u64,
    /// Allocations in all of them.
    pub allocs: u64,
    /// Bytes allocated in all of them.
    pub bytes: u64,
    /// Allocations per operation of each measured sample, in order.
    pub allocs_per_op: Vec<f64>,
    /// Bytes per operation of each measured sample, in order.
    pub bytes_per_op: Vec<f64>,
}

impl Allocs {
    /// The counts of samples of `iters[i]` operations that allocated `allocs[i]` times and
    /// `bytes[i]` bytes; `None` without operations.
    pub fn from_samples(iters: &[u64], allocs: &[u64], bytes: &[u64]) -> Option<Allocs> {
        let ops = iters.iter().try_fold(0u64, |a, &n| a.checked_add(n))?;
        if ops == 0 || iters.len() != allocs.len() || iters.len() != bytes.len() {
            return None;
        }
        let per_op = |counts: &[u64]| -> Vec<f64> {
            counts
                .iter()
                .zip(iters)
                .map(|(&c, &n)| if n == 0 { 0.0 } else { c as f64 / n as f64 })
                .collect()
        };
        Some(Allocs {
            ops,
            allocs: allocs.iter().fold(0u64, |a, &c| a.saturating_add(c)),
            bytes: bytes.iter().fold(0u64, |a, &c| a.saturating_add(c)),
            allocs_per_op: per_op(allocs),
            bytes_per_op: per_op(bytes),
        })
    }

    /// The counts of several measurements of one benchmark taken together (the paired rounds
    /// of one side); `None` for none.
    pub fn pooled<'a>(parts: impl IntoIterator<Item = &'a Allocs>) -> Option<Allocs> {
        let mut out: Option<Allocs> = None;
        for a in parts {
            match &mut out {
                None => out = Some(a.clone()),
                Some(o) => {
                    o.ops = o.ops.saturating_add(a.ops);
                    o.allocs = o.allocs.saturating_add(a.allocs);
                    o.bytes = o.bytes.saturating_add(a.bytes);
                    o.allocs_per_op.extend_from_slice(&a.allocs_per_op);
                    o.bytes_per_op.extend_from_slice(&a.bytes_per_op);
                }
            }
        }
        out
    }

    /// The per-operation value of a count metric over every counted operation; `None` for a
    /// timing metric.
    pub fn per_op(&self, m: Metric) -> Option<f64> {
        let total = match m {
            Metric::Allocs => self.allocs,
            Metric::AllocBytes => self.bytes,
            _ => return None,
        };
        Some(total as f64 / self.ops.max(1) as f64)
    }

    /// The per-sample values of a count metric (empty for a timing metric).
    pub fn samples(&self, m: Metric) -> &[f64] {
        match m {
            Metric::Allocs => &self.allocs_per_op,
            Metric::AllocBytes => &self.bytes_per_op,
            _ => &[],
        }
    }
}
