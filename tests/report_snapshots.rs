//! Snapshot tests of every rendered report: the terminal table (plain and coloured), the JSON
//! report, the markdown report, the OpenMetrics report and `baseline show`, on a deterministic
//! comparison that has every verdict.

mod common;

use common::*;
use perfgate::baseline::schema::{Benchmark, Noise, Snapshot, SnapshotKind, Throughput};
use perfgate::compare::{Comparison, Sources, compare};
use perfgate::config::Config;
use perfgate::report::table::TableOptions;

fn with_noise(mut b: Benchmark, throughput: f64) -> Benchmark {
    b.noise = Some(Noise {
        runs: 5,
        throughput,
        p50: None,
        p99: None,
        p999: None,
    });
    b
}

fn comparison(mismatch: bool) -> Comparison {
    let (base, cur) = sides(mismatch);
    let sources = Sources {
        baseline: "baselines/test-bed.json".into(),
        results: "target/perfgate/results.json".into(),
    };
    compare(&base, &cur, &Config::default_config(), &sources)
}

/// The baseline and results of [`comparison`]: every verdict, latency histograms on one
/// benchmark.
fn sides(mismatch: bool) -> (Snapshot, Snapshot) {
    let base = snapshot(
        SnapshotKind::Baseline,
        vec![
            bench(
                "pipe/copy/64KiB",
                samples(1, 50, 20_000.0, 0.01),
                Some(Throughput::Bytes(65536)),
                None,
            ),
            bench(
                "pool/roundtrip",
                samples(2, 50, 12_000.0, 0.01),
                None,
                Some(ops(3, 20_000, 11_000.0, 400.0)),
            ),
            bench(
                "spawn/true/posix_spawn",
                samples(4, 50, 480_000.0, 0.01),
                Some(Throughput::Elements(1)),
                None,
            ),
            bench("noisy/thing", samples(5, 10, 1_000.0, 0.10), None, None),
            bench("faster/thing", samples(6, 50, 1_000.0, 0.01), None, None),
            bench("gone/away", samples(7, 50, 1_000.0, 0.01), None, None),
            // Varies by 4% between runs: its -5% threshold widens to -12% (3 x 4%).
            with_noise(
                bench("drifty/thing", samples(8, 50, 1_000.0, 0.01), None, None),
                0.04,
            ),
        ],
    );
    let mut cur = snapshot(
        SnapshotKind::Results,
        vec![
            bench(
                "pipe/copy/64KiB",
                samples(11, 50, 20_100.0, 0.01),
                Some(Throughput::Bytes(65536)),
                None,
            ),
            // The tail grows: p99 regresses while throughput barely moves.
            bench(
                "pool/roundtrip",
                samples(12, 50, 12_200.0, 0.01),
                None,
                Some(ops(13, 20_000, 11_000.0, 700.0)),
            ),
            bench(
                "spawn/true/posix_spawn",
                samples(14, 50, 600_000.0, 0.01),
                Some(Throughput::Elements(1)),
                None,
            ),
            bench("noisy/thing", samples(15, 10, 1_060.0, 0.10), None, None),
            bench("faster/thing", samples(16, 50, 800.0, 0.01), None, None),
            bench("brand/new", samples(17, 50, 1_000.0, 0.01), None, None),
            // 8% slower: a regression against -5%, within the widened -12%.
            bench("drifty/thing", samples(18, 50, 1_087.0, 0.01), None, None),
        ],
    );
    if mismatch {
        cur.machine.cores = 4;
        cur.machine.cpu_model = "Other CPU".into();
        cur.testbed = "other-bed".into();
    }
    (base, cur)
}

/// The full table of every row (`--verbose`).
const VERBOSE: TableOptions = TableOptions {
    color: false,
    width: None,
    terminal: false,
    verbose: true,
};

#[test]
fn table_plain() {
    let c = comparison(false);
    assert!(c.failed());
    insta::assert_snapshot!(perfgate::report::table::render(&c, VERBOSE));
}

