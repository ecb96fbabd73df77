//! Measurement profiles for benches that use perfgate: `PERFGATE_PROFILE=quick` (set by
//! `perfgate run --quick`) shortens warm-up and measurement so a smoke run of a whole suite
//! takes seconds; unset or `default` gives the full measurement.

use std::time::Duration;

/// Environment variable selecting the profile.
pub const PROFILE_ENV: &str = "PERFGATE_PROFILE";

/// How long a bench measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Full measurement: what baselines are made from.
    Default,
    /// Short measurement for smoke runs.
    Quick,
}

impl Profile {
    /// The profile selected by `PERFGATE_PROFILE` (anything but `quick` is the default).
    pub fn from_env() -> Profile {
        match std::env::var(PROFILE_ENV).as_deref() {
            Ok("quick") => Profile::Quick,
            _ => Profile::Default,
        }
    }

    /// Criterion warm-up time.
    pub fn warm_up(self) -> Duration {
        match self {
            Profile::Default => Duration::from_millis(1000),
            Profile::Quick => Duration::from_millis(150),
        }
    }

    /// Criterion measurement time.
    pub fn measurement(self) -> Duration {
        match self {
            Profile::Default => Duration::from_millis(3000),
            Profile::Quick => Duration::from_millis(400),
        }
    }

    /// Warm-up for suites of many short, stable benchmarks (the spawn and pipe suites), which
    /// must fit dozens of ids in the suite's time budget: enough to fault in buffers and warm
    /// caches, not enough to dominate the run.
    pub fn brief_warm_up(self) -> Duration {
        match self {
            Profile::Default => Duration::from_millis(200),
            Profile::Quick => Duration::from_millis(40),
        }
    }

    /// Measurement time matching [`Profile::brief_warm_up`]: at about 100 us to 1 ms per
    /// operation it still gives thousands of operations per benchmark in the default profile.
    pub fn brief_measurement(self) -> Duration {
        match self {
            Profile::Default => Duration::from_millis(900),
            Profile::Quick => Duration::from_millis(150),
        }
    }

    /// Criterion sample size (also the latency recorder's): at least 10, criterion's minimum.
    pub fn sample_size(self) -> usize {
        match self {
            Profile::Default => 50,
            Profile::Quick => 10,
        }
    }
}
