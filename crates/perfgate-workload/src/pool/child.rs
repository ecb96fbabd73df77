//! Worker processes: starting them, stopping and killing them, reaping them, and replacing the
//! dead ones (settling their tasks first).

use std::io;
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::config::PoolConfig;
use super::driver::Pool;
use super::error::{PoolError, TaskError};
use super::pipes::{Death, Worker, pollfd};
use super::sys;
use super::task::State;

/// Pause after a failed spawn before trying again.
const SPAWN_BACKOFF: Duration = Duration::from_millis(100);

impl Worker {
    /// Starts the worker program and waits for its hello.
    pub(super) fn spawn(cfg: &PoolConfig) -> Result<Worker, PoolError> {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &cfg.metrics {
            let start = Instant::now();
            let result = Worker::spawn_now(cfg);
            let kind = crate::metrics::SpawnKind::PoolWorker;
            metrics.spawn_done(kind, start.elapsed(), result.is_ok());
            return result;
        }
        Worker::spawn_now(cfg)
    }

    fn spawn_now(cfg: &PoolConfig) -> Result<Worker, PoolError> {
        let child = Command::new(&cfg.program)
            .args(&cfg.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| PoolError::Spawn {
                program: cfg.program.clone(),
                source,
            })?;
        // From here on, dropping `w` kills and reaps the child.
        let mut w = Worker::new(child);
        w.handshake(cfg.start_timeout)
            .map_err(|message| PoolError::Handshake {
                program: cfg.program.clone(),
                message,
            })?;
        Ok(w)
    }

    /// Kills (if still running) and reaps the process; describes how it ended.
    pub(super) fn kill(&mut self) -> String {
        if self.reaped {
            return "already reaped".into();
        }
        let _ = self.child.kill();
        self.reaped = true;
        describe(self.child.wait())
    }

    /// Closes the worker's input and reaps it, killing it if it does not exit in time.
    pub(super) fn stop(mut self, timeout: Duration) {
        // Closing our end of its stdin is the worker's signal to exit.
        self.tx = None;
        let deadline = Instant::now() + timeout;
        let mut scratch = [0u8; 4096];
        loop {
            match sys::read(self.rx.as_fd(), &mut scratch) {
                Ok(Some(0)) | Err(_) => break,
                Ok(Some(_)) => continue,
                Ok(None) => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let mut fds = [pollfd(&self.rx, libc::POLLIN)];
            let _ = sys::poll(&mut fds, Some(left));
        }
        if let Ok(Some(_)) = self.child.try_wait() {
            self.reaped = true;
        } else {
            self.kill();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // No zombie and no open pipe outlives its worker, whatever path dropped it.
        self.kill();
    }
}

/// How a reaped process ended, for [`TaskError::WorkerDied`] and handshake errors.
fn describe(status: io::Result<ExitStatus>) -> String {
    match status {
        Ok(s) => match (s.signal(), s.code()) {
            (Some(sig), _) => format!("killed by signal {sig}"),
            (None, Some(code)) => format!("exit code {code}"),
            (None, None) => s.to_string(),
        },
        Err(e) => format!("could not be reaped: {e}"),
    }
}

impl Pool {
    /// Starts one worker unless the pool is at its maximum or the last attempt failed
    /// moments ago (a missing program must not turn every round into a failed spawn).
    pub(super) fn spawn_one(&mut self) -> bool {
        let now = Instant::now();
        if self.workers.len() >= self.cfg.max_workers || self.next_spawn.is_some_and(|t| now < t) {
            return false;
        }
        match Worker::spawn(&self.cfg) {
            Ok(w) => {
                self.workers.push(w);
                self.stats.spawned += 1;
                self.next_spawn = None;
                true
            }
            Err(e) => {
                self.spawn_error = e.to_string();
                self.next_spawn = Some(now + SPAWN_BACKOFF);
                false
            }
        }
    }

    /// Starts workers until `min_workers` run (or a spawn fails).
    pub(super) fn replace_to_min(&mut self) {
        while self.workers.len() < self.cfg.min_workers && self.spawn_one() {}
    }

    /// Buries the workers found dead during a round.
    pub(super) fn bury_dead(&mut self) {
        if self.dead.is_empty() {
            return;
        }
        let mut dead = std::mem::take(&mut self.dead);
        // Highest index first, so swap_remove does not move a worker still to bury.
        dead.sort_by_key(|d| std::cmp::Reverse(d.0));
        dead.dedup_by_key(|d| d.0);
        for (i, death) in dead.drain(..) {
            self.bury(i, death);
        }
        // Keeps the vector's capacity for the next round.
        self.dead = dead;
    }

    /// Reaps a dead (or to-be-killed) worker, settles its tasks and starts a replacement.
    pub(super) fn bury(&mut self, i: usize, death: Death) {
        let mut w = self.workers.swap_remove(i);
        let status = w.kill();
        self.stats.died += 1;
        let pid = w.pid;
        let mut inflight = std::mem::take(&mut w.inflight);
        let cause = match death {
            Death::Eof => status,
            Death::Pipe(e) => format!("{status}; pipe error: {e}"),
            Death::Protocol(e) => format!("{status}; protocol error: {e}"),
            Death::TimedOut(timeout) => {
                if let Some(front) = inflight.pop_front() {
                    self.table
                        .finish(front, Err(TaskError::TimedOut { pid, timeout }));
                }
                self.stats.timed_out += 1;
                format!("{status} after a task timed out")
            }
        };
        // Back to the front of the queue in their order, ahead of newer tasks.
        for slot in inflight.into_iter().rev() {
            let s = self.table.slot_mut(slot);
            if s.idempotent && !s.retried {
                s.retried = true;
                s.state = State::Queued;
                self.queue.push_front(slot);
                self.stats.retried += 1;
            } else {
                let cause = cause.clone();
                self.table
                    .finish(slot, Err(TaskError::WorkerDied { pid, cause }));
            }
        }
        drop(w);
        self.next_spawn = None;
        if self.spawn_one() {
            #[cfg(feature = "metrics")]
            if let Some(m) = &self.cfg.metrics {
                m.worker_restarted();
            }
            self.dispatch_queued();
        }
    }

    /// Fails every queued task: no worker runs and none could be started.
    pub(super) fn fail_queue_without_workers(&mut self) {
        while let Some(slot) = self.queue.pop_front() {
            let msg = self.spawn_error.clone();
            self.table.finish(slot, Err(TaskError::NoWorker(msg)));
        }
    }
}
