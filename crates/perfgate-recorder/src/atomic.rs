//! Replacing a file atomically with std alone: a reader (`perfgate collect`, perhaps running
//! while another bench still writes) sees either the old log or the whole new one, never a
//! torn one.
//!
//! The bytes go to a uniquely named temporary file in the destination's own directory (a
//! rename is atomic only within one file system), which is flushed to disk and then renamed
//! over the destination. On any failure the temporary file is removed.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Distinguishes temporary files of one process; the process id distinguishes processes.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// Removes the temporary file unless the write got as far as renaming it.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Creates a new, uniquely named temporary file beside `path`.
fn create_temp(dir: &Path, name: &str) -> Result<(File, TempFile)> {
    let pid = std::process::id();
    // `create_new` makes a stale file of a dead process with a reused id harmless: on a clash
    // the next number is tried.
    let mut last_err = None;
    for _ in 0..64 {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        // Ends in `.tmp`, never `.json`: the collector reads only `*.json` files.
        let tmp = dir.join(format!(".{name}.{pid}-{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => {
                return Ok((
                    file,
                    TempFile {
                        path: tmp,
                        keep: false,
                    },
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some((tmp, e)),
            Err(e) => return Err(Error::io("create temporary file", &tmp, e)),
        }
    }
    let (tmp, e) = last_err.expect("the loop ran at least once");
    Err(Error::io("create temporary file", &tmp, e))
}

/// Writes `bytes` to `path` atomically (see the module doc). The directory must exist.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let Some(name) = path.file_name() else {
        return Err(Error::io(
            "write",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"),
        ));
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (mut file, mut tmp) = create_temp(dir, &name.to_string_lossy())?;
    file.write_all(bytes)
        .map_err(|e| Error::io("write", &tmp.path, e))?;
    // Without this, a crash soon after the rename can leave an empty file under the final name.
    file.sync_all()
        .map_err(|e| Error::io("flush to disk", &tmp.path, e))?;
    drop(file);
    std::fs::rename(&tmp.path, path).map_err(|e| Error::io("rename into place", path, e))?;
    tmp.keep = true;
    if let Ok(d) = File::open(dir) {
        // Durability of the rename itself; not every file system supports syncing a directory,
        // and the file is already complete, so a failure here is not an error.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = TestDir::new("atomic-replace");
        let path = dir.path().join("log.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(dir.path()), ["log.json"]);
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_and_names_the_file() {
        let dir = TestDir::new("atomic-fail");
        // A non-empty directory cannot be replaced by a file: the rename fails.
        let path = dir.path().join("taken.json");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"x").unwrap();
        let err = write_atomic(&path, b"data").unwrap_err();
        assert!(
            err.to_string().contains("taken.json"),
            "message names the file: {err}"
        );
        assert_eq!(entries(dir.path()), ["taken.json"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let dir = TestDir::new("atomic-missing");
        let path = dir.path().join("absent").join("log.json");
        let err = write_atomic(&path, b"data").unwrap_err();
        assert!(err.to_string().contains("absent"), "{err}");
    }
}
