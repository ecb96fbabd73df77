//! A log-linear histogram of operation latencies: exact below 64 ns, then 32 buckets per
//! octave (each bucket at most 1/32 = 3.1% wide, so a quantile read from it is within 1.6% of
//! the exact one). It keeps a latency distribution small enough to commit in a baseline while
//! still allowing percentiles to be bootstrapped again.
//!
//! Written here rather than taken from `hdrhistogram`: this crate is compiled into every bench
//! of every user, so it depends on serde and serde_json only, and the distribution is part of
//! a published JSON format (sparse `[lower bound, count]` pairs that a reviewer can read in a
//! diff), which hdrhistogram's own binary encodings are not. The bucket arithmetic is a few
//! shifts, checked by the tests below.

use serde::{Deserialize, Serialize};

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;

/// Sparse buckets: `[lower bound in ns, count]`, sorted by lower bound, counts non-zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Histogram {
    /// `[lower_ns, count]` pairs.
    pub buckets: Vec<[u64; 2]>,
}

/// The lower bound of the bucket that holds `v`.
pub fn bucket_lower(v: u64) -> u64 {
    if v < 2 * SUB {
        return v;
    }
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    (v >> shift) << shift
}

/// The width of the bucket whose lower bound is `lower`.
pub fn bucket_width(lower: u64) -> u64 {
    if lower < 2 * SUB {
        1
    } else {
        1 << (63 - lower.leading_zeros() - SUB_BITS)
    }
}

/// Number of dense bucket slots: exact up to 63 ns, then 32 per octave up to 2^50 ns (13 days).
pub const DENSE_SLOTS: usize = 64 + 45 * 32;

/// The dense slot of value `v` (values beyond the last octave land in the last slot).
#[inline]
pub fn dense_index(v: u64) -> usize {
    if v < 2 * SUB {
        return v as usize;
    }
    let e = (63 - v.leading_zeros()) as usize;
    let slot = 64 + (e - 6) * SUB as usize + ((v >> (e - SUB_BITS as usize)) - SUB) as usize;
    slot.min(DENSE_SLOTS - 1)
}

/// The lower bound of dense slot `i`.
pub fn dense_lower(i: usize) -> u64 {
    if i < 64 {
        return i as u64;
    }
    let e = (i - 64) / SUB as usize + 6;
    let m = (i - 64) % SUB as usize + SUB as usize;
    (m as u64) << (e - SUB_BITS as usize)
}

/// The nearest-rank index (0-based) of quantile `q` among `n` sorted values.
pub fn rank_index(q: f64, n: u64) -> u64 {
    debug_assert!(n > 0);
    let rank = (q * n as f64).ceil() as u64;
    rank.clamp(1, n) - 1
}

/// The nearest-rank quantile of sorted values.
pub fn quantile_sorted(sorted: &[u64], q: f64) -> u64 {
    sorted[rank_index(q, sorted.len() as u64) as usize]
}

impl Histogram {
    /// Builds a histogram from operation durations in ns.
    pub fn from_values(values: &[u64]) -> Self {
        let mut lowers: Vec<u64> = values.iter().map(|&v| bucket_lower(v)).collect();
        lowers.sort_unstable();
        let mut buckets: Vec<[u64; 2]> = Vec::new();
        for l in lowers {
            match buckets.last_mut() {
                Some(last) if last[0] == l => last[1] += 1,
                _ => buckets.push([l, 1]),
            }
        }
        Histogram { buckets }
    }

