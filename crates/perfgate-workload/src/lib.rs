//! Process spawning, pipes and a prefork process pool, built for speed and measured by
//! perfgate's flagship benchmark suite (the root package's `benches/{spawn,pipe,pool}.rs`).
//!
//! - [`spawn`]: start a program with piped, inherited or null standard streams, by
//!   `clone3(CLONE_VM | CLONE_VFORK)` straight into `execve` (the default) or by
//!   `posix_spawn`, neither of which copies the parent's page tables; plus a tiny static
//!   executable for measuring the cost of spawning alone.
//! - [`pipe`]: pipes with a chosen buffer size and the ways to move bytes through them: plain
//!   copies, `vmsplice`, `splice`, `sendfile`, all restarting on signals; and [`pipe::Pipeline`]
//!   for `a | b | c`.
//! - [`pool`]: a pool of long-lived worker processes that run tasks sent over pipes, with
//!   pipelining, timeouts, crash recovery, backpressure and adaptive sizing. The worker side is
//!   [`pool::worker`]; the crate's `perfgate-pool-worker` binary runs it.
//!
//! - [`inject`]: known slowdowns of those code paths (cargo feature `inject`), for measuring
//!   a regression gate against a ground truth.
//!
//! - [`metrics`] (cargo feature `metrics`): the spawner's and the pool's runtime metrics for
//!   Prometheus, through `prometheus-client`.
//!
//! `spawn` and `pipe` are Linux-only (they use `clone`, `posix_spawn`, `splice` and friends)
//! and `pool` needs Unix; elsewhere those modules are absent (only the pool's protocol and worker
//! loop remain) and the crate still builds.

#![deny(clippy::undocumented_unsafe_blocks)]

pub mod inject;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(target_os = "linux")]
pub mod pipe;
pub mod pool;
#[cfg(target_os = "linux")]
pub mod spawn;
