//! Allocation counts per operation: a counting global allocator and the log of what the measured
//! samples allocated.
//!
//! A bench opts in by installing the allocator in its own crate:
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOC: perfgate_recorder::CountingAllocator = perfgate_recorder::CountingAllocator;
//! ```
//!
//! Then every [`crate::LatencyRecorder`] of that bench also counts the allocations of the
//! operations it times, and writes them beside its latency log; a bench that times its samples
//! another way counts them with an [`AllocRecorder`] (read [`counts`] around the measured
//! operations, then [`AllocRecorder::record`]). `perfgate collect` attaches the log to the
//! benchmark with the same id, and `allocs` and `alloc_bytes` per operation become gated
//! metrics.
//!
//! The counters are two process-wide relaxed atomics, so an allocation costs two uncontended
//! atomic additions more than the system allocator's own work, and a bench that allocates
//! nothing in its measured loop pays nothing there. They count every thread of the process: a
//! measured sample should not overlap another thread's unrelated allocations (a worker
//! thread's start-up, say), or its count varies between runs and the gate falls back from the
//! exact rule to a statistical one (and says so). `realloc` counts as one allocation of its
//! new size, since growing a buffer is what a per-operation regression usually looks like.
//!
//! Written here rather than taken from a crate: the counting is a dozen lines on top of
//! `std::alloc::System`, and the recorder must stay a light dependency of every user's bench.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Schema version of the allocation log.
pub const ALLOC_LOG_SCHEMA_VERSION: u32 = 1;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting allocations and their bytes. Install it with
/// `#[global_allocator]` in a bench to record `allocs` and `alloc_bytes` per operation.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

#[inline]
fn count(bytes: usize) {
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's own arguments, so the
// allocator's contract is `System`'s; the counting touches only two atomics and never
// allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`, and
        // the caller upholds `realloc`'s contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The process's allocation counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Allocations (including reallocations) so far.
    pub allocs: u64,
    /// Bytes requested so far.
    pub bytes: u64,
}

impl Counts {
    /// What was allocated between `earlier` and this moment.
    pub fn since(self, earlier: Counts) -> Counts {
        Counts {
            allocs: self.allocs.wrapping_sub(earlier.allocs),
            bytes: self.bytes.wrapping_sub(earlier.bytes),
        }
    }
}

/// The counters now (all zero when [`CountingAllocator`] is not the global allocator).
#[inline]
pub fn counts() -> Counts {
    Counts {
        allocs: ALLOCS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

/// Whether [`CountingAllocator`] is this process's global allocator: one probe allocation,
/// done once, either moves the counters or not.
pub fn is_counting() -> bool {
    // 0: not probed yet, 1: counting, 2: not counting.
    static STATE: AtomicU8 = AtomicU8::new(0);
    match STATE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let before = counts().allocs;
            drop(std::hint::black_box(Box::new(std::hint::black_box(0u64))));
            let counting = counts().allocs != before;
            STATE.store(if counting { 1 } else { 2 }, Ordering::Relaxed);
            counting
        }
    }
}

/// The file an allocation recording writes: what each measured sample of one benchmark
/// allocated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocLog {
    /// Always [`ALLOC_LOG_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Criterion's full id of the benchmark.
    pub id: String,
    /// When the log was written, as seconds since the Unix epoch.
    pub written_at_unix: f64,
    /// Operations of each measured sample, in order (matches criterion's `sample.json`).
    pub iters: Vec<u64>,
    /// Allocations during each measured sample.
    pub allocs: Vec<u64>,
    /// Bytes allocated during each measured sample.
    pub bytes: Vec<u64>,
}

impl AllocLog {
    /// The log of benchmark `id`'s samples of `(operations, what they allocated)`; `None` when
    /// there are none or the counting allocator is not installed (every count would read zero).
    pub(crate) fn of_samples(
        id: &str,
        samples: impl Iterator<Item = (u64, Counts)> + Clone,
    ) -> Option<AllocLog> {
        if samples.clone().next().is_none() || !is_counting() {
            return None;
        }
        Some(AllocLog {
            schema_version: ALLOC_LOG_SCHEMA_VERSION,
            id: id.to_string(),
            written_at_unix: crate::recorder::now_unix(),
            iters: samples.clone().map(|s| s.0).collect(),
            allocs: samples.clone().map(|s| s.1.allocs).collect(),
            bytes: samples.map(|s| s.1.bytes).collect(),
        })
    }

