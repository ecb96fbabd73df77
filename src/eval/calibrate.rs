//! The calibration workload: a CPU-bound operation whose cost can be raised by a known factor,
//! and which can be given a known tail, so that the gate's false-alarm and detection rates can
//! be measured against a ground truth (`benches/calibrate.rs`, `perfgate eval-noise`).
//!
//! One operation is a chain of dependent multiply-xor-shift rounds (no memory traffic, no
//! branches that depend on data), so its cost is proportional to the number of rounds.
//! `PERFGATE_CALIBRATE_SLOWDOWN=F` multiplies the rounds by `F` (1.05: every operation costs 5%
//! more, throughput drops to 1/1.05); `PERFGATE_CALIBRATE_TAIL=P:M` makes a deterministic
//! fraction `P` of operations cost `M` times as much (0.02:5: 2% of operations take 5x longer).

/// Environment variable: the cost factor of every operation (default 1).
pub const SLOWDOWN_ENV: &str = "PERFGATE_CALIBRATE_SLOWDOWN";
/// Environment variable: `fraction:factor` of slow operations (default none).
pub const TAIL_ENV: &str = "PERFGATE_CALIBRATE_TAIL";
/// Rounds of one operation at cost factor 1 (about 1-2 µs): fine enough that a factor of
/// 1.03 changes the rounds by 60, coarse enough that the timer is negligible per operation.
pub const BASE_ROUNDS: u64 = 2000;

/// The injected cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Cost factor of every operation (>= 0.1).
    pub slowdown: f64,
    /// `(fraction, factor)`: the fraction of operations that cost `factor` times as much.
    pub tail: Option<(f64, f64)>,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            slowdown: 1.0,
            tail: None,
        }
    }
}

impl Calibration {
    /// Reads [`SLOWDOWN_ENV`] and [`TAIL_ENV`].
    pub fn from_env() -> Result<Calibration, String> {
        Self::parse(
            std::env::var(SLOWDOWN_ENV).ok().as_deref(),
            std::env::var(TAIL_ENV).ok().as_deref(),
        )
    }

    /// Parses the two settings (`None` or empty: not set).
    pub fn parse(slowdown: Option<&str>, tail: Option<&str>) -> Result<Calibration, String> {
        let mut c = Calibration::default();
        if let Some(s) = slowdown.filter(|s| !s.is_empty()) {
            c.slowdown = s
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && (0.1..=100.0).contains(x))
                .ok_or_else(|| format!("{SLOWDOWN_ENV}={s:?}: want a factor in [0.1, 100]"))?;
        }
        if let Some(t) = tail.filter(|s| !s.is_empty()) {
            let bad = || format!("{TAIL_ENV}={t:?}: want FRACTION:FACTOR, e.g. 0.02:5");
            let (f, m) = t.split_once(':').ok_or_else(bad)?;
            let f: f64 = f.parse().map_err(|_| bad())?;
            let m: f64 = m.parse().map_err(|_| bad())?;
            if !((0.0..=1.0).contains(&f) && m.is_finite() && (1.0..=1000.0).contains(&m)) {
                return Err(bad());
            }
            c.tail = Some((f, m));
        }
        Ok(c)
    }

    /// A fresh operation source with this calibration.
    pub fn work(&self) -> Work {
        let rounds = (BASE_ROUNDS as f64 * self.slowdown).round().max(1.0) as u64;
        let (threshold, slow_rounds) = match self.tail {
            Some((f, m)) => (
                (f * u64::MAX as f64) as u64,
                (rounds as f64 * m).round() as u64,
            ),
            None => (0, rounds),
        };
        Work {
            rounds,
            slow_rounds,
            threshold,
            counter: 0,
            state: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

/// A stream of calibrated operations.
#[derive(Debug, Clone)]
pub struct Work {
    rounds: u64,
    slow_rounds: u64,
    /// An operation is slow when the hash of its index is below this.
    threshold: u64,
    counter: u64,
    state: u64,
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Work {
    /// Whether the next operation will be a slow one.
    pub fn next_is_slow(&self) -> bool {
        splitmix(self.counter) < self.threshold
    }

    /// The rounds the next operation will run.
    pub fn next_rounds(&self) -> u64 {
        if self.next_is_slow() {
            self.slow_rounds
        } else {
            self.rounds
        }
    }

    /// Runs one operation; the result depends on every round, so none can be optimised away.
    pub fn op(&mut self) -> u64 {
        let n = std::hint::black_box(self.next_rounds());
        self.counter += 1;
        let mut x = self.state;
        for _ in 0..n {
            x = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ 0x1f;
        }
        self.state = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(Calibration::parse(None, None), Ok(Calibration::default()));
        let c = Calibration::parse(Some("1.05"), Some("0.02:5")).unwrap();
        assert_eq!(c.slowdown, 1.05);
        assert_eq!(c.tail, Some((0.02, 5.0)));
        assert_eq!(
            Calibration::parse(Some(""), Some("")),
            Ok(Calibration::default())
        );
        for (s, t) in [
            (Some("x"), None),
            (Some("0"), None),
            (Some("NaN"), None),
            (None, Some("0.02")),
            (None, Some("2:5")),
            (None, Some("0.02:0.5")),
            (None, Some("a:b")),
        ] {
            let e = Calibration::parse(s, t).unwrap_err();
            assert!(e.contains("PERFGATE_CALIBRATE_"), "{e}");
        }
    }

    #[test]
    fn cost_scales_by_the_factor_and_the_tail_has_its_fraction() {
        let base = Calibration::default().work();
        assert_eq!(base.next_rounds(), BASE_ROUNDS);
        let slow = Calibration::parse(Some("1.05"), None).unwrap().work();
        assert_eq!(slow.next_rounds(), 2100);

        let mut w = Calibration::parse(None, Some("0.02:5")).unwrap().work();
        let n = 100_000;
        let mut slow_ops = 0;
        let mut total_rounds = 0;
        for _ in 0..n {
            let r = w.next_rounds();
            total_rounds += r;
            if r == 5 * BASE_ROUNDS {
                slow_ops += 1;
            } else {
                assert_eq!(r, BASE_ROUNDS);
            }
            w.counter += 1;
        }
        let frac = slow_ops as f64 / n as f64;
        assert!((0.018..0.022).contains(&frac), "{frac}");
        // Mean cost rises by fraction x (factor - 1): about 8%.
        let mean = total_rounds as f64 / n as f64 / BASE_ROUNDS as f64;
        assert!((1.07..1.09).contains(&mean), "{mean}");
    }

    #[test]
    fn operations_depend_on_the_rounds() {
        let mut a = Calibration::default().work();
        let mut b = Calibration::parse(Some("1.5"), None).unwrap().work();
        assert_ne!(a.op(), b.op());
    }
}
