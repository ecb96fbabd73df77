//! Baselines: the versioned snapshot schema, atomic storage, git metadata and reads from refs.

pub mod git;
pub mod machine;
pub mod refresh;
pub mod schema;
pub mod store;

pub use schema::{Benchmark, Machine, SCHEMA_VERSION, Snapshot, SnapshotKind};

use std::path::{Path, PathBuf};

/// The conventional baseline path for a testbed: `<dir>/<testbed>.json`.
pub fn path_for(dir: &Path, testbed: &str) -> PathBuf {
    dir.join(format!("{testbed}.json"))
}
