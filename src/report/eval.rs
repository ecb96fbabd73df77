//! The report of `perfgate eval-noise`: one row per variant, perfgate's rates next to
//! criterion's, and the paired rounds of every confirmation.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::format::format_pct;
use super::terminal_safe;
use crate::eval::{Evaluation, Paired};

/// One line per confirmation: the first and the confirmed verdict and the ratios.
pub fn paired_line(p: &Paired) -> String {
    let ratios: Vec<String> = p.ratios.iter().map(|x| format!("{x:.4}")).collect();
    format!(
        "round {} | {} | {} {}: first {} {}, after {} paired rounds {} {}; ratios current/baseline: {}",
        p.round,
        p.variant,
        terminal_safe(&p.benchmark),
        p.metric,
        p.first.0.map_or("-".into(), format_pct),
        p.first.1.name(),
        p.rounds,
        p.confirmed.0.map_or("-".into(), format_pct),
        p.confirmed.1.name(),
        ratios.join(" ")
    )
}

fn rate(k: usize, n: usize) -> String {
    if n == 0 {
        return "-".into();
    }
    format!("{k} of {n} ({:.1}%)", 100.0 * k as f64 / n as f64)
}

/// The report: one row per variant, perfgate's rates next to criterion's.
pub fn render(e: &Evaluation) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "comparison",
            "perfgate: gated comparisons flagged",
            "perfgate: benchmarks flagged, first comparison",
            "perfgate: benchmarks flagged",
            "perfgate: runs failed",
            "criterion: benchmarks regressed",
        ]);
    for (v, tally) in &e.results {
        t.add_row([
            v.name.clone(),
            rate(tally.comparisons_failed, tally.comparisons),
            rate(tally.first_flagged, tally.benchmarks),
            rate(tally.benchmarks_failed, tally.benchmarks),
            rate(tally.runs_failed, tally.runs),
            rate(tally.criterion_regressed, tally.criterion_benchmarks),
        ]);
    }
    let confirm = if e.confirm_rounds > 0 {
        format!(
            "candidate regressions confirmed in {} paired rounds",
            e.confirm_rounds
        )
    } else {
        "no confirmation (first comparison only)".to_string()
    };
    let mut s = format!(
        "perfgate eval-noise: {} rounds; baseline from {} run(s); {confirm}\n",
        e.rounds, e.noise_runs
    );
    for b in &e.baseline.benchmarks {
        if let Some(n) = &b.noise {
            let mut parts = vec![format!("throughput {:.2}%", n.throughput * 100.0)];
            for (name, v) in [("p50", n.p50), ("p99", n.p99), ("p999", n.p999)] {
                if let Some(v) = v {
                    parts.push(format!("{name} {:.2}%", v * 100.0));
                }
            }
            s.push_str(&format!(
                "run-to-run noise of {}: {}\n",
                terminal_safe(&b.id),
                parts.join(", ")
            ));
        }
    }
    s.push_str("A/A rows are false alarms; A/B rows are detections.\n");
    s.push_str(&t.to_string());
    s.push('\n');
    s
}
