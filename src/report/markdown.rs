//! The markdown report (`--format markdown`): GitHub-flavoured, for job summaries and pull
//! request comments. The headline comes first, on one line; then the machine-mismatch warning,
//! if any; then every row that needs attention in a table with its reason; unchanged rows are
//! folded in a `<details>` block.
//!
//! Benchmark names, file labels and machine descriptions come from files a pull request can
//! change, and the report is rendered by GitHub as markdown and HTML. So every such string is
//! shown as a code span (where markdown, HTML, autolinks, emoji and @-mentions are all inert),
//! and every other text is escaped: no name can inject markup, break a table or ping a user.

use super::format::{format_p, short_commit};
use super::prose::{headline, notes, reason, threshold_label, verdict_label};
use crate::compare::{Comparison, Row, Verdict};

/// Renders the whole markdown report (ends with a newline).
pub fn render(c: &Comparison) -> String {
    let icon = if c.failed() || c.error.is_some() {
        "❌"
    } else {
        "✅"
    };
    let mut out = format!("### {icon} {}\n\n", text(&headline(c)));
    let notes = notes(c);
    if !notes.is_empty() {
        out.push_str("> [!NOTE]\n");
        for n in &notes {
            out.push_str(&format!("> - {}\n", text(n)));
        }
        out.push('\n');
    }
    if !c.machine_mismatch.is_empty() {
        out.push_str(&format!(
            "> [!WARNING]\n> The baseline was measured on a different machine (testbed {}, here {}); timings are not comparable{}:\n",
            code(&c.baseline_testbed, false),
            code(&c.results_testbed, false),
            if c.mismatch_fails {
                ", and `machine_mismatch = \"fail\"` fails the comparison"
            } else {
                ""
            }
        ));
        for d in &c.machine_mismatch {
            out.push_str(&format!("> - {}\n", code(d, false)));
        }
        out.push_str(
            ">\n> Refresh the baseline on this kind of machine (`perfgate baseline refresh`), or compare against the baseline of this testbed (`--testbed`).\n\n",
        );
    }
    out.push_str(&format!(
        "**Baseline** {}{} · **Results** {}{}\n\n",
        code(&c.baseline_source, false),
        commit(c.baseline_commit.as_deref()),
        code(&c.results_source, false),
        commit(c.results_commit.as_deref()),
    ));
    if c.rows.is_empty() {
        out.push_str("No benchmarks to compare.\n");
        return out;
    }
    let (unchanged, notable): (Vec<&Row>, Vec<&Row>) =
        c.rows.iter().partition(|r| r.verdict == Verdict::Unchanged);
    if notable.is_empty() {
        out.push_str("Every comparison is within its threshold.\n\n");
    } else {
        out.push_str("| Verdict | Benchmark | Metric | p-value | Threshold | Reason |\n");
        out.push_str("|:--|:--|:--|--:|--:|:--|\n");
        for r in &notable {
            let label = verdict_label(r);
            let verdict = if r.fails {
                format!("**{}**", text(&label))
            } else {
                text(&label)
            };
            out.push_str(&format!("| {verdict} |{}\n", cells(r, c)));
        }
        out.push('\n');
    }
    if !unchanged.is_empty() {
        out.push_str(&format!(
            "<details><summary>{} unchanged</summary>\n\n| Benchmark | Metric | p-value | Threshold | Reason |\n|:--|:--|--:|--:|:--|\n",
            unchanged.len()
        ));
        for r in &unchanged {
            out.push_str(&format!("|{}\n", cells(r, c)));
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// The benchmark, metric, p-value, threshold and reason cells of a row, each followed by `|`.
/// The threshold is the effective one, with the noise that widened it, as in the table.
fn cells(r: &Row, c: &Comparison) -> String {
    format!(
        " {} | {} | {} | {} | {} |",
        code(&r.benchmark, true),
        r.metric.map_or("-", |m| m.name()),
        text(
            &r.change
                .map(|c| c.p_value)
                .map_or("-".to_string(), format_p)
        ),
        text(&threshold_label(r, c.noise_factor)),
        text(&reason(r, c.confidence))
    )
}

fn commit(c: Option<&str>) -> String {
    c.map(|s| format!(" (commit {})", code(short_commit(s), false)))
        .unwrap_or_default()
}

/// Escapes text for markdown: every character that can start inline markup (emphasis, links,
/// images, HTML and autolinks, entities, code, strikethrough, math, table cells) is
/// backslash-escaped (the text is never at the start of a line, so block markers such as `>`
/// need nothing), control characters are shown as `\u{..}`, and `@` is followed by a word
/// joiner so that it cannot mention anyone.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '&' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            '@' => out.push_str("@\u{2060}"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// Shows `s` as a code span, the one place where markdown and HTML are never interpreted.
/// The fence is longer than any run of backticks inside; control characters are shown as
/// `\u{..}` (a newline would end a table row); in a table cell `|` is escaped, which GitHub
/// undoes inside code spans.
pub fn code(s: &str, in_table: bool) -> String {
    let mut body = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' if in_table => body.push_str("\\|"),
            c if c.is_control() => body.push_str(&c.escape_unicode().to_string()),
            c => body.push(c),
        }
    }
    if body.is_empty() {
        return "(empty)".to_string();
    }
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick or a space needs one space of padding on each
    // side; CommonMark strips exactly that padding.
    let pad = if body.starts_with(['`', ' ']) || body.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Shows `text` as a fenced code block, literal whatever it holds: CommonMark closes a fence of
/// N backticks only at a line of N or more, so the fence is one backtick longer than the
/// longest run in `text` (and at least the three a fence needs). Control characters other than
/// newlines are shown as `\u{..}`, as everywhere else in the markdown report.
pub fn code_block(text: &str) -> String {
    let body: String = text
        .chars()
        .map(|c| match c {
            '\n' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect();
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let newline = if body.is_empty() || body.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{fence}\n{body}{newline}{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks_pipes_and_newlines() {
        assert_eq!(code("a/b", true), "`a/b`");
        assert_eq!(code("a|b", true), "`a\\|b`");
        assert_eq!(code("a|b", false), "`a|b`");
        assert_eq!(code("x``y", false), "```x``y```");
        assert_eq!(code("`x", false), "`` `x ``");
        assert_eq!(code(" x", false), "`  x `");
        assert_eq!(code("a\nb", false), "`a\\u{a}b`");
        assert_eq!(code("", false), "(empty)");
    }

    /// A fenced code block read as CommonMark reads it: the content between the opening fence
    /// and the first line that closes it (at most three spaces, at least as many backticks as
    /// the opening, then only spaces or tabs), and what follows that line; `None` when the
    /// block never closes.
    fn read_block(block: &str) -> Option<(String, String)> {
        let mut lines = block.split_inclusive('\n');
        let open = lines.next()?.trim_end_matches('\n');
        assert!(
            open.len() >= 3 && open.bytes().all(|b| b == b'`'),
            "{open:?}"
        );
        let mut content = String::new();
        for line in lines.by_ref() {
            let l = line.trim_end_matches('\n');
            let rest = l.trim_start_matches(' ');
            let ticks = rest.len() - rest.trim_start_matches('`').len();
            if l.len() - rest.len() <= 3
                && ticks >= open.len()
                && rest[ticks..].trim_matches([' ', '\t']).is_empty()
            {
                return Some((content, lines.collect()));
            }
            content.push_str(line);
        }
        None
    }

    #[test]
    fn a_code_block_outlasts_every_backtick_run_inside() {
        assert_eq!(code_block("x"), "```\nx\n```\n");
        assert_eq!(code_block("x\n"), "```\nx\n```\n");
        assert_eq!(code_block(""), "```\n```\n");
        assert_eq!(code_block("a\n```\nb"), "````\na\n```\nb\n````\n");
        assert_eq!(code_block("``````"), "```````\n``````\n```````\n");
        assert_eq!(code_block("a\tb\r"), "```\na\\u{9}b\\u{d}\n```\n");
        let hostile = "Added (1):\n  g/x\n```\n@team #1 <!-- x -->\n  ````  \n";
        assert_eq!(
            read_block(&code_block(hostile)),
            Some((hostile.to_string(), String::new()))
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            rng_seed: proptest::test_runner::RngSeed::Fixed(3),
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn no_text_closes_its_code_block(parts in proptest::collection::vec(
            proptest::prop_oneof!["`{1,9}", "[ ]{0,4}", "[a-z~]{0,3}", proptest::strategy::Just("\n".to_string())],
            0..40,
        )) {
            let text: String = parts.concat();
            let (content, after) = read_block(&code_block(&text)).expect("the block closes");
            let mut expected = text.clone();
            if !expected.is_empty() && !expected.ends_with('\n') {
                expected.push('\n');
            }
            proptest::prop_assert_eq!(content, expected);
            proptest::prop_assert_eq!(after, "");
        }
    }

    #[test]
    fn text_escapes_markup_and_mentions() {
        assert_eq!(
            text("<img src=x> *b* [l](u) a|b @team $x$"),
            "\\<img src=x> \\*b\\* \\[l\\](u) a\\|b @\u{2060}team \\$x\\$"
        );
        assert_eq!(text("p99 +38%\r\n"), "p99 +38%\\u{d}\\u{a}");
    }
}
