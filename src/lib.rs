//! perfgate: a performance-regression gate for Rust projects.
//!
//! The modules follow the data flow: [`collect`] reads criterion's output (and perfgate's
//! per-operation latency logs) into a [`baseline::Snapshot`]; [`baseline`] stores snapshots as
//! versioned JSON and reads them from git; [`stats`] holds the statistics; [`compare`] turns two
//! snapshots and a [`config::Config`] into verdicts; [`report`] renders them. The binary in
//! `src/main.rs` is a thin layer over [`app`].

pub mod app;
pub mod baseline;
pub mod cli;
pub mod collect;
pub mod compare;
pub mod config;
pub mod confirm;
pub mod error;
pub mod eval;
pub mod report;
pub mod stats;

#[cfg(test)]
mod testutil;

pub use error::{Error, Result};

/// Exit code: no regression.
pub const EXIT_PASS: i32 = 0;
/// Exit code: at least one regression (or a missing benchmark configured to fail).
pub const EXIT_REGRESSION: i32 = 1;
/// Exit code: usage error or bad input (missing, corrupt or incompatible file).
pub const EXIT_ERROR: i32 = 2;
