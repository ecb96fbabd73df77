//! The thresholds file, `perfgate.toml`.
//!
//! Defaults are compiled in (`src/config/default.toml`, printed by `perfgate config --default`)
//! and the user's file is layered on top, the way cargo-nextest layers its config: a key set by
//! the user replaces the default, `[[benchmark]]` overrides apply in file order (a later match
//! wins), and an unknown key or a bad value is an error naming the file, line and key.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use crate::compare::metric::Metric;
use crate::error::{Error, Result};

/// The compiled-in defaults, as TOML.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");
/// The schema version of the config file this build reads.
pub const CONFIG_SCHEMA_VERSION: u32 = 1;
/// The conventional file name.
pub const FILE_NAME: &str = "perfgate.toml";

/// What happens when a benchmark of the baseline is absent from the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMissing {
    /// The comparison fails.
    Fail,
    /// A warning only.
    Warn,
}

/// Per-metric thresholds, in percent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    throughput: Option<Spanned<f64>>,
    p50: Option<Spanned<f64>>,
    p99: Option<Spanned<f64>>,
    p999: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    gate: Option<Vec<Metric>>,
    thresholds: Option<RawThresholds>,
    alpha: Option<Spanned<f64>>,
    confidence: Option<Spanned<f64>>,
    resamples: Option<Spanned<i64>>,
    noise_factor: Option<Spanned<f64>>,
    missing: Option<OnMissing>,
    machine_mismatch: Option<OnMissing>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    gate: Option<Vec<Metric>>,
    thresholds: Option<RawThresholds>,
    missing: Option<OnMissing>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Optional in the user's file: absent means the current version.
    schema_version: Option<Spanned<i64>>,
    #[serde(default)]
    defaults: RawPolicy,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    benchmark: Vec<RawOverride>,
}

/// Thresholds per metric, as fractions (`-0.05` is a 5% drop).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Throughput (negative).
    pub throughput: f64,
    /// Median latency (positive).
    pub p50: f64,
    /// 99th percentile latency (positive).
    pub p99: f64,
    /// 99.9th percentile latency (positive).
    pub p999: f64,
}

impl Thresholds {
    /// The threshold of one metric.
    pub fn get(&self, m: Metric) -> f64 {
        match m {
            Metric::Throughput => self.throughput,
            Metric::P50 => self.p50,
            Metric::P99 => self.p99,
            Metric::P999 => self.p999,
        }
    }
}

/// The policy in force for one benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Metrics that can fail the build.
    pub gate: Vec<Metric>,
    /// Thresholds.
    pub thresholds: Thresholds,
    /// What a missing benchmark does.
    pub missing: OnMissing,
}

#[derive(Debug, Clone)]
struct Override {
    matcher: GlobMatcher,
    gate: Option<Vec<Metric>>,
    thresholds: RawThresholdsResolved,
    missing: Option<OnMissing>,
}

#[derive(Debug, Clone, Copy, Default)]
struct RawThresholdsResolved {
    throughput: Option<f64>,
    p50: Option<f64>,
    p99: Option<f64>,
    p999: Option<f64>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the user's layer came from, if any.
    pub source: Option<PathBuf>,
    /// The default policy.
    pub defaults: Policy,
    /// Significance level.
    pub alpha: f64,
    /// Confidence level of intervals.
    pub confidence: f64,
    /// Bootstrap replicates.
    pub resamples: usize,
    /// `k` of the noise rule: a benchmark's threshold is widened to `k` times its measured
    /// run-to-run noise when that is larger (see [`crate::compare::noise`]); 0 turns it off.
    pub noise_factor: f64,
    /// What a machine mismatch does.
    pub machine_mismatch: OnMissing,
    ignore: Vec<GlobMatcher>,
    overrides: Vec<Override>,
}

