//! Reading criterion's output directory.
//!
//! Identity comes from `benchmark.json` (`full_id`), never from the path: criterion sanitizes
//! directory names and disambiguates collisions with suffixes. The layouts of criterion 0.3.x,
//! 0.5.x and 0.8.x are the same; `sample.json` is also accepted in the older `[iters, times]`
//! tuple form.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;

use crate::baseline::schema::Throughput;
use crate::error::{Error, Result};

/// Criterion's `benchmark.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct BenchmarkJson {
    /// Group id.
    pub group_id: String,
    /// Function id, if any.
    #[serde(default)]
    pub function_id: Option<String>,
    /// Value string, if any.
    #[serde(default)]
    pub value_str: Option<String>,
    /// Throughput, if declared.
    #[serde(default)]
    pub throughput: Option<Throughput>,
    /// The full id: the benchmark's identity.
    pub full_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SampleJson {
    Modern {
        #[serde(default)]
        #[allow(dead_code)]
        sampling_mode: Option<String>,
        iters: Vec<f64>,
        times: Vec<f64>,
    },
    Tuple(Vec<f64>, Vec<f64>),
}

/// One benchmark's raw result as criterion left it.
#[derive(Debug, Clone)]
pub struct RawResult {
    /// The benchmark directory (the parent of the result set).
    pub dir: PathBuf,
    /// Its `benchmark.json`.
    pub info: BenchmarkJson,
    /// Iterations per sample.
    pub iters: Vec<f64>,
    /// Total ns per sample.
    pub times: Vec<f64>,
    /// When `sample.json` was last written.
    pub written: SystemTime,
}

/// The criterion root as criterion itself resolves it: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the target directory from `cargo metadata` run in `cwd`,
/// else `cwd/target/criterion`.
pub fn default_root(cwd: &Path) -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Ok(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(target).join("criterion"));
    }
    Ok(cargo_target_dir(cwd)
        .unwrap_or_else(|| cwd.join("target"))
        .join("criterion"))
}

/// The target directory cargo would use for the package in `cwd`.
pub fn cargo_target_dir(cwd: &Path) -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(cwd)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    #[derive(Deserialize)]
    struct Meta {
        target_directory: PathBuf,
    }
    serde_json::from_slice::<Meta>(&out.stdout)
        .ok()
        .map(|m| m.target_directory)
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid(path, "file is empty"));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        let what = if e.is_eof() {
            "truncated JSON"
        } else {
            "not valid criterion output"
        };
        Error::invalid(path, format!("{what}: {e}"))
    })
}

fn read_result(set_dir: &Path) -> Result<RawResult> {
    let info: BenchmarkJson = read_json(&set_dir.join("benchmark.json"))?;
    let sample_path = set_dir.join("sample.json");
    let (iters, times) = match read_json::<SampleJson>(&sample_path)? {
        SampleJson::Modern { iters, times, .. } | SampleJson::Tuple(iters, times) => (iters, times),
    };
    let bad = |m: String| Error::invalid(&sample_path, m);
    if iters.is_empty() {
        return Err(bad("no samples".into()));
    }
    if iters.len() != times.len() {
        return Err(bad(format!(
            "{} iteration counts but {} times",
            iters.len(),
            times.len()
        )));
    }
    for (i, (&n, &t)) in iters.iter().zip(&times).enumerate() {
        if !(n.is_finite() && n >= 1.0) {
            return Err(bad(format!("sample {i} has {n} iterations")));
        }
        if !t.is_finite() || t <= 0.0 {
            return Err(bad(format!(
                "sample {i} has time {t} ns: times must be positive"
            )));
        }
    }
    let written = std::fs::metadata(&sample_path)
        .and_then(|m| m.modified())
        .map_err(|e| Error::io(&sample_path, e))?;
    Ok(RawResult {
        dir: set_dir.parent().unwrap_or(set_dir).to_path_buf(),
        info,
        iters,
        times,
        written,
    })
}

/// Every benchmark under `root` that has a result set named `set` (`new`, or a criterion
/// `--save-baseline` name). Benchmark directories are 1 to 3 levels deep; result sets, HTML reports
/// and hidden folders are not descended into. A corrupt file is an error naming it.
pub fn scan(root: &Path, set: &str) -> Result<Vec<RawResult>> {
    if !root.is_dir() {
        return Err(Error::NoCriterionOutput {
            path: root.to_path_buf(),
            message: "no criterion output here (directory missing); run `cargo bench` first or pass --criterion-dir".into(),
        });
    }
    let mut found = Vec::new();
    walk(root, set, 0, &mut found)?;
    found.sort_by(|a, b| a.info.full_id.cmp(&b.info.full_id));
    Ok(found)
}

fn walk(dir: &Path, set: &str, depth: usize, found: &mut Vec<RawResult>) -> Result<()> {
    if depth > 3 {
        return Ok(());
    }
    let candidate = dir.join(set);
    if depth > 0 && candidate.join("benchmark.json").is_file() {
        found.push(read_result(&candidate)?);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            // Result sets (new/, base/, saved baselines) hold benchmark.json directly and HTML
            // reports hold index.html; benchmark directories hold neither, whatever their name.
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !(name.starts_with('.')
                || p.join("benchmark.json").is_file()
                || p.join("estimates.json").is_file()
                || (name == "report" && p.join("index.html").is_file()))
        })
        .collect();
    subdirs.sort();
    for sub in subdirs {
        walk(&sub, set, depth + 1, found)?;
    }
    Ok(())
}
