//! A scratch directory for unit tests, removed on drop (std only: the crate has no
//! dev-dependencies, so its tests build as light as the crate).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty directory under the system's temporary directory.
pub(crate) struct TestDir(PathBuf);

impl TestDir {
    /// Creates `perfgate-recorder-<label>-<pid>-<n>`; `create_dir` (not `_all`) fails rather
    /// than reuse a leftover of an earlier run.
    pub(crate) fn new(label: &str) -> Self {
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "perfgate-recorder-{label}-{}-{n}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return TestDir(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create {}: {e}", dir.display()),
            }
        }
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
