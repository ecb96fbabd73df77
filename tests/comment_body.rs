//! `scripts/comment-body.sh`, the body of the sticky pull request comment, run with bash on
//! reports that a pull request could have uploaded: the marker only on the first line, the
//! trusted header second, mentions and references broken, HTML comments shown, the size capped.

mod common;

use std::path::Path;
use std::process::Output;

const RUN_URL: &str = "https://github.com/owner/repo/actions/runs/42";
const MARKER: &str = "<!-- perfgate-report -->";
/// U+2060 WORD JOINER, which the script inserts.
const WJ: char = '\u{2060}';

fn body(dir: &Path, report: &[u8], run_url: &str) -> Output {
    let path = dir.join("report.md");
    std::fs::write(&path, report).unwrap();
    std::process::Command::new("bash")
        .arg(common::repo().join("scripts/comment-body.sh"))
        .arg(&path)
        .arg(run_url)
        .output()
        .expect("run bash")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

/// The text GitHub would scan for mentions and references, with the joiners taken out again:
/// what a pull request wrote.
fn without_joiners(s: &str) -> String {
    s.replace(WJ, "")
}

#[test]
fn marker_first_header_second_and_nothing_forged_above_them() {
    let tmp = tempfile::tempdir().unwrap();
    let report =
        format!("{MARKER}\n### perfgate: PASS\n<!-- perfgate-report --> and <!--\nhidden? -->\n");
    let text = ok(&body(tmp.path(), report.as_bytes(), RUN_URL));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], MARKER);
    assert!(
        lines[1].starts_with(
            "**perfgate report** of [perf-gate run](https://github.com/owner/repo/actions/runs/42)."
        ) && lines[1].contains("untrusted"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "");
    assert_eq!(text.matches(MARKER).count(), 1, "{text}");
    assert!(!text[MARKER.len()..].contains("<!--"), "{text}");
    // Shown, not hidden: the same text with a joiner after `<`.
    assert!(
        text.contains(&format!("<{WJ}!-- perfgate-report -->")),
        "{text}"
    );
    assert!(without_joiners(&text).ends_with(&report), "{text}");
}

#[test]
fn mentions_and_references_are_broken_and_read_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let report = "cc @octocat @org/team \\@escaped `@in-code` mail a@b.c\n\
                  fixes #12, see owner/repo#34 and GH-56, gh-7\n\
                  entities &#64;x &#x40;y &commat;z &#35;8 R&D\n\
                  kept: 95% CI, p < 0.001, C#, #x, @ alone, # heading\n";
    let text = ok(&body(tmp.path(), report.as_bytes(), RUN_URL));
    let report_part = text.split_once("\n\n").unwrap().1;
    // Reads the same once the invisible joiners are gone.
    assert_eq!(without_joiners(report_part), report);
    for (raw, broken) in [
        ("@octocat", format!("@{WJ}octocat")),
        ("@org/team", format!("@{WJ}org/team")),
        ("\\@escaped", format!("\\@{WJ}escaped")),
        ("`@in-code`", format!("`@{WJ}in-code`")),
        ("#12", format!("#{WJ}12")),
        ("owner/repo#34", format!("owner/repo#{WJ}34")),
        ("GH-56", format!("GH-{WJ}56")),
        ("gh-7", format!("gh-{WJ}7")),
        ("&#64;x", format!("&{WJ}#{WJ}64;x")),
        ("&#x40;y", format!("&{WJ}#x40;y")),
        ("&commat;z", format!("&{WJ}commat;z")),
    ] {
        assert!(report_part.contains(&broken), "{raw}: {report_part}");
    }
    // No mention, reference or character reference is left as GitHub would read it.
    for (i, c) in report_part.char_indices() {
        let next = report_part[i + c.len_utf8()..].chars().next();
        match (c, next) {
            ('@', Some(n)) | ('#', Some(n)) => {
                assert!(
                    !n.is_ascii_alphanumeric() || (c == '#' && !n.is_ascii_digit()),
                    "{c}{n} at {i}: {report_part}"
                )
            }
            ('&', Some(n)) => assert!(!n.is_ascii_alphanumeric() && n != '#', "{report_part}"),
            _ => {}
        }
    }
    assert!(report_part.contains("kept: 95% CI, p < 0.001, C#, #x, @ alone, # heading"));
}

#[test]
fn a_long_report_is_cut_in_whole_lines_below_githubs_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let line = format!("| `bench/{}` | @someone #1 |\n", "x".repeat(60));
    let report = line.repeat(2_000);
    let text = ok(&body(tmp.path(), report.as_bytes(), RUN_URL));
    assert!(text.len() < 65_536, "{}", text.len());
    assert!(text.chars().count() < 65_536);
    assert!(
        text.trim_end().ends_with(
            "*Truncated: the full report is in the job summary and the perfgate-report artifact.*"
        ),
        "{}",
        &text[text.len() - 200..]
    );
    let kept: Vec<&str> = text
        .split_once("\n\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| l.starts_with("| `bench/"))
        .collect();
    assert!(kept.len() > 500, "{}", kept.len());
    let expected = format!("| `bench/{}` | @{WJ}someone #{WJ}1 |", "x".repeat(60));
    assert!(kept.iter().all(|l| *l == expected), "a line was cut");

    // A short one is whole, without the note.
    let text = ok(&body(tmp.path(), line.as_bytes(), RUN_URL));
    assert!(!text.contains("Truncated"), "{text}");
}

#[test]
fn bytes_that_are_not_text_and_bad_arguments_are_handled() {
    let tmp = tempfile::tempdir().unwrap();
    // NUL bytes are dropped; other bytes pass through.
    let out = body(tmp.path(), b"a\0b @x\n", RUN_URL);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).ends_with(&format!("ab @{WJ}x\n")));

    for url in [
        "http://github.com/x",
        "https://github.com/x) [click](https://evil",
        "https://a b",
        "",
    ] {
        let out = body(tmp.path(), b"x\n", url);
        assert_eq!(out.status.code(), Some(2), "{url}");
        assert!(out.stdout.is_empty(), "{url}");
    }
    let link = tmp.path().join("link.md");
    std::os::unix::fs::symlink(tmp.path().join("report.md"), &link).unwrap();
    let out = std::process::Command::new("bash")
        .arg(common::repo().join("scripts/comment-body.sh"))
        .arg(&link)
        .arg(RUN_URL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}
