//! The shared vocabulary of every layer: the metrics a benchmark is judged on ([`Metric`]), a
//! value per metric ([`PerMetric`]), and the verdicts ([`Verdict`]).
//!
//! Adding a metric (a p90, say) means adding it here: to [`Metric`], [`Metric::ALL`], its name
//! and quantile, and a field of [`PerMetric`]. Config thresholds, policies and comparisons are
//! all built on these; only the published file formats (`baseline::schema`, the latency log)
//! spell their fields out, since a change there is a change of a published schema.

use serde::{Deserialize, Serialize};

/// A gated quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Work per second (declared throughput, or iterations per second): higher is better.
    Throughput,
    /// Median operation latency: lower is better.
    P50,
    /// 99th percentile operation latency.
    P99,
    /// 99.9th percentile operation latency.
    P999,
    /// Heap allocations per operation, counted by perfgate's counting allocator: lower is
    /// better, and deterministic code counts the same every run (see [`Metric::is_count`]).
    Allocs,
    /// Bytes requested from the heap per operation, counted like [`Metric::Allocs`].
    AllocBytes,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 6] = [
        Metric::Throughput,
        Metric::P50,
        Metric::P99,
        Metric::P999,
        Metric::Allocs,
        Metric::AllocBytes,
    ];

    /// The name used in config files, JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::Allocs => "allocs",
            Metric::AllocBytes => "alloc_bytes",
        }
    }

    /// The quantile of a latency metric; `None` for throughput.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Metric::Throughput => None,
            Metric::P50 => Some(0.5),
            Metric::P99 => Some(0.99),
            Metric::P999 => Some(0.999),
            Metric::Allocs | Metric::AllocBytes => None,
        }
    }

    /// Whether the metric is a count of events per operation (allocations, bytes allocated)
    /// rather than a timing: judged by the exact rule when every sample counts the same, since
    /// such a count does not drift with the machine's speed.
    pub fn is_count(self) -> bool {
        self.count_unit().is_some()
    }

    /// The unit of a count metric's value (`None` for a timing, whose unit depends on the
    /// benchmark).
    pub fn count_unit(self) -> Option<Unit> {
        match self {
            Metric::Allocs => Some(Unit::AllocsPerOp),
            Metric::AllocBytes => Some(Unit::BytesPerOp),
            _ => None,
        }
    }

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        self == Metric::Throughput
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One value per [`Metric`]. Serialized as a table keyed by the metric names, so it is also
/// the shape of `thresholds = { throughput = -5.0, p99 = 10.0 }` in `perfgate.toml` (with
/// `T = Option<_>`, a key left out is `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerMetric<T> {
    /// [`Metric::Throughput`].
    #[serde(default)]
    pub throughput: T,
    /// [`Metric::P50`].
    #[serde(default)]
    pub p50: T,
    /// [`Metric::P99`].
    #[serde(default)]
    pub p99: T,
    /// [`Metric::P999`].
    #[serde(default)]
    pub p999: T,
    /// [`Metric::Allocs`].
    #[serde(default)]
    pub allocs: T,
    /// [`Metric::AllocBytes`].
    #[serde(default)]
    pub alloc_bytes: T,
}

impl<T> PerMetric<T> {
    /// Builds every metric's value with `f`.
    pub fn from_fn(mut f: impl FnMut(Metric) -> T) -> Self {
        PerMetric {
            throughput: f(Metric::Throughput),
            p50: f(Metric::P50),
            p99: f(Metric::P99),
            p999: f(Metric::P999),
            allocs: f(Metric::Allocs),
            alloc_bytes: f(Metric::AllocBytes),
        }
    }

    /// The value of one metric.
    pub fn get(&self, m: Metric) -> &T {
        match m {
            Metric::Throughput => &self.throughput,
            Metric::P50 => &self.p50,
            Metric::P99 => &self.p99,
            Metric::P999 => &self.p999,
            Metric::Allocs => &self.allocs,
            Metric::AllocBytes => &self.alloc_bytes,
        }
    }

    /// The value of one metric, mutably.
    pub fn get_mut(&mut self, m: Metric) -> &mut T {
        match m {
            Metric::Throughput => &mut self.throughput,
            Metric::P50 => &mut self.p50,
            Metric::P99 => &mut self.p99,
            Metric::P999 => &mut self.p999,
            Metric::Allocs => &mut self.allocs,
            Metric::AllocBytes => &mut self.alloc_bytes,
        }
    }

