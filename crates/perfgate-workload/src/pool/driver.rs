//! The pool itself: its public API, the dispatch of tasks to workers, and the event loop that
//! the API's blocking calls run.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::config::PoolConfig;
use super::error::{Outcome, PoolError, QueueFull, TaskError};
use super::pipes::{Death, Worker, pollfd};
use super::protocol::MAX_PAYLOAD;
use super::sys;
use super::task::{State, Table, Task, Ticket};

/// Counters of what happened to the pool's workers and tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Workers started, including the first ones.
    pub spawned: u64,
    /// Workers that died or were killed (timeouts included).
    pub died: u64,
    /// Tasks that timed out.
    pub timed_out: u64,
    /// Idempotent tasks resent after their worker died.
    pub retried: u64,
    /// Workers started because of a backlog.
    pub grown: u64,
    /// Workers retired after idling.
    pub shrunk: u64,
}

/// A prefork pool of worker processes. See the [module documentation](super).
#[derive(Debug)]
pub struct Pool {
    pub(super) cfg: PoolConfig,
    pub(super) workers: Vec<Worker>,
    pub(super) table: Table,
    /// Slots of tasks waiting for a worker with room, oldest first.
    pub(super) queue: VecDeque<u32>,
    /// When the current backlog began (or the last growth it caused).
    pub(super) backlog_since: Option<Instant>,
    /// No spawn before this, after a failed one.
    pub(super) next_spawn: Option<Instant>,
    /// Why the last spawn failed, for tasks left without any worker.
    pub(super) spawn_error: String,
    /// Reused by every round: two per worker, its stdout (answers to read) then its stdin
    /// (buffered tasks to write).
    fds: Vec<libc::pollfd>,
    /// Workers found dead during a round, buried at the end of it.
    pub(super) dead: Vec<(usize, Death)>,
    pub(super) stats: PoolStats,
    /// This pool's share of the metrics' gauges (cargo feature `metrics`).
    #[cfg(feature = "metrics")]
    gauges: Option<crate::metrics::PoolGauges>,
}

impl Pool {
    /// Starts `min_workers` workers and waits for their hellos.
    pub fn new(cfg: PoolConfig) -> Result<Pool, PoolError> {
        cfg.validate()?;
        let mut pool = Pool {
            workers: Vec::with_capacity(cfg.max_workers),
            table: Table::default(),
            queue: VecDeque::new(),
            backlog_since: None,
            next_spawn: None,
            spawn_error: String::new(),
            fds: Vec::new(),
            dead: Vec::new(),
            stats: PoolStats::default(),
            #[cfg(feature = "metrics")]
            gauges: cfg.metrics.clone().map(crate::metrics::PoolGauges::new),
            cfg,
        };
        #[cfg(feature = "metrics")]
        {
            pool.table.metrics = pool.cfg.metrics.clone();
        }
        for _ in 0..pool.cfg.min_workers {
            pool.workers.push(Worker::spawn(&pool.cfg)?);
            pool.stats.spawned += 1;
        }
        #[cfg(feature = "metrics")]
        pool.publish_gauges();
        Ok(pool)
    }

    /// Submits a task, driving the pool (blocking) while the queue is full.
    pub fn submit(&mut self, task: Task<'_>) -> Ticket {
        while self.table.outstanding() >= self.cfg.queue_capacity {
            self.drive(None);
        }
        self.enqueue(task)
    }

    /// Submits a task unless the queue is full.
    pub fn try_submit(&mut self, task: Task<'_>) -> Result<Ticket, QueueFull> {
        if self.table.outstanding() >= self.cfg.queue_capacity {
            return Err(QueueFull(self.table.outstanding()));
        }
        Ok(self.enqueue(task))
    }

    /// Waits for a task's outcome and takes it (a ticket yields its outcome once).
    pub fn wait(&mut self, ticket: Ticket) -> Outcome {
        loop {
            if let Some(outcome) = self.try_take(ticket) {
                return outcome;
            }
            self.drive(None);
        }
    }

