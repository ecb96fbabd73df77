//! `perfgate bisect` on the terminal: the headline, the first bad commit's paired evidence,
//! and one table row per A/B step.

use comfy_table::{Cell, CellAlignment};

use super::{Doc, evidence, headline, verdict};
use crate::report::format::{format_pct, short_commit};
use crate::report::terminal_safe;

/// Renders the result (ends with a newline). Commit messages come from the repository and are
/// made terminal-safe.
pub fn render(d: &Doc<'_>, color: bool) -> String {
    let b = d.bisection;
    let mut out = terminal_safe(&headline(d));
    out.push('\n');
    if let Some(k) = b.first_bad {
        // The evidence that names it: the step that found it bad, else the premise (the range
        // narrowed to the bad commit itself).
        let s = b
            .steps
            .iter()
            .rev()
            .find(|s| s.commit == k)
            .unwrap_or(&b.premise);
        out.push_str(&format!(
            "  against the good commit {}: {} in {} paired round(s)\n  per-round ratios: {}\n",
            short_commit(&b.commits[0].id),
            evidence(s),
            s.ratios.len(),
            s.ratios
                .iter()
                .map(|r| format!("{r:.3}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        if let Some(prev) = k.checked_sub(1) {
            out.push_str(&format!(
                "  its parent {} is good\n",
                short_commit(&b.commits[prev].id)
            ));
        }
    }
    let mut t = crate::report::table::new_table(crate::report::table::TableOptions {
        color,
        ..Default::default()
    });
    t.set_header([
        "Step",
        "Commit",
        "Summary",
        "Verdict",
        "Change vs good",
        "Threshold",
        "Rounds",
        "Time",
    ]);
    for (i, s) in b.all_steps().enumerate() {
        let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
        let c = &b.commits[s.commit];
        t.add_row(vec![
            right(if i == 0 {
                "premise".into()
            } else {
                i.to_string()
            }),
            Cell::new(short_commit(&c.id)),
            Cell::new(terminal_safe(&c.summary)),
            Cell::new(verdict(s, i == 0)),
            Cell::new(evidence(s)),
            right(format_pct(s.threshold)),
            right(s.ratios.len().to_string()),
            right(format!("{:.0} s", s.seconds)),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str(&format!(
        "{} commit(s) from good {} to bad {}; {} A/B step(s), {:.0} s in all; seed {}\n",
        b.commits.len(),
        short_commit(&b.commits[0].id),
        short_commit(&b.commits[b.commits.len() - 1].id),
        b.steps.len() + 1,
        d.seconds,
        d.seed
    ));
    out
}
