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

use crate::error::{Error, Result};
use crate::vocab::{Metric, PerMetric};

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

/// When `check` judges on a same-machine A/B of the baseline commit and the current build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbMode {
    /// `Always` where the stored baseline is not comparable, else `Candidates`.
    Auto,
    /// Every benchmark with a gated metric.
    Always,
    /// Only the benchmarks the comparison with the stored baseline flags.
    Candidates,
    /// Never.
    Off,
}

/// What an undecided gated comparison does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInconclusive {
    /// Nothing.
    Pass,
    /// Passes, and the report says so.
    Warn,
    /// Fails the build.
    Fail,
}

/// Thresholds as written in a file: percentages, each key optional.
type RawThresholds = PerMetric<Option<Spanned<f64>>>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    gate: Option<Vec<Metric>>,
    thresholds: Option<RawThresholds>,
    alpha: Option<Spanned<f64>>,
    confidence: Option<Spanned<f64>>,
    resamples: Option<Spanned<i64>>,
    noise_factor: Option<Spanned<f64>>,
    noise_cap: Option<Spanned<f64>>,
    missing: Option<OnMissing>,
    machine_mismatch: Option<OnMissing>,
    ab: Option<AbMode>,
    inconclusive: Option<OnInconclusive>,
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

/// Everything a benchmark's verdict depends on, resolved once per benchmark (the defaults,
/// then every matching `[[benchmark]]` override in file order) and handed to the comparison
/// and the confirmation as one value.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct Policy {
    /// Metrics that can fail the build.
    pub gate: Vec<Metric>,
    /// Thresholds as fractions, signed in the bad direction (`-0.05` is a 5% throughput drop).
    pub thresholds: PerMetric<f64>,
    /// What a missing benchmark does.
    pub missing: OnMissing,
    /// Significance level of a "regressed" or "improved" verdict.
    pub alpha: f64,
    /// Confidence level of the reported intervals.
    pub confidence: f64,
    /// Bootstrap replicates per interval.
    pub resamples: usize,
    /// `k` of the noise rule: a threshold is widened to `k` times the benchmark's measured
    /// run-to-run noise when that is larger (see [`crate::compare::noise`]); 0 turns it off.
    pub noise_factor: f64,
    /// The widest the noise rule may make a threshold, as a multiple of the configured one.
    pub noise_cap: f64,
    /// What an undecided gated comparison does.
    pub inconclusive: OnInconclusive,
}

impl Policy {
    /// The statistics settings of this policy.
    pub fn stats(&self) -> crate::stats::StatsConfig {
        crate::stats::StatsConfig {
            confidence: self.confidence,
            resamples: self.resamples,
        }
    }
}

#[derive(Debug, Clone)]
struct Override {
    matcher: GlobMatcher,
    gate: Option<Vec<Metric>>,
    thresholds: PerMetric<Option<f64>>,
    missing: Option<OnMissing>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the user's layer came from, if any.
    pub source: Option<PathBuf>,
    /// The policy of a benchmark no override matches.
    pub defaults: Policy,
    /// What a machine mismatch does.
    pub machine_mismatch: OnMissing,
    /// When `check` judges on a same-machine A/B.
    pub ab: AbMode,
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

    /// Validates thresholds given in percent and turns them into fractions.
    fn thresholds(
        &self,
        raw: &Option<RawThresholds>,
        prefix: &str,
    ) -> Result<PerMetric<Option<f64>>> {
        let Some(raw) = raw else {
            return Ok(PerMetric::default());
        };
        raw.try_map(|metric, v| {
            let Some(v) = v else { return Ok(None) };
            let x = *v.get_ref();
            let key = format!("{prefix}thresholds.{metric}");
            let negative = metric.higher_is_better();
            let ok = x.is_finite()
                && if negative {
                    x < 0.0 && x > -100.0
                } else if metric.is_count() {
                    // An exact count may be held exactly: 0% fails any increase.
                    (0.0..=10_000.0).contains(&x)
                } else {
                    x > 0.0 && x <= 10_000.0
                };
            if !ok {
                let want = if negative {
                    "a throughput threshold is a drop in percent, between -100 and 0 (e.g. -5.0)"
                } else if metric.is_count() {
                    "an allocation threshold is a growth in percent, 0 or above (0 fails any increase)"
                } else {
                    "a latency threshold is a growth in percent, above 0 (e.g. 10.0)"
                };
                return Err(self.err(v.span(), &key, format!("{x} is not valid: {want}")));
            }
            Ok(Some(x / 100.0))
        })
    }

