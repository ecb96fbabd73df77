//! System calls per operation of one benchmark, from `strace -c -f`.
//!
//! Criterion's `--profile-time` does not say how many iterations it ran, so a count over it
//! cannot be divided into a count per operation. Criterion's test mode (`--test`, what `cargo
//! test --benches` runs) calls each selected benchmark's routine exactly once, one iteration:
//! the calls of that run less those of a run that selects no benchmark (the same start-up,
//! argument parsing and plotting-backend probe) are the calls of one operation, plus
//! criterion's two lines of test output (`Testing ID`, `Success`), which are the same on both
//! builds and so cancel in the comparison. Being one iteration, it also holds whatever that
//! first call does once (a lazily opened file, a first allocation from the system): a count
//! that only the first operation pays shows up as per-operation. The counts are exact integers,
//! so no interval is needed: a call whose count grew, grew.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Counts per system call name.
pub type Counts = BTreeMap<String, u64>;

/// The `calls` column of `strace -c` output, per system call (the `total` row left out).
/// Rows are `% time, seconds, usecs/call, calls, [errors], syscall`; the errors column is
/// blank when there were none, so the name is the last field and the calls the fourth.
pub fn parse_summary(text: &str) -> Counts {
    let mut out = Counts::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !(5..=6).contains(&fields.len()) || fields[0].parse::<f64>().is_err() {
            continue;
        }
        let (Some(name), Ok(calls)) = (fields.last(), fields[3].parse::<u64>()) else {
            continue;
        };
        if *name != "total" {
            *out.entry(name.to_string()).or_default() += calls;
        }
    }
    out
}

/// The calls of one operation: those of the one-iteration run less those of the run that
/// selected nothing (never below zero: a call the empty run made more often is no call of the
/// operation).
pub fn per_operation(one: &Counts, empty: &Counts) -> Counts {
    one.iter()
        .map(|(k, &n)| {
            (
                k.clone(),
                n.saturating_sub(empty.get(k).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// A system call whose count per operation grew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallChange {
    /// The call's name.
    pub name: String,
    /// Calls per operation on the baseline build.
    pub base: u64,
    /// Calls per operation on head.
    pub head: u64,
}

/// The calls whose count per operation grew from `base` to `head`, most grown first (ties by
/// name).
pub fn grown(base: &Counts, head: &Counts) -> Vec<SyscallChange> {
    let mut out: Vec<SyscallChange> = head
        .iter()
        .filter_map(|(name, &h)| {
            let b = base.get(name).copied().unwrap_or(0);
            (h > b).then(|| SyscallChange {
                name: name.clone(),
                base: b,
                head: h,
            })
        })
        .collect();
    out.sort_by(|x, y| {
        (y.head - y.base)
            .cmp(&(x.head - x.base))
            .then_with(|| x.name.cmp(&y.name))
    });
    out
}

/// The one line that says how to get strace, when it is not there.
pub const NOT_INSTALLED: &str =
    "system call counts need strace, which is not installed: apt-get install strace";

/// Whether strace runs here.
pub fn available() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `command` under `strace -c -f -o OUT` and returns its counts.
pub fn count(command: &Command, out: &Path) -> Result<Counts> {
    let program = command.get_program().to_owned();
    let mut st = Command::new("strace");
    st.args(["-c", "-f", "-o"])
        .arg(out)
        .arg("--")
        .arg(&program)
        .args(command.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(dir) = command.get_current_dir() {
        st.current_dir(dir);
    }
    for (k, v) in command.get_envs() {
        match v {
            Some(v) => st.env(k, v),
            None => st.env_remove(k),
        };
    }
    let res = st
        .output()
        .map_err(|e| Error::Command(format!("cannot run strace: {e}")))?;
    if !res.status.success() {
        return Err(Error::Command(format!(
            "{} failed under strace ({}):\n{}",
            Path::new(&program).display(),
            res.status,
            crate::collect::run::last_lines(&String::from_utf8_lossy(&res.stderr), 5)
        )));
    }
    let text = std::fs::read_to_string(out).map_err(|e| Error::io(out, e))?;
    Ok(parse_summary(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ------------------
 14.07    0.000076          76         3           clone3
 12.59    0.000068          11         6           openat
  0.00    0.000000           0        12        11 execve
  7.41    0.000040          10         4           write
------ ----------- ----------- --------- --------- ------------------
100.00    0.000540           2        25        11 total
";
    const EMPTY: &str = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ------------------
 12.59    0.000068          11         6           openat
  0.00    0.000000           0        12        11 execve
  7.41    0.000040          10         1           write
 14.07    0.000076          76         1           clone3
------ ----------- ----------- --------- --------- ------------------
100.00    0.000540           2        20        11 total
";

    #[test]
    fn reads_the_calls_column_with_and_without_errors() {
        let c = parse_summary(ONE);
        assert_eq!(c.get("execve"), Some(&12));
        assert_eq!(c.get("clone3"), Some(&3));
        assert_eq!(c.get("total"), None);
        assert_eq!(c.len(), 4);
    }

    #[test]
    fn one_operation_is_the_difference_and_growth_is_sorted() {
        let base = per_operation(&parse_summary(EMPTY), &parse_summary(EMPTY));
        assert!(base.is_empty());
        let head = per_operation(&parse_summary(ONE), &parse_summary(EMPTY));
        assert_eq!(
            head.iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect::<Vec<_>>(),
            [("clone3", 2), ("write", 3)]
        );
        let g = grown(&base, &head);
        assert_eq!(g[0].name, "write");
        assert_eq!((g[0].base, g[0].head), (0, 3));
        assert_eq!(g[1].name, "clone3");
        assert!(grown(&head, &head).is_empty());
    }
}
