//! The HTML report (`--format html`, `--html FILE`): one self-contained page that opens
//! offline. No script at all, no style sheet, font or image from elsewhere, and a
//! `Content-Security-Policy` that forbids loading any (charts are SVG images in `data:` URIs,
//! drawn by plotters' SVG backend, as on the history page).
//!
//! The page starts with the headline, the notes and what was compared, then a section per
//! benchmark, those with a row that fails the build first, then by their most important
//! verdict (the order of the comparison's rows). Each section has:
//!
//! - the rows of the benchmark (verdict, values, change, threshold, p-value, reason);
//! - a chart of each metric's change with its confidence interval against the threshold band
//!   (the band of changes within the threshold either way, the bad side beyond it shaded);
//! - the baseline and current distributions: the per-operation latency histograms where the
//!   recorder wrote them (a benchmark with latency metrics), else criterion's per-iteration
//!   sample times. Both come from the two snapshots the comparison was made from, and a
//!   committed baseline stores both (its samples and its latency histogram), so the baseline
//!   side is as complete as the current one. After a same-machine A/B the rows' verdicts rest
//!   on the paired rounds, while the distributions are still those of the first comparison:
//!   the page says so;
//! - for rows re-judged on paired rounds, the ratio `current / baseline` of every round (and
//!   of the replication rounds) against 1 and the threshold.
//!
//! Every text that comes from a file or a commit (benchmark names, sources, notes, machine
//! descriptions) is escaped ([`escape`]); the charts hold only numbers and metric names, so a
//! benchmark named `<script>` stays text.

use std::collections::HashMap;

use plotters::prelude::*;

use super::format::{format_ns, format_p, format_pct, format_value, short_commit};
use super::markup::{data_uri, escape};
use super::prose::{headline, mismatch_banner, notes, reason, threshold_label, verdict_label};
use crate::baseline::schema::{Benchmark, Latency, Snapshot};
use crate::compare::{Comparison, Confirmation, Row, Verdict};
use perfgate_recorder::histogram::bucket_width;

const WIDTH: u32 = 720;
/// Height of the distribution and ratio charts.
const HEIGHT: u32 = 240;
/// The axes' labels: a size that stays readable when a browser scales the image down.
const LABELS: (&str, u32) = ("sans-serif", 14);
/// Bars of a distribution chart.
const BINS: usize = 40;

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const RED: RGBColor = RGBColor(214, 39, 40);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const GREY: RGBColor = RGBColor(120, 120, 120);

/// The two snapshots a comparison was made from: where the distributions come from.
#[derive(Debug, Clone, Copy)]
pub struct Sides<'a> {
    /// The baseline (stored, or measured here for an A/B).
    pub baseline: &'a Snapshot,
    /// The current results.
    pub current: &'a Snapshot,
}

impl<'a> Sides<'a> {
    /// The baseline and the current results of a comparison.
    pub fn new(baseline: &'a Snapshot, current: &'a Snapshot) -> Self {
        Sides { baseline, current }
    }
}

/// The style of the page: inline, since nothing may be loaded from elsewhere.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:80em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}th{background:#f4f4f4}.fail{color:#b00;font-weight:bold}.warn{color:#a60}.good{color:#070}code{font-size:.95em}section{margin:2em 0;border-top:2px solid #ddd}section.failing{border-top-color:#b00}figure{margin:.8em 0}figcaption{font-size:.9em;color:#555}img{border:1px solid #eee;max-width:100%;height:auto}td.reason{min-width:18em}.note{background:#f6f8fa;padding:.4em .8em}";