    fn glob(&self, g: &Spanned<String>, key: &str) -> Result<GlobMatcher> {
        Glob::new(g.get_ref())
            .map(|g| g.compile_matcher())
            .map_err(|e| self.err(g.span(), key, format!("bad glob: {e}")))
    }

    /// A number of the `[defaults]` table, checked against its range.
    fn number<T: Copy + std::fmt::Display>(
        &self,
        v: &Option<Spanned<T>>,
        key: &str,
        ok: impl Fn(T) -> bool,
        range: &str,
    ) -> Result<Option<T>> {
        let Some(v) = v else { return Ok(None) };
        let x = *v.get_ref();
        if !ok(x) {
            return Err(self.err(
                v.span(),
                &format!("defaults.{key}"),
                format!("{x} is not in {range}"),
            ));
        }
        Ok(Some(x))
    }
}

/// The key written on the line of byte offset `offset`, when that line is `key = value` (an
/// inline table's keys are not named: the line is, and its text is short).
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then(|| key.to_string())
}

fn parse_raw(path: &Path, text: &str) -> Result<RawConfig> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let (line, key) = match e.span() {
            Some(s) => (
                format!("line {}: ", line_of(text, s.start)),
                key_on_line(text, s.start)
                    .map(|k| format!("`{k}`: "))
                    .unwrap_or_default(),
            ),
            None => (String::new(), String::new()),
        };
        // toml's message can span lines and quote the file: one line is what the user gets
        // (the binary shows its control characters escaped).
        let message = e.message().lines().next().unwrap_or_default();
        Error::invalid(path, format!("{line}{key}{message}"))
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

/// One layer of `[defaults]`, validated; every key optional.
struct Layer {
    gate: Option<Vec<Metric>>,
    thresholds: PerMetric<Option<f64>>,
    missing: Option<OnMissing>,
    machine_mismatch: Option<OnMissing>,
    alpha: Option<f64>,
    confidence: Option<f64>,
    resamples: Option<usize>,
    noise_factor: Option<f64>,
    noise_cap: Option<f64>,
    ab: Option<AbMode>,
    inconclusive: Option<OnInconclusive>,
}

