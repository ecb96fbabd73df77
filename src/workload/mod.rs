//! The flagship benchmark subject: process spawn, pipes and a prefork process pool.
//!
//! The workloads are Linux-only (they use `clone`, `posix_spawn`, `splice` and friends); on
//! other systems the modules are absent and the crate still builds.

#[cfg(target_os = "linux")]
pub mod pipe;
#[cfg(target_os = "linux")]
pub mod spawn;
