//! The fork-safety rules of the GitHub workflows, checked on every `cargo test` (actionlint and
//! zizmor, in `.ci/lint-actions`, check the rest): the gate never runs with a write token or on
//! `pull_request_target`, and the workflow that may write to pull requests never runs their
//! code.

mod common;

fn workflow(name: &str) -> String {
    let path = common::repo().join(".github/workflows").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines that are not comments.
fn code(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or(l))
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn no_workflow_runs_on_pull_request_target() {
    for entry in std::fs::read_dir(common::repo().join(".github/workflows")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let text = workflow(&name);
        assert!(
            !code(&text)
                .iter()
                .any(|l| l.contains("pull_request_target")),
            "{name}"
        );
    }
}

/// The lines of a workflow's `on:` block.
fn triggers<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    lines
        .iter()
        .skip_while(|l| **l != "on:")
        .skip(1)
        .take_while(|l| l.starts_with(' ') || l.is_empty())
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn the_gate_is_read_only_and_reads_the_merge_base() {
    let text = workflow("perf-gate.yml");
    let lines = code(&text);
    let triggers = triggers(&lines);
    assert_eq!(triggers, ["  pull_request:"]);
    assert!(
        text.contains("\npermissions:\n  contents: read\n"),
        "{text}"
    );
    // No job widens the token.
    assert_eq!(
        lines.iter().filter(|l| l.contains("permissions")).count(),
        1
    );
    assert!(!lines.iter().any(|l| l.contains("secrets.")));
    assert!(text.contains("fetch-depth: 0"));
    assert!(text.contains("baseline-ref: merge-base"));
}

#[test]
fn only_pushes_to_main_write_the_reference_build_cache() {
    let text = workflow("perf-cache.yml");
    let lines = code(&text);
    let triggers = triggers(&lines);
    assert_eq!(triggers, ["  push:", "    branches: [main]"]);
    assert!(
        text.contains("\npermissions:\n  contents: read\n"),
        "{text}"
    );
    assert!(text.contains("mode: cache"));
    // The gate restores and never saves; only the cache mode saves, and only on a push.
    let action = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"),
    )
    .unwrap();
    let save = action
        .find("actions/cache/save@")
        .expect("the action saves in cache mode");
    let before_save = &action[..save];
    let step = &before_save[before_save.rfind("- name:").unwrap()..];
    assert!(
        step.contains("inputs.mode == 'cache' && github.event_name == 'push'"),
        "{step}"
    );
    let restore = action
        .find("actions/cache/restore@")
        .expect("the gate restores");
    let before_restore = &action[..restore];
    let step = &before_restore[before_restore.rfind("- name:").unwrap()..];
    assert!(step.contains("inputs.mode == 'gate'"), "{step}");
    assert!(!workflow("perf-gate.yml").contains("mode: cache"));
}

#[test]
fn the_comment_workflow_never_touches_pull_request_code() {
    let text = workflow("perf-comment.yml");
    let lines = code(&text);
    assert!(text.contains("workflow_run:"));
    for forbidden in ["git ", "cargo", "ref:", "repository:"] {
        assert!(
            !lines.iter().any(|l| l.contains(forbidden)),
            "{forbidden} in perf-comment.yml"
        );
    }
    // One action: the checkout of the default branch (no ref), without credentials, for the
    // script that builds the body.
    let uses: Vec<&&str> = lines.iter().filter(|l| l.contains("uses:")).collect();
    assert_eq!(uses.len(), 1, "{uses:?}");
    assert!(
        uses[0].trim() == "uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
        "{}",
        uses[0]
    );
    assert!(text.contains("persist-credentials: false"));
    assert!(text.contains("bash scripts/comment-body.sh \"$dir/report.md\" \"$RUN_URL\""));
    assert!(text.contains("RUN_URL: ${{ github.event.workflow_run.html_url }}"));
    // It only reads the report, and believes the pull request number only after checking it.
    assert!(text.contains("--name perfgate-report"));
    assert!(text.contains("*[!0-9]*"));
    assert!(text.contains("\"$head\" != \"$HEAD_SHA\""));
}
