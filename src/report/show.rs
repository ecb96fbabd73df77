//! `baseline show`: a stored snapshot as a table.

use comfy_table::{Cell, CellAlignment};

use super::format::{format_ns, format_value};
use super::terminal_safe;
use crate::baseline::schema::{Latency, Snapshot};

type Pick = fn(&Latency) -> (f64, [f64; 2]);

/// A percentile with its 95% interval: `12.1 µs (11.9–12.4)`.
fn lat_ci(b: &crate::baseline::schema::Benchmark, pick: Pick) -> String {
    b.latency.as_ref().map_or("-".to_string(), |l| {
        let (v, [lo, hi]) = pick(l);
        format!("{} ({}–{})", format_ns(v), format_ns(lo), format_ns(hi))
    })
}

/// Renders a snapshot: its metadata, then one row per benchmark.
pub fn render(s: &Snapshot, label: &str, color: bool) -> String {
    // Every field comes from a file a pull request can edit: shown, never obeyed.
    let t = terminal_safe;
    let mut out = format!(
        "{}\n  testbed {}, created {}, schema {}\n",
        t(label),
        t(&s.testbed),
        t(&s.created_at),
        s.schema_version
    );
    if let Some(g) = &s.git {
        out.push_str(&format!(
            "  commit {}{}{}, committed {}\n",
            t(&g.commit),
            g.branch
                .as_deref()
                .map(|b| format!(" on {}", t(b)))
                .unwrap_or_default(),
            if g.dirty { " (dirty)" } else { "" },
            t(&g.commit_time)
        ));
    }
    let m = &s.machine;
    out.push_str(&format!(
        "  machine {} {} {}, {} cores, {} MiB, kernel {}\n",
        t(&m.os),
        t(&m.arch),
        t(&m.cpu_model),
        m.cores,
        m.memory_mib,
        t(&m.kernel)
    ));
    out.push_str(&format!(
        "  perfgate {}, {}, criterion {}\n",
        t(&s.tools.perfgate),
        t(s.tools.rustc.as_deref().unwrap_or("rustc unknown")),
        t(s.tools.criterion.as_deref().unwrap_or("unknown"))
    ));
    let mut t = super::table::new_table(super::table::TableOptions {
        color,
        ..Default::default()
    });
    t.set_header([
        "Benchmark",
        "Throughput",
        "Mean",
        "Median",
        "p50",
        "p99",
        "p999",
        "Samples",
    ]);
    for b in &s.benchmarks {
        let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
        t.add_row(vec![
            Cell::new(terminal_safe(&b.id)),
            right(format_value(
                b.throughput_per_sec(b.summary.mean_ns),
                b.throughput_unit(),
            )),
            right(format_ns(b.summary.mean_ns)),
            right(format_ns(b.summary.median_ns)),
            right(lat_ci(b, |l| (l.p50_ns, l.p50_ci_ns))),
            right(lat_ci(b, |l| (l.p99_ns, l.p99_ci_ns))),
            right(lat_ci(b, |l| (l.p999_ns, l.p999_ci_ns))),
            right(b.samples.per_iter_ns.len().to_string()),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str("Mean and median are of criterion's per-iteration sample times; p50/p99/p999 are of single operations (recorded benchmarks only), with 95% intervals.\n");
    out
}