    /// Gives an answer back once the caller is done with it: its buffer carries a later answer,
    /// so a caller that recycles every answer makes its round trips allocation-free
    /// (`pool/roundtrip` holds 0 allocations per task this way).
    pub fn recycle(&mut self, answer: Vec<u8>) {
        self.table.recycle(answer);
    }

    /// Takes a task's outcome if it has one, without any I/O.
    pub fn try_take(&mut self, ticket: Ticket) -> Option<Outcome> {
        self.table.try_take(ticket)
    }

    /// Drives the pool once, waiting at most `timeout` for something to happen: sends
    /// buffered tasks, collects answers, enforces timeouts, replaces dead workers, grows
    /// or shrinks. Idle shrinking happens only while the owner calls this (or `wait`).
    pub fn poll(&mut self, timeout: Duration) {
        self.drive(Some(timeout));
    }

    /// Drives the pool until every submitted task has an outcome.
    pub fn wait_all(&mut self) {
        while self.table.outstanding() > 0 {
            self.drive(None);
        }
    }

    /// Finishes every outstanding task, then stops the workers (closing their input, so
    /// they exit) and reaps them. Returns the outcomes nobody took, so none is lost.
    pub fn shutdown(mut self) -> Vec<(Ticket, Outcome)> {
        self.wait_all();
        let timeout = self.cfg.stop_timeout;
        for w in self.workers.drain(..) {
            w.stop(timeout);
        }
        #[cfg(feature = "metrics")]
        self.publish_gauges();
        self.table.untaken()
    }

    /// Kills and reaps the workers at once; every unfinished task fails with
    /// [`TaskError::Cancelled`]. Returns the outcomes nobody took.
    pub fn cancel(mut self) -> Vec<(Ticket, Outcome)> {
        for mut w in self.workers.drain(..) {
            w.kill();
        }
        self.table.cancel_unfinished();
        self.queue.clear();
        #[cfg(feature = "metrics")]
        self.publish_gauges();
        self.table.untaken()
    }

    /// Number of running workers.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Process ids of the running workers.
    pub fn worker_pids(&self) -> Vec<u32> {
        self.workers.iter().map(|w| w.pid).collect()
    }

    /// Tasks submitted that have no outcome yet (queued or in flight).
    pub fn outstanding(&self) -> usize {
        self.table.outstanding()
    }

    /// Tasks waiting in the pool's queue for a worker.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// What happened so far.
    pub fn stats(&self) -> PoolStats {
        self.stats
    }

    /// Opens a slot for the task and sends it to the least loaded worker with room, or queues
    /// it. Tasks queue behind any already queued, so they are sent in submission order.
    fn enqueue(&mut self, task: Task<'_>) -> Ticket {
        crate::inject::timed(crate::inject::Site::PoolDispatch, || self.enqueue_now(task))
    }

    fn enqueue_now(&mut self, task: Task<'_>) -> Ticket {
        let worker = if self.queue.is_empty() {
            self.pick_worker()
        } else {
            None
        };
        let ticket = self.table.open(&task);
        if task.payload.len() > MAX_PAYLOAD {
            let msg = format!("payload of {} bytes is too large", task.payload.len());
            self.table.finish(ticket.slot, Err(TaskError::Refused(msg)));
            return ticket;
        }
        let s = self.table.slot_mut(ticket.slot);
        match worker {
            Some(w) => {
                s.state = State::InFlight;
                let worker = &mut self.workers[w];
                worker.send(ticket, task.kind as u8, task.payload);
                if worker.should_flush()
                    && let Err(death) = worker.flush()
                {
                    self.bury(w, death);
                }
            }
            None => {
                s.state = State::Queued;
                if s.payload.is_none() {
                    s.payload = Some(task.payload.into());
                }
                self.queue.push_back(ticket.slot);
                #[cfg(feature = "metrics")]
                if let Some(g) = &mut self.gauges {
                    g.queue(self.queue.len());
                }
            }
        }
        ticket
    }

