//! `perfgate history` as terminal tables: one row per series with its sparkline, then one
//! row per change point.

use comfy_table::{Cell, CellAlignment, Table};

use super::{date, headline, method, sparkline, step_change, steps_short};
use crate::history::History;
use crate::report::format::{format_p, format_value, short_commit};
use crate::report::terminal_safe;
use crate::vocab::Verdict;

/// The sparkline's width in characters: a longer series is averaged into this many buckets.
pub const SPARK_WIDTH: usize = 40;

fn table(color: bool) -> Table {
    crate::report::table::new_table(crate::report::table::TableOptions {
        color,
        ..Default::default()
    })
}

/// Renders the history (ends with a newline). Every name and message comes from committed
/// files a pull request can edit, so all are made terminal-safe.
pub fn render(h: &History, color: bool) -> String {
    let mut out = terminal_safe(&headline(h));
    out.push('\n');
    if h.series.is_empty() {
        out.push_str("No benchmark series in this history.\n");
    } else {
        let mut t = table(color);
        t.set_header(["Benchmark", "Metric", "Points", "Trend", "Latest", "Steps"]);
        for s in &h.series {
            let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
            let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
            t.add_row(vec![
                Cell::new(terminal_safe(&s.benchmark)),
                Cell::new(s.metric.name()),
                right(s.points.len().to_string()),
                Cell::new(sparkline(&values, SPARK_WIDTH)),
                right(
                    values
                        .last()
                        .map_or("-".into(), |v| format_value(*v, s.unit)),
                ),
                Cell::new(steps_short(s, h)),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    let steps: Vec<_> = h.steps().collect();
    if !steps.is_empty() {
        let mut t = table(color);
        t.set_header([
            "Change",
            "Benchmark",
            "Metric",
            "First commit after",
            "Date",
            "Step",
            "p-value",
            "Before -> after",
        ]);
        for (s, st) in steps {
            let c = &h.commits[st.commit];
            let mut verdict = Cell::new(match st.verdict {
                Verdict::Regressed => "REGRESSED",
                _ => "improved",
            });
            if color {
                verdict = verdict.fg(match st.verdict {
                    Verdict::Regressed => comfy_table::Color::Red,
                    _ => comfy_table::Color::Green,
                });
            }
            t.add_row(vec![
                verdict,
                Cell::new(terminal_safe(&s.benchmark)),
                Cell::new(s.metric.name()),
                Cell::new(format!(
                    "{} {}",
                    short_commit(&c.id),
                    terminal_safe(&truncate(&c.summary, 40))
                )),
                Cell::new(date(c.time)),
                Cell::new(step_change(st, h.settings.confidence)),
                Cell::new(format_p(st.change.p_value)).set_alignment(CellAlignment::Right),
                Cell::new(format!(
                    "{} -> {}",
                    format_value(st.change.before, s.unit),
                    format_value(st.change.after, s.unit)
                )),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out.push_str(&terminal_safe(&method(h)));
    out.push('\n');
    for s in &h.skipped {
        out.push_str(&format!("skipped: {}\n", terminal_safe(s)));
    }
    out
}

/// At most `n` characters of `s`, with `…` when cut.
pub fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
