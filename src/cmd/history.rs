//! `perfgate history`: the change points in the committed baselines of a testbed.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Ctx, out, plan, warn};
use crate::EXIT_PASS;
use crate::baseline::store;
use crate::baseline::{self, Machine, history as walk, machine};
use crate::error::{Error, Result};
use crate::history::{self, History, Options};
use crate::report::history as view;
use crate::stats::changepoint::Settings;

/// Walks, analyses and reports; exit 0 whatever it finds (it reports, it does not gate).
pub(super) fn run(ctx: &Ctx, p: plan::History) -> Result<i32> {
    let path = match &p.file {
        Some(f) => f.clone(),
        None => {
            let testbed = machine::testbed(p.testbed.as_deref(), &Machine::current());
            baseline::path_for(&p.dir, &testbed)?
        }
    };
    let since = p.since.as_deref().map(parse_since).transpose()?;
    let versions = walk::versions(ctx.cwd(), &p.rev, &path, since)?;
    for s in &versions.skipped {
        warn(&format!("skipped a version that cannot be read: {s}"));
    }
    if versions.versions.is_empty() {
        return Err(Error::invalid(
            &path,
            format!(
                "no committed version on the first-parent history of {}{}; commit a baseline first (`perfgate baseline refresh`)",
                p.rev,
                if p.since.is_some() {
                    " since the --since time"
                } else {
                    ""
                }
            ),
        ));
    }
    let opts = Options {
        benches: p.benches.clone(),
        metrics: p.metrics.clone(),
        settings: Settings {
            max_p_value: p.max_p_value,
            min_change: p.min_change,
            min_size: p.min_size,
            ..Settings::default()
        },
    };
    let label = versions.path.display().to_string();
    let h = history::analyse(&label, &p.rev, versions, &opts)?;
    for (f, file) in &p.files {
        store::write_atomic(file, render(ctx, &p, &h, *f, true).as_bytes())?;
    }
    out(&render(ctx, &p, &h, p.stdout, false))?;
    Ok(EXIT_PASS)
}

fn render(
    ctx: &Ctx,
    p: &plan::History,
    h: &History,
    f: plan::HistoryFormat,
    to_file: bool,
) -> String {
    match f {
        plan::HistoryFormat::Table => view::table::render(h, ctx.color && !to_file),
        plan::HistoryFormat::Json => view::json::render(h),
        plan::HistoryFormat::Markdown => view::markdown::render(h),
        plan::HistoryFormat::Html => view::html::render(h, p.commit_url.as_deref()),
    }
}

/// `--since`: an RFC 3339 time, a date (`2026-11-01`, midnight UTC), or a duration before now
/// (`90days`, `2weeks`); seconds since the epoch.
fn parse_since(s: &str) -> Result<i64> {
    let t = if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        t
    } else if let Ok(t) = humantime::parse_rfc3339_weak(&format!("{s} 00:00:00")) {
        t
    } else if let Ok(d) = humantime::parse_duration(s) {
        SystemTime::now()
            .checked_sub(d)
            .ok_or_else(|| Error::Usage(format!("--since {s:?}: too far back")))?
    } else {
        return Err(Error::Usage(format!(
            "--since {s:?}: not a time (2026-11-24T10:00:00Z), a date (2026-11-24) or a duration before now (90days)"
        )));
    };
    Ok(t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_dates_and_durations() {
        assert_eq!(parse_since("1970-01-02T00:00:00Z").unwrap(), 86_400);
        assert_eq!(parse_since("1970-01-02").unwrap(), 86_400);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let d = parse_since("1day").unwrap();
        assert!((now - 86_400 - d).abs() <= 5, "{d}");
        let e = parse_since("last tuesday").unwrap_err().to_string();
        assert!(e.contains("--since") && !e.contains('\n'), "{e}");
    }
}
