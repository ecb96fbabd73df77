//! The shard report (`check --shard K/N --shard-report FILE`), and the merge of a suite's shard
//! reports into one comparison (`perfgate merge`).
//!
//! A shard report is an interchange file between two perfgate runs of one version (each matrix
//! job writes one, the last job merges them), not a published format: it carries the
//! comparison's own types and both snapshots (for the HTML report's distributions), and
//! [`read`] refuses a file written by another perfgate version rather than guess at its fields.
//!
//! A merge refuses what would make one verdict out of incomparable parts: shards of different
//! commits (the current code's or the baseline's), of different configs, or of different
//! splits; and it reports a shard that is missing, or given twice, as an error, never as a
//! pass.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::baseline::schema::Snapshot;
use crate::baseline::shard::Shard;
use crate::baseline::store;
use crate::compare::{AbRun, Comparison};
use crate::error::{Error, Result};

/// Version of the shard report's layout.
pub const SHARD_SCHEMA_VERSION: u32 = 1;
/// The `kind` of a shard report.
pub const SHARD_KIND: &str = "perfgate-shard";

/// One shard's comparison, with what a merge checks it against the others by.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardReport {
    /// Always [`SHARD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`SHARD_KIND`].
    pub kind: String,
    /// The perfgate version that wrote it.
    pub perfgate: String,
    /// Which shard.
    pub shard: Shard,
    /// A digest of the configuration in force (thresholds, gates, rules).
    pub config: String,
    /// Its comparison.
    pub comparison: Comparison,
    /// The baseline side's results (the first paired round's).
    pub baseline: Snapshot,
    /// The current side's results.
    pub current: Snapshot,
}

impl ShardReport {
    /// A report of `shard` for this perfgate version.
    pub fn new(
        shard: Shard,
        config: String,
        comparison: Comparison,
        baseline: Snapshot,
        current: Snapshot,
    ) -> ShardReport {
        ShardReport {
            schema_version: SHARD_SCHEMA_VERSION,
            kind: SHARD_KIND.to_string(),
            perfgate: env!("CARGO_PKG_VERSION").to_string(),
            shard,
            config,
            comparison,
            baseline,
            current,
        }
    }
}

/// Writes `r` to `path` atomically.
pub fn write(path: &Path, r: &ShardReport) -> Result<()> {
    let json = serde_json::to_vec(r)
        .map_err(|e| Error::invalid(path, format!("cannot encode the shard report: {e}")))?;
    store::write_atomic(path, &json)
}

