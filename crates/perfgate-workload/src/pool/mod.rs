//! A prefork pool of long-lived worker processes running tasks sent over pipes.
//!
//! [`Pool::submit`] returns a [`Ticket`] (a slot index and generation into a preallocated
//! completion table: no allocation, no syscall, no thread wake-up per task) and appends the
//! task's frame to the output buffer of the worker with the least outstanding work. Buffers go
//! out in big writes; workers read big chunks and answer in batches (see [`worker`]). The pool
//! has no background thread: its owner drives it by calling [`Pool::wait`], [`Pool::poll`] or
//! [`Pool::submit`], which flush, `poll(2)` every worker, collect answers, enforce timeouts,
//! replace dead workers and resize the pool.
//!
//! Reliability: every submitted task gets exactly one outcome, its result or a [`TaskError`].
//! A worker that dies (crash, `kill -9`, broken pipe, protocol violation) is reaped and
//! replaced; its unanswered tasks fail with [`TaskError::WorkerDied`], except tasks marked
//! idempotent, which are resent once. A task that runs past its timeout fails with
//! [`TaskError::TimedOut`] and its worker is killed and replaced. [`Pool::shutdown`] drains,
//! [`Pool::cancel`] cancels; both (and drop) reap every child and close every pipe.
//!
//! Sizing: between `min_workers` and `max_workers`. Each worker takes at most
//! `max_in_flight_per_worker` tasks; the rest wait in the pool's queue, whose depth drives
//! growth (one worker per `grow_after` of sustained backlog). A worker idle for `shrink_after`
//! is retired while more than `min_workers` run. The whole queue (queued plus in flight) is
//! bounded by `queue_capacity`: `submit` blocks (driving the pool) while it is full,
//! `try_submit` refuses.
//!
//! Unix only. Writes to a dead worker's pipe raise `SIGPIPE`, which Rust programs ignore by
//! default; a host program that restores the default disposition would be killed by it.

pub mod protocol;
pub mod worker;

#[cfg(unix)]
mod sys;

#[cfg(unix)]
pub use unix::*;

#[cfg(unix)]
mod unix {
    use std::collections::VecDeque;
    use std::ffi::OsString;
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::process::ExitStatusExt;
    use std::path::PathBuf;
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::time::{Duration, Instant};

    use super::protocol::{self, FrameBuf, MAX_PAYLOAD, STATUS_OK, TaskKind};
    use super::sys;

    /// A worker's output buffer is written out as soon as it holds this much.
    const FLUSH_BYTES: usize = 32 << 10;
    /// Initial read buffer per worker.
    const READ_BYTES: usize = 256 << 10;
    /// Pipe buffer asked for: a full pipeline of small frames fits without blocking.
    const PIPE_BYTES: usize = 1 << 20;
    /// Pause after a failed spawn before trying again.
    const SPAWN_BACKOFF: Duration = Duration::from_millis(100);

