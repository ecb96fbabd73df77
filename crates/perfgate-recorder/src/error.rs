//! The recorder's error: what failed, on which file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A latency log could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation on `path` failed.
    Io {
        /// What was being done, as a verb phrase ("create directory", "write", ...).
        action: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The log could not be encoded as JSON (not expected with finite numbers, but reported
    /// rather than unwrapped, since this runs inside the user's bench).
    Encode {
        /// The file the log was meant for.
        path: PathBuf,
        /// serde_json's error.
        source: serde_json::Error,
    },
}

/// The recorder's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The file or directory the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Error::Io { path, .. } | Error::Encode { path, .. } => path,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Error::Encode { path, source } => {
                write!(f, "cannot encode latency log {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Encode { source, .. } => Some(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_keep_the_cause() {
        let e = Error::io(
            "write",
            Path::new("/x/log.json"),
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        let msg = e.to_string();
        assert!(msg.starts_with("cannot write /x/log.json: "), "{msg}");
        assert_eq!(e.path(), Path::new("/x/log.json"));
        assert!(std::error::Error::source(&e).is_some());
    }
}
