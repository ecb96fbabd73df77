//! Running `perf record` around one benchmark of a bench executable, and `perf script` over
//! the result.
//!
//! The event is the software clock (`-e cpu-clock`): the virtual machines perfgate runs on
//! report hardware counters as "not supported", while the clock samples everywhere perf runs.
//! Stacks come from frame pointers (`-g`): the profiling builds are made with
//! `-C force-frame-pointers=yes` and line tables. Measured here on the fixture crate (a 2 s
//! profile at 999 Hz, release build): frame pointers gave whole stacks from the benchmark's
//! function through criterion's `Bencher::iter` and `Routine::profile` to `main`, 1,987 samples
//! in 0.29 MB, `perf script` in 0.13 s. `--call-graph dwarf` gave the same stacks plus inlined
//! frames (`rotate_left (inlined)`), 1,979 samples in 15.9 MB (it copies 8 KiB of stack per
//! sample), `perf script` in 0.57 s and 2.4 times the lines to fold. The frames that matter for
//! a self-time ranking are the non-inlined functions, which both give; frame pointers cost a
//! fiftieth of the disk and a quarter of the time. Only the standard library (not rebuilt
//! with frame pointers) can cut a stack short, above the benchmark's own frames.

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

/// perf, ready to sample: [`check`] found it allowed, with the event this user may sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perf {
    event: &'static str,
}

/// Whether profiling can run: perf is installed, the paranoia level lets this process sample
/// (root always may), and a trial `perf record` of `true` succeeds (which also catches a
/// container that forbids `perf_event_open`). At level 2 an unprivileged user may sample user
/// space only, so the event is then `cpu-clock:u` (kernel frames are left out).
pub fn check() -> Result<Perf, Unavailable> {
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
    let root = is_root();
    let event = match paranoid {
        Some(p) if p > MAX_PARANOID && !root => return Err(Unavailable::Paranoid(p)),
        Some(p) if p >= MAX_PARANOID && !root => "cpu-clock:u",
        _ => "cpu-clock",
    };
    let perf = Perf { event };
    let trial = tempfile::NamedTempFile::new()
        .map_err(|e| Unavailable::Refused(format!("no temporary file for a trial: {e}")))?;
    let out = Command::new("perf")
        .args(perf.record_args(trial.path()))
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Unavailable::Refused(e.to_string()))?;
    if !out.status.success() {
        return Err(Unavailable::Refused(first_line(&String::from_utf8_lossy(
            &out.stderr,
        ))));
    }
    Ok(perf)
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

impl Perf {
    /// The event sampled: `cpu-clock`, or `cpu-clock:u` for a user who may not sample the
    /// kernel.
    pub fn event(&self) -> &'static str {
        self.event
    }

    /// `record -q -e EVENT -F FREQUENCY -g -o DATA --`: what precedes the profiled command.
    fn record_args(&self, data: &Path) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = ["record", "-q", "-e", self.event, "-F"]
            .iter()
            .map(Into::into)
            .collect();
        args.push(FREQUENCY.to_string().into());
        args.extend(["-g", "-o"].map(Into::into));
        args.push(data.into());
        args.push("--".into());
        args
    }

    /// Runs `command` under `perf record`, writing `data`.
    pub fn record(&self, command: &mut Command, data: &Path) -> Result<()> {
        let program = command.get_program().to_owned();
        let mut perf = Command::new("perf");
        perf.args(self.record_args(data))
            .arg(&program)
            .args(command.get_args())
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
            .map_err(|e| Error::Command(format!("cannot run perf record: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(Error::Command(format!(
                "{} failed under perf record ({}):\n{}",
                Path::new(&program).display(),
                out.status,
                crate::collect::run::last_lines(&stderr, 5)
            )));
        }
        Ok(())
    }
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