#[test]
fn table_wrapped_to_a_narrow_terminal() {
    let opts = TableOptions {
        width: Some(100),
        ..VERBOSE
    };
    insta::assert_snapshot!(perfgate::report::table::render(&comparison(false), opts));
}

#[test]
fn table_coloured() {
    let opts = TableOptions {
        color: true,
        ..VERBOSE
    };
    let text = perfgate::report::table::render(&comparison(false), opts);
    // Bold red, as anstyle writes it (one SGR sequence per effect).
    assert!(text.contains("\u{1b}[1m\u{1b}[31mperfgate: FAIL"));
    insta::assert_snapshot!(text.replace('\u{1b}', "<ESC>"));
}

#[test]
fn table_with_machine_mismatch_banner_first() {
    let text = perfgate::report::table::render(&comparison(true), VERBOSE);
    assert!(text.starts_with("WARNING: the baseline was measured on a different machine"));
    insta::assert_snapshot!(text);
}

/// The default terminal report: the failing rows with their reasons, the rest by verdict, a
/// coverage line, all within 100 columns.
#[test]
fn compact_report() {
    let c = comparison(false);
    let text = perfgate::report::table::render(&c, TableOptions::default());
    // The headline stays one line, to be found whole; everything else fits.
    for line in text.lines().filter(|l| !l.starts_with("perfgate: ")) {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    // Only failing rows carry a reason; every benchmark is still named.
    let failing = c.rows.iter().filter(|r| r.fails).count();
    assert_eq!(
        text.matches("REGRESSED").count() + text.matches("MISSING").count(),
        failing
    );
    for r in &c.rows {
        assert!(text.contains(&r.benchmark), "{} not named", r.benchmark);
    }
    assert!(text.contains("coverage: "));
    insta::assert_snapshot!(text);
}

#[test]
fn compact_report_coloured() {
    let opts = TableOptions {
        color: true,
        ..TableOptions::default()
    };
    let text = perfgate::report::table::render(&comparison(false), opts);
    assert!(text.contains("\u{1b}[1m\u{1b}[31mperfgate: FAIL"));
    insta::assert_snapshot!(text.replace('\u{1b}', "<ESC>"));
}

#[test]
fn json_report() {
    let text = perfgate::report::json::render(&comparison(true));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["kind"], "perfgate-comparison");
    insta::assert_snapshot!(text);
}

/// The OpenMetrics report of the comparison with every verdict (and a machine mismatch, so
/// that the two testbeds differ in the info labels).
#[test]
fn openmetrics_report() {
    let text = perfgate::report::openmetrics::render(&comparison(true));
    assert!(text.ends_with("# EOF\n"));
    insta::assert_snapshot!(text);
}

#[test]
fn baseline_show() {
    let base = snapshot(
        SnapshotKind::Baseline,
        vec![
            bench(
                "pipe/copy/64KiB",
                samples(1, 50, 20_000.0, 0.01),
                Some(Throughput::Bytes(65536)),
                None,
            ),
            bench(
                "pool/roundtrip",
                samples(2, 50, 12_000.0, 0.01),
                None,
                Some(ops(3, 20_000, 11_000.0, 400.0)),
            ),
        ],
    );
    insta::assert_snapshot!(perfgate::report::show::render(
        &base,
        "baselines/test-bed.json",
        false
    ));
}

#[test]
fn refresh_summary_markdown() {
    let previous = snapshot(
        SnapshotKind::Baseline,
        vec![
            bench("g/kept", samples(1, 20, 1_000.0, 0.01), None, None),
            bench("g/same", samples(2, 20, 1_000.0, 0.01), None, None),
        ],
    );
    // An id with a longer run of backticks than a fence has, and a closing fence of its own.
    let results = snapshot(
        SnapshotKind::Results,
        vec![
            bench("g/````x```\n```", samples(3, 20, 1_000.0, 0.01), None, None),
            bench("g/same", samples(4, 20, 1_100.0, 0.01), None, None),
        ],
    );
    let refreshed = perfgate::baseline::refresh::merge(Some(&previous), results, "test-bed", false);
    let summary = perfgate::report::refresh::summary(
        &refreshed,
        std::path::Path::new("baselines/test-bed.json"),
    );
    let md = perfgate::report::refresh::markdown(&summary);
    assert!(
        md.starts_with("`````\n") && md.ends_with("\n`````\n"),
        "{md}"
    );
    insta::assert_snapshot!(md);
}