    /// Writes the log into `dir` (the default log directory when `None`) and returns its path.
    pub(crate) fn write(&self, dir: Option<&std::path::Path>) -> Result<PathBuf> {
        crate::recorder::write_log(dir, &alloc_log_file_name(&self.id), self)
    }
}

/// Records what the measured samples of one criterion benchmark allocated, keeping the last
/// `sample_size` samples as [`crate::LatencyRecorder`] does.
#[derive(Debug)]
pub struct AllocRecorder {
    id: String,
    keep: usize,
    samples: VecDeque<(u64, Counts)>,
    dir: Option<PathBuf>,
    finished: bool,
}

impl AllocRecorder {
    /// A recorder for the benchmark whose criterion full id is `id`, keeping the last
    /// `sample_size` samples.
    pub fn new(id: impl Into<String>, sample_size: usize) -> Self {
        AllocRecorder {
            id: id.into(),
            keep: sample_size.max(1),
            samples: VecDeque::new(),
            dir: None,
            finished: false,
        }
    }

    /// Writes the log into `dir` instead of the default location.
    pub fn with_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Records one sample of `ops` operations that allocated `counts` (the difference of two
    /// [`counts`] around them).
    pub fn record(&mut self, ops: u64, counts: Counts) {
        crate::recorder::push_bounded(&mut self.samples, self.keep, (ops, counts));
    }

    /// Runs `f` (one sample of `ops` operations) and records what it allocated; returns what
    /// `f` returns.
    pub fn count_sample<R>(&mut self, ops: u64, f: impl FnOnce() -> R) -> R {
        let before = counts();
        let r = f();
        let after = counts();
        self.record(ops, after.since(before));
        r
    }

    /// Builds the log from the recorded samples, without writing it; `None` when nothing was
    /// recorded or the counting allocator is not installed (every count would read zero).
    pub fn log(&self) -> Option<AllocLog> {
        AllocLog::of_samples(&self.id, self.samples.iter().copied())
    }

    /// Writes the log and returns its path (`None` if there is nothing to write).
    pub fn finish(mut self) -> Result<Option<PathBuf>> {
        self.finished = true;
        self.write()
    }

    fn write(&self) -> Result<Option<PathBuf>> {
        self.log()
            .map(|log| log.write(self.dir.as_deref()))
            .transpose()
    }
}

impl Drop for AllocRecorder {
    fn drop(&mut self) {
        if !self.finished
            && let Err(e) = self.write()
        {
            crate::recorder::warn_unwritten("allocation log", &self.id, &e);
        }
    }
}

/// The allocation log's file name for a benchmark id: the latency log's name with an
/// `.allocs.json` ending, so both logs of one benchmark sit side by side and `collect` tells
/// them apart by the ending.
pub fn alloc_log_file_name(id: &str) -> String {
    let name = crate::recorder::log_file_name(id);
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    format!("{stem}{ALLOC_LOG_SUFFIX}")
}

/// The ending of every allocation log's file name.
pub const ALLOC_LOG_SUFFIX: &str = ".allocs.json";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_subtract_across_a_wrap() {
        let a = Counts {
            allocs: u64::MAX,
            bytes: 10,
        };
        let b = Counts {
            allocs: 1,
            bytes: 30,
        };
        assert_eq!(
            b.since(a),
            Counts {
                allocs: 2,
                bytes: 20
            }
        );
    }

    #[test]
    fn without_the_allocator_installed_nothing_is_logged() {
        // The unit tests run on the system allocator: every count would be a false zero.
        assert!(!is_counting());
        let mut rec = AllocRecorder::new("a/b", 3);
        rec.count_sample(5, || drop(Box::new(1u8)));
        assert!(rec.log().is_none());
        rec.finished = true;
    }

    #[test]
    fn log_names_sit_beside_the_latency_log() {
        let lat = crate::recorder::log_file_name("pool/roundtrip");
        let al = alloc_log_file_name("pool/roundtrip");
        assert_eq!(al.strip_suffix(ALLOC_LOG_SUFFIX), lat.strip_suffix(".json"));
        assert!(!lat.ends_with(ALLOC_LOG_SUFFIX));
    }
}
