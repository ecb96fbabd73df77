//! Pinning the paired rounds' bench processes to one CPU (`check --pin-cpu N`).
//!
//! A process that the scheduler moves between CPUs, or whose threads share a CPU with
//! whatever else runs, is measured with that traffic in it. On this repository's 2-core test
//! machine the paired per-round spread of the flagship suite fell from 0.21 to 0.042 (median
//! over its benchmarks) with the rounds on one CPU (docs/noise.md). Both sides of every pair
//! run on the same CPU, so the comparison stays fair; a benchmark with several threads then
//! measures them sharing that CPU, which is why pinning is an option and not the default.
//!
//! The child inherits the affinity of the thread that spawns it, so the spawning thread is
//! pinned for the duration of one run and restored after ([`Pinned`]): no `unsafe` code in a
//! `pre_exec` hook is needed, and perfgate's other threads are left alone.

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// The calling thread pinned to one CPU until this is dropped.
#[derive(Debug)]
pub struct Pinned {
    saved: CpuSet,
}

impl Pinned {
    /// Pins the calling thread (and so the processes it spawns) to `cpu`.
    pub fn to(cpu: usize) -> Result<Pinned> {
        let this = Pid::from_raw(0);
        let saved = sched_getaffinity(this)
            .map_err(|e| Error::Command(format!("cannot read this thread's CPU affinity: {e}")))?;
        let mut one = CpuSet::new();
        one.set(cpu).map_err(|_| {
            Error::Command(format!(
                "--pin-cpu {cpu}: beyond the {} CPUs a CPU set can name",
                CpuSet::count()
            ))
        })?;
        sched_setaffinity(this, &one).map_err(|e| {
            Error::Command(format!(
                "--pin-cpu {cpu}: cannot pin to CPU {cpu} ({e}); `nproc` says which CPUs this process may use"
            ))
        })?;
        Ok(Pinned { saved })
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // Restoring a set the thread had a moment ago cannot fail for lack of rights; if it
        // fails anyway, the rest of the run is pinned, which is slower, not wrong.
        let _ = sched_setaffinity(Pid::from_raw(0), &self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_and_restores() {
        let before = sched_getaffinity(Pid::from_raw(0)).unwrap();
        let cpu = (0..CpuSet::count())
            .find(|&c| before.is_set(c).unwrap_or(false))
            .unwrap();
        {
            let _p = Pinned::to(cpu).unwrap();
            let now = sched_getaffinity(Pid::from_raw(0)).unwrap();
            let set: Vec<usize> = (0..CpuSet::count())
                .filter(|&c| now.is_set(c).unwrap_or(false))
                .collect();
            assert_eq!(set, vec![cpu]);
        }
        assert_eq!(sched_getaffinity(Pid::from_raw(0)).unwrap(), before);
    }

    #[test]
    fn a_cpu_beyond_the_set_is_an_error() {
        let e = Pinned::to(CpuSet::count() + 1).unwrap_err().to_string();
        assert!(e.contains("--pin-cpu"), "{e}");
    }
}
