//! The library's error type. Every variant that concerns a file names it, so that the
//! one-line message printed by the binary tells the user which file is wrong and why.

use std::path::PathBuf;

/// Everything that can go wrong in perfgate's library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A file's content is not what perfgate expects (bad JSON, bad values, wrong schema).
    #[error("{path}: {message}")]
    Invalid {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// No criterion output where it was expected.
    #[error("{path}: {message}")]
    NoCriterionOutput {
        /// The criterion directory that was searched.
        path: PathBuf,
        /// What was missing.
        message: String,
    },
    /// A git operation failed (reading a baseline from a ref, the repository's metadata).
    #[error("git: {0}")]
    Git(String),
    /// `cargo bench` or another child process failed.
    #[error("{0}")]
    Command(String),
    /// A user-supplied value (flag, glob, name) is not usable.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        Error::Git(e.message().to_string())
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
