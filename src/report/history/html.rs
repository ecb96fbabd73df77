//! `perfgate history --format html`: one self-contained page (no script, no style sheet or
//! font from elsewhere: it opens without a network), with a chart per series drawn by
//! plotters' SVG backend, the change points marked, and every point a link to its commit.
//!
//! Each chart is an SVG image embedded as a data URI with an HTML image map over it: the
//! map's areas are placed with plotters' own coordinate mapping, so the links sit on the
//! points plotters drew, and no SVG is written by hand. Links go to the commit table at the
//! bottom of the page, or to `--commit-url` (e.g. a forge's commit page) when given.
//!
//! Every name and message comes from committed files and commits that a pull request can
//! edit: all are escaped for HTML (plotters escapes the chart's own text; the charts hold
//! only numbers and dates).

use plotters::prelude::*;

use super::{date, headline, method, step_change, steps_short};
use crate::history::{History, Series};
use crate::report::format::{format_p, format_value, short_commit};
use crate::report::markup::{data_uri, escape};
use crate::vocab::Verdict;

const WIDTH: u32 = 760;
const HEIGHT: u32 = 260;
/// Radius of a point's link area, in pixels.
const HIT: i32 = 5;
/// Above this many points a chart draws the line without a marker per point (the links stay).
const MARKERS_UP_TO: usize = 200;

/// Where a commit links to: the template with `{commit}` replaced by the full id, else the
/// commit's row on this page.
fn commit_href(id: &str, template: Option<&str>) -> String {
    match template {
        Some(t) => t.replace("{commit}", id),
        None => format!("#c-{id}"),
    }
}

/// Where a point is on its chart, in pixels, and the index of its commit.
type Area = (i32, i32, usize);

/// A chart of one series: the SVG and the link areas of its points.
fn chart(h: &History, s: &Series) -> Result<(String, Vec<Area>), String> {
    let xs: Vec<f64> = s.points.iter().map(|p| p.commit as f64).collect();
    let ys: Vec<f64> = s.points.iter().map(|p| p.value).collect();
    let (mut lo, mut hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| {
            (a.min(y), b.max(y))
        });
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.01);
    lo -= pad;
    hi += pad;
    let last = h.commits.len().saturating_sub(1).max(1) as f64;
    let mut svg = String::new();
    let mut areas = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let e = |e: plotters::drawing::DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let mut c = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(88)
            .build_cartesian_2d(-0.5..last + 0.5, lo..hi)
            .map_err(e)?;
        let unit = s.unit;
        let commits = &h.commits;
        c.configure_mesh()
            .light_line_style(RGBColor(235, 235, 235))
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|x| {
                let i = x.round().max(0.0) as usize;
                commits.get(i).map_or(String::new(), |c| date(c.time))
            })
            .y_label_formatter(&|y| format_value(*y, unit))
            .draw()
            .map_err(e)?;
        let blue = RGBColor(31, 119, 180);
        c.draw_series(LineSeries::new(
            xs.iter().copied().zip(ys.iter().copied()),
            blue.stroke_width(1),
        ))
        .map_err(e)?;
        if s.points.len() <= MARKERS_UP_TO {
            c.draw_series(
                xs.iter()
                    .zip(&ys)
                    .map(|(&x, &y)| Circle::new((x, y), 3, blue.filled())),
            )
            .map_err(e)?;
        }
        // Each segment's level (the geometric mean between change points), and a line at
        // each step, red for a regression, green for an improvement.
        let mut from = 0;
        for (k, st) in s.steps.iter().enumerate() {
            let level = st.change.before;
            let (x0, x1) = (xs[from], xs[st.point - 1]);
            c.draw_series(LineSeries::new(
                [(x0, level), (x1, level)],
                RGBColor(255, 127, 14).stroke_width(2),
            ))
            .map_err(e)?;
            let color = if st.verdict == Verdict::Regressed {
                RGBColor(214, 39, 40)
            } else {
                RGBColor(44, 160, 44)
            };
            let x = (xs[st.point - 1] + xs[st.point]) / 2.0;
            c.draw_series(LineSeries::new([(x, lo), (x, hi)], color.stroke_width(2)))
                .map_err(e)?;
            from = st.point;
            if k + 1 == s.steps.len() {
                let (x0, x1) = (xs[from], xs[xs.len() - 1]);
                c.draw_series(LineSeries::new(
                    [(x0, st.change.after), (x1, st.change.after)],
                    RGBColor(255, 127, 14).stroke_width(2),
                ))
                .map_err(e)?;
            }
        }
        for p in &s.points {
            let (x, y) = c.backend_coord(&(p.commit as f64, p.value));
            areas.push((x, y, p.commit));
        }
        root.present().map_err(e)?;
    }
    Ok((svg, areas))
}

