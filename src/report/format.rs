//! Number formatting shared by every report: rates, durations, percentages, p-values, commit
//! ids.

use crate::vocab::Unit;

/// A value in its unit: `12.1 µs`, `3.00 MiB/s`.
pub fn format_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Nanos => format_ns(v),
        Unit::AllocsPerOp | Unit::BytesPerOp => format!("{} {}", format_count(v), unit.symbol()),
        Unit::BytesPerSec { binary } => format_rate(v, unit.symbol(), binary),
        _ => format_rate(v, unit.symbol(), false),
    }
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

/// A count per operation: a whole number as it is (`0`, `1`, `4096`), else three significant
/// digits (`0.50`, `1.25`), so that an exact count reads exactly.
pub fn format_count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        sig3(v)
    }
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

/// A p-value for display: `<0.001` below a thousandth, else three decimals.
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

/// A noise level as an unsigned percentage.
pub fn noise_pct(n: f64) -> String {
    format_pct(n).trim_start_matches('+').to_string()
}

/// A commit id shortened for display: its first 12 characters (never cut inside a character).
pub fn short_commit(id: &str) -> &str {
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

/// A number as the OpenMetrics text format writes it: a whole number below 2^53 as an integer
/// (`0`, `1`, `20000`: counts and flags), any other the shortest text that reads back as the
/// same `f64` (`0.05`, `1e-7`), and `NaN`, `+Inf`, `-Inf` for the non-finite values, as the
/// spec spells them.
pub fn format_openmetrics(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
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

    #[test]
    fn openmetrics_numbers_read_back_and_spell_the_non_finite_ones() {
        for v in [
            0.05,
            -0.0421,
            1e-7,
            2.5e21,
            20_000.0,
            0.0,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(format_openmetrics(v).parse::<f64>().unwrap(), v);
        }
        assert_eq!(format_openmetrics(20_000.0), "20000");
        assert_eq!(format_openmetrics(1.0), "1");
        assert_eq!(format_openmetrics(1e-7), "1e-7");
        assert_eq!(format_openmetrics(f64::NAN), "NaN");
        assert_eq!(format_openmetrics(f64::INFINITY), "+Inf");
        assert_eq!(format_openmetrics(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn commits_shorten_on_character_boundaries() {
        assert_eq!(short_commit("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_commit("abc"), "abc");
        assert_eq!(short_commit("0123456789aé€xyz"), "0123456789aé");
    }
}
