//! `perfgate history` as GitHub-flavoured markdown. Names and commit messages come from files
//! and commits a pull request can edit, so they are shown as code spans or escaped, as in the
//! comparison's markdown report.

use super::{date, headline, method, sparkline, step_change, steps_short};
use crate::history::History;
use crate::report::format::{format_p, format_value, short_commit};
use crate::report::markdown::{code, text};
use crate::vocab::Verdict;

/// Renders the history (ends with a newline).
pub fn render(h: &History) -> String {
    let mut out = format!("### {}\n\n", text(&headline(h)));
    let steps: Vec<_> = h.steps().collect();
    if !steps.is_empty() {
        out.push_str("| Change | Benchmark | Metric | First commit after | Date | Step | p-value | Before → after |\n");
        out.push_str("|:--|:--|:--|:--|:--|:--|--:|:--|\n");
        for (s, st) in steps {
            let c = &h.commits[st.commit];
            out.push_str(&format!(
                "| {} | {} | {} | {} {} | {} | {} | {} | {} → {} |\n",
                if st.verdict == Verdict::Regressed {
                    "**regressed**"
                } else {
                    "improved"
                },
                code(&s.benchmark, true),
                s.metric.name(),
                code(short_commit(&c.id), true),
                text(&super::table::truncate(&c.summary, 60)),
                date(c.time),
                text(&step_change(st, h.settings.confidence)),
                text(&format_p(st.change.p_value)),
                text(&format_value(st.change.before, s.unit)),
                text(&format_value(st.change.after, s.unit)),
            ));
        }
        out.push('\n');
    } else {
        out.push_str("No change points.\n\n");
    }
    if !h.series.is_empty() {
        out.push_str(&format!(
            "<details><summary>{} series</summary>\n\n| Benchmark | Metric | Points | Trend | Latest | Steps |\n|:--|:--|--:|:--|--:|:--|\n",
            h.series.len()
        ));
        for s in &h.series {
            let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                code(&s.benchmark, true),
                s.metric.name(),
                s.points.len(),
                sparkline(&values, super::table::SPARK_WIDTH),
                text(
                    &values
                        .last()
                        .map_or("-".into(), |v| format_value(*v, s.unit))
                ),
                text(&steps_short(s, h)),
            ));
        }
        out.push_str("\n</details>\n\n");
    }
    out.push_str(&text(&method(h)));
    out.push('\n');
    for s in &h.skipped {
        out.push_str(&format!("\n- skipped: {}", code(s, false)));
    }
    if !h.skipped.is_empty() {
        out.push('\n');
    }
    out
}