/// Maps a byte offset of `text` to a 1-based line number.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: impl std::fmt::Display,
    ) -> Error {
        Error::invalid(
            self.path,
            format!(
                "line {}: `{key}`: {message}",
                line_of(self.text, span.start)
            ),
        )
    }

    fn thresholds(
        &self,
        raw: &Option<RawThresholds>,
        prefix: &str,
    ) -> Result<RawThresholdsResolved> {
        let Some(raw) = raw else {
            return Ok(RawThresholdsResolved::default());
        };
        let check = |v: &Option<Spanned<f64>>, name: &str, negative: bool| -> Result<Option<f64>> {
            let Some(v) = v else { return Ok(None) };
            let x = *v.get_ref();
            let key = format!("{prefix}thresholds.{name}");
            let ok = x.is_finite()
                && if negative {
                    x < 0.0 && x > -100.0
                } else {
                    x > 0.0 && x <= 10_000.0
                };
            if !ok {
                let want = if negative {
                    "a throughput threshold is a drop in percent, between -100 and 0 (e.g. -5.0)"
                } else {
                    "a latency threshold is a growth in percent, above 0 (e.g. 10.0)"
                };
                return Err(self.err(v.span(), &key, format!("{x} is not valid: {want}")));
            }
            Ok(Some(x / 100.0))
        };
        Ok(RawThresholdsResolved {
            throughput: check(&raw.throughput, "throughput", true)?,
            p50: check(&raw.p50, "p50", false)?,
            p99: check(&raw.p99, "p99", false)?,
            p999: check(&raw.p999, "p999", false)?,
        })
    }

    fn glob(&self, g: &Spanned<String>, key: &str) -> Result<GlobMatcher> {
        Glob::new(g.get_ref())
            .map(|g| g.compile_matcher())
            .map_err(|e| self.err(g.span(), key, format!("bad glob: {e}")))
    }
}

fn parse_raw(path: &Path, text: &str) -> Result<RawConfig> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| format!("line {}: ", line_of(text, s.start)))
            .unwrap_or_default();
        Error::invalid(path, format!("{line}{}", e.message()))
    })?;
    if let Some(sv) = &raw.schema_version {
        let v = *sv.get_ref();
        if v != i64::from(CONFIG_SCHEMA_VERSION) {
            let ctx = Ctx { path, text };
            return Err(ctx.err(
                sv.span(),
                "schema_version",
                format!(
                    "version {v} is not supported (this perfgate reads {CONFIG_SCHEMA_VERSION})"
                ),
            ));
        }
    }
    Ok(raw)
}

impl Config {
    /// The compiled-in defaults alone.
    pub fn default_config() -> Config {
        Self::layered(None).expect("the compiled-in config is valid")
    }

