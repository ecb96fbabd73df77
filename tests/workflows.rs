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
    // The gate restores and never saves; only the cache mode saves, and only on a push. Every
    // save step (perfgate itself and the reference build) is held to that.
    let action = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"),
    )
    .unwrap();
    let step_of = |at: usize| {
        let before = &action[..at];
        before[before.rfind("- name:").unwrap()..].to_string()
    };
    let saves: Vec<usize> = action
        .match_indices("actions/cache/save@")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(saves.len(), 2, "perfgate and the reference build");
    for at in saves {
        let step = step_of(at);
        assert!(
            step.contains("inputs.mode == 'cache' && github.event_name == 'push'"),
            "{step}"
        );
    }
    // The reference build is restored only by a gate on a pull request.
    let restore = action
        .match_indices("actions/cache/restore@")
        .map(|(i, _)| step_of(i))
        .find(|step| step.contains("Restore the merge-base build"))
        .expect("the gate restores the merge-base build");
    assert!(
        restore.contains("inputs.mode == 'gate' && github.event_name == 'pull_request'"),
        "{restore}"
    );
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

/// The lines of one job of a workflow: from `  NAME:` to the next job or the end.
fn job<'a>(lines: &[&'a str], name: &str) -> Vec<&'a str> {
    let start = format!("  {name}:");
    lines
        .iter()
        .skip_while(|l| **l != start)
        .skip(1)
        .take_while(|l| l.trim().is_empty() || l.starts_with("    "))
        .copied()
        .collect()
}

#[test]
fn the_refresh_measures_read_only_and_lands_without_running_project_code() {
    let text = workflow("baseline-refresh.yml");
    let lines = code(&text);
    assert!(text.contains("\npermissions: {}\n"), "{text}");

    let measure = job(&lines, "measure");
    assert!(!measure.is_empty());
    let perms: Vec<&&str> = measure
        .iter()
        .filter(|l| l.trim_end().ends_with(": read") || l.trim_end().ends_with(": write"))
        .collect();
    assert_eq!(perms, [&"      contents: read"], "{measure:#?}");
    assert!(
        measure
            .iter()
            .any(|l| l.contains("persist-credentials: false"))
    );
    assert!(
        !measure
            .iter()
            .any(|l| l.contains("secrets.") || l.contains("token"))
    );
    assert!(
        measure
            .iter()
            .any(|l| l.contains("baseline refresh --summary-md"))
    );
    assert!(
        measure
            .iter()
            .any(|l| l.contains("actions/upload-artifact@"))
    );

    let land = job(&lines, "land");
    assert!(land.iter().any(|l| l.trim() == "needs: measure"));
    // Nothing of the project's runs here: no build, no perfgate, no script from the checkout.
    for forbidden in [
        "cargo",
        "rustup",
        "perfgate baseline",
        "./target",
        "scripts/",
        "make",
    ] {
        assert!(
            !land.iter().any(|l| l.contains(forbidden)),
            "{forbidden} in the land job"
        );
    }
    assert!(
        land.iter()
            .any(|l| l.contains("persist-credentials: false"))
    );
    assert!(
        land.iter()
            .any(|l| l.contains("actions/download-artifact@"))
    );
    assert!(land.iter().any(|l| l.contains("jq -e")));
    // The token never on a command line: git gets it from gh's credential helper.
    assert!(land.iter().any(|l| l.trim() == "gh auth setup-git"));
    assert!(!text.contains("x-access-token"));
    assert!(
        !land
            .iter()
            .any(|l| l.contains("push") && l.contains("GH_TOKEN"))
    );
    // Only an App's token opens a pull request; the workflow token's job gets no
    // pull-requests permission.
    assert!(!lines.iter().any(|l| l.trim().starts_with("pull-requests:")));
    assert!(text.contains("permission-pull-requests: write"));
    assert!(text.contains("if: vars.PERFGATE_APP_CLIENT_ID != ''"));
    assert!(text.contains("if [ \"$HAS_APP\" = true ]; then"));
    assert!(text.contains("Open the pull request here"));
}

#[test]
fn every_action_is_pinned_to_a_full_commit() {
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(common::repo().join(".github/workflows"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    files.push(common::repo().join("action.yml"));
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for line in code(&text) {
            let Some(i) = line.find("uses: ") else {
                continue;
            };
            let target = line[i + "uses: ".len()..].trim();
            if target == "./" {
                continue;
            }
            let sha = target.rsplit_once('@').map(|(_, s)| s).unwrap_or("");
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}: {target}",
                path.display()
            );
        }
    }
}
