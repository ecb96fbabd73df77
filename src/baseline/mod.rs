//! Baselines: the versioned snapshot schema, atomic storage, git metadata and reads from refs.

pub mod git;
pub mod history;
pub mod machine;
pub mod refresh;
pub mod schema;
pub mod shard;
pub mod store;

pub use schema::{Benchmark, Machine, SCHEMA_VERSION, Snapshot, SnapshotKind};

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The longest testbed name: it becomes a file name.
pub const MAX_TESTBED_LEN: usize = 100;

/// Checks that a testbed name can name a file in the baselines directory and nothing else:
/// 1 to [`MAX_TESTBED_LEN`] of ASCII letters, digits, `.`, `_`, `-` and `+`, not starting with
/// a dot (so no `.`, `..`, hidden file, separator, absolute path or control character).
pub fn validate_testbed(name: &str) -> std::result::Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.len() > MAX_TESTBED_LEN {
        return Err(format!("it is longer than {MAX_TESTBED_LEN} bytes"));
    }
    if name.starts_with('.') {
        return Err("it starts with a dot".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')))
    {
        return Err(format!(
            "{c:?} is not allowed (letters, digits, '.', '_', '-' and '+' only)"
        ));
    }
    Ok(())
}

/// The conventional baseline path for a testbed: `<dir>/<testbed>.json`. The name comes from a
/// flag, an environment variable or a results file, so it is checked first: no name may read or
/// write outside `dir`.
pub fn path_for(dir: &Path, testbed: &str) -> Result<PathBuf> {
    validate_testbed(testbed)
        .map_err(|why| Error::Usage(format!("testbed name {testbed:?} is not usable: {why}")))?;
    Ok(dir.join(format!("{testbed}.json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testbed_names_stay_inside_the_baselines_directory() {
        for ok in ["linux-x86_64-2c-24g", "gha-ubuntu-24.04", "a", "x+y_z.1"] {
            assert!(validate_testbed(ok).is_ok(), "{ok}");
            assert_eq!(
                path_for(Path::new("baselines"), ok).unwrap(),
                Path::new("baselines").join(format!("{ok}.json"))
            );
        }
        let long = "a".repeat(MAX_TESTBED_LEN + 1);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "/etc/x",
            "a/b",
            "a\\b",
            ".hidden",
            "a\nb",
            "a\0b",
            "é",
            long.as_str(),
            "a b",
        ] {
            let e = path_for(Path::new("baselines"), bad)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("testbed name") && !e.contains('\n'),
                "{bad:?}: {e}"
            );
        }
    }
}
