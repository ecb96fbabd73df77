//! `perfgate config`: the compiled-in defaults, a commented `perfgate.toml`. It works without
//! a valid user config, since it is what a user reads to mend one: a broken file is reported
//! on stderr after the defaults are printed, and the exit code says so.

use std::path::Path;

use super::{load_config, note, out, plan};
use crate::config::DEFAULT_CONFIG;
use crate::error::Result;
use crate::{EXIT_ERROR, EXIT_PASS};

/// Prints the defaults, then checks the user's file: exit 0 when it is valid or absent, 2
/// (with the error on stderr) when it is not.
pub(super) fn run(global: &plan::Global, cwd: &Path) -> Result<i32> {
    out(DEFAULT_CONFIG)?;
    match load_config(global, cwd) {
        Ok(_) => Ok(EXIT_PASS),
        Err(e) => {
            note(&format!(
                "error: {e} (the defaults above are the compiled-in ones; your file is layered over them)"
            ));
            Ok(EXIT_ERROR)
        }
    }
}