#[test]
fn markdown_report() {
    let text = perfgate::report::markdown::render(&comparison(false));
    assert!(text.starts_with("### ❌ perfgate: FAIL: "));
    insta::assert_snapshot!(text);
}

#[test]
fn markdown_report_with_machine_mismatch() {
    insta::assert_snapshot!(perfgate::report::markdown::render(&comparison(true)));
}

#[test]
fn markdown_report_passing_with_only_unchanged_rows() {
    let base = snapshot(
        SnapshotKind::Baseline,
        vec![bench("g/a", samples(1, 50, 1_000.0, 0.01), None, None)],
    );
    let cur = snapshot(
        SnapshotKind::Results,
        vec![bench("g/a", samples(2, 50, 1_000.0, 0.01), None, None)],
    );
    let sources = Sources {
        baseline: "baselines/test-bed.json@merge-base".into(),
        results: "target/perfgate/results.json".into(),
    };
    let c = compare(&base, &cur, &Config::default_config(), &sources);
    assert!(!c.failed());
    insta::assert_snapshot!(perfgate::report::markdown::render(&c));
}

/// Names that try to inject markup, HTML, a mention, a table break or a new line.
const HOSTILE: &[&str] = &[
    "evil/<img src=x onerror=alert(1)>",
    "pipe|break|table",
    "line\nbreak\n| injected | row |",
    "</details><script>alert(1)</script>",
    "ping/@octocat",
    "tick/``code``",
    "[link](https://example.com) **bold** _em_ ~~strike~~",
];

#[test]
fn markdown_escapes_hostile_benchmark_names() {
    let names: Vec<String> = HOSTILE.iter().map(|n| n.to_string()).collect();
    let base = snapshot(
        SnapshotKind::Baseline,
        names
            .iter()
            .enumerate()
            .map(|(i, n)| bench(n, samples(i as u64, 30, 1_000.0, 0.01), None, None))
            .collect(),
    );
    // Every hostile benchmark regresses, so every name lands in the main table.
    let cur = snapshot(
        SnapshotKind::Results,
        names
            .iter()
            .enumerate()
            .map(|(i, n)| bench(n, samples(100 + i as u64, 30, 2_000.0, 0.01), None, None))
            .collect(),
    );
    let sources = Sources {
        baseline: "baselines/<b>.json".into(),
        results: "r|s.json".into(),
    };
    let text = perfgate::report::markdown::render(&compare(
        &base,
        &cur,
        &Config::default_config(),
        &sources,
    ));
    // Each row of the table has exactly the header's 6 cells: no name broke a row or a line.
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 2 + names.len(), "{text}");
    for row in &rows {
        let unescaped_pipes = row.matches('|').count() - row.matches("\\|").count();
        assert_eq!(unescaped_pipes, 7, "{row}");
    }
    // Every name is inside a code span, where GitHub renders neither HTML nor mentions.
    for line in text.lines() {
        for tag in ["<img", "<script", "</details><"] {
            if let Some(at) = line.find(tag) {
                let before = &line[..at];
                assert!(
                    before.matches('`').count() % 2 == 1,
                    "{tag} outside code: {line}"
                );
            }
        }
    }
    insta::assert_snapshot!(text);
}

