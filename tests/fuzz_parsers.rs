//! Fuzz-style tests of every parser perfgate reads input with: results and baseline JSON,
//! `perfgate.toml`, latency logs, criterion's output and git refs. Each starts from real
//! inputs (criterion output and latency logs written by the fixture crate's benches, the
//! results and the baseline perfgate made of them), mutates one input many times with a seeded
//! generator (so a failure repeats), runs the real binary on each mutation, and asserts what the
//! README promises of bad input:
//!
//! - the exit code is 0, 1 or 2, never a panic;
//! - an error is one line, `perfgate: error: ...`, naming the input;
//! - no raw control character reaches stdout or stderr (a mutation inserts ANSI escapes, NULs
//!   and newlines);
//! - nothing in the work tree changes.
//!
//! The number of mutations per parser is bounded (`CASES`) so `.ci/run` stays short; a failure
//! prints the seed and case, and leaves the mutated input in the panic message.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// Mutations per parser.
const CASES: usize = 40;

/// A small deterministic generator (xorshift64*): the cases must repeat exactly.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Hostile fragments a mutation inserts: control characters, workflow commands, JSON and TOML
/// syntax, numbers at and past the limits, multi-byte text.
const FRAGMENTS: &[&str] = &[
    "\u{1b}[31m",
    "\u{0}",
    "\n::error::forged\n",
    "\r",
    "\"",
    "}",
    "]",
    "[",
    "{",
    ",",
    "=",
    "1e999",
    "-1",
    "0",
    "1e-320",
    "18446744073709551616",
    "-9223372036854775809",
    "NaN",
    "null",
    "true",
    "[]",
    "{}",
    "\"\u{7f}\"",
    "é日本",
    "../../x",
    "\\u0000",
    "\\ud800",
];

/// Numbers a mutation puts in place of one in the input.
const EXTREMES: &[&str] = &[
    "1e308",
    "0",
    "-0",
    "4294967296",
    "18446744073709551615",
    "1e-310",
    "9999999999999999999999999999999999999999",
];

/// One mutation of `input`.
fn mutate(g: &mut Gen, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    let at = |g: &mut Gen, v: &Vec<u8>| g.below(v.len() + 1);
    for _ in 0..1 + g.below(3) {
        match g.below(7) {
            0 if !v.is_empty() => {
                let i = g.below(v.len());
                v[i] = g.next() as u8;
            }
            1 if !v.is_empty() => {
                let i = g.below(v.len());
                let n = 1 + g.below(16.min(v.len() - i));
                v.drain(i..i + n);
            }
            2 => {
                let i = at(g, &v);
                let f = FRAGMENTS[g.below(FRAGMENTS.len())];
                v.splice(i..i, f.bytes());
            }
            3 => {
                let i = at(g, &v);
                v.truncate(i);
            }
            4 if !v.is_empty() => {
                let i = g.below(v.len());
                let n = 1 + g.below(64.min(v.len() - i));
                let copy = v[i..i + n].to_vec();
                let j = at(g, &v);
                v.splice(j..j, copy);
            }
            _ => {
                // Replace a number with an extreme one: the values that overflowed sums,
                // wrapped histograms and turned thresholds into infinities.
                let digits: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_ascii_digit()).collect();
                if digits.is_empty() {
                    continue;
                }
                let i = digits[g.below(digits.len())];
                let mut j = i;
                while j < v.len() && (v[j].is_ascii_digit() || b".eE+-".contains(&v[j])) {
                    j += 1;
                }
                let f = EXTREMES[g.below(EXTREMES.len())];
                v.splice(i..j, f.bytes());
            }
        }
    }
    v
}

/// Every file under `dir` with its contents, for "the work tree is unchanged".
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.components().any(|c| c.as_os_str() == ".git") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The promises of bad input, for one run on a mutation of the file `named` (of an argument,
/// when `None`: then the error need not name a file).
fn check_run(out: &Output, named: Option<&str>, case: &str) {
    let (so, se) = (stdout(out), stderr(out));
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "{case}: exit {code:?}\nstdout: {so}\nstderr: {se}"
    );
    assert!(!se.contains("panicked"), "{case}: {se}");
    for (name, text) in [("stdout", &so), ("stderr", &se)] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{case}: a raw control character on {name}: {text:?}"
        );
    }
    if code == Some(2) {
        let errors: Vec<&str> = se
            .lines()
            .filter(|l| l.starts_with("perfgate: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{case}: {se}");
        if let Some(named) = named {
            assert!(
                errors[0].contains(named),
                "{case}: the error does not name {named}: {}",
                errors[0]
            );
        }
    }
}

