//! The summary printed after `baseline refresh`, and its markdown form (`--summary-md`, the
//! refresh workflow's pull request body).

use std::path::Path;

use super::format::{format_pct, short_commit};
use super::terminal_safe;
use crate::baseline::refresh::Refreshed;

/// The summary as markdown: shown as it is, in a fenced code block that no benchmark id in it
/// can close (see [`super::markdown::code_block`]).
pub fn markdown(summary: &str) -> String {
    super::markdown::code_block(summary)
}

/// The human summary printed after a refresh (in markdown, [`markdown`]).
pub fn summary(r: &Refreshed, path: &Path) -> String {
    let mut s = format!(
        "Wrote {} ({} benchmarks, testbed {}{}).\n",
        terminal_safe(&path.display().to_string()),
        r.snapshot.benchmarks.len(),
        terminal_safe(&r.snapshot.testbed),
        r.snapshot
            .git
            .as_ref()
            .map(|g| format!(
                ", commit {}{}",
                terminal_safe(short_commit(&g.commit)),
                if g.dirty { " (dirty)" } else { "" }
            ))
            .unwrap_or_default()
    );
    let list = |s: &mut String, title: &str, ids: &[String]| {
        if !ids.is_empty() {
            s.push_str(&format!("{title} ({}):\n", ids.len()));
            for id in ids {
                s.push_str(&format!("  {}\n", terminal_safe(id)));
            }
        }
    };
    if r.noise_measured > 0 {
        s.push_str(&format!(
            "Run-to-run noise measured for {} benchmark(s), from {} runs.\n",
            r.noise_measured, r.noise_runs
        ));
    }
    if r.noise_kept > 0 {
        s.push_str(&format!(
            "Run-to-run noise kept from the previous baseline for {} benchmark(s) (measure it again with --runs N).\n",
            r.noise_kept
        ));
    }
    list(&mut s, "Added", &r.added);
    if !r.updated.is_empty() {
        s.push_str(&format!(
            "Updated ({}), change of mean time per iteration:\n",
            r.updated.len()
        ));
        for (id, ch) in &r.updated {
            s.push_str(&format!("  {:<8} {}\n", format_pct(*ch), terminal_safe(id)));
        }
    }
    list(
        &mut s,
        "Kept from the previous baseline, not measured in this run (--prune removes them)",
        &r.kept,
    );
    list(&mut s, "Pruned", &r.pruned);
    s
}
