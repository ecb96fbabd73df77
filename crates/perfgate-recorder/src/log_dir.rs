//! Where a [`LatencyRecorder`](crate::LatencyRecorder) writes its log when not told.
//!
//! [`LatencyRecorder::with_dir`](crate::LatencyRecorder::with_dir) names the directory.
//! Without it, [`default_log_dir`](crate::recorder::default_log_dir) picks the first of these
//! that applies, the same place `perfgate collect` looks by default
//! (`<criterion root>/.perfgate-latency`):
//!
//! 1. `$PERFGATE_LATENCY_DIR` ([`LATENCY_DIR_ENV`]), which `perfgate run` always sets;
//! 2. `$CRITERION_HOME/.perfgate-latency`, as criterion puts its output in `$CRITERION_HOME`;
//! 3. `$CARGO_TARGET_DIR/criterion/.perfgate-latency`;
//! 4. `<target>/criterion/.perfgate-latency`, with `<target>` found from the bench executable's
//!    own path: cargo builds benches into `<target>/<profile>/deps/`, so `<target>` is three
//!    levels above the executable, or four under `cargo bench --target <triple>`
//!    (`<target>/<triple>/<profile>/deps/`; recognised because the directory above
//!    `<target>/<triple>` is itself a cargo target directory, holding `CACHEDIR.TAG`);
//! 5. `target/criterion/.perfgate-latency` relative to the working directory (which cargo
//!    sets to the package's directory), when the executable is not in a `deps/` directory.
//!
//! Steps 3 to 5 stand in for what criterion and `perfgate collect` get from `cargo metadata`,
//! which the recorder must not run: it lives inside the user's bench process and never starts
//! a process. They agree with it unless cargo's `build-dir` is set apart from the target
//! directory (bench executables then live outside `<target>`); set `PERFGATE_LATENCY_DIR`, or
//! let `perfgate run` run the benches, in that case.

use std::path::{Path, PathBuf};

use crate::recorder::{LATENCY_DIR_ENV, LATENCY_SUBDIR};

/// The inputs of the default log directory, gathered apart from the resolution so that it can
/// be checked (and reused) without touching the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogDirSources {
    /// `$PERFGATE_LATENCY_DIR`.
    pub latency_dir: Option<PathBuf>,
    /// `$CRITERION_HOME`.
    pub criterion_home: Option<PathBuf>,
    /// `$CARGO_TARGET_DIR`.
    pub cargo_target_dir: Option<PathBuf>,
    /// The running executable (the bench binary), as [`std::env::current_exe`] gives it.
    pub current_exe: Option<PathBuf>,
}

impl LogDirSources {
    /// The values of this process: its environment variables and executable path.
    pub fn from_process() -> Self {
        LogDirSources {
            latency_dir: std::env::var_os(LATENCY_DIR_ENV).map(PathBuf::from),
            criterion_home: std::env::var_os("CRITERION_HOME").map(PathBuf::from),
            cargo_target_dir: std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from),
            current_exe: std::env::current_exe().ok(),
        }
    }

    /// The log directory these values give (see the [module documentation](self)). Looks at
    /// the file system only to tell a `--target <triple>` layout from the usual one.
    pub fn resolve(&self) -> PathBuf {
        self.resolve_with(&|dir| dir.join("CACHEDIR.TAG").is_file())
    }

    /// [`LogDirSources::resolve`] with the test for "is a cargo target directory" given.
    fn resolve_with(&self, is_target_dir: &dyn Fn(&Path) -> bool) -> PathBuf {
        if let Some(dir) = &self.latency_dir {
            return dir.clone();
        }
        if let Some(home) = &self.criterion_home {
            return home.join(LATENCY_SUBDIR);
        }
        let target = self
            .cargo_target_dir
            .clone()
            .or_else(|| {
                self.current_exe
                    .as_deref()
                    .and_then(|exe| target_dir_of_exe(exe, is_target_dir))
            })
            .unwrap_or_else(|| PathBuf::from("target"));
        target.join("criterion").join(LATENCY_SUBDIR)
    }
}