    /// Every metric with its value, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (Metric, &T)> {
        Metric::ALL.into_iter().map(move |m| (m, self.get(m)))
    }

    /// A value per metric computed from this one's, failing on the first error.
    pub fn try_map<U, E>(
        &self,
        mut f: impl FnMut(Metric, &T) -> Result<U, E>,
    ) -> Result<PerMetric<U>, E> {
        Ok(PerMetric {
            throughput: f(Metric::Throughput, &self.throughput)?,
            p50: f(Metric::P50, &self.p50)?,
            p99: f(Metric::P99, &self.p99)?,
            p999: f(Metric::P999, &self.p999)?,
            allocs: f(Metric::Allocs, &self.allocs)?,
            alloc_bytes: f(Metric::AllocBytes, &self.alloc_bytes)?,
        })
    }
}

impl<T: Copy> PerMetric<T> {
    /// This layer with every value that `overlay` sets replaced by it.
    pub fn overlaid(&self, overlay: &PerMetric<Option<T>>) -> Self {
        PerMetric::from_fn(|m| overlay.get(m).unwrap_or(*self.get(m)))
    }
}

/// The unit of a compared value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// Nanoseconds (latency percentiles).
    Nanos,
    /// Bytes per second; `binary` when criterion shows it with binary prefixes (KiB/s), as
    /// for `Throughput::Bytes`.
    BytesPerSec {
        /// Binary prefixes.
        binary: bool,
    },
    /// Elements per second.
    ElementsPerSec,
    /// Bits per second.
    BitsPerSec,
    /// Iterations per second (no declared throughput).
    IterationsPerSec,
    /// Heap allocations per operation.
    AllocsPerOp,
    /// Bytes allocated per operation.
    BytesPerOp,
}

impl Unit {
    /// The symbol used in reports and the JSON report: `ns`, `B/s`, `elem/s`, `bit/s`,
    /// `iter/s`, `allocs/op`, `B/op`.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Nanos => "ns",
            Unit::BytesPerSec { .. } => "B/s",
            Unit::ElementsPerSec => "elem/s",
            Unit::BitsPerSec => "bit/s",
            Unit::IterationsPerSec => "iter/s",
            Unit::AllocsPerOp => "allocs/op",
            Unit::BytesPerOp => "B/op",
        }
    }
}

/// The verdict of one comparison row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly worse, by more than the threshold.
    Regressed,
    /// In the baseline but not in the results.
    Missing,
    /// A regression beyond the threshold can be neither ruled out nor confirmed.
    Inconclusive,
    /// Significantly better, by more than the threshold.
    Improved,
    /// In the results but not in the baseline.
    New,
    /// Any change is within the threshold.
    Unchanged,
}

impl Verdict {
    /// Every verdict, most important first (the order of the declaration).
    pub const ALL: [Verdict; 6] = [
        Verdict::Regressed,
        Verdict::Missing,
        Verdict::Inconclusive,
        Verdict::Improved,
        Verdict::New,
        Verdict::Unchanged,
    ];

    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Missing => "missing",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Improved => "improved",
            Verdict::New => "new",
            Verdict::Unchanged => "unchanged",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_metric_covers_every_metric_once() {
        let p = PerMetric::from_fn(|m| m.name());
        let names: Vec<&str> = p
            .iter()
            .map(|(m, v)| {
                assert_eq!(m.name(), *v);
                *v
            })
            .collect();
        assert_eq!(
            names,
            ["throughput", "p50", "p99", "p999", "allocs", "alloc_bytes"]
        );
        let mut q = p;
        *q.get_mut(Metric::P99) = "x";
        assert_eq!(*q.get(Metric::P99), "x");
    }

    #[test]
    fn verdict_all_lists_every_verdict_once() {
        // A new verdict fails to compile here: add it to `Verdict::ALL` too.
        let index = |v: Verdict| match v {
            Verdict::Regressed => 0,
            Verdict::Missing => 1,
            Verdict::Inconclusive => 2,
            Verdict::Improved => 3,
            Verdict::New => 4,
            Verdict::Unchanged => 5,
        };
        for (i, v) in Verdict::ALL.into_iter().enumerate() {
            assert_eq!(index(v), i, "{}", v.name());
        }
    }