    /// The live worker with the fewest unanswered tasks, if one has room.
    fn pick_worker(&self) -> Option<usize> {
        let mut best = None;
        let mut least = self.cfg.max_in_flight_per_worker;
        for (i, w) in self.workers.iter().enumerate() {
            if w.inflight.len() < least {
                least = w.inflight.len();
                best = Some(i);
            }
        }
        best
    }

    /// Sends queued tasks, oldest first, while some worker has room.
    pub(super) fn dispatch_queued(&mut self) {
        while let Some(&slot) = self.queue.front() {
            let Some(w) = self.pick_worker() else { break };
            self.queue.pop_front();
            let ticket = self.table.ticket(slot);
            let s = self.table.slot_mut(slot);
            let payload = s.payload.take().unwrap_or_default();
            self.workers[w].send(ticket, s.kind, &payload);
            s.state = State::InFlight;
            if s.idempotent {
                s.payload = Some(payload);
            }
        }
    }

    /// One round of work; blocks in `poll(2)` for at most `max_wait` (None: until
    /// something happens or a deadline passes).
    fn drive(&mut self, max_wait: Option<Duration>) {
        self.dispatch_queued();
        for (i, w) in self.workers.iter_mut().enumerate() {
            if let Err(death) = w.flush() {
                self.dead.push((i, death));
            }
        }
        self.bury_dead();
        if self.workers.is_empty() {
            self.replace_to_min();
            if self.workers.is_empty() && self.spawn_one() {
                self.dispatch_queued();
            }
            if self.workers.is_empty() {
                self.fail_queue_without_workers();
                return;
            }
        }
        let now = Instant::now();
        let wait = match (max_wait, self.next_deadline(now)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.fds.clear();
        for w in &self.workers {
            self.fds.push(pollfd(&w.rx, libc::POLLIN));
            self.fds.push(match &w.tx {
                Some(tx) if w.has_output() => pollfd(tx, libc::POLLOUT),
                // poll(2) ignores negative descriptors.
                _ => libc::pollfd {
                    fd: -1,
                    events: 0,
                    revents: 0,
                },
            });
        }
        if sys::poll(&mut self.fds, wait).is_err() {
            // Only resource exhaustion makes poll fail here; do not spin on it.
            std::thread::sleep(Duration::from_millis(1));
        }
        for i in 0..self.workers.len() {
            let (rin, rout) = (self.fds[2 * i].revents, self.fds[2 * i + 1].revents);
            let result = if rin != 0 {
                self.workers[i].read_answers(&mut self.table)
            } else {
                Ok(())
            };
            let result = result.and_then(|()| {
                if rout != 0 {
                    self.workers[i].flush()
                } else {
                    Ok(())
                }
            });
            if let Err(death) = result {
                self.dead.push((i, death));
            }
        }
        self.bury_dead();
        self.dispatch_queued();
        let now = Instant::now();
        self.check_timeouts(now);
        self.adapt(now);
        #[cfg(feature = "metrics")]
        self.publish_gauges();
    }

    /// Publishes the active and idle workers and the queue depth to the metrics, if any.
    #[cfg(feature = "metrics")]
    fn publish_gauges(&mut self) {
        if let Some(g) = &mut self.gauges {
            let active = self
                .workers
                .iter()
                .filter(|w| !w.inflight.is_empty())
                .count();
            g.workers(active, self.workers.len() - active);
            g.queue(self.queue.len());
        }
    }

    /// Kills (through [`Pool::bury`]) every worker whose front task ran out of time.
    fn check_timeouts(&mut self, now: Instant) {
        for (i, w) in self.workers.iter_mut().enumerate() {
            if let Some(timeout) = w.check_timeout(&self.table, now) {
                self.dead.push((i, Death::TimedOut(timeout)));
            }
        }
        self.bury_dead();
    }

    /// How long until something must happen without I/O: a timeout, a growth, a shrink or a
    /// spawn retry.
    fn next_deadline(&self, now: Instant) -> Option<Duration> {
        let timeouts = self
            .workers
            .iter()
            .filter_map(|w| w.timeout_deadline(&self.table, now));
        let next = timeouts.chain(self.next_resize()).min();
        next.map(|t| t.saturating_duration_since(now))
    }
}
