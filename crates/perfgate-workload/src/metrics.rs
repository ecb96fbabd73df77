//! Runtime metrics of the spawner and the pool for Prometheus (cargo feature `metrics`).
//!
//! Create one [`Metrics`] with [`Metrics::new`], which registers its families into your
//! [`Registry`], and hand clones of it to [`Spawn::metrics`](crate::spawn::Spawn::metrics)
//! and [`PoolConfig::with_metrics`](crate::pool::PoolConfig::with_metrics). Encode the
//! registry with [`prometheus_client::encoding::text::encode`] to serve `/metrics` (the
//! `metrics_server` example does it over plain `std::net`).
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `perfgate_workload_spawns_total` | counter | `method` | processes started (successfully) |
//! | `perfgate_workload_spawn_failures_total` | counter | `method` | starts that failed |
//! | `perfgate_workload_spawn_duration_seconds` | histogram | `method` | time to start one (or fail) |
//! | `perfgate_workload_task_duration_seconds` | histogram | | pool task, submit to outcome |
//! | `perfgate_workload_pool_workers_active` | gauge | | workers with tasks in flight |
//! | `perfgate_workload_pool_workers_idle` | gauge | | workers without tasks |
//! | `perfgate_workload_pool_queue_depth` | gauge | | tasks queued for a worker |
//! | `perfgate_workload_pool_worker_restarts_total` | counter | | replacements of dead workers |
//!
//! `method` is `clone_vfork` or `posix_spawn` for [`Spawn`](crate::spawn::Spawn), and
//! `pool_worker` for the pool's workers (started with `std::process::Command` and counted
//! until their hello arrives: a worker that starts but never greets is a failure).
//!
//! Cost: every update is one or two relaxed atomic operations on handles created up front (no
//! lock, no allocation, no label lookup); a pool with metrics also reads the clock once per
//! task at submission and once at its outcome. Without the feature none of this is compiled.
//! Several pools may share one `Metrics`: the gauges are kept as sums of each pool's share.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

/// The prefix of every metric name.
pub const PREFIX: &str = "perfgate_workload";

/// Upper bounds of the duration histograms' buckets, in nanoseconds: 1 µs times powers of
/// four, up to about 16.8 s (then `+Inf`).
const BOUNDS_NS: [u64; 13] = {
    let mut b = [0u64; 13];
    let mut i = 0;
    let mut v = 1_000u64;
    while i < 13 {
        b[i] = v;
        v *= 4;
        i += 1;
    }
    b
};

/// How a process was started: the `method` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpawnKind {
    /// [`Method::CloneVfork`](crate::spawn::Method::CloneVfork).
    CloneVfork = 0,
    /// [`Method::PosixSpawn`](crate::spawn::Method::PosixSpawn).
    PosixSpawn = 1,
    /// A pool worker.
    PoolWorker = 2,
}

const KINDS: [(SpawnKind, &str); 3] = [
    (SpawnKind::CloneVfork, "clone_vfork"),
    (SpawnKind::PosixSpawn, "posix_spawn"),
    (SpawnKind::PoolWorker, "pool_worker"),
];

type MethodLabel = [(&'static str, &'static str); 1];

/// A histogram of durations kept in atomics (prometheus-client's own histogram takes a lock
/// per observation). Clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct DurationHistogram {
    inner: Arc<HistogramInner>,
}

#[derive(Debug, Default)]
struct HistogramInner {
    /// One count per bound of [`BOUNDS_NS`], then the `+Inf` bucket (not cumulative).
    buckets: [AtomicU64; BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
}

impl DurationHistogram {
    /// Counts one observation.
    pub fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = BOUNDS_NS.partition_point(|&b| b < ns);
        self.inner.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.inner.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        let b = &self.inner.buckets;
        b.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for DurationHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for DurationHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        // The count is the sum of the buckets read, so the two always agree.
        let mut count = 0;
        let buckets: Vec<(f64, u64)> = self
            .inner
            .buckets
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let n = c.load(Ordering::Relaxed);
                count += n;
                let bound = BOUNDS_NS.get(i).map_or(f64::MAX, |&ns| ns as f64 / 1e9);
                (bound, n)
            })
            .collect();
        let sum = self.inner.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// The handle of the workload's metrics: cheap to clone (clones share everything). See the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    spawns: [Counter; 3],
    spawn_failures: [Counter; 3],
    spawn_duration: [DurationHistogram; 3],
    task_duration: DurationHistogram,
    workers_active: Gauge,
    workers_idle: Gauge,
    queue_depth: Gauge,
    worker_restarts: Counter,
}

