//! Run-to-run noise through the binary: `baseline refresh` from several runs stores each
//! benchmark's noise, and `compare` widens a noisy benchmark's threshold and says so.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use perfgate::baseline::schema::SnapshotKind;

/// Five runs of one suite: `steady/a` moves by about 0.5% between runs, `drifty/b` by about 5%.
fn write_runs(dir: &Path) -> Vec<PathBuf> {
    let drift = [1.00, 1.06, 0.95, 1.03, 0.97];
    let small = [1.000, 1.004, 0.996, 1.006, 0.995];
    (0..5)
        .map(|i| {
            let p = dir.join(format!("run{i}.json"));
            write(
                &p,
                &snapshot(
                    SnapshotKind::Results,
                    vec![
                        bench(
                            "steady/a",
                            samples(10 + i as u64, 50, 1000.0 * small[i], 0.005),
                            None,
                            None,
                        ),
                        bench(
                            "drifty/b",
                            samples(20 + i as u64, 50, 1000.0 * drift[i], 0.005),
                            None,
                            None,
                        ),
                    ],
                ),
            );
            p
        })
        .collect()
}

fn refresh(dir: &Path, runs: &[PathBuf], testbed: &str) -> std::process::Output {
    let mut args: Vec<String> = vec!["baseline".into(), "refresh".into()];
    for r in runs {
        args.push("--from".into());
        args.push(r.display().to_string());
    }
    args.extend(["--allow-dirty", "--testbed", testbed].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_in(dir, &args)
}

#[test]
fn refresh_from_several_runs_stores_noise_and_compare_widens_the_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = write_runs(tmp.path());
    let out = refresh(tmp.path(), &runs, "tb");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Run-to-run noise measured for 2 benchmark(s), from 5 runs"),
        "{}",
        stdout(&out)
    );
    let base = perfgate::baseline::store::read_snapshot(&tmp.path().join("baselines/tb.json"))
        .expect("baseline");
    let noise = |id: &str| {
        base.benchmarks
            .iter()
            .find(|b| b.id == id)
            .and_then(|b| b.noise)
            .expect("noise stored")
    };
    assert_eq!(noise("drifty/b").runs, 5);
    let (steady, drifty) = (noise("steady/a").throughput, noise("drifty/b").throughput);
    assert!(steady < 0.01, "steady noise {steady}");
    assert!((0.03..0.07).contains(&drifty), "drifty noise {drifty}");
    // The median run is kept: drift factors sorted are .95 .97 1.00 1.03 1.06.
    let kept = base.benchmarks.iter().find(|b| b.id == "drifty/b").unwrap();
    assert!((kept.summary.mean_ns / 1000.0 - 1.0).abs() < 0.005);

    // Both benchmarks 8% slower, with tight samples.
    let res = tmp.path().join("res.json");
    write(
        &res,
        &snapshot(
            SnapshotKind::Results,
            vec![
                bench("steady/a", samples(30, 50, 1080.0, 0.005), None, None),
                bench("drifty/b", samples(31, 50, 1080.0, 0.005), None, None),
            ],
        ),
    );
    let cmp = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            "--testbed",
            "tb",
            "--results",
            res.to_str().unwrap(),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run_in(tmp.path(), &args)
    };
    let out = cmp(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let row = |id: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["benchmark"] == id)
            .unwrap()
            .clone()
    };
    // The quiet benchmark keeps -5% and regresses; the noisy one is judged against 3 x noise.
    assert_eq!(row("steady/a")["verdict"], "regressed");
    assert_eq!(row("steady/a")["threshold"], -0.05);
    let d = row("drifty/b");
    assert_eq!(d["configured_threshold"], -0.05);
    let thr = d["threshold"].as_f64().unwrap();
    assert!((thr + 3.0 * drifty).abs() < 1e-9, "{d}");
    assert_ne!(d["verdict"], "regressed", "{d}");
    assert_eq!(report["noise_factor"], 3.0);

    // The full table shows the widened threshold and why.
    let out = run_in(
        tmp.path(),
        &[
            "compare",
            "--testbed",
            "tb",
            "--results",
            res.to_str().unwrap(),
            "--verbose",
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("x noise"), "{text}");

    // noise_factor = 0 turns the rule off: the noisy benchmark regresses too.
    std::fs::write(
        tmp.path().join("perfgate.toml"),
        "schema_version = 1\n[defaults]\nnoise_factor = 0.0\n",
    )
    .unwrap();
    let out = cmp(&[]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["counts"]["regressed"], 2, "{report}");
}

#[test]
fn a_single_run_keeps_the_previous_noise() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = write_runs(tmp.path());
    assert!(refresh(tmp.path(), &runs, "tb").status.success());
    let out = refresh(tmp.path(), &runs[..1], "tb");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("noise kept from the previous baseline for 2 benchmark(s)"),
        "{}",
        stdout(&out)
    );
    let base =
        perfgate::baseline::store::read_snapshot(&tmp.path().join("baselines/tb.json")).unwrap();
    assert!(base.benchmarks.iter().all(|b| b.noise.is_some()));
}

#[test]
fn bad_noise_and_bad_runs_are_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = write_runs(tmp.path());
    assert!(refresh(tmp.path(), &runs, "tb").status.success());
    let path = tmp.path().join("baselines/tb.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, text.replacen("\"runs\": 5", "\"runs\": 1", 1)).unwrap();
    let out = run_in(
        tmp.path(),
        &[
            "compare",
            "--baseline",
            bad.to_str().unwrap(),
            "--results",
            runs[0].to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.json") && err.contains("at least 2"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let out = run_in(tmp.path(), &["baseline", "refresh", "--runs", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run_in(
        tmp.path(),
        &[
            "baseline",
            "refresh",
            "--runs",
            "3",
            "--from",
            runs[0].to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn comparing_a_quick_run_with_a_default_baseline_warns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let side = |kind, profile: Option<&str>| {
        let mut s = snapshot(
            kind,
            vec![bench("g/a", samples(1, 30, 1_000.0, 0.01), None, None)],
        );
        s.source.profile = profile.map(str::to_string);
        s
    };
    let compare = |base: Option<&str>, res: Option<&str>| {
        write(&dir.join("base.json"), &side(SnapshotKind::Baseline, base));
        write(&dir.join("res.json"), &side(SnapshotKind::Results, res));
        let out = run_in(
            dir,
            &[
                "compare",
                "--baseline",
                "base.json",
                "--results",
                "res.json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stderr(&out)
    };
    let err = compare(Some("default"), Some("quick"));
    assert!(
        err.contains("warning: the baseline was measured with the \"default\" profile and these results with the \"quick\" profile"),
        "{err}"
    );
    // Same profile, or a file that does not say (collected from a run perfgate did not start).
    for (b, r) in [(Some("quick"), Some("quick")), (Some("default"), None)] {
        let err = compare(b, r);
        assert!(!err.contains("profile"), "{b:?} {r:?}: {err}");
    }
}
