//! The default terminal report: the one line that matters first, and no more than a reader
//! needs. After the preamble (banner, headline, notes, the two sides): a table of the failing
//! rows only, with their full reasons; then one line per verdict naming the other benchmarks
//! (`inconclusive (12): spawn/command/static, ...`); then a coverage line. Everything wraps to
//! the terminal's width, or to [`DEFAULT_WIDTH`] columns when not on a terminal, breaking
//! between names and words, never inside a name or a number. `--verbose` gives the full table
//! of every row ([`super::table`]).

use anstyle::{AnsiColor, Style};
use comfy_table::{Cell, Color};

use super::prose::{reason, threshold_label, verdict_label};
use super::table::{TableOptions, header, new_table, preamble, verdict_cell, verdict_color};
use super::terminal_safe;
use crate::compare::{Comparison, Row, Verdict};

/// The width of the compact report when it does not go to a terminal.
pub const DEFAULT_WIDTH: u16 = 100;

/// Renders the compact report.
pub fn render(c: &Comparison, opts: TableOptions) -> String {
    let width = width(opts);
    let mut out = preamble(c, opts, Some(width as usize));
    if c.rows.is_empty() {
        out.push_str("no benchmarks to compare\n");
        return out;
    }
    let failing: Vec<&Row> = c.rows.iter().filter(|r| r.fails).collect();
    if !failing.is_empty() {
        let mut table = new_table(TableOptions {
            width: Some(width),
            ..opts
        });
        table.set_header(header(
            &["Verdict", "Benchmark", "Metric", "Threshold", "Reason"],
            opts,
        ));
        for r in failing {
            table.add_row(vec![
                verdict_cell(r, opts),
                Cell::new(terminal_safe(&r.benchmark)),
                Cell::new(r.metric.map_or("-", |m| m.name())),
                Cell::new(threshold_label(r, c.noise_factor)),
                Cell::new(terminal_safe(&reason(r, c.confidence))),
            ]);
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    for group in groups(c) {
        let plain = format!("{} ({}):", group.label, group.benchmarks.len());
        let visible = plain.chars().count();
        let label = match (opts.color, group.color) {
            (true, Some(col)) => {
                let style = Style::new().fg_color(Some(ansi(col).into()));
                format!("{style}{plain}{style:#}")
            }
            _ => plain,
        };
        out.push_str(&wrap_list(
            &label,
            visible,
            &group.benchmarks,
            width as usize,
        ));
    }
    out.push_str(&wrap_words(&coverage(c), width as usize));
    out
}

/// The width to wrap to: the one asked for, the terminal's, else [`DEFAULT_WIDTH`].
fn width(opts: TableOptions) -> u16 {
    if let Some(w) = opts.width {
        return w;
    }
    if opts.terminal
        && let Some(w) = comfy_table::Table::new().width()
    {
        return w;
    }
    DEFAULT_WIDTH
}

/// The benchmarks of one verdict among the rows that do not fail.
struct Group {
    label: String,
    color: Option<Color>,
    benchmarks: Vec<String>,
}

/// The rows that do not fail, grouped by their verdict label in the rows' order (most
/// important first), each benchmark named once per group.
fn groups(c: &Comparison) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for r in c.rows.iter().filter(|r| !r.fails) {
        let label = verdict_label(r);
        let name = terminal_safe(&r.benchmark);
        match out.iter_mut().find(|g| g.label == label) {
            Some(g) => {
                if !g.benchmarks.contains(&name) {
                    g.benchmarks.push(name);
                }
            }
            None => out.push(Group {
                label,
                color: verdict_color(r),
                benchmarks: vec![name],
            }),
        }
    }
    out
}

/// What was compared, and what was not decided.
fn coverage(c: &Comparison) -> String {
    let mut benchmarks: Vec<&str> = c.rows.iter().map(|r| r.benchmark.as_str()).collect();
    benchmarks.sort_unstable();
    benchmarks.dedup();
    let undecided = c
        .rows
        .iter()
        .filter(|r| r.gated && r.verdict == Verdict::Inconclusive)
        .count();
    let n = &c.counts;
    format!(
        "coverage: {} benchmark(s), {} comparison(s); {} new, {} missing, {} ignored; {undecided} gated comparison(s) undecided (--verbose: every row with its reason)",
        benchmarks.len(),
        c.compared(),
        n.new,
        n.missing,
        n.ignored,
    )
}

fn ansi(c: Color) -> AnsiColor {
    match c {
        Color::Red => AnsiColor::Red,
        Color::Yellow => AnsiColor::Yellow,
        Color::Green => AnsiColor::Green,
        Color::Cyan => AnsiColor::Cyan,
        _ => AnsiColor::White,
    }
}

/// `label` then the names, comma-separated, wrapped to `width` with the continuation lines
/// indented; a name is never broken (one longer than the line gets a line of its own).
/// `visible` is the label's width without its colour codes.
fn wrap_list(label: &str, visible: usize, names: &[String], width: usize) -> String {
    let last = names.len().saturating_sub(1);
    let items = names.iter().enumerate().map(|(i, name)| {
        if i < last {
            format!("{name},")
        } else {
            name.clone()
        }
    });
    wrap(label, visible, items, width)
}

/// Words wrapped to `width`, continuation lines indented.
pub(super) fn wrap_words(text: &str, width: usize) -> String {
    let mut words = text.split(' ');
    let first = words.next().unwrap_or_default();
    wrap(
        first,
        first.chars().count(),
        words.map(str::to_string),
        width,
    )
}

/// `first` (`visible` columns wide) then `items`, each after a space, or on a new indented
/// line when it would pass `width`; an item is never broken, and a line never starts empty.
fn wrap(first: &str, visible: usize, items: impl Iterator<Item = String>, width: usize) -> String {
    let mut out = String::from(first);
    let mut col = visible;
    for item in items {
        let len = item.chars().count();
        if col + 1 + len > width && col > INDENT.len() {
            out.push('\n');
            out.push_str(INDENT);
            col = INDENT.len();
        } else {
            out.push(' ');
            col += 1;
        }
        out.push_str(&item);
        col += len;
    }
    out.push('\n');
    out
}

const INDENT: &str = "  ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_wrap_between_names_and_never_inside_one() {
        let names: Vec<String> = [
            "spawn/a",
            "pipe/copy/64KiB",
            "a-very-long/benchmark/name/indeed",
        ]
        .map(String::from)
        .to_vec();
        let text = wrap_list("inconclusive (3):", 17, &names, 30);
        assert_eq!(
            text,
            "inconclusive (3): spawn/a,\n  pipe/copy/64KiB,\n  a-very-long/benchmark/name/indeed\n"
        );
        for line in text.lines() {
            assert!(line.len() <= 30 || !line.trim().contains(' '), "{line}");
        }
    }

    #[test]
    fn words_wrap_with_an_indent() {
        assert_eq!(
            wrap_words("one two three four", 9),
            "one two\n  three\n  four\n"
        );
    }
}
