//! Where perfgate keeps its own files: one layout for every command, under cargo's target
//! directory (`$CARGO_TARGET_DIR` when set, else the one `cargo metadata` reports, else
//! `./target`), so that a project with a moved target directory keeps perfgate's files there
//! too.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The paths of one invocation.
#[derive(Debug)]
pub struct Layout {
    cwd: PathBuf,
    target: OnceCell<PathBuf>,
}

impl Layout {
    /// The layout for a project whose working directory is `cwd`. Nothing is resolved yet:
    /// commands that write nothing under the target directory never ask cargo for it.
    pub fn new(cwd: &Path) -> Layout {
        Layout {
            cwd: cwd.to_path_buf(),
            target: OnceCell::new(),
        }
    }

    /// The working directory.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// Cargo's target directory, absolute.
    pub fn target_dir(&self) -> &Path {
        self.target.get_or_init(|| {
            let from_env = std::env::var_os("CARGO_TARGET_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
            let dir = from_env
                .or_else(|| crate::collect::criterion::cargo_target_dir(&self.cwd))
                .unwrap_or_else(|| PathBuf::from("target"));
            self.cwd.join(dir)
        })
    }

    /// perfgate's own folder: `<target>/perfgate`.
    pub fn perfgate_dir(&self) -> PathBuf {
        self.target_dir().join("perfgate")
    }

    /// The default results file of `run`, `check` and `compare`.
    pub fn results(&self) -> PathBuf {
        self.perfgate_dir().join("results.json")
    }

    /// The baseline commit's checkout and its confirmation runs.
    pub fn ab_dir(&self) -> PathBuf {
        self.perfgate_dir().join("ab")
    }

    /// The default target directory of the baseline commit's build.
    pub fn ab_target(&self) -> PathBuf {
        self.ab_dir().join("target")
    }

    /// The default target directory of `bisect`'s builds: its own, since it builds many
    /// commits in turn and must never leave check's baseline build stale.
    pub fn bisect_target(&self) -> PathBuf {
        self.ab_dir().join("bisect-target")
    }

    /// The target directory of `explain`'s profiling builds: their own, since they are built
    /// with frame pointers and line tables and must never stand in for a measured build.
    pub fn explain_target(&self) -> PathBuf {
        self.ab_dir().join("explain-target")
    }

    /// `explain`'s profiles and flame graphs.
    pub fn explain_dir(&self) -> PathBuf {
        self.perfgate_dir().join("explain")
    }

    /// The evaluation's files.
    pub fn eval_dir(&self) -> PathBuf {
        self.perfgate_dir().join("eval")
    }

    /// `path`, or `default` when it is not given, made absolute against the working
    /// directory (bench executables run in their package's directory, so relative paths
    /// handed to them would point elsewhere).
    pub fn or_default(&self, path: Option<&Path>, default: impl FnOnce() -> PathBuf) -> PathBuf {
        match path {
            Some(p) => self.cwd.join(p),
            None => default(),
        }
    }

    /// `path` made absolute, naming it in the error.
    pub fn absolute(&self, path: &Path) -> Result<PathBuf> {
        std::path::absolute(self.cwd.join(path)).map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_under_the_target_dir() {
        let l = Layout::new(Path::new("/w"));
        l.target.set(PathBuf::from("/t")).unwrap();
        assert_eq!(l.results(), Path::new("/t/perfgate/results.json"));
        assert_eq!(l.ab_target(), Path::new("/t/perfgate/ab/target"));
        assert_eq!(l.eval_dir(), Path::new("/t/perfgate/eval"));
        assert_eq!(
            l.explain_target(),
            Path::new("/t/perfgate/ab/explain-target")
        );
        assert_eq!(l.explain_dir(), Path::new("/t/perfgate/explain"));
        assert_eq!(
            l.or_default(Some(Path::new("r.json")), || l.results()),
            Path::new("/w/r.json")
        );
        assert_eq!(l.or_default(None, || l.results()), l.results());
    }
}
