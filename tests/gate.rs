//! End to end on real criterion output: the fixture crate in tests/fixtures/critbench is built
//! and benchmarked by these tests (with each supported criterion version), and the real
//! perfgate binary runs, collects, refreshes a baseline and compares.

mod common;

use common::*;
use perfgate::baseline::store::read_snapshot;

/// Thresholds loose enough that an A/A pair of debug-build runs on a busy 2-core machine does
/// not trip them, and tight enough that a 4x slowdown (-75%) always does. This compares with a
/// stored one-run baseline, the case docs/noise.md shows to drift: at -30%, `standalone` (a
/// checksum of 8 bytes, nanoseconds an iteration) read -39% in an A/A pair while other tests
/// ran beside it.
const TEST_CONFIG: &str = r#"
schema_version = 1
[defaults]
gate = ["throughput"]
thresholds = { throughput = -50.0 }
"#;

#[test]
fn run_refresh_and_compare_a_a_then_a_slowed_variant() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = tmp.path().join("criterion");
    let cfg = tmp.path().join("perfgate.toml");
    std::fs::write(&cfg, TEST_CONFIG).unwrap();

    // Run A: the real binary drives cargo bench and collects.
    let a = tmp.path().join("a.json");
    let out = run_fixture(&crit, &a, "c08,latency", 1, &[]);
    assert!(out.status.success(), "run failed: {}", stderr(&out));
    assert!(
        stderr(&out).contains("benchmark(s) measured"),
        "{}",
        stderr(&out)
    );
    let snap = read_snapshot(&a).unwrap();
    let ids: Vec<&str> = snap.benchmarks.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fixture/sized/64",
            "fixture/sum",
            "latency/op",
            "standalone",
            "weird |name| <b>/*star* \u{1b}[31mred\u{1b}[0m µs"
        ]
    );
    let lat = snap.benchmarks[2]
        .latency
        .as_ref()
        .expect("latency/op has a latency log");
    assert!(lat.ops > 0 && lat.p50_ns <= lat.p99_ns && lat.p99_ns <= lat.p999_ns);
    assert!(
        snap.benchmarks
            .iter()
            .filter(|b| b.latency.is_some())
            .count()
            == 1
    );
    assert!(matches!(
        snap.benchmarks[0].throughput,
        Some(perfgate::baseline::schema::Throughput::Bytes(2048))
    ));

    // Baseline from A.
    let bdir = tmp.path().join("baselines");
    let out = run_in(
        tmp.path(),
        &[
            "baseline",
            "refresh",
            "--from",
            a.to_str().unwrap(),
            "--allow-dirty",
            "--dir",
            bdir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Added (5)"), "{}", stdout(&out));
    let base = bdir.join("fixture.json");
    assert!(base.is_file());

    // A/A: the same code again must pass.
    let b = tmp.path().join("b.json");
    let out = run_fixture(&crit, &b, "c08,latency", 1, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_in(
        tmp.path(),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "compare",
            "--baseline",
            base.to_str().unwrap(),
            "--results",
            b.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "A/A failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("perfgate: PASS"), "{}", stdout(&out));

    // A slowed variant (4x the work) must fail, with its rows first in the full table.
    let c = tmp.path().join("c.json");
    let out = run_fixture(&crit, &c, "c08,latency", 4, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_in(
        tmp.path(),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "compare",
            "--baseline",
            base.to_str().unwrap(),
            "--results",
            c.to_str().unwrap(),
            "--verbose",
        ],
    );
    let table = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "slowed variant passed:\n{table}"
    );
    assert!(table.contains("perfgate: FAIL"), "{table}");
    let first_row = table
        .lines()
        .find(|l| l.contains("REGRESSED"))
        .expect("a regressed row");
    assert!(
        first_row.contains("throughput") && first_row.contains("exceeds -50%"),
        "{first_row}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains("REGRESSED") && l.contains("┆ fixture/sum ")),
        "{table}"
    );
    // The ANSI escape in a benchmark name is shown, not interpreted.
    assert!(table.contains("\\u{1b}[31mred"), "{table}");
    assert!(!table.contains('\u{1b}'), "{table}");

    // JSON of the same comparison.
    let out = run_in(
        tmp.path(),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "compare",
            "--baseline",
            base.to_str().unwrap(),
            "--results",
            c.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["rows"][0]["verdict"], "regressed");
    assert!(v["counts"]["failing"].as_u64().unwrap() >= 4);

    // Only the benchmarks of this invocation: a filtered run leaves stale results of the
    // others in the criterion dir, which must not be mixed in.
    let d = tmp.path().join("d.json");
    let out = run_fixture(
        &crit,
        &d,
        "c08,latency",
        1,
        &["--", "fixture/sum", "--save-baseline", "mine"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let snap = read_snapshot(&d).unwrap();
    let ids: Vec<&str> = snap.benchmarks.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["fixture/sum"]);
    // The same run was also saved as criterion baseline "mine": collect reads exactly it.
    let mine = tmp.path().join("mine.json");
    let out = run_in(
        tmp.path(),
        &[
            "collect",
            "--criterion-dir",
            crit.to_str().unwrap(),
            "--criterion-baseline",
            "mine",
            "--output",
            mine.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let snap = read_snapshot(&mine).unwrap();
    assert_eq!(snap.source.criterion_baseline, "mine");
    assert_eq!(snap.benchmarks.len(), 1);
    assert_eq!(snap.benchmarks[0].id, "fixture/sum");
    // Compared with the full baseline, the others are missing, which fails by default.
    let out = run_in(
        tmp.path(),
        &[
            "compare",
            "--baseline",
            base.to_str().unwrap(),
            "--results",
            d.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("MISSING"), "{}", stdout(&out));

    // `collect` of the same directory without --since: everything is from one session of
    // runs minutes apart at most, so all five are current; with --since only the last run's.
    let e = tmp.path().join("e.json");
    let out = run_in(
        tmp.path(),
        &[
            "collect",
            "--criterion-dir",
            crit.to_str().unwrap(),
            "--output",
            e.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let all = read_snapshot(&e).unwrap();
    assert_eq!(all.benchmarks.len(), 5);
    // The latency log sits beside criterion's output, so plain `collect` attaches it too.
    let lat = all
        .benchmarks
        .iter()
        .find(|b| b.id == "latency/op")
        .unwrap();
    assert!(lat.latency.is_some());
}

#[test]
fn criterion_0_3_and_0_5_output_reads_like_0_8() {
    for features in ["c03", "c05"] {
        let tmp = tempfile::tempdir().unwrap();
        let crit = tmp.path().join("criterion");
        let out_path = tmp.path().join("r.json");
        let out = run_fixture(&crit, &out_path, features, 1, &[]);
        assert!(out.status.success(), "{features}: {}", stderr(&out));
        let snap = read_snapshot(&out_path).unwrap();
        let ids: Vec<&str> = snap.benchmarks.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids.len(), 5, "{features}: {ids:?}");
        assert!(ids.contains(&"fixture/sized/64") && ids.contains(&"standalone"));
        let sized = &snap.benchmarks[0];
        assert_eq!(sized.value_str.as_deref(), Some("64"));
        assert!(sized.throughput.is_some());
        assert!(sized.samples.per_iter_ns.iter().all(|&t| t > 0.0));
        assert!(snap.tools.criterion.is_some());
    }
}

/// Allocation counts gate exactly: the fixture's `latency/op` allocates nothing per operation,
/// and one injected allocation per operation (`CRITBENCH_EXTRA_ALLOCS=1`) fails the gate with a
/// row that reads `allocs/op 0 -> 1`, although its timing barely moves.
#[test]
fn an_extra_allocation_per_operation_fails_the_gate_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let crit = tmp.path().join("criterion");
    let cfg = tmp.path().join("perfgate.toml");
    std::fs::write(
        &cfg,
        "schema_version = 1\n[defaults]\ngate = [\"allocs\", \"alloc_bytes\"]\n",
    )
    .unwrap();
    let filter = ["--", "^latency/op$"];
    let a = tmp.path().join("a.json");
    let out = run_fixture_env(&crit, &a, "c08,allocs", 1, &filter, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let snap = read_snapshot(&a).unwrap();
    assert_eq!(snap.benchmarks.len(), 1);
    let allocs = snap.benchmarks[0]
        .allocs
        .as_ref()
        .expect("latency/op has an allocation log");
    assert_eq!((allocs.allocs, allocs.bytes), (0, 0), "{allocs:?}");
    assert!(allocs.ops > 0 && allocs.allocs_per_op.len() == 10);

    let b = tmp.path().join("b.json");
    let env = [("CRITBENCH_EXTRA_ALLOCS", "1")];
    let out = run_fixture_env(&crit, &b, "c08,allocs", 1, &filter, &env);
    assert!(out.status.success(), "{}", stderr(&out));
    let compare = |results: &std::path::Path| {
        run_in(
            tmp.path(),
            &[
                "--config",
                cfg.to_str().unwrap(),
                "compare",
                "--baseline",
                a.to_str().unwrap(),
                "--results",
                results.to_str().unwrap(),
                "--verbose",
            ],
        )
    };
    let out = compare(&b);
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}{}", stderr(&out));
    let row = table
        .lines()
        .find(|l| l.contains("REGRESSED") && l.contains("┆ allocs "))
        .unwrap_or_else(|| panic!("no regressed allocs row:\n{table}"));
    assert!(row.contains("allocs/op 0 -> 1"), "{row}");
    assert!(
        table
            .lines()
            .any(|l| l.contains("REGRESSED") && l.contains("┆ alloc_bytes ")),
        "{table}"
    );

    // The same code again counts the same: exact, unchanged, passing.
    let c = tmp.path().join("c.json");
    let out = run_fixture_env(&crit, &c, "c08,allocs", 1, &filter, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = compare(&c);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("allocs/op 0 -> 0"),
        "{}",
        stdout(&out)
    );
}
