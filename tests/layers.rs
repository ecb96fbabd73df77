//! The gate's top-level modules follow the data flow, and no module imports one above it:
//! this test reads every source file of `src/` and fails on an import that goes up the list
//! (and so on any import circle between top-level modules).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lowest first. A module may use the ones before it, never one after it.
const LAYERS: &[&str] = &[
    "error", "vocab", "stats", "config", "baseline", "collect", "compare", "history", "confirm",
    "bisect", "explain", "eval", "report", "cmd", "cli",
];

/// Files that are not part of any layer: the crate root, the binaries, test helpers.
fn outside_layers(rel: &Path) -> bool {
    let s = rel.to_string_lossy();
    s == "lib.rs" || s == "main.rs" || s == "testutil.rs" || s.starts_with("bin/")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its unit tests (tests may use any layer), comments and doc
/// comments.
fn code(text: &str) -> String {
    let body = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    body.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::` paths, grouped ones
/// (`crate::{a, b::c}`) included.
fn used_modules(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                used.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            used.insert(name);
        }
    }
    used
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut seen = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        if outside_layers(rel) {
            continue;
        }
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        let Some(level) = LAYERS.iter().position(|m| *m == module) else {
            violations.push(format!(
                "{}: top-level module `{module}` is not in LAYERS: place it in the flow",
                rel.display()
            ));
            continue;
        };
        seen.insert(module.clone());
        let text = std::fs::read_to_string(file).unwrap();
        for used in used_modules(&code(&text)) {
            if let Some(l) = LAYERS.iter().position(|m| *m == used)
                && l > level
            {
                violations.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which sits above it",
                    rel.display()
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    // Every layer still exists: a stale list would let a renamed module through unchecked.
    for m in LAYERS {
        assert!(
            seen.contains(*m),
            "LAYERS names `{m}`, which src/ no longer has"
        );
    }
}

#[test]
fn the_checker_sees_plain_grouped_and_upward_imports() {
    let used = used_modules("use crate::compare::Row;\nuse crate::{vocab::Metric, stats};\n");
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["compare", "stats", "vocab"]
    );
    assert!(
        code("use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests { use crate::c; }")
            .contains("crate::a")
    );
    assert!(!code("// use crate::b;\n").contains("crate::b"));
    assert!(!code("x\n#[cfg(test)]\nmod tests {\n use crate::c;\n}").contains("crate::c"));
}
