//! `perfgate explain`'s output: the functions whose self time grew most from the baseline
//! build to the head build, and where the differential flame graph is. One file per format;
//! the words they share are here.

pub mod json;
pub mod markdown;
pub mod text;

use crate::explain::FunctionChange;
use crate::explain::syscalls::SyscallChange;
use crate::report::format::short_commit;

/// What an explanation's output shows.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    /// The benchmark profiled.
    pub bench_id: &'a str,
    /// The baseline commit's full id.
    pub base_commit: &'a str,
    /// What the head side is (`HEAD 0123abcd`, with `+ changes` for a dirty tree).
    pub head: &'a str,
    /// Sampled CPU time of the baseline build, all profiles summed, in nanoseconds.
    pub base_ns: u64,
    /// Sampled CPU time of the head build, in nanoseconds.
    pub head_ns: u64,
    /// The perf event sampled (`cpu-clock`, or `cpu-clock:u` without kernel frames).
    pub event: &'a str,
    /// Profiles per side.
    pub profiles: u32,
    /// Seconds of `--profile-time` of each profile.
    pub profile_seconds: f64,
    /// The functions whose self share grew most, largest growth first.
    pub top: &'a [FunctionChange],
    /// The system calls whose count per operation grew, or why they were not counted (one
    /// line saying how to enable it).
    pub syscalls: Result<&'a [SyscallChange], &'a str>,
    /// Where the differential flame graph was written.
    pub svg: &'a str,
    /// Seconds the whole explanation took, builds included.
    pub seconds: f64,
}

/// The one-line answer.
pub fn headline(d: &Doc<'_>) -> String {
    match d.top.first() {
        Some(f) => format!(
            "{}: {} grew most in self time, {} -> {} of the samples (baseline {} -> head {})",
            d.bench_id,
            f.function,
            share(f.base_share),
            share(f.head_share),
            short_commit(d.base_commit),
            d.head
        ),
        None => format!(
            "{}: no function takes a larger share of the samples on head ({}) than on the baseline {}",
            d.bench_id,
            d.head,
            short_commit(d.base_commit)
        ),
    }
}

/// A share of the samples, `12.3%`.
pub fn share(f: f64) -> String {
    format!("{:.1}%", f * 100.0)
}

/// A growth of share in percentage points, `+12.3 pp`.
pub fn points(f: f64) -> String {
    format!("{:+.1} pp", f * 100.0)
}

/// The system call line: the calls whose count per operation grew, `write 0 -> 3, clone3 1 -> 2`.
pub fn syscall_line(d: &Doc<'_>) -> String {
    match d.syscalls {
        Err(why) => why.to_string(),
        Ok([]) => "system calls per operation (strace -c, one iteration): none grew".to_string(),
        Ok(list) => format!(
            "system calls per operation that grew (strace -c, one iteration): {}",
            list.iter()
                .map(|c| format!("{} {} -> {}", c.name, c.base, c.head))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The line under the table: how much was sampled.
pub fn footer(d: &Doc<'_>) -> String {
    format!(
        "{} profile(s) of {} s per side, interleaved, perf {} at {} Hz: {:.2} s of CPU sampled on the baseline, {:.2} s on head; {:.0} s in all",
        d.profiles,
        d.profile_seconds,
        d.event,
        crate::explain::perf::FREQUENCY,
        d.base_ns as f64 / 1e9,
        d.head_ns as f64 / 1e9,
        d.seconds
    )
}