/// Renders the page (ends with a newline). `commit_url` is a link template with `{commit}`.
pub fn render(h: &History, commit_url: Option<&str>) -> String {
    let e = escape;
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{}\n</style>\n</head>\n<body>\n",
        e(&headline(h)),
        "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}th{background:#f4f4f4}.reg{color:#b00;font-weight:bold}.imp{color:#070}code{font-size:.95em}section{margin:1.5em 0}img{border:1px solid #eee}"
    ));
    out.push_str(&format!(
        "<h1>perfgate history</h1>\n<p>{}</p>\n<p>{}</p>\n",
        e(&headline(h)),
        e(&method(h))
    ));
    let steps: Vec<_> = h.steps().collect();
    out.push_str("<h2>Change points</h2>\n");
    if steps.is_empty() {
        out.push_str("<p>No change points.</p>\n");
    } else {
        out.push_str("<table>\n<tr><th>Change</th><th>Benchmark</th><th>Metric</th><th>First commit after</th><th>Date</th><th>Step</th><th>p-value</th><th>Before → after</th></tr>\n");
        for (s, st) in &steps {
            let c = &h.commits[st.commit];
            let (class, word) = if st.verdict == Verdict::Regressed {
                ("reg", "regressed")
            } else {
                ("imp", "improved")
            };
            out.push_str(&format!(
                "<tr><td class=\"{class}\">{word}</td><td><a href=\"#s-{}\"><code>{}</code></a></td><td>{}</td><td><a href=\"{}\"><code>{}</code></a> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td></tr>\n",
                series_index(h, s),
                e(&s.benchmark),
                s.metric.name(),
                e(&commit_href(&c.id, commit_url)),
                e(short_commit(&c.id)),
                e(&c.summary),
                date(c.time),
                e(&step_change(st, h.settings.confidence)),
                e(&format_p(st.change.p_value)),
                e(&format_value(st.change.before, s.unit)),
                e(&format_value(st.change.after, s.unit)),
            ));
        }
        out.push_str("</table>\n");
    }
    out.push_str("<h2>Series</h2>\n");
    if h.series.is_empty() {
        out.push_str("<p>No benchmark series in this history.</p>\n");
    }
    for (i, s) in h.series.iter().enumerate() {
        out.push_str(&format!(
            "<section id=\"s-{i}\">\n<h3><code>{}</code> · {}</h3>\n<p>Steps: {}</p>\n",
            e(&s.benchmark),
            s.metric.name(),
            e(&steps_short(s, h))
        ));
        match chart(h, s) {
            Ok((svg, areas)) => {
                out.push_str(&format!(
                    "<img src=\"{}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" usemap=\"#m-{i}\" alt=\"{} {} over {} versions\">\n<map name=\"m-{i}\">\n",
                    data_uri(&svg),
                    e(&s.benchmark),
                    s.metric.name(),
                    s.points.len()
                ));
                for ((x, y, ci), p) in areas.iter().zip(&s.points) {
                    let c = &h.commits[*ci];
                    let title = format!(
                        "{} {} {}: {}",
                        short_commit(&c.id),
                        date(c.time),
                        c.summary,
                        format_value(p.value, s.unit)
                    );
                    out.push_str(&format!(
                        "<area shape=\"circle\" coords=\"{x},{y},{HIT}\" href=\"{}\" title=\"{}\" alt=\"{}\">\n",
                        e(&commit_href(&c.id, commit_url)),
                        e(&title),
                        e(&title)
                    ));
                }
                out.push_str("</map>\n");
            }
            Err(why) => out.push_str(&format!(
                "<p>The chart could not be drawn: {}</p>\n",
                e(&why)
            )),
        }
        out.push_str("</section>\n");
    }
    out.push_str("<h2>Commits</h2>\n<table>\n<tr><th>Commit</th><th>Date</th><th>Message</th><th>Measured</th></tr>\n");
    for c in &h.commits {
        out.push_str(&format!(
            "<tr id=\"c-{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            e(&c.id),
            e(&c.id),
            super::time(c.time),
            e(&c.summary),
            c.measured
                .as_deref()
                .map_or(String::new(), |m| format!("<code>{}</code>", e(m)))
        ));
    }
    out.push_str("</table>\n");
    for s in &h.skipped {
        out.push_str(&format!("<p>Skipped: <code>{}</code></p>\n", e(s)));
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn series_index(h: &History, s: &Series) -> usize {
    h.series
        .iter()
        .position(|x| std::ptr::eq(x, s))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_link_to_the_page_or_the_template() {
        assert_eq!(commit_href("abc", None), "#c-abc");
        assert_eq!(
            commit_href("abc", Some("https://example.com/r/commit/{commit}")),
            "https://example.com/r/commit/abc"
        );
    }
}