impl Metrics {
    /// Creates the metrics and registers them into `registry` under the `perfgate_workload_`
    /// prefix. Every labelled series exists from the start (at zero).
    pub fn new(registry: &mut Registry) -> Metrics {
        let spawns = Family::<MethodLabel, Counter>::default();
        let failures = Family::<MethodLabel, Counter>::default();
        let durations = Family::<MethodLabel, DurationHistogram>::default();
        let label = |k: SpawnKind| [("method", KINDS[k as usize].1)];
        let pick = |k| {
            (
                spawns.get_or_create(&label(k)).clone(),
                failures.get_or_create(&label(k)).clone(),
                durations.get_or_create(&label(k)).clone(),
            )
        };
        let [a, b, c] = KINDS.map(|(k, _)| pick(k));
        let inner = Inner {
            spawns: [a.0, b.0, c.0],
            spawn_failures: [a.1, b.1, c.1],
            spawn_duration: [a.2, b.2, c.2],
            task_duration: DurationHistogram::default(),
            workers_active: Gauge::default(),
            workers_idle: Gauge::default(),
            queue_depth: Gauge::default(),
            worker_restarts: Counter::default(),
        };
        let r = registry.sub_registry_with_prefix(PREFIX);
        r.register(
            "spawns",
            "Processes started successfully, by spawn method",
            spawns,
        );
        r.register(
            "spawn_failures",
            "Process starts that failed, by spawn method",
            failures,
        );
        r.register(
            "spawn_duration_seconds",
            "Time to start one process or fail to (a pool worker: until its hello), by spawn method",
            durations,
        );
        r.register(
            "task_duration_seconds",
            "Pool tasks from submission to outcome, whatever the outcome",
            inner.task_duration.clone(),
        );
        r.register(
            "pool_workers_active",
            "Pool workers with tasks in flight",
            inner.workers_active.clone(),
        );
        r.register(
            "pool_workers_idle",
            "Pool workers without tasks in flight",
            inner.workers_idle.clone(),
        );
        r.register(
            "pool_queue_depth",
            "Pool tasks waiting for a worker with room",
            inner.queue_depth.clone(),
        );
        r.register(
            "pool_worker_restarts",
            "Pool workers started to replace one that died (crash, kill, timeout)",
            inner.worker_restarts.clone(),
        );
        Metrics {
            inner: Arc::new(inner),
        }
    }

    /// The task duration histogram (for tests and for reading counts in-process).
    pub fn task_duration(&self) -> &DurationHistogram {
        &self.inner.task_duration
    }

    pub(crate) fn spawn_done(&self, kind: SpawnKind, elapsed: Duration, ok: bool) {
        let i = kind as usize;
        if ok {
            self.inner.spawns[i].inc();
        } else {
            self.inner.spawn_failures[i].inc();
        }
        self.inner.spawn_duration[i].observe(elapsed);
    }

    pub(crate) fn task_done(&self, elapsed: Duration) {
        self.inner.task_duration.observe(elapsed);
    }

    pub(crate) fn worker_restarted(&self) {
        self.inner.worker_restarts.inc();
    }
}

/// One pool's share of the gauges: it adds the difference to what it published last, and
/// takes its share back when dropped, so pools sharing a [`Metrics`] add up.
#[derive(Debug)]
pub(crate) struct PoolGauges {
    metrics: Metrics,
    active: i64,
    idle: i64,
    queued: i64,
}

impl PoolGauges {
    pub(crate) fn new(metrics: Metrics) -> PoolGauges {
        PoolGauges {
            metrics,
            active: 0,
            idle: 0,
            queued: 0,
        }
    }

    /// Publishes the number of active and idle workers.
    pub(crate) fn workers(&mut self, active: usize, idle: usize) {
        let m = &self.metrics.inner;
        move_gauge(&m.workers_active, &mut self.active, active as i64);
        move_gauge(&m.workers_idle, &mut self.idle, idle as i64);
    }

    /// Publishes the queue depth.
    pub(crate) fn queue(&mut self, depth: usize) {
        move_gauge(
            &self.metrics.inner.queue_depth,
            &mut self.queued,
            depth as i64,
        );
    }
}

fn move_gauge(gauge: &Gauge, mine: &mut i64, now: i64) {
    if now != *mine {
        gauge.inc_by(now - *mine);
        *mine = now;
    }
}

impl Drop for PoolGauges {
    fn drop(&mut self) {
        self.workers(0, 0);
        self.queue(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_land_in_the_first_bucket_that_holds_them() {
        let h = DurationHistogram::default();
        h.observe(Duration::from_nanos(1_000)); // on the 1 µs bound: that bucket
        h.observe(Duration::from_nanos(1_001)); // just above: the 4 µs bucket
        h.observe(Duration::from_secs(60)); // beyond the last bound: +Inf
        let n = |i: usize| h.inner.buckets[i].load(Ordering::Relaxed);
        assert_eq!((n(0), n(1), n(BOUNDS_NS.len())), (1, 1, 1));
        assert_eq!(h.count(), 3);
        assert_eq!(h.inner.sum_ns.load(Ordering::Relaxed), 60_000_002_001);
    }

    #[test]
    fn pools_sharing_metrics_add_their_gauges_and_take_them_back() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        let mut a = PoolGauges::new(m.clone());
        let mut b = PoolGauges::new(m.clone());
        a.workers(2, 1);
        b.workers(1, 3);
        a.queue(5);
        a.workers(0, 3);
        assert_eq!(m.inner.workers_active.get(), 1);
        assert_eq!(m.inner.workers_idle.get(), 6);
        assert_eq!(m.inner.queue_depth.get(), 5);
        drop(a);
        assert_eq!(m.inner.workers_idle.get(), 3);
        assert_eq!(m.inner.queue_depth.get(), 0);
        drop(b);
        assert_eq!(m.inner.workers_active.get(), 0);
        assert_eq!(m.inner.workers_idle.get(), 0);
    }
}