impl Layer {
    fn read(ctx: &Ctx, d: &RawPolicy) -> Result<Layer> {
        Ok(Layer {
            gate: d.gate.clone(),
            thresholds: ctx.thresholds(&d.thresholds, "defaults.")?,
            missing: d.missing,
            machine_mismatch: d.machine_mismatch,
            alpha: ctx.number(&d.alpha, "alpha", |x| x > 0.0 && x <= 0.5, "(0, 0.5]")?,
            confidence: ctx.number(
                &d.confidence,
                "confidence",
                |x| (0.5..1.0).contains(&x),
                "[0.5, 1)",
            )?,
            resamples: ctx
                .number(
                    &d.resamples,
                    "resamples",
                    |x| (100..=1_000_000).contains(&x),
                    "100..=1000000",
                )?
                .map(|x| x as usize),
            noise_factor: ctx.number(
                &d.noise_factor,
                "noise_factor",
                |x: f64| x.is_finite() && (0.0..=100.0).contains(&x),
                "[0, 100]",
            )?,
            noise_cap: ctx.number(
                &d.noise_cap,
                "noise_cap",
                |x: f64| x.is_finite() && (1.0..=20.0).contains(&x),
                "[1, 20]",
            )?,
            ab: d.ab,
            inconclusive: d.inconclusive,
        })
    }
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
        let mut cfg = Self::from_defaults(&base_ctx, &base)?;
        if let Some((path, text)) = user {
            let raw = parse_raw(path, text)?;
            let ctx = Ctx { path, text };
            cfg.apply(&ctx, &raw)?;
            cfg.source = Some(path.to_path_buf());
        }
        Ok(cfg)
    }

    /// The compiled-in layer, which must set every key: it is the one source of defaults.
    fn from_defaults(ctx: &Ctx, raw: &RawConfig) -> Result<Config> {
        let d = Layer::read(ctx, &raw.defaults)?;
        let missing = |k: &str| Error::invalid(ctx.path, format!("missing `defaults.{k}`"));
        let thresholds = d
            .thresholds
            .try_map(|m, v| v.ok_or_else(|| missing(&format!("thresholds.{m}"))))?;
        let mut cfg = Config {
            source: None,
            defaults: Policy {
                gate: d.gate.ok_or_else(|| missing("gate"))?,
                thresholds,
                missing: d.missing.ok_or_else(|| missing("missing"))?,
                alpha: d.alpha.ok_or_else(|| missing("alpha"))?,
                confidence: d.confidence.ok_or_else(|| missing("confidence"))?,
                resamples: d.resamples.ok_or_else(|| missing("resamples"))?,
                noise_factor: d.noise_factor.ok_or_else(|| missing("noise_factor"))?,
                noise_cap: d.noise_cap.ok_or_else(|| missing("noise_cap"))?,
                inconclusive: d.inconclusive.ok_or_else(|| missing("inconclusive"))?,
            },
            machine_mismatch: d
                .machine_mismatch
                .ok_or_else(|| missing("machine_mismatch"))?,
            ab: d.ab.ok_or_else(|| missing("ab"))?,
            ignore: Vec::new(),
            overrides: Vec::new(),
        };
        cfg.apply_lists(ctx, raw)?;
        Ok(cfg)
    }

    fn apply(&mut self, ctx: &Ctx, raw: &RawConfig) -> Result<()> {
        let d = Layer::read(ctx, &raw.defaults)?;
        let p = &mut self.defaults;
        if let Some(g) = d.gate {
            p.gate = g;
        }
        p.thresholds = p.thresholds.overlaid(&d.thresholds);
        p.missing = d.missing.unwrap_or(p.missing);
        p.alpha = d.alpha.unwrap_or(p.alpha);
        p.confidence = d.confidence.unwrap_or(p.confidence);
        p.resamples = d.resamples.unwrap_or(p.resamples);
        p.noise_factor = d.noise_factor.unwrap_or(p.noise_factor);
        p.noise_cap = d.noise_cap.unwrap_or(p.noise_cap);
        p.inconclusive = d.inconclusive.unwrap_or(p.inconclusive);
        self.machine_mismatch = d.machine_mismatch.unwrap_or(self.machine_mismatch);
        self.ab = d.ab.unwrap_or(self.ab);
        self.apply_lists(ctx, raw)
    }

    /// Adds a layer's `ignore` globs and `[[benchmark]]` overrides after the ones before it.
    fn apply_lists(&mut self, ctx: &Ctx, raw: &RawConfig) -> Result<()> {
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
            p.thresholds = p.thresholds.overlaid(&o.thresholds);
            p.missing = o.missing.unwrap_or(p.missing);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config> {
        Config::layered(Some((Path::new("perfgate.toml"), text)))
    }

    #[test]
    fn an_allocation_threshold_may_be_zero_a_latency_one_may_not() {
        let ok = load(
            "schema_version = 1\n[defaults]\nthresholds = { allocs = 0.0, alloc_bytes = 5.0 }\n",
        )
        .unwrap();
        assert_eq!(ok.defaults.thresholds.allocs, 0.0);
        assert_eq!(ok.defaults.thresholds.alloc_bytes, 0.05);
        let neg = load("schema_version = 1\n[defaults]\nthresholds = { allocs = -1.0 }\n")
            .unwrap_err()
            .to_string();
        assert!(neg.contains("allocation threshold"), "{neg}");
        assert!(load("schema_version = 1\n[defaults]\nthresholds = { p99 = 0.0 }\n").is_err());
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = Config::default_config();
        assert_eq!(
            c.defaults.gate,
            vec![
                Metric::Throughput,
                Metric::P99,
                Metric::Allocs,
                Metric::AllocBytes
            ]
        );
        assert_eq!(c.defaults.thresholds.throughput, -0.05);
        assert_eq!(c.defaults.thresholds.allocs, 0.0);
        assert_eq!(c.defaults.thresholds.p99, 0.10);
        let d = &c.defaults;
        assert_eq!((d.alpha, d.confidence, d.resamples), (0.05, 0.95, 1000));
        assert_eq!(d.noise_factor, 3.0);
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
    fn a_value_of_the_wrong_type_names_its_key() {
        let e = load("schema_version = 1\n[defaults]\nalpha = \"0.05\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3: `alpha`: "), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = load("schema_version = 1\n[defaults]\nnoise_cap = [\n1,\n\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'), "{e}");
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
