//! The metrics a benchmark is judged on, and how their values are measured and shown.

use serde::{Deserialize, Serialize};

use crate::baseline::schema::{Benchmark, Throughput};

/// A gated quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Work per second (declared throughput, or iterations per second): higher is better.
    Throughput,
    /// Median operation latency: lower is better.
    P50,
    /// 99th percentile operation latency.
    P99,
    /// 99.9th percentile operation latency.
    P999,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 4] = [Metric::Throughput, Metric::P50, Metric::P99, Metric::P999];

    /// The name used in config files, JSON and tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::P50 => "p50",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
        }
    }

    /// The quantile of a latency metric.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Metric::Throughput => None,
            Metric::P50 => Some(0.5),
            Metric::P99 => Some(0.99),
            Metric::P999 => Some(0.999),
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

/// The throughput unit of a benchmark, for display (`B/s`, `elem/s`, `iter/s`).
pub fn throughput_unit(b: &Benchmark) -> &'static str {
    match b.throughput {
        Some(Throughput::Bytes(_)) | Some(Throughput::ElementsAndBytes { .. }) => "B/s",
        Some(Throughput::BytesDecimal(_)) => "B/s",
        Some(Throughput::Elements(_)) => "elem/s",
        Some(Throughput::Bits(_)) => "bit/s",
        None => "iter/s",
    }
}

/// Throughput per second for a mean per-iteration time.
pub fn throughput_value(b: &Benchmark, mean_ns: f64) -> f64 {
    let per_iter = b.throughput.map_or(1.0, |t| t.per_iteration().0);
    per_iter * 1e9 / mean_ns
}

/// Formats a rate with an SI prefix: `1.23 Gelem/s`. Binary prefixes for byte throughput
/// declared with `Throughput::Bytes`, as criterion shows it.
pub fn format_rate(value: f64, unit: &str, binary: bool) -> String {
    let (base, prefixes): (f64, [&str; 5]) = if binary {
        (1024.0, ["", "Ki", "Mi", "Gi", "Ti"])
    } else {
        (1000.0, ["", "K", "M", "G", "T"])
    };
    let mut v = value;
    let mut i = 0;
    while v.abs() >= base && i < prefixes.len() - 1 {
        v /= base;
        i += 1;
    }
    format!("{} {}{}", sig3(v), prefixes[i], unit)
}

/// Formats nanoseconds as `812 ns`, `12.1 µs`, `3.40 ms` or `1.20 s`.
pub fn format_ns(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", sig3(v))
}

/// Three significant digits, without scientific notation.
fn sig3(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Formats a relative change as a signed percentage: `+38%`, `-4.2%`, `+0.31%`.
pub fn format_pct(fraction: f64) -> String {
    let p = fraction * 100.0;
    let a = p.abs();
    let body = if a >= 10.0 {
        format!("{a:.0}")
    } else if a >= 1.0 {
        format!("{a:.1}")
    } else {
        format!("{a:.2}")
    };
    let sign = if p < 0.0 { "-" } else { "+" };
    format!("{sign}{body}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_ns(812.0), "812 ns");
        assert_eq!(format_ns(12_100.0), "12.1 µs");
        assert_eq!(format_ns(3_400_000.0), "3.40 ms");
        assert_eq!(format_rate(2.5e9, "B/s", false), "2.50 GB/s");
        assert_eq!(
            format_rate(1024.0 * 1024.0 * 3.0, "B/s", true),
            "3.00 MiB/s"
        );
        assert_eq!(format_pct(0.38), "+38%");
        assert_eq!(format_pct(-0.042), "-4.2%");
        assert_eq!(format_pct(0.0031), "+0.31%");
        assert_eq!(format_pct(-0.0), "+0.00%");
    }
}
