//! What can go wrong: a pool that cannot start, a task without a result, a full queue.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

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
    /// [`Pool::cancel`](super::Pool::cancel) was called before the task finished.
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