/// [`comparison`] after six paired rounds of its regressed benchmark and a replication.
fn confirmed() -> Comparison {
    let mut c = comparison(false);
    // Six paired rounds: the baseline commit's build and the current build of the regressed
    // benchmark, with the machine drifting between rounds.
    let rounds_of = |drifts: &[f64], seed0: u64| -> Vec<_> {
        drifts
            .iter()
            .enumerate()
            .map(|(i, drift)| {
                let side = |kind, center: f64, seed: u64| {
                    snapshot(
                        kind,
                        vec![bench(
                            "spawn/true/posix_spawn",
                            samples(seed, 20, center * drift, 0.01),
                            Some(Throughput::Elements(1)),
                            None,
                        )],
                    )
                };
                (
                    side(SnapshotKind::Results, 480_000.0, seed0 + 100 + i as u64),
                    side(SnapshotKind::Results, 600_000.0, seed0 + 200 + i as u64),
                )
            })
            .collect()
    };
    let rounds = rounds_of(&[1.0, 1.04, 0.97, 1.02, 0.99, 1.01], 0);
    // Fresh rounds replicate the regression the sequential rounds found.
    let replication = rounds_of(
        &[
            1.02, 0.98, 1.0, 1.03, 0.97, 1.01, 1.0, 0.99, 1.02, 1.0, 0.98, 1.01,
        ],
        1000,
    );
    let ids = perfgate::confirm::candidates(&c);
    assert_eq!(ids, ["noisy/thing", "spawn/true/posix_spawn"]);
    perfgate::confirm::apply(&mut c, &ids[1..], &rounds, rounds.len(), &replication);
    c
}

#[test]
fn table_after_confirmation() {
    let c = confirmed();
    let text = perfgate::report::table::render(&c, VERBOSE);
    assert!(text.contains("confirmed in 6 paired rounds"), "{text}");
    insta::assert_snapshot!(text);
}

/// A regression of 13% that one far-off round among nine leaves undecided, then decided by
/// fresh rounds of its own: the reason says both, and the JSON says why it got them.
#[test]
fn table_after_fresh_rounds_of_an_undecided_row() {
    let mut c = comparison(false);
    let rounds_of = |factors: &[f64], seed0: u64| -> Vec<_> {
        factors
            .iter()
            .enumerate()
            .map(|(i, factor)| {
                let side = |center: f64, seed: u64| {
                    snapshot(
                        SnapshotKind::Results,
                        vec![bench(
                            "spawn/true/posix_spawn",
                            samples(seed, 20, center, 0.005),
                            Some(Throughput::Elements(1)),
                            None,
                        )],
                    )
                };
                (
                    side(500_000.0, seed0 + 100 + i as u64),
                    side(500_000.0 * factor, seed0 + 200 + i as u64),
                )
            })
            .collect()
    };
    // Per round, how much longer the current build's iteration took than the baseline's.
    let rounds = rounds_of(&[1.16, 0.74, 1.16, 1.16, 1.23, 1.14, 1.14, 1.15, 1.15], 0);
    let replication = rounds_of(
        &[1.15, 1.16, 1.14, 1.15, 1.17, 1.15, 1.16, 1.14, 1.15],
        1000,
    );
    let ids = vec!["spawn/true/posix_spawn".to_string()];
    perfgate::confirm::apply(&mut c, &ids, &rounds, rounds.len(), &replication);
    let text = perfgate::report::table::render(&c, VERBOSE);
    assert!(
        text.contains("not confirmed in 9 paired rounds")
            && text.contains("measured again in 9 fresh round(s)"),
        "{text}"
    );
    insta::assert_snapshot!(text);
    let v: serde_json::Value = serde_json::from_str(&perfgate::report::json::render(&c)).unwrap();
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["benchmark"] == "spawn/true/posix_spawn" && r["metric"] == "throughput")
        .unwrap();
    assert_eq!(row["verdict"], "regressed");
    assert_eq!(row["confirmation"]["replication"]["of"], "undecided");
    assert_eq!(row["confirmation"]["replication"]["confirmed"], true);
}