    /// Loads `path` over the defaults; a missing file at the conventional location is fine,
    /// a missing file named explicitly is not.
    pub fn load(path: &Path, explicit: bool) -> Result<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::layered(Some((path, &text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                Ok(Self::default_config())
            }
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The defaults with an optional user layer `(path, text)` on top.
    pub fn layered(user: Option<(&Path, &str)>) -> Result<Config> {
        let default_path = Path::new("<compiled-in defaults>");
        let base = parse_raw(default_path, DEFAULT_CONFIG)?;
        let base_ctx = Ctx {
            path: default_path,
            text: DEFAULT_CONFIG,
        };
        let mut cfg = Self::from_raw(&base_ctx, &base)?;
        if let Some((path, text)) = user {
            let raw = parse_raw(path, text)?;
            let ctx = Ctx { path, text };
            cfg.apply(&ctx, &raw)?;
            cfg.source = Some(path.to_path_buf());
        }
        Ok(cfg)
    }

    fn from_raw(ctx: &Ctx, raw: &RawConfig) -> Result<Config> {
        let d = &raw.defaults;
        let t = ctx.thresholds(&d.thresholds, "defaults.")?;
        let need = |v: Option<f64>, k: &str| {
            v.ok_or_else(|| Error::invalid(ctx.path, format!("missing `defaults.thresholds.{k}`")))
        };
        let mut cfg = Config {
            source: None,
            defaults: Policy {
                gate: d.gate.clone().unwrap_or_default(),
                thresholds: Thresholds {
                    throughput: need(t.throughput, "throughput")?,
                    p50: need(t.p50, "p50")?,
                    p99: need(t.p99, "p99")?,
                    p999: need(t.p999, "p999")?,
                },
                missing: d.missing.unwrap_or(OnMissing::Fail),
            },
            alpha: 0.05,
            confidence: 0.95,
            resamples: 1000,
            noise_factor: 3.0,
            machine_mismatch: OnMissing::Warn,
            ignore: Vec::new(),
            overrides: Vec::new(),
        };
        cfg.apply(ctx, raw)?;
        Ok(cfg)
    }

    fn apply(&mut self, ctx: &Ctx, raw: &RawConfig) -> Result<()> {
        let d = &raw.defaults;
        if let Some(g) = &d.gate {
            self.defaults.gate = g.clone();
        }
        let t = ctx.thresholds(&d.thresholds, "defaults.")?;
        let th = &mut self.defaults.thresholds;
        th.throughput = t.throughput.unwrap_or(th.throughput);
        th.p50 = t.p50.unwrap_or(th.p50);
        th.p99 = t.p99.unwrap_or(th.p99);
        th.p999 = t.p999.unwrap_or(th.p999);
        if let Some(m) = d.missing {
            self.defaults.missing = m;
        }
        if let Some(m) = d.machine_mismatch {
            self.machine_mismatch = m;
        }
        if let Some(a) = &d.alpha {
            let x = *a.get_ref();
            if !(x > 0.0 && x <= 0.5) {
                return Err(ctx.err(
                    a.span(),
                    "defaults.alpha",
                    format!("{x} is not in (0, 0.5]"),
                ));
            }
            self.alpha = x;
        }
        if let Some(c) = &d.confidence {
            let x = *c.get_ref();
            if !(0.5..1.0).contains(&x) {
                return Err(ctx.err(
                    c.span(),
                    "defaults.confidence",
                    format!("{x} is not in [0.5, 1)"),
                ));
            }
            self.confidence = x;
        }
        if let Some(r) = &d.resamples {
            let x = *r.get_ref();
            if !(100..=1_000_000).contains(&x) {
                return Err(ctx.err(
                    r.span(),
                    "defaults.resamples",
                    format!("{x} is not in 100..=1000000"),
                ));
            }
            self.resamples = x as usize;
        }
        if let Some(k) = &d.noise_factor {
            let x = *k.get_ref();
            if !(x.is_finite() && (0.0..=100.0).contains(&x)) {
                return Err(ctx.err(
                    k.span(),
                    "defaults.noise_factor",
                    format!("{x} is not in [0, 100]"),
                ));
            }
            self.noise_factor = x;
        }
        for g in &raw.ignore {
            self.ignore.push(ctx.glob(g, "ignore")?);
        }
        for (i, o) in raw.benchmark.iter().enumerate() {
            let prefix = format!("benchmark[{i}].");
            self.overrides.push(Override {
                matcher: ctx.glob(&o.pattern, &format!("{prefix}match"))?,
                gate: o.gate.clone(),
                thresholds: ctx.thresholds(&o.thresholds, &prefix)?,
                missing: o.missing,
            });
        }
        Ok(())
    }

    /// Whether a benchmark is left out of comparisons.
    pub fn is_ignored(&self, id: &str) -> bool {
        self.ignore.iter().any(|g| g.is_match(id))
    }

    /// The policy for one benchmark: the defaults, then every matching override in order.
    pub fn policy_for(&self, id: &str) -> Policy {
        let mut p = self.defaults.clone();
        for o in self.overrides.iter().filter(|o| o.matcher.is_match(id)) {
            if let Some(g) = &o.gate {
                p.gate = g.clone();
            }
            let t = &o.thresholds;
            p.thresholds.throughput = t.throughput.unwrap_or(p.thresholds.throughput);
            p.thresholds.p50 = t.p50.unwrap_or(p.thresholds.p50);
            p.thresholds.p99 = t.p99.unwrap_or(p.thresholds.p99);
            p.thresholds.p999 = t.p999.unwrap_or(p.thresholds.p999);
            if let Some(m) = o.missing {
                p.missing = m;
            }
        }
        p
    }

    /// The statistics settings.
    pub fn stats(&self) -> crate::stats::StatsConfig {
        crate::stats::StatsConfig {
            confidence: self.confidence,
            resamples: self.resamples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config> {
        Config::layered(Some((Path::new("perfgate.toml"), text)))
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = Config::default_config();
        assert_eq!(c.defaults.gate, vec![Metric::Throughput, Metric::P99]);
        assert_eq!(c.defaults.thresholds.throughput, -0.05);
        assert_eq!(c.defaults.thresholds.p99, 0.10);
        assert_eq!((c.alpha, c.confidence, c.resamples), (0.05, 0.95, 1000));
        assert_eq!(c.noise_factor, 3.0);
        assert_eq!(c.defaults.missing, OnMissing::Fail);
    }

    #[test]
    fn user_layer_overrides_and_globs_apply_in_order() {
        let c = load(
            r#"
schema_version = 1
ignore = ["scratch/*"]
[defaults]
thresholds = { p99 = 15.0 }
missing = "warn"
[[benchmark]]
match = "pipe/*"
gate = ["throughput"]
thresholds = { throughput = -3.0 }
[[benchmark]]
match = "pipe/vmsplice/*"
thresholds = { throughput = -8.0 }
"#,
        )
        .unwrap();
        assert_eq!(c.defaults.thresholds.p99, 0.15);
        assert_eq!(c.defaults.thresholds.throughput, -0.05);
        let p = c.policy_for("pipe/copy/4KiB");
        assert_eq!(p.gate, vec![Metric::Throughput]);
        assert_eq!(p.thresholds.throughput, -0.03);
        assert_eq!(
            c.policy_for("pipe/vmsplice/64KiB").thresholds.throughput,
            -0.08
        );
        assert_eq!(c.policy_for("spawn/x").missing, OnMissing::Warn);
        assert!(c.is_ignored("scratch/a"));
        assert!(!c.is_ignored("pipe/a"));
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = load("schema_version = 1\n[defaults]\nalpah = 0.1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("perfgate.toml: line 3"), "{e}");
        assert!(e.contains("alpah"), "{e}");
    }

    #[test]
    fn bad_values_name_file_line_and_key() {
        let e = load("schema_version = 1\n\n[defaults]\nthresholds = { throughput = 5.0 }\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("perfgate.toml: line 4: `defaults.thresholds.throughput`"),
            "{e}"
        );
        let e = load("schema_version = 1\n[defaults]\nalpha = 2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("alpha"), "{e}");
        let e = load("schema_version = 1\n[defaults]\ngate = [\"p98\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("p98"), "{e}");
        let e = load("schema_version = 1\n[[benchmark]]\nmatch = \"a[\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("benchmark[0].match"),
            "{e}"
        );
        let e = load("schema_version = 1\n[defaults]\nnoise_factor = -1.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("noise_factor"), "{e}");
        let e = load("schema_version = 2\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("schema_version"), "{e}");
        let e = load("schema_version = 1\n[defaults\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("perfgate.toml: line 2"), "{e}");
    }

    #[test]
    fn missing_explicit_file_is_an_error_but_conventional_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("perfgate.toml");
        assert!(Config::load(&p, false).is_ok());
        assert!(
            Config::load(&p, true)
                .unwrap_err()
                .to_string()
                .contains("perfgate.toml")
        );
    }
}