/// Reads a shard report written by this perfgate version.
pub fn read(path: &Path) -> Result<ShardReport> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // The header first, so that another version's file gets that said, not a field error.
    #[derive(Deserialize)]
    struct Header {
        schema_version: Option<u32>,
        kind: Option<String>,
        perfgate: Option<String>,
    }
    let h: Header = serde_json::from_slice(&bytes)
        .map_err(|e| Error::invalid(path, format!("not a shard report ({e})")))?;
    if h.kind.as_deref() != Some(SHARD_KIND) {
        return Err(Error::invalid(
            path,
            format!(
                "not a shard report (kind {:?}, want {SHARD_KIND:?}); `check --shard K/N --shard-report FILE` writes one",
                h.kind.unwrap_or_default()
            ),
        ));
    }
    let ours = env!("CARGO_PKG_VERSION");
    if h.schema_version != Some(SHARD_SCHEMA_VERSION) || h.perfgate.as_deref() != Some(ours) {
        return Err(Error::invalid(
            path,
            format!(
                "written by perfgate {} (shard schema {}); this is perfgate {ours} (schema {SHARD_SCHEMA_VERSION}): merge with the version that wrote it",
                h.perfgate.unwrap_or_else(|| "?".into()),
                h.schema_version.map_or("?".to_string(), |v| v.to_string())
            ),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::invalid(path, format!("damaged: {e}")))
}

/// What a merge makes of the shards: one comparison and the two sides' results.
#[derive(Debug)]
pub struct Merged {
    /// The comparison of every shard's benchmarks.
    pub comparison: Comparison,
    /// The baseline side's results of every shard.
    pub baseline: Snapshot,
    /// The current side's results of every shard.
    pub current: Snapshot,
}

/// Merges the shard reports of one split (each with the file it came from, for errors).
pub fn merge(mut parts: Vec<(PathBuf, ShardReport)>) -> Result<Merged> {
    let Some((first_path, first)) = parts.first() else {
        return Err(Error::Usage(
            "merge: give the shard reports to merge".into(),
        ));
    };
    let (first_path, count) = (first_path.clone(), first.shard.count);
    let key = |r: &ShardReport| {
        (
            r.comparison.results_commit.clone(),
            r.comparison.baseline_commit.clone(),
            r.config.clone(),
        )
    };
    let want = key(first);
    for (path, r) in &parts {
        if r.shard.count != count {
            return Err(Error::invalid(
                path,
                format!(
                    "shard {} of a {}-way split, but {} is of a {count}-way split",
                    r.shard,
                    r.shard.count,
                    first_path.display()
                ),
            ));
        }
        let got = key(r);
        let what = if got.0 != want.0 {
            Some("the current code's commit")
        } else if got.1 != want.1 {
            Some("the baseline's commit")
        } else if got.2 != want.2 {
            Some("the configuration")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(Error::invalid(
                path,
                format!(
                    "differs from {} in {what}: shards of different runs cannot be merged",
                    first_path.display()
                ),
            ));
        }
    }
    parts.sort_by_key(|(_, r)| r.shard.index);
    for w in parts.windows(2) {
        if w[0].1.shard.index == w[1].1.shard.index {
            return Err(Error::invalid(
                &w[1].0,
                format!(
                    "shard {} is given twice (also {})",
                    w[1].1.shard,
                    w[0].0.display()
                ),
            ));
        }
    }
    let present: Vec<u32> = parts.iter().map(|(_, r)| r.shard.index).collect();
    let missing: Vec<String> = (1..=count)
        .filter(|k| !present.contains(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "merge: shard {} missing: its benchmarks were not measured, so there is no verdict for them",
            missing.join(", ")
        )));
    }
    let seeds: Vec<String> = parts
        .iter()
        .filter_map(|(_, r)| Some(format!("{} {}", r.shard, r.comparison.ab.as_ref()?.seed)))
        .collect();
    let mut reports = parts.into_iter().map(|(_, r)| r);
    let first = reports.next().expect("checked above");
    let mut cmp = first.comparison;
    let (mut baseline, mut current) = (first.baseline, first.current);
    for r in reports {
        let c = r.comparison;
        cmp.rows.extend(c.rows);
        cmp.policies.extend(c.policies);
        cmp.counts.ignored += c.counts.ignored;
        for n in c.notes {
            if !cmp.notes.contains(&n) {
                cmp.notes.push(n);
            }
        }
        for m in c.machine_mismatch {
            if !cmp.machine_mismatch.contains(&m) {
                cmp.machine_mismatch.push(m);
            }
        }
        cmp.error = match (cmp.error.take(), c.error) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        cmp.ab = merge_ab(cmp.ab.take(), c.ab);
        baseline.benchmarks.extend(r.baseline.benchmarks);
        current.benchmarks.extend(r.current.benchmarks);
    }
    cmp.notes.push(format!(
        "merged from {count} shard(s), each a same-machine A/B of its own benchmarks{}",
        if seeds.len() > 1 {
            format!(" (seeds: {})", seeds.join(", "))
        } else {
            String::new()
        }
    ));
    cmp.recount();
    Ok(Merged {
        comparison: cmp,
        baseline,
        current,
    })
}