    /// How a pool starts its workers and sizes itself.
    #[derive(Debug, Clone)]
    pub struct PoolConfig {
        /// The worker program (`perfgate-pool-worker`, or anything speaking [`protocol`]).
        pub program: PathBuf,
        /// Its arguments.
        pub args: Vec<OsString>,
        /// Workers kept running even when idle (started by [`Pool::new`]).
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
            }
        }

        /// Sets the minimum and maximum number of workers.
        pub fn workers(mut self, min: usize, max: usize) -> Self {
            self.min_workers = min;
            self.max_workers = max;
            self
        }

        fn validate(&self) -> Result<(), PoolError> {
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

    /// A pool that could not start.
    #[derive(Debug, thiserror::Error)]
    pub enum PoolError {
        /// The configuration is inconsistent.
        #[error("pool config: {0}")]
        Config(String),
        /// The worker program could not be started.
        #[error("cannot start worker {program}: {source}", program = .program.display())]
        Spawn {
            /// The program.
            program: PathBuf,
            /// Why.
            #[source]
            source: io::Error,
        },
        /// The worker started but did not greet the pool correctly.
        #[error("worker {program} failed its handshake: {message}", program = .program.display())]
        Handshake {
            /// The program.
            program: PathBuf,
            /// What went wrong.
            message: String,
        },
    }

    /// Why a task has no result.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum TaskError {
        /// The worker running the task died before answering (and the task was not
        /// idempotent, or had already been retried once).
        #[error("worker {pid} died before answering ({cause})")]
        WorkerDied {
            /// The dead worker's process id.
            pid: u32,
            /// How it died.
            cause: String,
        },
        /// The task ran longer than its timeout; its worker was killed and replaced.
        #[error("task timed out after {timeout:?}; worker {pid} was killed")]
        TimedOut {
            /// The worker that was killed.
            pid: u32,
            /// The task's timeout.
            timeout: Duration,
        },
        /// The worker refused the task (unknown kind, bad payload) or it was too large to send.
        #[error("task refused: {0}")]
        Refused(String),
        /// No worker could be started to run the task.
        #[error("no worker available: {0}")]
        NoWorker(String),
        /// [`Pool::cancel`] was called before the task finished.
        #[error("task cancelled")]
        Cancelled,
        /// The ticket's outcome was already taken, or the ticket is not from this pool.
        #[error("unknown ticket (outcome already taken?)")]
        UnknownTicket,
    }

    /// The outcome of a task: its result payload or why there is none.
    pub type Outcome = Result<Vec<u8>, TaskError>;

    /// `try_submit` found the queue full.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
    #[error("the pool's queue is full ({0} tasks outstanding)")]
    pub struct QueueFull(pub usize);

    /// A task to submit: borrowed payload, so submitting does not allocate.
    #[derive(Debug, Clone, Copy)]
    pub struct Task<'a> {
        /// What the worker does.
        pub kind: TaskKind,
        /// Its input.
        pub payload: &'a [u8],
        /// Resend once to another worker if the worker dies before answering.
        pub idempotent: bool,
        /// Fail the task, and kill its worker, if it runs longer than this.
        pub timeout: Option<Duration>,
    }

    impl<'a> Task<'a> {
        /// A task of `kind` with `payload`, not idempotent, without timeout.
        pub fn new(kind: TaskKind, payload: &'a [u8]) -> Self {
            Task {
                kind,
                payload,
                idempotent: false,
                timeout: None,
            }
        }

        /// An echo task.
        pub fn echo(payload: &'a [u8]) -> Self {
            Task::new(TaskKind::Echo, payload)
        }

        /// Marks the task idempotent: it may be run twice if its worker dies.
        pub fn idempotent(mut self) -> Self {
            self.idempotent = true;
            self
        }

        /// Sets the task's timeout (counted from when its worker starts on it).
        pub fn timeout(mut self, timeout: Duration) -> Self {
            self.timeout = Some(timeout);
            self
        }
    }

    /// The handle of a submitted task: redeem it once with [`Pool::wait`] or
    /// [`Pool::try_take`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Ticket {
        slot: u32,
        generation: u32,
    }

    impl Ticket {
        fn wire_id(self) -> u64 {
            (u64::from(self.generation) << 32) | u64::from(self.slot)
        }
    }

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

    #[derive(Debug)]
    enum State {
        Free,
        Queued,
        InFlight,
        Done(Outcome),
    }

    #[derive(Debug)]
    struct Slot {
        generation: u32,
        state: State,
        kind: u8,
        idempotent: bool,
        retried: bool,
        timeout: Option<Duration>,
        /// Kept only while the task may still have to be sent: queued, or idempotent.
        payload: Option<Box<[u8]>>,
    }

    #[derive(Debug)]
    enum Death {
        Eof,
        Pipe(io::Error),
        Protocol(String),
        TimedOut(Duration),
    }

    #[derive(Debug)]
    struct Worker {
        child: Child,
        pid: u32,
        /// Our end of the worker's stdin; `None` once closed to make it exit.
        tx: Option<OwnedFd>,
        rx: OwnedFd,
        out: Vec<u8>,
        out_pos: usize,
        inbuf: FrameBuf,
        /// Slots sent and not yet answered, in the order the worker answers them.
        inflight: VecDeque<u32>,
        /// The front task (slot, generation) and when the pool first saw it at the front.
        front_seen: Option<(u32, u32, Instant)>,
        idle_since: Option<Instant>,
        reaped: bool,
    }

    impl Worker {
        fn spawn(cfg: &PoolConfig) -> Result<Worker, PoolError> {
            let mut child = Command::new(&cfg.program)
                .args(&cfg.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|source| PoolError::Spawn {
                    program: cfg.program.clone(),
                    source,
                })?;
            let tx: OwnedFd = child.stdin.take().expect("stdin is piped").into();
            let rx: OwnedFd = child.stdout.take().expect("stdout is piped").into();
            let mut w = Worker {
                pid: child.id(),
                child,
                tx: Some(tx),
                rx,
                out: Vec::with_capacity(FLUSH_BYTES * 2),
                out_pos: 0,
                inbuf: FrameBuf::new(READ_BYTES),
                inflight: VecDeque::new(),
                front_seen: None,
                idle_since: Some(Instant::now()),
                reaped: false,
            };
            w.handshake(cfg.start_timeout)
                .map_err(|message| PoolError::Handshake {
                    program: cfg.program.clone(),
                    message,
                })?;
            Ok(w)
        }

        fn handshake(&mut self, timeout: Duration) -> Result<(), String> {
            for fd in [tx_fd(&self.tx)?, self.rx.as_fd()] {
                sys::set_nonblocking(fd).map_err(|e| e.to_string())?;
                sys::grow_pipe(fd, PIPE_BYTES);
            }
            let deadline = Instant::now() + timeout;
            loop {
                if let Some(body) = self.inbuf.next_body().map_err(|e| e.to_string())? {
                    protocol::decode_hello(body).map_err(|e| e.to_string())?;
                    return Ok(());
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(format!("no hello within {timeout:?}"));
                }
                let mut fds = [pollfd(&self.rx, libc::POLLIN)];
                sys::poll(&mut fds, Some(left)).map_err(|e| e.to_string())?;
                match sys::read(self.rx.as_fd(), self.inbuf.spare()) {
                    Ok(Some(0)) => {
                        let status = self.kill();
                        return Err(format!("exited before its hello ({status})"));
                    }
                    Ok(Some(n)) => self.inbuf.filled(n),
                    Ok(None) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        }

        #[inline]
        fn send(&mut self, slot: u32, generation: u32, kind: u8, payload: &[u8]) {
            let id = Ticket { slot, generation }.wire_id();
            protocol::encode(&mut self.out, id, kind, payload);
            self.inflight.push_back(slot);
            self.idle_since = None;
        }

        fn has_output(&self) -> bool {
            self.out_pos < self.out.len()
        }

        /// Writes as much buffered output as the pipe takes without blocking.
        fn flush(&mut self) -> Result<(), Death> {
            let Some(tx) = &self.tx else {
                return Err(Death::Eof);
            };
            while self.has_output() {
                match sys::write(tx.as_fd(), &self.out[self.out_pos..]) {
                    Ok(0) => return Ok(()),
                    Ok(n) => self.out_pos += n,
                    Err(e) => return Err(Death::Pipe(e)),
                }
            }
            self.out.clear();
            self.out_pos = 0;
            Ok(())
        }

        /// Kills (if still running) and reaps the process; describes how it ended.
        fn kill(&mut self) -> String {
            if self.reaped {
                return "already reaped".into();
            }
            let _ = self.child.kill();
            self.reaped = true;
            describe(self.child.wait())
        }

        /// Closes the worker's input and reaps it, killing it if it does not exit in time.
        fn stop(mut self, timeout: Duration) {
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
            self.kill();
        }
    }

    fn tx_fd(tx: &Option<OwnedFd>) -> Result<std::os::fd::BorrowedFd<'_>, String> {
        tx.as_ref()
            .map(|fd| fd.as_fd())
            .ok_or_else(|| "input already closed".to_string())
    }

    fn pollfd(fd: &OwnedFd, events: libc::c_short) -> libc::pollfd {
        use std::os::fd::AsRawFd;
        libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        }
    }

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

    /// A prefork pool of worker processes. See the [module documentation](self).
    #[derive(Debug)]
    pub struct Pool {
        cfg: PoolConfig,
        workers: Vec<Worker>,
        slots: Vec<Slot>,
        free: Vec<u32>,
        queue: VecDeque<u32>,
        outstanding: usize,
        backlog_since: Option<Instant>,
        next_spawn: Option<Instant>,
        spawn_error: String,
        fds: Vec<libc::pollfd>,
        dead: Vec<(usize, Death)>,
        stats: PoolStats,
    }

    impl Pool {
        /// Starts `min_workers` workers and waits for their hellos.
        pub fn new(cfg: PoolConfig) -> Result<Pool, PoolError> {
            cfg.validate()?;
            let mut pool = Pool {
                workers: Vec::with_capacity(cfg.max_workers),
                slots: Vec::new(),
                free: Vec::new(),
                queue: VecDeque::new(),
                outstanding: 0,
                backlog_since: None,
                next_spawn: None,
                spawn_error: String::new(),
                fds: Vec::new(),
                dead: Vec::new(),
                stats: PoolStats::default(),
                cfg,
            };
            for _ in 0..pool.cfg.min_workers {
                pool.workers.push(Worker::spawn(&pool.cfg)?);
                pool.stats.spawned += 1;
            }
            Ok(pool)
        }

        /// Submits a task, driving the pool (blocking) while the queue is full.
        pub fn submit(&mut self, task: Task<'_>) -> Ticket {
            while self.outstanding >= self.cfg.queue_capacity {
                self.drive(None);
            }
            self.enqueue(task)
        }

        /// Submits a task unless the queue is full.
        pub fn try_submit(&mut self, task: Task<'_>) -> Result<Ticket, QueueFull> {
            if self.outstanding >= self.cfg.queue_capacity {
                return Err(QueueFull(self.outstanding));
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

        /// Takes a task's outcome if it has one, without any I/O.
        pub fn try_take(&mut self, ticket: Ticket) -> Option<Outcome> {
            let Some(slot) = self.slots.get_mut(ticket.slot as usize) else {
                return Some(Err(TaskError::UnknownTicket));
            };
            if slot.generation != ticket.generation {
                return Some(Err(TaskError::UnknownTicket));
            }
            match slot.state {
                State::Queued | State::InFlight => None,
                State::Free => Some(Err(TaskError::UnknownTicket)),
                State::Done(_) => {
                    let State::Done(outcome) = std::mem::replace(&mut slot.state, State::Free)
                    else {
                        unreachable!("matched Done above")
                    };
                    slot.generation = slot.generation.wrapping_add(1);
                    self.free.push(ticket.slot);
                    Some(outcome)
                }
            }
        }

        /// Drives the pool once, waiting at most `timeout` for something to happen: sends
        /// buffered tasks, collects answers, enforces timeouts, replaces dead workers, grows
        /// or shrinks. Idle shrinking happens only while the owner calls this (or `wait`).
        pub fn poll(&mut self, timeout: Duration) {
            self.drive(Some(timeout));
        }

        /// Drives the pool until every submitted task has an outcome.
        pub fn wait_all(&mut self) {
            while self.outstanding > 0 {
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
            self.untaken()
        }

        /// Kills and reaps the workers at once; every unfinished task fails with
        /// [`TaskError::Cancelled`]. Returns the outcomes nobody took.
        pub fn cancel(mut self) -> Vec<(Ticket, Outcome)> {
            for mut w in self.workers.drain(..) {
                w.kill();
            }
            for slot in &mut self.slots {
                if matches!(slot.state, State::Queued | State::InFlight) {
                    slot.state = State::Done(Err(TaskError::Cancelled));
                    slot.payload = None;
                }
            }
            self.queue.clear();
            self.outstanding = 0;
            self.untaken()
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
            self.outstanding
        }

        /// Tasks waiting in the pool's queue for a worker.
        pub fn queued(&self) -> usize {
            self.queue.len()
        }

        /// What happened so far.
        pub fn stats(&self) -> PoolStats {
            self.stats
        }

        fn untaken(&mut self) -> Vec<(Ticket, Outcome)> {
            let tickets: Vec<Ticket> = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| matches!(s.state, State::Done(_)))
                .map(|(i, s)| Ticket {
                    slot: i as u32,
                    generation: s.generation,
                })
                .collect();
            tickets
                .into_iter()
                .filter_map(|t| self.try_take(t).map(|o| (t, o)))
                .collect()
        }

        fn enqueue(&mut self, task: Task<'_>) -> Ticket {
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.slots.push(Slot {
                        generation: 0,
                        state: State::Free,
                        kind: 0,
                        idempotent: false,
                        retried: false,
                        timeout: None,
                        payload: None,
                    });
                    (self.slots.len() - 1) as u32
                }
            };
            let worker = if self.queue.is_empty() {
                self.pick_worker()
            } else {
                None
            };
            let s = &mut self.slots[slot as usize];
            s.kind = task.kind as u8;
            s.idempotent = task.idempotent;
            s.retried = false;
            s.timeout = task.timeout;
            s.payload = task.idempotent.then(|| task.payload.into());
            let ticket = Ticket {
                slot,
                generation: s.generation,
            };
            self.outstanding += 1;
            if task.payload.len() > MAX_PAYLOAD {
                let msg = format!("payload of {} bytes is too large", task.payload.len());
                self.finish(slot, Err(TaskError::Refused(msg)));
                return ticket;
            }
            match worker {
                Some(w) => {
                    s.state = State::InFlight;
                    let worker = &mut self.workers[w];
                    worker.send(slot, ticket.generation, task.kind as u8, task.payload);
                    if worker.out.len() - worker.out_pos >= FLUSH_BYTES
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
                    self.queue.push_back(slot);
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

        fn finish(&mut self, slot: u32, outcome: Outcome) {
            let s = &mut self.slots[slot as usize];
            s.state = State::Done(outcome);
            s.payload = None;
            self.outstanding -= 1;
        }

        fn dispatch_queued(&mut self) {
            while let Some(&slot) = self.queue.front() {
                let Some(w) = self.pick_worker() else { break };
                self.queue.pop_front();
                let s = &mut self.slots[slot as usize];
                let payload = s.payload.take().unwrap_or_default();
                self.workers[w].send(slot, s.generation, s.kind, &payload);
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
                    self.read_worker(i)
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
        }

        /// Reads what a worker has answered and completes those tasks.
        fn read_worker(&mut self, i: usize) -> Result<(), Death> {
            let Pool {
                workers,
                slots,
                outstanding,
                ..
            } = self;
            let w = &mut workers[i];
            loop {
                let spare = w.inbuf.spare();
                let room = spare.len();
                let n = match sys::read(w.rx.as_fd(), spare) {
                    Ok(Some(0)) => return Err(Death::Eof),
                    Ok(Some(n)) => n,
                    Ok(None) => break,
                    Err(e) => return Err(Death::Pipe(e)),
                };
                w.inbuf.filled(n);
                while let Some(body) = w.inbuf.next_body().map_err(protocol_death)? {
                    let frame = protocol::decode(body).map_err(protocol_death)?;
                    let slot = frame.id as u32;
                    let generation = (frame.id >> 32) as u32;
                    let expected = w.inflight.front().copied();
                    if expected != Some(slot) || slots[slot as usize].generation != generation {
                        return Err(Death::Protocol(format!(
                            "answer {:#x} does not match the oldest task sent",
                            frame.id
                        )));
                    }
                    w.inflight.pop_front();
                    let outcome = if frame.code == STATUS_OK {
                        Ok(frame.payload.to_vec())
                    } else {
                        Err(TaskError::Refused(
                            String::from_utf8_lossy(frame.payload).into_owned(),
                        ))
                    };
                    let s = &mut slots[slot as usize];
                    s.state = State::Done(outcome);
                    s.payload = None;
                    *outstanding -= 1;
                }
                if n < room {
                    break;
                }
            }
            if w.inflight.is_empty() && w.idle_since.is_none() {
                w.idle_since = Some(Instant::now());
            }
            Ok(())
        }

        fn bury_dead(&mut self) {
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
            self.dead = dead;
        }

        /// Reaps a dead (or to-be-killed) worker, settles its tasks and starts a replacement.
        fn bury(&mut self, i: usize, death: Death) {
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
                        self.finish(front, Err(TaskError::TimedOut { pid, timeout }));
                    }
                    self.stats.timed_out += 1;
                    format!("{status} after a task timed out")
                }
            };
            // Back to the front of the queue in their order, ahead of newer tasks.
            for slot in inflight.into_iter().rev() {
                let s = &mut self.slots[slot as usize];
                if s.idempotent && !s.retried {
                    s.retried = true;
                    s.state = State::Queued;
                    self.queue.push_front(slot);
                    self.stats.retried += 1;
                } else {
                    let cause = cause.clone();
                    self.finish(slot, Err(TaskError::WorkerDied { pid, cause }));
                }
            }
            drop(w);
            self.next_spawn = None;
            if self.spawn_one() {
                self.dispatch_queued();
            }
        }

        /// Starts one worker unless the last attempt failed moments ago.
        fn spawn_one(&mut self) -> bool {
            let now = Instant::now();
            if self.workers.len() >= self.cfg.max_workers
                || self.next_spawn.is_some_and(|t| now < t)
            {
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

        fn replace_to_min(&mut self) {
            while self.workers.len() < self.cfg.min_workers && self.spawn_one() {}
        }

        fn fail_queue_without_workers(&mut self) {
            while let Some(slot) = self.queue.pop_front() {
                let msg = self.spawn_error.clone();
                self.finish(slot, Err(TaskError::NoWorker(msg)));
            }
        }

        fn check_timeouts(&mut self, now: Instant) {
            for (i, w) in self.workers.iter_mut().enumerate() {
                let Some(&front) = w.inflight.front() else {
                    continue;
                };
                let s = &self.slots[front as usize];
                let Some(timeout) = s.timeout else { continue };
                match w.front_seen {
                    Some((slot, generation, since))
                        if slot == front && generation == s.generation =>
                    {
                        if now.duration_since(since) >= timeout {
                            self.dead.push((i, Death::TimedOut(timeout)));
                        }
                    }
                    _ => w.front_seen = Some((front, s.generation, now)),
                }
            }
            self.bury_dead();
        }

        /// The nearest moment something must happen without I/O: a timeout, a growth or a
        /// shrink.
        fn next_deadline(&self, now: Instant) -> Option<Duration> {
            let mut next: Option<Instant> = None;
            let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
            for w in &self.workers {
                let Some(&front) = w.inflight.front() else {
                    continue;
                };
                let s = &self.slots[front as usize];
                if let Some(timeout) = s.timeout {
                    match w.front_seen {
                        Some((slot, generation, since))
                            if slot == front && generation == s.generation =>
                        {
                            consider(since + timeout)
                        }
                        _ => consider(now + timeout),
                    }
                }
            }
            if let Some(since) = self.backlog_since {
                consider(since + self.cfg.grow_after);
            }
            if self.workers.len() > self.cfg.min_workers {
                for w in &self.workers {
                    if let Some(idle) = w.idle_since {
                        consider(idle + self.cfg.shrink_after);
                    }
                }
            }
            if self.workers.len() < self.cfg.min_workers
                && let Some(t) = self.next_spawn
            {
                consider(t);
            }
            next.map(|t| t.saturating_duration_since(now))
        }

        /// Grows on sustained backlog, shrinks after idling, refills to the minimum.
        fn adapt(&mut self, now: Instant) {
            if self.queue.len() > self.cfg.grow_backlog && self.workers.len() < self.cfg.max_workers
            {
                let since = *self.backlog_since.get_or_insert(now);
                if now.duration_since(since) >= self.cfg.grow_after {
                    if self.spawn_one() {
                        self.stats.grown += 1;
                        self.dispatch_queued();
                    }
                    self.backlog_since = Some(now);
                }
            } else {
                self.backlog_since = None;
            }
            if self.workers.len() > self.cfg.min_workers && self.queue.is_empty() {
                let shrink_after = self.cfg.shrink_after;
                let idle = self.workers.iter().position(|w| {
                    w.inflight.is_empty()
                        && !w.has_output()
                        && w.idle_since
                            .is_some_and(|t| now.duration_since(t) >= shrink_after)
                });
                if let Some(i) = idle {
                    let w = self.workers.swap_remove(i);
                    w.stop(self.cfg.stop_timeout);
                    self.stats.shrunk += 1;
                }
            }
            self.replace_to_min();
        }
    }

    fn protocol_death(e: protocol::ProtocolError) -> Death {
        Death::Protocol(e.to_string())
    }
}
