//! One perfgate at a time in a target directory.
//!
//! `check`, `run`, `baseline refresh`, `bisect`, `explain` and `eval-noise` write under
//! `<target>/perfgate/` (the baseline commit's checkout and build, each round's criterion
//! output, the results file) and empty some of it before they start. Two of them in one target
//! directory at once (two CI jobs of a matrix sharing a self-hosted runner's `CARGO_TARGET_DIR`,
//! a check started while another runs) would delete and overwrite each other's measurements and
//! produce a report of neither, with no error. So each holds an exclusive advisory lock on
//! `<target>/perfgate/.lock` for its whole run; a second one says what it waits for and waits,
//! as cargo does for its build directory. The lock is the kernel's (`flock` through
//! [`std::fs::File::lock`]), so a killed process never leaves it held.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::{Error, Result};

/// The lock, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: Option<File>,
}

/// Takes the lock of `dir` (perfgate's folder in the target directory), waiting for another
/// perfgate that holds it. A file system without locks is noted and not locked.
pub fn acquire(dir: &Path) -> Result<DirLock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            super::note(&format!(
                "waiting for another perfgate that is using {} (lock file {})",
                dir.display(),
                path.display()
            ));
            file.lock().map_err(|e| Error::io(&path, e))?;
        }
        Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
            super::note(&format!(
                "{}: this file system has no locks; two perfgate runs in this target directory at once would spoil each other's results",
                path.display()
            ));
            return Ok(DirLock { _file: None });
        }
        Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    }
    Ok(DirLock { _file: Some(file) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let _second = acquire(&path).unwrap();
            tx.send(()).unwrap();
        });
        // Still held: the second cannot have it yet.
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err()
        );
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the second takes the lock once the first lets go");
        waiter.join().unwrap();
    }

    #[test]
    fn the_lock_can_be_taken_again_after_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        drop(acquire(dir.path()).unwrap());
        let again = acquire(&dir.path().join("nested")).unwrap();
        drop(again);
        assert!(dir.path().join("nested/.lock").is_file());
    }
}