/// A pass in which not one gated comparison was decided must not read as a clean pass.
#[test]
fn a_pass_with_nothing_decided_says_so() {
    let base = snapshot(
        SnapshotKind::Baseline,
        vec![bench(
            "noisy/thing",
            samples(5, 10, 1_000.0, 0.10),
            None,
            None,
        )],
    );
    let cur = snapshot(
        SnapshotKind::Results,
        vec![bench(
            "noisy/thing",
            samples(15, 10, 1_060.0, 0.10),
            None,
            None,
        )],
    );
    let sources = Sources {
        baseline: "b".into(),
        results: "r".into(),
    };
    let c = compare(&base, &cur, &Config::default_config(), &sources);
    assert!(!c.failed());
    let head = perfgate::report::prose::headline(&c);
    assert!(
        head.starts_with("perfgate: PASS, but nothing was decided: 0 failing of 1 comparisons, 1 inconclusive; every gated comparison ended undecided"),
        "{head}"
    );
    assert!(
        head.contains("--runs 5") && head.contains("check --ab"),
        "{head}"
    );
    // One decided comparison is enough for a plain pass.
    let steady = |seed| {
        snapshot(
            SnapshotKind::Results,
            vec![bench(
                "steady/thing",
                samples(seed, 50, 1_000.0, 0.01),
                None,
                None,
            )],
        )
    };
    let c = compare(&steady(1), &steady(2), &Config::default_config(), &sources);
    assert!(perfgate::report::prose::headline(&c).starts_with("perfgate: PASS: "));
}

/// A bisection of 8 commits, the bad one at 5, one step placed by its estimate, and a commit
/// message that a terminal must not interpret.
fn bisection() -> perfgate::bisect::Bisection {
    use perfgate::bisect::{Bisection, Commit, Settings, Side, Step};
    use perfgate::stats::paired::{Decision, hodges_lehmann};
    let commits: Vec<Commit> = (0..8)
        .map(|i| Commit {
            id: format!("{i:x}{}", "0".repeat(39)),
            summary: if i == 5 {
                "pool: \u{1b}[31mfaster\u{1b}[0m dispatch".into()
            } else {
                format!("change {i}")
            },
        })
        .collect();
    let step = |commit, ratios: &[f64], side, decision, threshold| Step {
        commit,
        side,
        decision,
        change: hodges_lehmann(
            &ratios.iter().map(|r: &f64| r.ln()).collect::<Vec<_>>(),
            0.95,
        ),
        ratios: ratios.to_vec(),
        threshold,
        seconds: 12.0,
    };
    let slow = [0.51, 0.49, 0.52, 0.50, 0.48, 0.53, 0.50];
    let same = [1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.99];
    let mid = -0.293;
    Bisection {
        commits,
        settings: Settings {
            metric: perfgate::vocab::Metric::Throughput,
            threshold: -0.05,
            alpha: 0.05,
            rounds: 12,
        },
        premise: step(7, &slow, Side::Bad, Decision::Different, -0.05),
        steps: vec![
            step(3, &same, Side::Good, Decision::Same, mid),
            step(5, &slow, Side::Bad, Decision::Different, mid),
            step(4, &[1.3, 0.7, 1.1, 0.8], Side::Good, Decision::Unknown, mid),
        ],
        first_bad: Some(5),
    }
}

#[test]
fn bisect_text_and_json() {
    use perfgate::report::bisect::{Doc, json, text};
    let b = bisection();
    let doc = Doc {
        bisection: &b,
        bench_id: "pool/roundtrip",
        seed: 7,
        seconds: 61.0,
    };
    let t = text::render(&doc, false);
    assert!(!t.contains('\u{1b}'), "{t}");
    insta::assert_snapshot!("bisect_text", t);
    let j = json::render(&doc);
    // The published format reads back into its own types, unknown fields refused.
    let back: json::Report = serde_json::from_str(&j).unwrap();
    let verdicts: Vec<&str> = back.steps.iter().map(|s| s.verdict.as_str()).collect();
    assert_eq!(verdicts, ["regressed", "good", "bad", "good (by estimate)"]);
    assert_eq!(back.first_bad.as_deref(), Some(b.commits[5].id.as_str()));
    assert_eq!(
        back.steps[3].ci_low, None,
        "an unbounded interval has no ends"
    );
    insta::assert_snapshot!("bisect_json", j);
}

