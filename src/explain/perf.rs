//! Running `perf record` around one benchmark of a bench executable, and `perf script` over
//! the result.
//!
//! The event is the software clock (`-e cpu-clock`): the virtual machines perfgate runs on
//! report hardware counters as "not supported", while the clock samples everywhere perf runs.
//! Stacks come from frame pointers (`-g`): the profiling builds are made with
//! `-C force-frame-pointers=yes` and line tables, and on this kind of machine that gave whole
//! stacks from the benchmark's function up through criterion's `Bencher::iter` to `main`, at
//! about 0.3 MB for 2,000 samples. `--call-graph dwarf` copies 8 KiB of stack per sample (tens
//! of MB for the same profile) and makes `perf script` slow, for stacks that are no better
//! in code built with frame pointers; only the standard library's own frames (built without
//! them) can be cut short, which leaves the benchmark's functions intact.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Why profiling cannot run here, with the one line that says how to enable it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// No `perf` on `PATH`.
    #[error(
        "profiling needs perf, which is not installed: apt-get install linux-perf (Debian) or linux-tools-$(uname -r) (Ubuntu)"
    )]
    NotInstalled,
    /// `kernel.perf_event_paranoid` forbids sampling for this user.
    #[error(
        "profiling is forbidden by kernel.perf_event_paranoid = {0}: run `sudo sysctl kernel.perf_event_paranoid=1` (or profile as root)"
    )]
    Paranoid(i64),
    /// `perf record` ran and refused (a container without the perf_event_open system call,
    /// for instance).
    #[error(
        "perf record cannot sample here ({0}): allow perf_event_open (sudo sysctl kernel.perf_event_paranoid=1; in a container, a seccomp profile that permits it)"
    )]
    Refused(String),
}

/// The highest `perf_event_paranoid` at which an unprivileged user may still sample their own
/// processes (2: user space only, which is what the software clock of a benchmark needs; 3 and
/// above, as some distributions patch it, forbid it).
const MAX_PARANOID: i64 = 2;

/// Whether profiling can run: perf is installed and the paranoia level lets this process
/// sample (root is always allowed).
pub fn check() -> Result<(), Unavailable> {
    let installed = Command::new("perf")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        return Err(Unavailable::NotInstalled);
    }
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    match paranoid {
        Some(p) if p > MAX_PARANOID && !is_root() => Err(Unavailable::Paranoid(p)),
        _ => Ok(()),
    }
}

/// Whether this process runs as root, from `/proc/self/status` (no unsafe `geteuid` call).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Sampling frequency of the software clock, per second: 999 rather than 1000 so that the
/// samples do not march in step with a periodic timer.
pub const FREQUENCY: u32 = 999;

/// Runs `command` under `perf record -e cpu-clock -F FREQUENCY -g`, writing `data`.
/// A failure of perf itself (not of the profiled command) is [`Unavailable::Refused`] inside
/// [`Error::Command`]'s message.
pub fn record(command: &mut Command, data: &Path) -> Result<()> {
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let mut perf = Command::new("perf");
    perf.args(["record", "-q", "-e", "cpu-clock", "-F"])
        .arg(FREQUENCY.to_string())
        .args(["-g", "-o"])
        .arg(data)
        .arg("--")
        .arg(&program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = command.get_current_dir() {
        perf.current_dir(dir);
    }
    for (k, v) in command.get_envs() {
        match v {
            Some(v) => perf.env(k, v),
            None => perf.env_remove(k),
        };
    }
    let out = perf
        .output()
        .map_err(|e| Error::Command(Unavailable::Refused(e.to_string()).to_string()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail = crate::collect::run::last_lines(&stderr, 5);
        // perf's own refusal names perf_event_open or the paranoid setting; anything else is
        // the benchmark failing under it.
        if stderr.contains("perf_event_open") || stderr.contains("perf_event_paranoid") {
            return Err(Error::Command(
                Unavailable::Refused(first_line(&stderr)).to_string(),
            ));
        }
        return Err(Error::Command(format!(
            "{} failed under perf record ({}):\n{tail}",
            Path::new(&program).display(),
            out.status
        )));
    }
    Ok(())
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_string()
}

/// The text of `perf script` over `data`, for [`super::fold_perf_script`].
pub fn script(data: &Path) -> Result<String> {
    let out = Command::new("perf")
        .args(["script", "-i"])
        .arg(data)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| Error::Command(format!("cannot run perf script: {e}")))?;
    if !out.status.success() {
        return Err(Error::Command(format!(
            "perf script -i {} failed ({}): {}",
            data.display(),
            out.status,
            first_line(&String::from_utf8_lossy(&out.stderr))
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_is_one_line_that_says_what_to_do() {
        for u in [
            Unavailable::NotInstalled,
            Unavailable::Paranoid(3),
            Unavailable::Refused("x".into()),
        ] {
            let s = u.to_string();
            assert!(!s.contains('\n'), "{s}");
            assert!(s.contains("sysctl") || s.contains("apt-get"), "{s}");
        }
    }
}
