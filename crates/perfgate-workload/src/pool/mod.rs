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
//!
//! The code follows the concerns: [`PoolConfig`] and its validation (`config.rs`), the errors
//! (`error.rs`), tasks, tickets and the completion table (`task.rs`), one worker's pipes and
//! buffers and the timeout rule (`pipes.rs`), starting, reaping, killing and replacing workers
//! (`child.rs`), growing and shrinking (`sizing.rs`), and the [`Pool`] itself with its event
//! loop (`driver.rs`).

pub mod protocol;
pub mod worker;

#[cfg(unix)]
mod child;
#[cfg(unix)]
mod config;
#[cfg(unix)]
mod driver;
#[cfg(unix)]
mod error;
#[cfg(unix)]
mod pipes;
#[cfg(unix)]
mod sizing;
#[cfg(unix)]
mod sys;
#[cfg(unix)]
mod task;

#[cfg(unix)]
pub use config::PoolConfig;
#[cfg(unix)]
pub use driver::{Pool, PoolStats};
#[cfg(unix)]
pub use error::{Outcome, PoolError, QueueFull, TaskError};
#[cfg(unix)]
pub use task::{Task, Ticket};
