//! GitHub Actions integration, switched on by `GITHUB_ACTIONS=true` (set by every Actions
//! runner): the markdown report is appended to `$GITHUB_STEP_SUMMARY`, the verdict and counts
//! to `$GITHUB_OUTPUT`, and one workflow-command annotation per failing row (`::error`) or
//! doubtful row (`::warning`: inconclusive, a regression or missing benchmark that does not
//! fail, a machine mismatch) is printed for the runner to pick up.
//!
//! Both files are appended to, never truncated: earlier steps of the job wrote there too.
//!
//! The runner also reads every other line perfgate prints for workflow commands, so the rest of
//! its output is fenced off with `::stop-commands::` ([`stop_commands`], [`resume_commands`],
//! with a fresh [`stop_token`] each time); `crate::cmd` decides when.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::compare::{Comparison, Verdict};
use crate::error::{Error, Result};

/// What the environment says about GitHub Actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GithubEnv {
    /// `GITHUB_ACTIONS=true`.
    pub active: bool,
    /// `$GITHUB_STEP_SUMMARY`, when set and non-empty.
    pub step_summary: Option<PathBuf>,
    /// `$GITHUB_OUTPUT`, when set and non-empty.
    pub output: Option<PathBuf>,
}

impl GithubEnv {
    /// Reads the process environment.
    pub fn from_env() -> GithubEnv {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        GithubEnv {
            active: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            step_summary: path("GITHUB_STEP_SUMMARY"),
            output: path("GITHUB_OUTPUT"),
        }
    }

    /// Appends the markdown report to the step summary and the outputs to the outputs file,
    /// each when its variable is set. Does nothing outside GitHub Actions.
    pub fn write_files(&self, c: &Comparison) -> Result<()> {
        if !self.active {
            return Ok(());
        }
        if let Some(p) = &self.step_summary {
            append(p, &format!("{}\n", super::markdown::render(c)))?;
        }
        if let Some(p) = &self.output {
            append(p, &outputs(c))?;
        }
        Ok(())
    }
}

/// Appends `text` to `path`, creating it if needed; errors name the file.
fn append(path: &Path, text: &str) -> Result<()> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.flush()))
        .map_err(|e| Error::io(path, e))
}

/// The step outputs, one `name=value` line each: `verdict` (`pass` or `fail`, as the exit
/// code) and the verdict counts.
pub fn outputs(c: &Comparison) -> String {
    let n = &c.counts;
    let mut s = format!("verdict={}\n", if c.failed() { "fail" } else { "pass" });
    for (name, v) in [
        ("failing", n.failing),
        ("regressed", n.regressed),
        ("improved", n.improved),
        ("unchanged", n.unchanged),
        ("inconclusive", n.inconclusive),
        ("new", n.new),
        ("missing", n.missing),
        ("ignored", n.ignored),
    ] {
        s.push_str(&format!("{name}={v}\n"));
    }
    s
}

/// The annotations, one workflow command per line: `::error` for every row that fails the
/// build, `::warning` for rows that need a look without failing it, and one for a machine
/// mismatch (`::error` when the mismatch fails the comparison).
pub fn annotations(c: &Comparison) -> String {
    let mut s = String::new();
    if !c.machine_mismatch.is_empty() {
        let level = if c.mismatch_fails { "error" } else { "warning" };
        s.push_str(&command(
            level,
            "perfgate: machine mismatch",
            &format!(
                "the baseline was measured on a different machine (testbed {:?}, here {:?}): {}",
                c.baseline_testbed,
                c.results_testbed,
                c.machine_mismatch.join("; ")
            ),
        ));
    }
    for r in &c.rows {
        let level = match r.verdict {
            _ if r.fails => "error",
            Verdict::Inconclusive | Verdict::Regressed | Verdict::Missing => "warning",
            Verdict::Improved | Verdict::New | Verdict::Unchanged => continue,
        };
        let title = match r.metric {
            Some(m) => format!(
                "perfgate: {} {} {}",
                r.benchmark,
                m.name(),
                r.verdict.name()
            ),
            None => format!("perfgate: {} {}", r.benchmark, r.verdict.name()),
        };
        s.push_str(&command(
            level,
            &title,
            &super::prose::reason(r, c.confidence),
        ));
    }
    s
}

fn command(level: &str, title: &str, message: &str) -> String {
    format!(
        "::{level} title={}::{}\n",
        escape_property(title),
        escape_data(message)
    )
}

/// A fresh token for `::stop-commands::`: 32 lowercase hex digits (128 bits) that no text
/// written before this process ran can contain, since while commands are stopped the runner
/// obeys only `::<token>::` (or `##[<token>]`), and a file that held the token could resume
/// them itself.
pub fn stop_token() -> String {
    use std::hash::BuildHasher;
    // std's RandomState is keyed with 128 bits drawn from the operating system's random source
    // (once per thread; each new state then has other keys), and SipHash under unknown keys is
    // unpredictable. What a token must resist is a file prepared in advance, not someone who
    // reads this process's memory, so that is enough, and it needs no crate: getrandom would
    // add a dependency for the same bytes from the same source.
    let keys = std::collections::hash_map::RandomState::new();
    format!("{:016x}{:016x}", keys.hash_one(0u8), keys.hash_one(1u8))
}

/// The line that makes the runner ignore every workflow command until [`resume_commands`]
/// with the same token.
pub fn stop_commands(token: &str) -> String {
    format!("::stop-commands::{token}\n")
}

/// The line that makes the runner obey workflow commands again after [`stop_commands`].
pub fn resume_commands(token: &str) -> String {
    format!("::{token}::\n")
}

/// Escapes a workflow command's message as the runner expects: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(escape_data("50%\r\n::x"), "50%25%0D%0A::x");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn a_name_cannot_start_a_command_of_its_own() {
        let line = command(
            "error",
            "perfgate: x\n::stop-commands::t",
            "y\n::set-output::z",
        );
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.starts_with("::error title=perfgate%3A x%0A%3A%3Astop-commands"));
    }

    #[test]
    fn stop_tokens_are_fresh_long_lowercase_hex() {
        let tokens: Vec<String> = (0..50).map(|_| stop_token()).collect();
        for t in &tokens {
            assert_eq!(t.len(), 32, "{t}");
            assert!(
                t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{t}"
            );
        }
        let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
        assert_eq!(distinct.len(), tokens.len(), "{tokens:?}");
        // Another thread has keys of its own.
        let other = std::thread::spawn(stop_token).join().unwrap();
        assert!(!tokens.contains(&other), "{other}");
        let t = &tokens[0];
        assert_eq!(stop_commands(t), format!("::stop-commands::{t}\n"));
        assert_eq!(resume_commands(t), format!("::{t}::\n"));
    }

    #[test]
    fn appends_never_truncates_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out");
        std::fs::write(&p, "before=1\n").unwrap();
        append(&p, "after=2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "before=1\nafter=2\n");
        let bad = dir.path().join("missing-dir/out");
        let e = append(&bad, "x").unwrap_err().to_string();
        assert!(e.contains("missing-dir/out"), "{e}");
    }
}
