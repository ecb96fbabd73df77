//! The full terminal report (`--verbose`): a banner when the machines differ, a one-line
//! headline, and a comfy-table of every row, failing rows first, each with its reason in plain
//! words. The default terminal report is the compact one ([`super::compact`]); both start with
//! the same [`preamble`].

use anstyle::{AnsiColor, Style};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

use super::format::{format_p, short_commit};
use super::prose::{headline, mismatch_banner, notes, reason, threshold_label, verdict_label};
use super::terminal_safe;
use crate::compare::{Comparison, Row, Verdict};

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// ANSI colours.
    pub color: bool,
    /// Wrap to this width; `None` wraps to the terminal's width when `terminal` is set, and
    /// never otherwise.
    pub width: Option<u16>,
    /// Output goes to a terminal.
    pub terminal: bool,
    /// Every row in the full table (`--verbose`), instead of the compact report.
    pub verbose: bool,
}

pub(super) fn verdict_color(r: &Row) -> Option<Color> {
    match r.verdict {
        _ if r.fails => Some(Color::Red),
        Verdict::Regressed | Verdict::Inconclusive | Verdict::Missing => Some(Color::Yellow),
        Verdict::Improved => Some(Color::Green),
        Verdict::New => Some(Color::Cyan),
        Verdict::Unchanged => None,
    }
}

/// Renders the terminal report: the full table with `verbose`, the compact report otherwise.
pub fn render(c: &Comparison, opts: TableOptions) -> String {
    if !opts.verbose {
        return super::compact::render(c, opts);
    }
    let mut out = preamble(c, opts, None);
    if c.rows.is_empty() {
        out.push_str("no benchmarks to compare\n");
        return out;
    }
    let mut table = new_table(opts);
    table.set_header(header(
        &[
            "Verdict",
            "Benchmark",
            "Metric",
            "p-value",
            "Threshold",
            "Reason",
        ],
        opts,
    ));
    for r in &c.rows {
        table.add_row(vec![
            verdict_cell(r, opts),
            Cell::new(terminal_safe(&r.benchmark)),
            Cell::new(r.metric.map_or("-", |m| m.name())),
            Cell::new(
                r.change
                    .map(|c| c.p_value)
                    .map_or("-".to_string(), format_p),
            ),
            Cell::new(threshold_label(r, c.noise_factor)),
            Cell::new(terminal_safe(&reason(r, c.confidence))),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out
}

/// The top of every terminal report: the machine-mismatch banner, the headline, the notes and
/// the two sides; the notes wrapped to `wrap` columns when given (the headline stays one
/// line, to be found whole).
pub(super) fn preamble(c: &Comparison, opts: TableOptions, wrap: Option<usize>) -> String {
    let mut out = String::new();
    for line in mismatch_banner(c) {
        if opts.color {
            let warn = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
            out.push_str(&format!("{warn}{}{warn:#}\n", terminal_safe(&line)));
        } else {
            out.push_str(&terminal_safe(&line));
            out.push('\n');
        }
    }
    let head = headline(c);
    if opts.color {
        let color = if c.failed() || c.error.is_some() {
            AnsiColor::Red
        } else {
            AnsiColor::Green
        };
        let style = Style::new().bold().fg_color(Some(color.into()));
        out.push_str(&format!("{style}{head}{style:#}\n"));
    } else {
        out.push_str(&head);
        out.push('\n');
    }
    for note in notes(c) {
        let line = format!("note: {}", terminal_safe(&note));
        match wrap {
            Some(w) => out.push_str(&super::compact::wrap_words(&line, w)),
            None => {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out.push_str(&format!(
        "baseline: {}{}\nresults:  {}{}\n",
        terminal_safe(&c.baseline_source),
        c.baseline_commit
            .as_deref()
            .map(|s| format!(" (commit {})", terminal_safe(short_commit(s))))
            .unwrap_or_default(),
        terminal_safe(&c.results_source),
        c.results_commit
            .as_deref()
            .map(|s| format!(" (commit {})", terminal_safe(short_commit(s))))
            .unwrap_or_default(),
    ));
    out
}

/// A table laid out for `opts`: wrapped to the given width, to the terminal's, or not at all.
pub(super) fn new_table(opts: TableOptions) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    if !opts.color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    match opts.width {
        Some(w) => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
            table.set_width(w);
        }
        None if opts.terminal => {
            table.set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    table
}

/// Header cells, bold with colours.
pub(super) fn header(names: &[&str], opts: TableOptions) -> Vec<Cell> {
    names
        .iter()
        .map(|h| {
            let cell = Cell::new(h);
            if opts.color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        })
        .collect()
}

/// A row's verdict cell, coloured (and bold when it fails) with colours.
pub(super) fn verdict_cell(r: &Row, opts: TableOptions) -> Cell {
    let mut verdict = Cell::new(verdict_label(r));
    if opts.color
        && let Some(col) = verdict_color(r)
    {
        verdict = verdict.fg(col);
        if r.fails {
            verdict = verdict.add_attribute(Attribute::Bold);
        }
    }
    verdict
}