/// Renders the page (ends with a newline).
pub fn render(c: &Comparison, sides: Sides<'_>) -> String {
    let e = escape;
    let title = headline(c);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n<title>{}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n<h1>perfgate</h1>\n<p class=\"{}\" id=\"headline\">{}</p>\n",
        e(&title),
        if c.failed() || c.error.is_some() {
            "fail"
        } else {
            "good"
        },
        e(&title)
    );
    for line in mismatch_banner(c) {
        out.push_str(&format!("<p class=\"warn\">{}</p>\n", e(&line)));
    }
    let mut page_notes = notes(c);
    if c.rows.iter().any(|r| r.confirmation().is_some()) {
        page_notes.push("rows re-judged on paired rounds have their verdicts from those rounds (their ratios are drawn); the distributions are those of the first comparison".to_string());
    }
    if !page_notes.is_empty() {
        out.push_str("<ul class=\"note\">\n");
        for n in &page_notes {
            out.push_str(&format!("<li>{}</li>\n", e(n)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str(&format!(
        "<p>Baseline <code>{}</code>{} (testbed <code>{}</code>) · Results <code>{}</code>{} (testbed <code>{}</code>)</p>\n",
        e(&c.baseline_source),
        commit(c.baseline_commit.as_deref()),
        e(&c.baseline_testbed),
        e(&c.results_source),
        commit(c.results_commit.as_deref()),
        e(&c.results_testbed),
    ));
    let groups = groups(c);
    if groups.is_empty() {
        out.push_str("<p>No benchmarks to compare.</p>\n</body>\n</html>\n");
        return out;
    }
    out.push_str("<h2>Benchmarks</h2>\n<ul id=\"index\">\n");
    for (i, g) in groups.iter().enumerate() {
        out.push_str(&format!(
            "<li><a href=\"#b-{i}\"><code>{}</code></a> <span class=\"{}\">{}</span></li>\n",
            e(g.name),
            class(g.rows[0]),
            e(&verdict_label(g.rows[0]))
        ));
    }
    out.push_str("</ul>\n");
    let base = by_id(sides.baseline);
    let current = by_id(sides.current);
    for (i, g) in groups.iter().enumerate() {
        section(
            &mut out,
            c,
            i,
            g,
            base.get(g.name).copied(),
            current.get(g.name).copied(),
        );
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The rows of one benchmark.
struct Group<'a> {
    name: &'a str,
    /// In the comparison's order: the most important first.
    rows: Vec<&'a Row>,
    failing: bool,
}

/// The rows grouped by benchmark: those with a failing row first, then in the order of the
/// comparison's rows (most important verdict first).
fn groups(c: &Comparison) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for r in &c.rows {
        let i = *index.entry(&r.benchmark).or_insert_with(|| {
            out.push(Group {
                name: &r.benchmark,
                rows: Vec::new(),
                failing: false,
            });
            out.len() - 1
        });
        out[i].rows.push(r);
        out[i].failing |= r.fails;
    }
    for g in &mut out {
        // A failing row leads its section (and names the benchmark's verdict in the index).
        g.rows.sort_by_key(|r| !r.fails);
    }
    out.sort_by_key(|g| !g.failing);
    out
}

fn by_id(s: &Snapshot) -> HashMap<&str, &Benchmark> {
    s.benchmarks.iter().map(|b| (b.id.as_str(), b)).collect()
}

fn commit(id: Option<&str>) -> String {
    id.map_or(String::new(), |id| {
        format!(" at <code>{}</code>", escape(short_commit(id)))
    })
}

/// The CSS class of a row's verdict.
fn class(r: &Row) -> &'static str {
    match r.verdict {
        _ if r.fails => "fail",
        Verdict::Regressed | Verdict::Inconclusive | Verdict::Missing => "warn",
        Verdict::Improved => "good",
        Verdict::New | Verdict::Unchanged => "",
    }
}

fn section(
    out: &mut String,
    c: &Comparison,
    i: usize,
    g: &Group<'_>,
    base: Option<&Benchmark>,
    current: Option<&Benchmark>,
) {
    let e = escape;
    out.push_str(&format!(
        "<section id=\"b-{i}\" class=\"{}\">\n<h2><code>{}</code> <span class=\"{}\">{}</span></h2>\n",
        if g.failing { "failing" } else { "benchmark" },
        e(g.name),
        class(g.rows[0]),
        e(&verdict_label(g.rows[0]))
    ));
    out.push_str("<table>\n<tr><th>Metric</th><th>Verdict</th><th>Baseline</th><th>Current</th><th>Change</th><th>Threshold</th><th>p-value</th><th>Reason</th></tr>\n");
    for r in &g.rows {
        let value = |v: Option<f64>| match (v, r.unit) {
            (Some(v), Some(u)) => format_value(v, u),
            _ => "-".to_string(),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>\n",
            r.metric.map_or("-", |m| m.name()),
            class(r),
            e(&verdict_label(r)),
            e(&value(r.baseline)),
            e(&value(r.current)),
            r.change.as_ref().map_or("-".to_string(), |ch| e(&format!(
                "{} ({}..{})",
                format_pct(ch.estimate),
                format_pct(ch.ci_low),
                format_pct(ch.ci_high)
            ))),
            e(&threshold_label(r, c.noise_factor)),
            r.change.as_ref().map_or("-".to_string(), |ch| e(&format_p(ch.p_value))),
            e(&reason(r, c.confidence)),
        ));
    }
    out.push_str("</table>\n");
    let judged: Vec<&Row> = g
        .rows
        .iter()
        .copied()
        .filter(|r| r.change.is_some() && r.threshold.is_some() && r.metric.is_some())
        .collect();
    if !judged.is_empty() {
        figure(
            out,
            &format!("chart-{i}-change"),
            change_chart(&judged),
            &format!("change of {} against its threshold", g.name),
            "Change of each metric (dot) with its confidence interval (bar); the green band is the threshold either way, the red side is worse than the threshold: a metric is regressed only when its whole interval lies there.",
        );
    }
    let (chart, caption) = distribution(base, current);
    match chart {
        Some(chart) => figure(
            out,
            &format!("chart-{i}-distribution"),
            chart,
            &format!("distributions of {}", g.name),
            &caption,
        ),
        None => out.push_str(&format!("<p>{}</p>\n", e(&caption))),
    }
    for r in &g.rows {
        if let (Some(conf), Some(metric)) = (r.confirmation(), r.metric) {
            figure(
                out,
                &format!("chart-{i}-rounds-{}", metric.name()),
                ratio_chart(conf, r.threshold),
                &format!("paired rounds of {} {}", g.name, metric.name()),
                &format!(
                    "{}: ratio current / baseline in each of {} paired round(s){}; the grey line is no change, the red one the threshold.",
                    metric.name(),
                    conf.ratios.len(),
                    match &conf.replication {
                        Some(rep) =>
                            format!(", then {} replication round(s) (orange)", rep.ratios.len()),
                        None => String::new(),
                    }
                ),
            );
        }
    }
    out.push_str("</section>\n");
}

/// A chart: its SVG and its height in pixels, or why it could not be drawn.
type Chart = Result<(String, u32), String>;

/// An embedded chart with its caption, or why it could not be drawn.
fn figure(out: &mut String, id: &str, chart: Chart, alt: &str, caption: &str) {
    match chart {
        Ok((svg, height)) => out.push_str(&format!(
            "<figure>\n<img class=\"chart\" id=\"{id}\" src=\"{}\" width=\"{WIDTH}\" height=\"{height}\" alt=\"{}\">\n<figcaption>{}</figcaption>\n</figure>\n",
            data_uri(&svg),
            escape(alt),
            escape(caption)
        )),
        Err(why) => out.push_str(&format!(
            "<p>The chart could not be drawn: {}</p>\n",
            escape(&why)
        )),
    }
}

fn draw_error<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> String {
    e.to_string()
}

/// The changes of `rows` (each with a change and a threshold) with their intervals, against
/// the threshold band, one line per metric.
fn change_chart(rows: &[&Row]) -> Chart {
    let height = 70 + 48 * rows.len() as u32;
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for r in rows {
        if let (Some(ch), Some(t)) = (&r.change, r.threshold) {
            for v in [ch.ci_low, ch.ci_high, ch.estimate, t.abs(), -t.abs()] {
                if v.is_finite() {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    let pad = (hi - lo).max(0.01) * 0.1;
    let (lo, hi) = (lo - pad, hi + pad);
    let n = rows.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(100)
            .build_cartesian_2d(lo..hi, -0.5..n as f64 - 0.5)
            .map_err(draw_error)?;
        let names: Vec<&str> = rows
            .iter()
            .map(|r| r.metric.map_or("-", |m| m.name()))
            .collect();
        chart
            .configure_mesh()
            .label_style(LABELS)
            .max_light_lines(4)
            .disable_y_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(8)
            .y_labels(n.max(1) * 2 + 1)
            .x_label_formatter(&|x| format_pct(*x))
            .y_label_formatter(&|y| {
                let k = y.round();
                if (y - k).abs() > 0.01 || k < 0.0 {
                    return String::new();
                }
                (n - 1)
                    .checked_sub(k as usize)
                    .and_then(|i| names.get(i))
                    .map_or(String::new(), |s| s.to_string())
            })
            .draw()
            .map_err(draw_error)?;
        for (k, r) in rows.iter().enumerate() {
            let (Some(ch), Some(t)) = (&r.change, r.threshold) else {
                continue;
            };
            // The first row at the top.
            let y = (n - 1 - k) as f64;
            let band = t.abs();
            chart
                .draw_series([Rectangle::new(
                    [(-band, y - 0.35), (band, y + 0.35)],
                    GREEN.mix(0.15).filled(),
                )])
                .map_err(draw_error)?;
            let bad = if t < 0.0 { [lo, t] } else { [t, hi] };
            chart
                .draw_series([Rectangle::new(
                    [(bad[0], y - 0.35), (bad[1], y + 0.35)],
                    RED.mix(0.12).filled(),
                )])
                .map_err(draw_error)?;
            chart
                .draw_series(LineSeries::new(
                    [(t, y - 0.4), (t, y + 0.4)],
                    RED.stroke_width(2),
                ))
                .map_err(draw_error)?;
            chart
                .draw_series(LineSeries::new(
                    [(0.0, y - 0.4), (0.0, y + 0.4)],
                    GREY.stroke_width(1),
                ))
                .map_err(draw_error)?;
            let color = match r.verdict {
                Verdict::Regressed => RED,
                Verdict::Improved => GREEN,
                Verdict::Inconclusive => ORANGE,
                _ => BLUE,
            };
            if ch.ci_low.is_finite() && ch.ci_high.is_finite() {
                chart
                    .draw_series(LineSeries::new(
                        [(ch.ci_low, y), (ch.ci_high, y)],
                        color.stroke_width(3),
                    ))
                    .map_err(draw_error)?;
                for x in [ch.ci_low, ch.ci_high] {
                    chart
                        .draw_series(LineSeries::new(
                            [(x, y - 0.15), (x, y + 0.15)],
                            color.stroke_width(2),
                        ))
                        .map_err(draw_error)?;
                }
            }
            if ch.estimate.is_finite() {
                chart
                    .draw_series([Circle::new((ch.estimate, y), 5, color.filled())])
                    .map_err(draw_error)?;
            }
        }
        root.present().map_err(draw_error)?;
    }
    Ok((svg, height))
}

/// One side's distribution: bins (lower edge, upper edge, fraction of the side) in the
/// chart's x coordinate.
type Bars = Vec<(f64, f64, f64)>;

fn latency(b: Option<&Benchmark>) -> Option<&Latency> {
    b.and_then(|b| b.latency.as_ref())
}

/// The distribution chart of a benchmark and its caption; `None` when neither side has
/// anything to draw (the caption then says why).
fn distribution(base: Option<&Benchmark>, current: Option<&Benchmark>) -> (Option<Chart>, String) {
    let latency_on_every_side = [base, current]
        .iter()
        .all(|b| b.is_none() || latency(*b).is_some());
    if (latency(base).is_some() || latency(current).is_some()) && latency_on_every_side {
        // Per-operation latencies: log-spaced bins, since a tail spans decades.
        let buckets = |b: Option<&Benchmark>| -> Vec<(f64, f64, f64)> {
            latency(b).map_or(Vec::new(), |l| {
                l.histogram
                    .buckets
                    .iter()
                    .map(|&[lower, count]| {
                        let upper = lower.saturating_add(bucket_width(lower));
                        // At least 1 ns: the axis is logarithmic.
                        (
                            (lower as f64).max(1.0),
                            (upper as f64).max(1.0),
                            count as f64,
                        )
                    })
                    .collect()
            })
        };
        let (b, c) = (buckets(base), buckets(current));
        let chart = bars_chart(&b, &c, true, base.is_some(), current.is_some());
        let ops = |b: Option<&Benchmark>| latency(b).map_or(0, |l| l.ops);
        (
            Some(chart),
            format!(
                "Per-operation latency (log scale): share of operations per bin, {}.",
                which(
                    base.map(|_| ops(base)),
                    current.map(|_| ops(current)),
                    "operations"
                )
            ),
        )
    } else {
        let samples = |b: Option<&Benchmark>| -> Vec<(f64, f64, f64)> {
            b.map_or(Vec::new(), |b| {
                b.samples
                    .per_iter_ns
                    .iter()
                    .filter(|v| v.is_finite() && **v > 0.0)
                    .map(|v| (*v, *v, 1.0))
                    .collect()
            })
        };
        let (b, c) = (samples(base), samples(current));
        if b.is_empty() && c.is_empty() {
            return (None, "No samples recorded on either side.".to_string());
        }
        let chart = bars_chart(&b, &c, false, base.is_some(), current.is_some());
        (
            Some(chart),
            format!(
                "Per-iteration sample times (criterion's samples, each the mean of one batch; no per-operation latencies recorded): share of samples per bin, {}.",
                which(
                    base.map(|_| b.len() as u64),
                    current.map(|_| c.len() as u64),
                    "samples"
                )
            ),
        )
    }
}

/// Which sides a distribution chart shows, with their counts of `what`.
fn which(base: Option<u64>, current: Option<u64>, what: &str) -> String {
    match (base, current) {
        (Some(b), Some(c)) => {
            format!("baseline (blue, {b} {what}) and current (orange, {c} {what})")
        }
        (Some(b), None) => format!("baseline only (blue, {b} {what}): not in these results"),
        (None, Some(c)) => format!("current only (orange, {c} {what}): not in the baseline"),
        (None, None) => "neither side".to_string(),
    }
}

/// Overlaid histograms of two sides, each given as weighted ranges `(from, to, weight)` in
/// ns, binned on a common scale (logarithmic with `log`).
fn bars_chart(
    base: &[(f64, f64, f64)],
    current: &[(f64, f64, f64)],
    log: bool,
    has_base: bool,
    has_current: bool,
) -> Chart {
    let to_x = |v: f64| if log { v.log10() } else { v };
    let from_x = |x: f64| if log { 10f64.powf(x) } else { x };
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (a, b, _) in base.iter().chain(current) {
        lo = lo.min(to_x(*a));
        hi = hi.max(to_x(*b));
    }
    if !lo.is_finite() || !hi.is_finite() {
        return Err("no finite values".to_string());
    }
    if hi - lo < 1e-9 {
        let pad = if log { 0.05 } else { lo.abs().max(1.0) * 0.05 };
        lo -= pad;
        hi += pad;
    }
    let width = (hi - lo) / BINS as f64;
    let bin = |side: &[(f64, f64, f64)]| -> Bars {
        let total: f64 = side.iter().map(|s| s.2).sum();
        let mut counts = vec![0.0; BINS];
        for (a, b, w) in side {
            // A bucket goes to the bin of its middle: buckets are far narrower than bins.
            let mid = (to_x(*a) + to_x(*b)) / 2.0;
            let k = (((mid - lo) / width) as usize).min(BINS - 1);
            counts[k] += w;
        }
        counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0.0)
            .map(|(k, c)| {
                let x0 = lo + k as f64 * width;
                (x0, x0 + width, c / total.max(f64::MIN_POSITIVE))
            })
            .collect()
    };
    let (b, c) = (bin(base), bin(current));
    let top = b.iter().chain(&c).map(|x| x.2).fold(0.0, f64::max) * 1.1;
    let top = if top > 0.0 { top } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .label_style(LABELS)
            .max_light_lines(4)
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&|x| format_ns(from_x(*x)))
            .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
            .draw()
            .map_err(draw_error)?;
        for (bars, color, present) in [(&b, BLUE, has_base), (&c, ORANGE, has_current)] {
            if !present {
                continue;
            }
            chart
                .draw_series(bars.iter().map(|(x0, x1, y)| {
                    Rectangle::new([(*x0, 0.0), (*x1, *y)], color.mix(0.45).filled())
                }))
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok((svg, HEIGHT))
}

/// The paired rounds' ratios (and the replication's, after them) against no change and the
/// threshold.
fn ratio_chart(conf: &Confirmation, threshold: Option<f64>) -> Chart {
    let rounds: Vec<(f64, f64)> = conf
        .ratios
        .iter()
        .enumerate()
        .map(|(k, r)| ((k + 1) as f64, *r))
        .filter(|(_, r)| r.is_finite())
        .collect();
    let replication: Vec<(f64, f64)> = conf.replication.as_ref().map_or(Vec::new(), |rep| {
        rep.ratios
            .iter()
            .enumerate()
            .map(|(k, r)| ((conf.ratios.len() + k + 1) as f64, *r))
            .filter(|(_, r)| r.is_finite())
            .collect()
    });
    let limit = threshold.map(|t| 1.0 + t);
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    for v in rounds.iter().chain(&replication).map(|p| p.1).chain(limit) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let pad = (hi - lo).max(0.01) * 0.1;
    let (lo, hi) = (lo - pad, hi + pad);
    let n = (rounds.len() + replication.len()).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5..n + 0.5, lo..hi)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .label_style(LABELS)
            .max_light_lines(4)
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels((n as usize).min(12))
            .y_labels(6)
            .x_label_formatter(&|x| format!("{:.0}", x))
            .y_label_formatter(&|y| format!("{y:.3}"))
            .draw()
            .map_err(draw_error)?;
        chart
            .draw_series(LineSeries::new(
                [(0.5, 1.0), (n + 0.5, 1.0)],
                GREY.stroke_width(1),
            ))
            .map_err(draw_error)?;
        if let Some(l) = limit {
            chart
                .draw_series(LineSeries::new(
                    [(0.5, l), (n + 0.5, l)],
                    RED.stroke_width(2),
                ))
                .map_err(draw_error)?;
        }
        for (points, color) in [(&rounds, BLUE), (&replication, ORANGE)] {
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok((svg, HEIGHT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bench, snapshot};

    fn compared(base: &Snapshot, cur: &Snapshot) -> Comparison {
        crate::compare::compare(
            base,
            cur,
            &crate::config::Config::default_config(),
            &crate::compare::Sources {
                baseline: "b".into(),
                results: "r".into(),
            },
        )
    }

    #[test]
    fn failing_benchmarks_come_first_whatever_their_names() {
        let base = snapshot(
            "x",
            vec![
                bench("a/steady", vec![100.0, 101.0, 99.0, 100.0]),
                bench("z/slower", vec![100.0, 101.0, 99.0, 100.0]),
            ],
        );
        let cur = snapshot(
            "y",
            vec![
                bench("a/steady", vec![100.0, 101.0, 99.0, 100.0]),
                bench("z/slower", vec![200.0, 202.0, 198.0, 200.0]),
            ],
        );
        let c = compared(&base, &cur);
        let g = groups(&c);
        assert_eq!(g[0].name, "z/slower");
        assert!(g[0].failing && !g[1].failing);
        let page = render(
            &c,
            Sides {
                baseline: &base,
                current: &cur,
            },
        );
        let slower = page.find("<h2><code>z/slower</code>").unwrap();
        let steady = page.find("<h2><code>a/steady</code>").unwrap();
        assert!(slower < steady);
    }

    #[test]
    fn a_one_sided_distribution_says_which_side_it_has() {
        assert_eq!(
            which(Some(3), None, "samples"),
            "baseline only (blue, 3 samples): not in these results"
        );
        assert_eq!(
            which(None, Some(5), "operations"),
            "current only (orange, 5 operations): not in the baseline"
        );
    }

    #[test]
    fn degenerate_distributions_draw_or_say_why_never_panic() {
        // One value on both sides: a zero-width range is widened.
        let same = [(100.0, 100.0, 1.0)];
        assert!(bars_chart(&same, &same, false, true, true).is_ok());
        assert!(bars_chart(&same, &[], true, true, false).is_ok());
        // Nothing at all.
        assert!(bars_chart(&[], &[], false, true, true).is_err());
        // A benchmark without samples on either side has no chart, and the page says so.
        let mut empty = bench("e", vec![1.0]);
        empty.samples.per_iter_ns.clear();
        let (chart, caption) = distribution(Some(&empty), Some(&empty));
        assert!(chart.is_none());
        assert_eq!(caption, "No samples recorded on either side.");
    }
}
