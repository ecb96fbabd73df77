//! `perfgate explain --json FILE`: the published format of an explanation, with its own
//! `schema_version` and types (not the library's), so that a change to the profiling cannot
//! change the file without a change here.

use serde::{Deserialize, Serialize};

use super::{Doc, headline};

/// The version of this format this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The `kind` of an explanation document.
pub const KIND: &str = "perfgate-explain";

/// A whole explanation document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`KIND`].
    pub kind: String,
    /// The one-line answer.
    pub headline: String,
    /// The benchmark id.
    pub benchmark: String,
    /// The baseline commit's full id.
    pub baseline_commit: String,
    /// What the head side is.
    pub head: String,
    /// Sampled CPU time of the baseline build, nanoseconds.
    pub baseline_cpu_ns: u64,
    /// Sampled CPU time of head, nanoseconds.
    pub head_cpu_ns: u64,
    /// Profiles per side.
    pub profiles: u32,
    /// Seconds of each profile.
    pub profile_seconds: f64,
    /// Functions whose self share grew most, largest growth first (at most 10).
    pub top_functions: Vec<FunctionOut>,
    /// System calls whose count per operation grew (strace -c over one iteration), most
    /// grown first; null when they were not counted.
    pub syscalls: Option<Vec<SyscallOut>>,
    /// Why they were not counted, with how to enable it; null when they were.
    pub syscalls_note: Option<String>,
    /// The differential flame graph's path.
    pub flamegraph: String,
    /// Seconds the whole explanation took.
    pub seconds: f64,
}

/// One function's self time on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionOut {
    /// The function's name.
    pub function: String,
    /// Self time on the baseline, nanoseconds of sampled CPU time.
    pub baseline_self_ns: u64,
    /// Self time on head, nanoseconds.
    pub head_self_ns: u64,
    /// Share of the baseline's samples, a fraction.
    pub baseline_share: f64,
    /// Share of head's samples, a fraction.
    pub head_share: f64,
}

/// A system call whose count per operation grew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyscallOut {
    /// The call's name.
    pub name: String,
    /// Calls per operation on the baseline.
    pub baseline_per_op: u64,
    /// Calls per operation on head.
    pub head_per_op: u64,
}

/// The document of an explanation.
pub fn report(d: &Doc<'_>) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        kind: KIND.to_string(),
        headline: headline(d),
        benchmark: d.bench_id.to_string(),
        baseline_commit: d.base_commit.to_string(),
        head: d.head.to_string(),
        baseline_cpu_ns: d.base_ns,
        head_cpu_ns: d.head_ns,
        profiles: d.profiles,
        profile_seconds: d.profile_seconds,
        top_functions: d
            .top
            .iter()
            .map(|f| FunctionOut {
                function: f.function.clone(),
                baseline_self_ns: f.base_ns,
                head_self_ns: f.head_ns,
                baseline_share: f.base_share,
                head_share: f.head_share,
            })
            .collect(),
        syscalls: d.syscalls.ok().map(|l| {
            l.iter()
                .map(|c| SyscallOut {
                    name: c.name.clone(),
                    baseline_per_op: c.base,
                    head_per_op: c.head,
                })
                .collect()
        }),
        syscalls_note: d.syscalls.err().map(str::to_string),
        flamegraph: d.svg.to_string(),
        seconds: d.seconds,
    }
}

/// The document as pretty JSON, ending with a newline.
pub fn render(d: &Doc<'_>) -> String {
    let mut s = serde_json::to_string_pretty(&report(d)).expect("plain data serializes");
    s.push('\n');
    s
}