/// The fixture's real output, once per test: its criterion directory (with a latency log),
/// the results perfgate collected from it, and a baseline refreshed from those.
struct Inputs {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Inputs {
    fn new() -> Inputs {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("work");
        std::fs::create_dir_all(&dir).unwrap();
        let out = run_fixture(
            &dir.join("criterion"),
            &dir.join("res.json"),
            "c08,latency",
            1,
            &[],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let out = run_in(
            &dir,
            &[
                "baseline",
                "refresh",
                "--from",
                "res.json",
                "--allow-dirty",
                "--dir",
                "baselines",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::copy(dir.join("baselines/fixture.json"), dir.join("base.json")).unwrap();
        std::fs::write(
            dir.join("perfgate.toml"),
            "schema_version = 1\n\n[defaults]\ngate = [\"throughput\", \"p99\"]\nthresholds = { throughput = -5.0, p99 = 10.0 }\nalpha = 0.05\n\n[[benchmark]]\nmatch = \"fixture/**\"\nthresholds = { throughput = -10.0 }\n",
        )
        .unwrap();
        Inputs { _tmp: tmp, dir }
    }

    /// Mutates `file` (relative to the work dir) `CASES` times, runs `args` on each and checks
    /// the promises; the file is restored after each run.
    fn fuzz(&self, seed: u64, file: &str, args: &[&str]) {
        let path = self.dir.join(file);
        let original = std::fs::read(&path).unwrap();
        let mut g = Gen(seed);
        let name = Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for case in 0..CASES {
            let m = mutate(&mut g, &original);
            std::fs::write(&path, &m).unwrap();
            let before = tree(&self.dir);
            let out = run_in(&self.dir, args);
            let label = format!(
                "seed {seed} case {case}, {file} = {:?}",
                String::from_utf8_lossy(&m)
            );
            check_run(&out, Some(&name), &label);
            assert_eq!(tree(&self.dir), before, "{label}: the work tree changed");
        }
        std::fs::write(&path, original).unwrap();
    }
}

#[test]
fn results_baseline_and_config_parsers_survive_mutated_real_inputs() {
    let inputs = Inputs::new();
    // The unmutated inputs pass: the mutations, not the setup, are under test.
    let out = run_in(&inputs.dir, COMPARE);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    inputs.fuzz(1, "res.json", COMPARE);
    inputs.fuzz(2, "base.json", COMPARE);
    inputs.fuzz(3, "perfgate.toml", COMPARE);
    // The stored baseline as `baseline show` reads it.
    inputs.fuzz(
        4,
        "baselines/fixture.json",
        &["baseline", "show", "--testbed", "fixture"],
    );
}

#[test]
fn criterion_output_and_latency_log_parsers_survive_mutated_real_inputs() {
    let inputs = Inputs::new();
    // `collect` writes its output outside the work dir: the work tree must stay as it was.
    let out_file = inputs._tmp.path().join("collected.json");
    let out_arg = out_file.display().to_string();
    let collect = [
        "collect",
        "--criterion-dir",
        "criterion",
        "--testbed",
        "fixture",
        "--output",
        out_arg.as_str(),
    ];
    let out = run_in(&inputs.dir, &collect);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let crit = inputs.dir.join("criterion");
    let mut files: Vec<PathBuf> = tree(&crit)
        .into_keys()
        .filter(|p| {
            let s = p.to_string_lossy();
            s.contains("/fixture/sum/new/") || s.contains(".perfgate-latency")
        })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().contains(".perfgate-latency")),
        "no latency log among {files:?}"
    );
    for (k, f) in files.iter().enumerate() {
        let rel = f
            .strip_prefix(&inputs.dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        inputs.fuzz(10 + k as u64, &rel, &collect);
    }
}

#[test]
fn git_ref_parsing_survives_hostile_refs() {
    let inputs = Inputs::new();
    let repo = git2::Repository::init(&inputs.dir).unwrap();
    commit_all(&repo, "baselines");
    let before = tree(&inputs.dir);
    let mut g = Gen(99);
    let refs = [
        "HEAD",
        "HEAD~999",
        "HEAD^{tree}",
        "HEAD:baselines",
        ":/baselines",
        "@{-1}",
        "main..HEAD",
        "refs/../../x",
        "-x",
        "--help",
        "\u{1b}[31m",
        "a\nb",
        "\u{7f}",
        "é",
        "",
    ];
    for case in 0..CASES {
        let mut r = refs[g.below(refs.len())].as_bytes().to_vec();
        if g.below(2) == 0 {
            r = mutate(&mut g, &r);
        }
        // A NUL cannot be an argument at all.
        r.retain(|&b| b != 0);
        let r = String::from_utf8_lossy(&r).into_owned();
        // `--baseline-ref=REF`: a ref that starts with `-` is still the option's value.
        let opt = format!("--baseline-ref={r}");
        let args = ["compare", opt.as_str(), "--results", "res.json"];
        let out = run_in(&inputs.dir, &args);
        let label = format!("case {case}, ref {r:?}");
        check_run(&out, None, &label);
        assert_eq!(tree(&inputs.dir), before, "{label}: the work tree changed");
    }
}
