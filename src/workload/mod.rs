//! The flagship benchmark subject: process spawn, pipes and a prefork process pool.
//!
//! `spawn` and `pipe` are Linux-only (they use `clone`, `posix_spawn`, `splice` and friends)
//! and `pool` needs Unix; elsewhere those modules are absent and the crate still builds.

#[cfg(target_os = "linux")]
pub mod pipe;
pub mod pool;
#[cfg(target_os = "linux")]
pub mod spawn;
