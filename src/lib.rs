//! perfgate: a performance-regression gate for Rust projects.
//!
//! The modules follow the data flow: [`collect`] reads criterion's output (and perfgate's
//! per-operation latency logs) into a [`baseline::Snapshot`]; [`baseline`] stores snapshots as
//! versioned JSON and reads them from git; [`stats`] holds the statistics; [`compare`] turns two
//! snapshots and a [`config::Config`] into verdicts; [`explain`] profiles one benchmark on
//! two builds and says which functions and system calls grew; [`report`] renders them. The
//! binary in `src/main.rs` is a thin layer over [`cli`] (the command line, converted into
//! plans) and [`cmd`] (one file per command). [`vocab`] is the vocabulary every layer shares. The
//! flagship benchmark subject is the `perfgate-workload` crate; the per-operation latency
//! recorder that benches use is the `perfgate-recorder` crate.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod bisect;
pub mod cli;
pub mod cmd;
pub mod collect;
pub mod compare;
pub mod config;
pub mod confirm;
pub mod error;
pub mod eval;
pub mod explain;
pub mod history;
pub mod report;
pub mod stats;
pub mod vocab;

#[cfg(test)]
mod testutil;

pub use error::{Error, Result};

/// Exit code: no regression.
pub const EXIT_PASS: i32 = 0;
/// Exit code: at least one regression (or a missing benchmark configured to fail).
pub const EXIT_REGRESSION: i32 = 1;
/// Exit code: usage error or bad input (missing, corrupt or incompatible file).
pub const EXIT_ERROR: i32 = 2;
/// Exit code of `explain`: profiling is unavailable on this machine (no perf, or forbidden).
pub const EXIT_PROFILING_UNAVAILABLE: i32 = 3;
