//! The reports of `perfgate history`: a terminal table with a sparkline per series
//! ([`table`]), markdown ([`markdown`]), JSON ([`json`]) and a self-contained HTML page with a
//! chart per series ([`html`]). The words and numbers they share are here.

pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

use super::format::{format_pct, short_commit};
use crate::history::{History, Series, Step};

/// A commit time as a UTC date, `2026-11-24`.
pub fn date(secs: i64) -> String {
    let mut s = time(secs);
    s.truncate(10);
    s
}

pub use crate::baseline::git::rfc3339 as time;

/// The one-line summary every view starts with.
pub fn headline(h: &History) -> String {
    let span = match (h.commits.first(), h.commits.last()) {
        (Some(a), Some(b)) => format!(
            " ({} {} .. {} {})",
            short_commit(&a.id),
            date(a.time),
            short_commit(&b.id),
            date(b.time)
        ),
        _ => String::new(),
    };
    let steps = h.steps().count();
    format!(
        "perfgate history: {} at {}: {} version{}{span}, {} series, {} change point{} ({} regression{})",
        h.source,
        h.rev,
        h.commits.len(),
        plural(h.commits.len()),
        h.series.len(),
        steps,
        plural(steps),
        h.regressions(),
        plural(h.regressions()),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How the steps were found, in one sentence.
pub fn method(h: &History) -> String {
    let s = &h.settings;
    let mut m = format!(
        "Change points: E-Divisive means with Student's t-test (p < {}, at least {} points a side{}); intervals at {:.0}%.",
        s.max_p_value,
        s.min_size.max(2),
        if s.min_change > 0.0 {
            format!(
                ", steps of {} or more",
                format_pct(s.min_change).trim_start_matches('+')
            )
        } else {
            String::new()
        },
        s.confidence * 100.0
    );
    if !h.skipped.is_empty() {
        m.push_str(&format!(
            " {} version{} could not be read and {} left out.",
            h.skipped.len(),
            plural(h.skipped.len()),
            if h.skipped.len() == 1 { "is" } else { "are" }
        ));
    }
    m
}

/// A step in words: `-5.0% (95% CI -5.6%..-4.4%)`.
pub fn step_change(st: &Step, confidence: f64) -> String {
    format!(
        "{} ({:.0}% CI {}..{})",
        format_pct(st.change.change),
        confidence * 100.0,
        format_pct(st.change.ci_low),
        format_pct(st.change.ci_high)
    )
}

/// The steps of a series, short: `-5.0% at 0123456789ab`, comma-separated; `-` for none.
pub fn steps_short(s: &Series, h: &History) -> String {
    if s.steps.is_empty() {
        return "-".to_string();
    }
    s.steps
        .iter()
        .map(|st| {
            format!(
                "{} at {}",
                format_pct(st.change.change),
                short_commit(&h.commits[st.commit].id)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sparkline of `values` in at most `width` characters (eight levels, `▁` to `█`); longer
/// series are averaged in equal buckets. A flat series is a flat line.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let cells: Vec<f64> = if values.len() <= width {
        values.to_vec()
    } else {
        (0..width)
            .map(|i| {
                let (a, b) = (i * values.len() / width, (i + 1) * values.len() / width);
                crate::stats::mean(&values[a..b.max(a + 1)])
            })
            .collect()
    };
    let lo = cells.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = cells.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    cells
        .iter()
        .map(|v| {
            if hi - lo <= hi.abs() * 1e-12 {
                BARS[3]
            } else {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_and_bucket() {
        assert_eq!(
            sparkline(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 20),
            "▁▂▃▄▅▆▇█"
        );
        assert_eq!(sparkline(&[3.0; 4], 20), "▄▄▄▄");
        assert_eq!(sparkline(&[], 20), "");
        let long: Vec<f64> = (0..100).map(|i| if i < 50 { 1.0 } else { 2.0 }).collect();
        assert_eq!(sparkline(&long, 10), "▁▁▁▁▁█████");
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(time(86_400 + 61), "1970-01-02T00:01:01Z");
    }
}