/// The HTML page with each chart's `data:` URI replaced by its length: the page's text and
/// structure are reviewed in the snapshot, the charts (hundreds of kilobytes of SVG) are
/// checked to be whole SVG documents here.
fn html_without_charts(page: &str) -> String {
    const URI: &str = "src=\"data:image/svg+xml;charset=utf-8,";
    let mut out = String::new();
    let mut rest = page;
    while let Some(at) = rest.find(URI) {
        out.push_str(&rest[..at]);
        let body = &rest[at + URI.len()..];
        let end = body.find('"').expect("a closed data URI");
        let svg = &body[..end];
        assert!(
            svg.starts_with("%3Csvg") && svg.ends_with("%3C/svg%3E%0A"),
            "{svg}"
        );
        out.push_str("src=\"data:image/svg+xml,(chart)");
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

fn html(c: &Comparison, (base, cur): &(Snapshot, Snapshot)) -> String {
    perfgate::report::html::render(
        c,
        perfgate::report::html::Sides {
            baseline: base,
            current: cur,
        },
    )
}

#[test]
fn html_report() {
    let page = html(&comparison(false), &sides(false));
    // Self-contained: nothing to fetch, nothing to run.
    for bad in [
        "<script",
        "<link",
        "src=\"http",
        "<iframe",
        "@import",
        "url(",
    ] {
        assert!(!page.contains(bad), "{bad}");
    }
    // The failing benchmarks come first: spawn (regressed) and gone/away (missing).
    let first = page.find("<section").unwrap();
    assert!(
        page[first..].starts_with("<section id=\"b-0\" class=\"failing\">"),
        "{}",
        &page[first..first + 200]
    );
    // A latency histogram for pool/roundtrip, per-iteration samples for the others.
    assert!(page.contains("Per-operation latency (log scale)"));
    assert!(page.contains("Per-iteration sample times"));
    insta::assert_snapshot!(html_without_charts(&page));
}

#[test]
fn html_report_after_confirmation() {
    let c = confirmed();
    let page = html(&c, &sides(false));
    // The paired ratios of the re-judged row, rounds and replication.
    assert!(
        page.contains(
            "ratio current / baseline in each of 6 paired round(s), then 12 replication round(s)"
        ),
        "{page}"
    );
    assert_eq!(page.matches("-rounds-throughput\"").count(), 1);
    insta::assert_snapshot!(html_without_charts(&page));
}

#[test]
fn html_escapes_hostile_benchmark_names() {
    let names: Vec<String> = HOSTILE
        .iter()
        .map(|n| n.to_string())
        .chain(["<script>alert(1)</script>".to_string()])
        .collect();
    let mk = |kind, seed: u64, center: f64| {
        snapshot(
            kind,
            names
                .iter()
                .enumerate()
                .map(|(i, n)| bench(n, samples(seed + i as u64, 30, center, 0.01), None, None))
                .collect(),
        )
    };
    let base = mk(SnapshotKind::Baseline, 0, 1_000.0);
    let cur = mk(SnapshotKind::Results, 100, 2_000.0);
    let sources = Sources {
        baseline: "baselines/<b>.json".into(),
        results: "r\"s'.json".into(),
    };
    let c = compare(&base, &cur, &Config::default_config(), &sources);
    let page = html(&c, &(base, cur));
    // Not one tag of a name survives: every `<` of the page opens a tag of the page itself.
    for tag in ["<script", "<img src=x", "</details>", "<b>"] {
        assert!(!page.contains(tag), "{tag} in the page");
    }
    assert!(page.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
    assert!(page.contains("<code>baselines/&lt;b&gt;.json</code>"));
    assert!(page.contains("<code>r&quot;s&#39;.json</code>"));
    insta::assert_snapshot!(html_without_charts(&page));
}

/// An explanation of a slowdown: one function new on head, two that grew a little.
#[test]
fn explain_text_markdown_and_json() {
    use perfgate::explain::{Folded, top_growth};
    use perfgate::report::explain::{Doc, json, markdown, text};
    let base = Folded::parse(
        "fixture;main;iter;checksum 600000000\nfixture;main;iter 300000000\nfixture;main;setup 100000000\n",
    );
    let head = Folded::parse(
        "fixture;main;iter;checksum 600000000\nfixture;main;iter;injected_slowdown 900000000\nfixture;main;iter 300000000\nfixture;main;setup 100000000\nfixture;main;iter;memcpy `x`|y 100000000\n",
    );
    let top = top_growth(&base, &head, 10);
    let calls = [perfgate::explain::syscalls::SyscallChange {
        name: "write".into(),
        base: 1,
        head: 3,
    }];
    let doc = Doc {
        bench_id: "fixture/sum",
        base_commit: "0123456789abcdef0123456789abcdef01234567",
        head: "HEAD 89abcdef0123",
        base_ns: base.total(),
        head_ns: head.total(),
        event: "cpu-clock",
        profiles: 2,
        profile_seconds: 2.0,
        top: &top,
        syscalls: Ok(&calls),
        svg: "/t/perfgate/explain/fixture_sum.svg",
        seconds: 14.0,
    };
    let t = text::render(&doc, false);
    assert!(!t.contains('\u{1b}'), "{t}");
    insta::assert_snapshot!("explain_text", t);
    insta::assert_snapshot!("explain_markdown", markdown::render(&doc));
    let j = json::render(&doc);
    let back: json::Report = serde_json::from_str(&j).unwrap();
    assert_eq!(back.top_functions[0].function, "injected_slowdown");
    insta::assert_snapshot!("explain_json", j);
    let none = Doc {
        syscalls: Err(perfgate::explain::syscalls::NOT_INSTALLED),
        ..doc
    };
    assert!(text::render(&none, false).contains("apt-get install strace"));
    assert!(json::render(&none).contains("\"syscalls\": null"));
}

/// Allocation counts: one more allocation (and its 16 bytes) per operation, exact, on
/// `pool/roundtrip`; a count that varies between samples on `pipe/copy/4KiB`, judged by the
/// statistical rule and named in a note.
fn allocations() -> Comparison {
    use perfgate::baseline::schema::Allocs;
    let with = |mut b: Benchmark, allocs: &[u64], bytes: &[u64]| {
        let iters = vec![100u64; allocs.len()];
        b.allocs = Allocs::from_samples(&iters, allocs, bytes);
        b
    };
    let pool = || bench("pool/roundtrip", samples(2, 10, 12_000.0, 0.01), None, None);
    let pipe = || {
        bench(
            "pipe/copy/4KiB",
            samples(1, 10, 2_000.0, 0.01),
            Some(Throughput::Bytes(4096)),
            None,
        )
    };
    let base = snapshot(
        SnapshotKind::Baseline,
        vec![
            with(pool(), &[0; 10], &[0; 10]),
            with(
                pipe(),
                &[100, 120, 100, 110, 100, 120, 100, 110, 100, 100],
                &[6400; 10],
            ),
        ],
    );
    let cur = snapshot(
        SnapshotKind::Results,
        vec![
            with(pool(), &[100; 10], &[1600; 10]),
            with(
                pipe(),
                &[100, 110, 100, 120, 100, 100, 110, 100, 120, 100],
                &[6400; 10],
            ),
        ],
    );
    let sources = Sources {
        baseline: "baselines/test-bed.json".into(),
        results: "target/perfgate/results.json".into(),
    };
    compare(&base, &cur, &Config::default_config(), &sources)
}

#[test]
fn allocation_counts_table_markdown_and_json() {
    let c = allocations();
    assert!(c.failed());
    let table = perfgate::report::table::render(&c, VERBOSE);
    assert!(table.contains("allocs/op 0 -> 1"), "{table}");
    insta::assert_snapshot!("allocations_table", table);
    insta::assert_snapshot!(
        "allocations_markdown",
        perfgate::report::markdown::render(&c)
    );
    insta::assert_snapshot!("allocations_json", perfgate::report::json::render(&c));
}
