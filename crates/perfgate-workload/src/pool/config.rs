//! How a pool starts its workers and sizes itself, and the check that the numbers agree.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::error::PoolError;

/// How a pool starts its workers and sizes itself.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// The worker program (`perfgate-pool-worker`, or anything speaking
    /// [`protocol`](super::protocol)).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Workers kept running even when idle (started by [`Pool::new`](super::Pool::new)).
    pub min_workers: usize,
    /// Most workers the pool grows to.
    pub max_workers: usize,
    /// Most tasks outstanding (queued or in flight) before `submit` applies backpressure.
    pub queue_capacity: usize,
    /// Most tasks sent to one worker and not yet answered (its pipeline depth).
    pub max_in_flight_per_worker: usize,
    /// Queued tasks (beyond what workers hold) that count as a backlog.
    pub grow_backlog: usize,
    /// How long a backlog must last before one more worker starts.
    pub grow_after: Duration,
    /// How long a worker must be idle before it is retired (above `min_workers`).
    pub shrink_after: Duration,
    /// How long a new worker may take to send its hello.
    pub start_timeout: Duration,
    /// How long a retiring worker may take to exit after its input closes.
    pub stop_timeout: Duration,
    /// Where the pool reports its runtime metrics (cargo feature `metrics`; default none).
    #[cfg(feature = "metrics")]
    pub metrics: Option<crate::metrics::Metrics>,
}

impl PoolConfig {
    /// Defaults for `program`: one to `available_parallelism` workers, 4,096 tasks in
    /// flight per worker, 65,536 outstanding, growth after 10 ms of backlog, shrink after
    /// 1 s idle.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PoolConfig {
            program: program.into(),
            args: Vec::new(),
            min_workers: 1,
            max_workers: cores,
            queue_capacity: 65_536,
            max_in_flight_per_worker: 4096,
            grow_backlog: 0,
            grow_after: Duration::from_millis(10),
            shrink_after: Duration::from_secs(1),
            start_timeout: Duration::from_secs(5),
            stop_timeout: Duration::from_secs(2),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// Sets the minimum and maximum number of workers.
    pub fn workers(mut self, min: usize, max: usize) -> Self {
        self.min_workers = min;
        self.max_workers = max;
        self
    }

    /// Reports the pool's runtime metrics (worker spawns, task durations, active and idle
    /// workers, queue depth, restarts) to `metrics` (cargo feature `metrics`).
    #[cfg(feature = "metrics")]
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Refuses what the pool could not honour: no worker at all, a minimum above the maximum,
    /// or room for no task.
    pub(super) fn validate(&self) -> Result<(), PoolError> {
        let bad = |m: &str| Err(PoolError::Config(m.to_string()));
        if self.max_workers == 0 || self.min_workers > self.max_workers {
            return bad("need 0 <= min_workers <= max_workers and max_workers >= 1");
        }
        if self.queue_capacity == 0 || self.max_in_flight_per_worker == 0 {
            return bad("queue_capacity and max_in_flight_per_worker must be at least 1");
        }
        Ok(())
    }
}