    #[test]
    fn overlay_replaces_only_what_it_sets() {
        let base = PerMetric {
            throughput: -0.05,
            p50: 0.1,
            p99: 0.1,
            p999: 0.2,
            allocs: 0.0,
            alloc_bytes: 0.0,
        };
        let over = PerMetric {
            p99: Some(0.25),
            ..PerMetric::default()
        };
        let got = base.overlaid(&over);
        assert_eq!(
            got,
            PerMetric {
                throughput: -0.05,
                p50: 0.1,
                p99: 0.25,
                p999: 0.2,
                allocs: 0.0,
                alloc_bytes: 0.0,
            }
        );
    }

    #[test]
    fn per_metric_reads_a_thresholds_table() {
        let t: PerMetric<Option<f64>> = toml::from_str("throughput = -3.0\np99 = 12.0").unwrap();
        assert_eq!(t.throughput, Some(-3.0));
        assert_eq!(t.p50, None);
        assert_eq!(t.p99, Some(12.0));
        assert!(toml::from_str::<PerMetric<Option<f64>>>("p98 = 1.0").is_err());
    }
}

/// Serde for floats that may be NaN or infinite (a change against a zero, a p-value of no
/// samples), in files perfgate writes for itself (the shard report): JSON has no such numbers
/// and serde_json writes them as `null`, which does not read back. A finite value is a number,
/// any other the string `"NaN"`, `"inf"` or `"-inf"`.
pub mod lossless {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    fn to_repr(v: f64) -> Repr {
        if v.is_finite() {
            Repr::Number(v)
        } else if v.is_nan() {
            Repr::Text("NaN".into())
        } else if v > 0.0 {
            Repr::Text("inf".into())
        } else {
            Repr::Text("-inf".into())
        }
    }

    fn from_repr<E: serde::de::Error>(r: Repr) -> Result<f64, E> {
        match r {
            Repr::Number(v) => Ok(v),
            Repr::Text(t) => match t.as_str() {
                "NaN" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                _ => Err(E::custom(format!("{t:?} is not a number"))),
            },
        }
    }

    /// A float.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        to_repr(*v).serialize(s)
    }

    /// A float.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        from_repr(Repr::deserialize(d)?)
    }

    /// An optional float.
    pub mod option {
        use super::*;

        /// An optional float.
        pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            v.map(to_repr).serialize(s)
        }

        /// An optional float.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            Option::<Repr>::deserialize(d)?.map(from_repr).transpose()
        }
    }

    /// A list of floats.
    pub mod vec {
        use super::*;

        /// A list of floats.
        pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
            v.iter()
                .map(|x| to_repr(*x))
                .collect::<Vec<_>>()
                .serialize(s)
        }

        /// A list of floats.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Vec::<Repr>::deserialize(d)?
                .into_iter()
                .map(from_repr)
                .collect()
        }
    }

    #[cfg(test)]
    mod tests {
        #[derive(Debug, serde::Serialize, serde::Deserialize)]
        struct T {
            #[serde(with = "super")]
            a: f64,
            #[serde(with = "super::option")]
            b: Option<f64>,
            #[serde(with = "super::vec")]
            c: Vec<f64>,
        }

        #[test]
        fn non_finite_floats_round_trip() {
            let t = T {
                a: f64::NAN,
                b: Some(f64::NEG_INFINITY),
                c: vec![1.5, f64::INFINITY],
            };
            let s = serde_json::to_string(&t).unwrap();
            assert_eq!(s, r#"{"a":"NaN","b":"-inf","c":[1.5,"inf"]}"#);
            let back: T = serde_json::from_str(&s).unwrap();
            assert!(back.a.is_nan());
            assert_eq!(back.b, Some(f64::NEG_INFINITY));
            assert_eq!(back.c, vec![1.5, f64::INFINITY]);
            let none: T = serde_json::from_str(r#"{"a":2,"b":null,"c":[]}"#).unwrap();
            assert_eq!((none.a, none.b), (2.0, None));
            assert!(serde_json::from_str::<T>(r#"{"a":"many","b":null,"c":[]}"#).is_err());
        }
    }
}