/// The A/B of the whole split: the shards ran side by side, so the rounds are the most any
/// shard ran, the benchmarks their sum, and the build time the longest.
fn merge_ab(a: Option<AbRun>, b: Option<AbRun>) -> Option<AbRun> {
    match (a, b) {
        (Some(a), Some(b)) => Some(AbRun {
            seed: a.seed,
            rounds: a.rounds.max(b.rounds),
            benchmarks: a.benchmarks + b.benchmarks,
            all: a.all && b.all,
            budget_spent: a.budget_spent || b.budget_spent,
            build_seconds: match (a.build_seconds, b.build_seconds) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            },
        }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::shard::Assignment;
    use crate::compare::{Sources, compare};
    use crate::config::Config;
    use crate::testutil::{bench, snapshot};

    fn sides() -> (Snapshot, Snapshot) {
        let ids: Vec<String> = (0..12).map(|i| format!("g/b{i}")).collect();
        let base = snapshot(
            "2026-01-01T00:00:00Z",
            ids.iter()
                .map(|id| bench(id, (0..20).map(|k| 100.0 + f64::from(k % 3)).collect()))
                .collect(),
        );
        let cur = snapshot(
            "2026-01-02T00:00:00Z",
            ids.iter()
                .enumerate()
                .map(|(i, id)| {
                    // Every third benchmark 30% slower, the others alike.
                    let f = if i % 3 == 0 { 1.3 } else { 1.0 };
                    bench(
                        id,
                        (0..20).map(|k| f * (100.0 + f64::from(k % 3))).collect(),
                    )
                })
                .collect(),
        );
        (base, cur)
    }

    fn shard_reports(count: u32) -> Vec<(PathBuf, ShardReport)> {
        let (base, cur) = sides();
        let config = Config::default_config();
        let sources = Sources {
            baseline: "b".into(),
            results: "r".into(),
        };
        let a = Assignment::new(&crate::baseline::shard::durations(&base), count);
        (1..=count)
            .map(|k| {
                let shard = Shard { index: k, count };
                let keep = |s: &Snapshot| {
                    let mut s = s.clone();
                    s.benchmarks.retain(|b| a.runs(shard, &b.id));
                    s
                };
                let (b, c) = (keep(&base), keep(&cur));
                let cmp = compare(&b, &c, &config, &sources);
                let r = ShardReport::new(shard, "cfg".into(), cmp, b, c);
                (PathBuf::from(format!("shard-{k}.json")), r)
            })
            .collect()
    }

    #[test]
    fn the_merge_of_the_shards_is_the_unsharded_comparison() {
        let (base, cur) = sides();
        let sources = Sources {
            baseline: "b".into(),
            results: "r".into(),
        };
        let whole = compare(&base, &cur, &Config::default_config(), &sources);
        for count in 1..=4 {
            let mut parts = shard_reports(count);
            parts.reverse();
            let m = merge(parts).unwrap();
            assert_eq!(m.comparison.rows, whole.rows, "{count} shards");
            assert_eq!(m.comparison.counts, whole.counts);
            assert_eq!(m.comparison.policies, whole.policies);
            assert_eq!(m.current.benchmarks.len(), cur.benchmarks.len());
            assert!(m.comparison.failed());
        }
    }

    #[test]
    fn a_missing_or_doubled_shard_is_an_error() {
        let mut parts = shard_reports(3);
        parts.remove(1);
        let e = merge(parts).unwrap_err().to_string();
        assert!(e.contains("shard 2/3 missing"), "{e}");
        let mut parts = shard_reports(3);
        let again = parts[0].clone();
        parts.push((PathBuf::from("again.json"), again.1));
        let e = merge(parts).unwrap_err().to_string();
        assert!(e.contains("again.json") && e.contains("twice"), "{e}");
    }

    #[test]
    fn shards_of_different_runs_are_refused() {
        let mut parts = shard_reports(2);
        parts[1].1.config = "other".into();
        let e = merge(parts).unwrap_err().to_string();
        assert!(
            e.contains("shard-2.json") && e.contains("configuration"),
            "{e}"
        );
        let mut parts = shard_reports(2);
        parts[1].1.comparison.results_commit = Some("abc".into());
        let e = merge(parts).unwrap_err().to_string();
        assert!(e.contains("current code's commit"), "{e}");
        let mut parts = shard_reports(2);
        parts[0].1.shard.count = 3;
        assert!(merge(parts).unwrap_err().to_string().contains("split"));
    }

    #[test]
    fn round_trips_and_refuses_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let (_, r) = shard_reports(2).remove(0);
        let path = dir.path().join("s.json");
        write(&path, &r).unwrap();
        let back = read(&path).unwrap();
        assert_eq!(back.shard, r.shard);
        let ids = |s: &Snapshot| {
            s.benchmarks
                .iter()
                .map(|b| b.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&back.current), ids(&r.current));
        let other = dir.path().join("o.json");
        std::fs::write(
            &other,
            br#"{"schema_version":1,"kind":"perfgate-comparison"}"#,
        )
        .unwrap();
        let e = read(&other).unwrap_err().to_string();
        assert!(
            e.contains("o.json") && e.contains("not a shard report"),
            "{e}"
        );
        let old = dir.path().join("old.json");
        let text = std::fs::read_to_string(&path).unwrap().replace(
            &format!("\"perfgate\":\"{}\"", env!("CARGO_PKG_VERSION")),
            "\"perfgate\":\"0.0.1\"",
        );
        std::fs::write(&old, text).unwrap();
        let e = read(&old).unwrap_err().to_string();
        assert!(e.contains("perfgate 0.0.1"), "{e}");
        std::fs::write(&old, b"{\"kind\": ").unwrap();
        assert!(read(&old).unwrap_err().to_string().contains("old.json"));
    }
}
