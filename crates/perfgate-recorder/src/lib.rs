//! perfgate's per-operation latency recorder, for criterion benchmarks.
//!
//! Benches add this crate as a dev-dependency to time every operation of a benchmark with
//! [`LatencyRecorder`]; `perfgate collect` (or `perfgate run`) then attaches the recorded
//! percentiles to the criterion result with the same id. It depends on serde and serde_json
//! only and never starts a process, so it adds little to a bench build.
//!
//! - [`recorder`]: the recorder and the log it writes ([`LatencyLog`]), and where it writes it.
//! - [`profile`]: measurement profiles (`PERFGATE_PROFILE=quick` for smoke runs).
//! - [`log_dir`]: where logs go by default, found without starting a process.
//! - [`histogram`]: the log-linear latency histogram shared by the recorder and the gate.
//! - [`alloc`]: the counting global allocator, and the log of allocations per measured sample.

pub mod alloc;
pub mod histogram;
pub mod log_dir;
pub mod profile;
pub mod recorder;

mod atomic;
mod error;

pub use alloc::{AllocLog, AllocRecorder, CountingAllocator};
pub use error::{Error, Result};
pub use histogram::{Cumulative, Histogram};
pub use profile::{PROFILE_ENV, Profile};
pub use recorder::{
    LATENCY_DIR_ENV, LATENCY_SUBDIR, LOG_SCHEMA_VERSION, LatencyLog, LatencyRecorder,
};

#[cfg(test)]
mod test_dir;