/// The target directory of an executable cargo built into `<target>[/<triple>]/<profile>/deps/`,
/// or `None` if `exe` is not in such a place.
fn target_dir_of_exe(exe: &Path, is_target_dir: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    let target = deps.parent()?.parent()?;
    // Under `--target <triple>`, `target` is `<target>/<triple>`: cargo marks both it and the
    // real target directory above it with CACHEDIR.TAG, and criterion writes to the one above.
    match target.parent() {
        Some(up) if !up.as_os_str().is_empty() && is_target_dir(up) => Some(up.to_path_buf()),
        _ => Some(target.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(
        latency: Option<&str>,
        home: Option<&str>,
        target: Option<&str>,
        exe: Option<&str>,
    ) -> LogDirSources {
        LogDirSources {
            latency_dir: latency.map(PathBuf::from),
            criterion_home: home.map(PathBuf::from),
            cargo_target_dir: target.map(PathBuf::from),
            current_exe: exe.map(PathBuf::from),
        }
    }

    /// Resolution with a file system in which `target_dirs` are the cargo target directories.
    fn resolve(s: &LogDirSources, target_dirs: &[&str]) -> PathBuf {
        s.resolve_with(&|d| target_dirs.iter().any(|t| Path::new(t) == d))
    }

    #[test]
    fn log_dir_resolution_follows_the_documented_order() {
        let exe = Some("/w/target/release/deps/pool-0123abcd");
        let all = sources(Some("/lat"), Some("/home"), Some("/tgt"), exe);
        assert_eq!(resolve(&all, &[]), PathBuf::from("/lat"));
        let s = LogDirSources {
            latency_dir: None,
            ..all.clone()
        };
        assert_eq!(resolve(&s, &[]), PathBuf::from("/home/.perfgate-latency"));
        let s = sources(None, None, Some("/tgt"), exe);
        assert_eq!(
            resolve(&s, &[]),
            PathBuf::from("/tgt/criterion/.perfgate-latency")
        );
        let s = sources(None, None, None, exe);
        assert_eq!(
            resolve(&s, &["/w/target"]),
            PathBuf::from("/w/target/criterion/.perfgate-latency")
        );
        let s = sources(None, None, None, None);
        assert_eq!(
            resolve(&s, &[]),
            PathBuf::from("target/criterion/.perfgate-latency")
        );
    }

    #[test]
    fn target_dir_from_the_executable_path() {
        let at = |exe: &str, target_dirs: &[&str]| {
            resolve(&sources(None, None, None, Some(exe)), target_dirs)
        };
        // A custom profile has its own directory; `<target>` is still three levels up.
        assert_eq!(
            at("/p/tgt/bench-fast/deps/b-1", &["/p/tgt"]),
            PathBuf::from("/p/tgt/criterion/.perfgate-latency")
        );
        // `cargo bench --target <triple>`: both levels are target directories; the outer wins.
        assert_eq!(
            at(
                "/p/target/x86_64-unknown-linux-gnu/release/deps/b-1",
                &["/p/target", "/p/target/x86_64-unknown-linux-gnu"]
            ),
            PathBuf::from("/p/target/criterion/.perfgate-latency")
        );
        // Not built by cargo (no deps/ directory): the working directory's target/.
        assert_eq!(
            at("/usr/local/bin/bench", &[]),
            PathBuf::from("target/criterion/.perfgate-latency")
        );
        // Too shallow to have a target directory.
        assert_eq!(
            at("/deps/b", &[]),
            PathBuf::from("target/criterion/.perfgate-latency")
        );
        assert_eq!(
            at("deps/b", &[]),
            PathBuf::from("target/criterion/.perfgate-latency")
        );
    }

    #[test]
    fn triple_layout_is_recognised_on_a_real_file_system() {
        let dir = crate::test_dir::TestDir::new("recorder-triple");
        let target = dir.path().join("target");
        let triple_deps = target.join("aarch64-unknown-linux-gnu/release/deps");
        let host_deps = target.join("release/deps");
        std::fs::create_dir_all(&triple_deps).unwrap();
        std::fs::create_dir_all(&host_deps).unwrap();
        std::fs::write(
            target.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();
        let expected = target.join("criterion").join(LATENCY_SUBDIR);
        for deps in [triple_deps, host_deps] {
            let s = LogDirSources {
                current_exe: Some(deps.join("bench-1")),
                ..LogDirSources::default()
            };
            assert_eq!(s.resolve(), expected, "{}", deps.display());
        }
    }
}
