//! `perfgate explain` on the terminal: the headline, a table of the functions whose self share
//! grew most, and where the flame graph is.

use comfy_table::{Cell, CellAlignment};

use super::{Doc, footer, headline, points, share, syscall_line};
use crate::report::terminal_safe;

/// Renders the explanation (ends with a newline). Function names come from the profiled
/// binary and are made terminal-safe.
pub fn render(d: &Doc<'_>, color: bool) -> String {
    let mut out = terminal_safe(&headline(d));
    out.push('\n');
    if !d.top.is_empty() {
        let mut t = crate::report::table::new_table(crate::report::table::TableOptions {
            color,
            ..Default::default()
        });
        t.set_header(["#", "Function (self time)", "Baseline", "Head", "Growth"]);
        for (i, f) in d.top.iter().enumerate() {
            let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
            t.add_row(vec![
                right((i + 1).to_string()),
                Cell::new(terminal_safe(&f.function)),
                right(share(f.base_share)),
                right(share(f.head_share)),
                right(points(f.growth())),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out.push_str(&format!(
        "{}\ndifferential flame graph (red: more on head): {}\n{}\n",
        terminal_safe(&syscall_line(d)),
        terminal_safe(d.svg),
        footer(d)
    ));
    out
}
