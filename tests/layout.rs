//! One layout of paths: perfgate's own files under cargo's target directory
//! (`CARGO_TARGET_DIR` honoured), the baselines directory from `--dir` on every command that
//! reads one, and `perfgate config` usable when `perfgate.toml` is broken.

mod common;

use common::*;
use perfgate::baseline::schema::SnapshotKind;

fn pair() -> (
    perfgate::baseline::schema::Snapshot,
    perfgate::baseline::schema::Snapshot,
) {
    (
        snapshot(
            SnapshotKind::Baseline,
            vec![bench("g/a", samples(1, 30, 1000.0, 0.01), None, None)],
        ),
        snapshot(
            SnapshotKind::Results,
            vec![bench("g/a", samples(2, 30, 1000.0, 0.01), None, None)],
        ),
    )
}

#[test]
fn compare_reads_the_results_from_cargo_target_dir_and_the_baseline_from_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, res) = pair();
    let target = dir.join("elsewhere");
    write(&target.join("perfgate/results.json"), &res);
    write(&dir.join("my-baselines/test-bed.json"), &base);
    let out = perfgate()
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .args(["compare", "--dir", "my-baselines", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let results = v["results"]["source"].as_str().unwrap();
    assert!(
        results.ends_with("elsewhere/perfgate/results.json"),
        "{results}"
    );
    assert!(
        v["baseline"]["source"]
            .as_str()
            .unwrap()
            .starts_with("my-baselines"),
        "{v}"
    );
    // Without --dir, the default `baselines/` has nothing for this testbed: an error that
    // names the file it looked for.
    let out = perfgate()
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .args(["compare"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("baselines/test-bed.json"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_prints_the_defaults_even_when_perfgate_toml_is_broken() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("perfgate.toml"),
        "schema_version = 1\n[defaults]\nalpah = 0.1\n",
    )
    .unwrap();
    let out = run_in(tmp.path(), &["config"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), perfgate::config::DEFAULT_CONFIG);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("perfgate.toml: line 3") && err.contains("alpah"),
        "{err}"
    );
    // A valid (or absent) file: the defaults and exit 0.
    std::fs::remove_file(tmp.path().join("perfgate.toml")).unwrap();
    let out = run_in(tmp.path(), &["config"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn one_run_writes_every_format_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, res) = pair();
    write(&dir.join("base.json"), &base);
    write(&dir.join("res.json"), &res);
    let out = run_in(
        dir,
        &[
            "compare",
            "--baseline",
            "base.json",
            "--results",
            "res.json",
            "--format",
            "table",
            "--json",
            "out/report.json",
            "--markdown",
            "out/report.md",
            "--table",
            "out/report.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.starts_with("perfgate: PASS"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(json["verdict"], "pass");
    let md = std::fs::read_to_string(dir.join("out/report.md")).unwrap();
    assert!(md.starts_with("### ✅ perfgate: PASS"), "{md}");
    // The file's table is the one printed (no colours either way here).
    assert_eq!(
        std::fs::read_to_string(dir.join("out/report.txt")).unwrap(),
        table
    );
}