    /// Builds a histogram from dense slot counts (see [`dense_index`]).
    pub fn from_dense(counts: &[u64]) -> Self {
        Histogram {
            buckets: counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, &c)| [dense_lower(i), c])
                .collect(),
        }
    }

    /// Total count.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b[1]).sum()
    }

    /// Checks the invariants a histogram read from a file must hold: at least one operation,
    /// counts that sum without overflow, buckets on their boundaries, sorted, none empty.
    pub fn validate(&self) -> Result<(), String> {
        if self.buckets.is_empty() {
            return Err("histogram is empty".into());
        }
        let mut total: u64 = 0;
        let mut prev: Option<u64> = None;
        for &[lower, count] in &self.buckets {
            total = total
                .checked_add(count)
                .ok_or_else(|| "histogram counts add up to more than 2^64".to_string())?;
            if count == 0 {
                return Err(format!("histogram bucket {lower} has a zero count"));
            }
            if bucket_lower(lower) != lower {
                return Err(format!("{lower} is not a histogram bucket boundary"));
            }
            if prev.is_some_and(|p| p >= lower) {
                return Err("histogram buckets are not sorted".into());
            }
            prev = Some(lower);
        }
        Ok(())
    }

    /// A view with cumulative counts, for quantile look-ups.
    pub fn cumulative(&self) -> Cumulative {
        let mut acc = 0;
        let cum = self
            .buckets
            .iter()
            .map(|b| {
                acc += b[1];
                acc
            })
            .collect();
        Cumulative {
            mids: self
                .buckets
                .iter()
                .map(|b| b[0] as f64 + (bucket_width(b[0]) - 1) as f64 / 2.0)
                .collect(),
            cum,
        }
    }
}

/// Cumulative counts of a [`Histogram`], for O(log n) quantile look-ups.
#[derive(Debug, Clone)]
pub struct Cumulative {
    mids: Vec<f64>,
    cum: Vec<u64>,
}

impl Cumulative {
    /// Total count.
    pub fn count(&self) -> u64 {
        self.cum.last().copied().unwrap_or(0)
    }

    /// The value (bucket midpoint) at 0-based rank `index`.
    pub fn at_index(&self, index: u64) -> f64 {
        let i = self.cum.partition_point(|&c| c <= index);
        self.mids[i.min(self.mids.len() - 1)]
    }

    /// The nearest-rank quantile.
    pub fn quantile(&self, q: f64) -> f64 {
        self.at_index(rank_index(q, self.count()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_below_64_and_narrow_above() {
        for v in 0..64 {
            assert_eq!(bucket_lower(v), v);
        }
        for v in [64u64, 65, 1000, 12_345, 1 << 40, u64::MAX / 3] {
            let l = bucket_lower(v);
            let w = bucket_width(l);
            assert!(l <= v && v < l + w, "{v} {l} {w}");
            assert!((w as f64) / (l as f64) <= 1.0 / 32.0 + 1e-12);
            assert_eq!(bucket_lower(l), l);
        }
    }

    #[test]
    fn dense_slots_agree_with_bucket_bounds() {
        let mut prev = None;
        for i in 0..DENSE_SLOTS {
            let l = dense_lower(i);
            assert_eq!(dense_index(l), i);
            assert_eq!(bucket_lower(l), l);
            assert!(prev.is_none_or(|p| p < l));
            prev = Some(l);
        }
        for v in [0u64, 63, 64, 99, 1 << 20, (1 << 20) + 12345] {
            assert_eq!(dense_lower(dense_index(v)), bucket_lower(v));
        }
        assert_eq!(dense_index(u64::MAX), DENSE_SLOTS - 1);
        let h = Histogram::from_dense(&{
            let mut c = vec![0u64; DENSE_SLOTS];
            c[dense_index(5000)] += 3;
            c
        });
        assert_eq!(h.buckets, vec![[bucket_lower(5000), 3]]);
    }

    #[test]
    fn quantiles_match_exact_within_resolution() {
        let values: Vec<u64> = (1..=10_000u64).map(|i| i * 37 % 9_973 + 100).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let h = Histogram::from_values(&values);
        assert_eq!(h.count(), 10_000);
        h.validate().unwrap();
        let c = h.cumulative();
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = quantile_sorted(&sorted, q) as f64;
            let approx = c.quantile(q);
            assert!(
                (approx - exact).abs() / exact < 0.02,
                "{q}: {approx} vs {exact}"
            );
        }
    }

    #[test]
    fn validate_rejects_bad_histograms() {
        let bad = Histogram {
            buckets: vec![[100, 1], [65, 2]],
        };
        assert!(bad.validate().is_err());
        let zero = Histogram {
            buckets: vec![[10, 0]],
        };
        assert!(zero.validate().is_err());
        let off = Histogram {
            buckets: vec![[1001, 1]],
        };
        assert!(off.validate().is_err());
        assert!(Histogram::default().validate().is_err());
        let wrapping = Histogram {
            buckets: vec![[100, u64::MAX], [200, 2]],
        };
        assert_eq!(
            wrapping.validate().unwrap_err(),
            "histogram counts add up to more than 2^64"
        );
    }
}
