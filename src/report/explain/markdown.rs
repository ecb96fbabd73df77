//! `perfgate explain --markdown FILE`: the functions whose self share grew most, as a collapsed
//! section for a job summary or pull request comment, which names the flame graph artifact.

use super::{Doc, footer, headline, points, share, syscall_line};
use crate::report::markdown::{code, text};

/// Renders the explanation as GitHub-flavoured markdown (ends with a newline).
pub fn render(d: &Doc<'_>) -> String {
    let mut out = format!(
        "<details>\n<summary>Profile of {}</summary>\n\n{}\n\n",
        code(d.bench_id, false),
        text(&headline(d))
    );
    if !d.top.is_empty() {
        out.push_str("| # | Function (self time) | Baseline | Head | Growth |\n");
        out.push_str("|---:|---|---:|---:|---:|\n");
        for (i, f) in d.top.iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                i + 1,
                code(&f.function, true),
                share(f.base_share),
                share(f.head_share),
                points(f.growth())
            ));
        }
        out.push('\n');
    }
    match d.syscalls {
        Ok(list) if !list.is_empty() => {
            out.push_str(
                "System calls whose count per operation grew (strace -c, one iteration):\n\n",
            );
            out.push_str("| System call | Baseline per op | Head per op |\n|---|---:|---:|\n");
            for c in list {
                out.push_str(&format!(
                    "| {} | {} | {} |\n",
                    code(&c.name, true),
                    c.base,
                    c.head
                ));
            }
            out.push('\n');
        }
        _ => out.push_str(&format!("{}\n\n", text(&syscall_line(d)))),
    }
    let file = std::path::Path::new(d.svg)
        .file_name()
        .map_or_else(|| d.svg.to_string(), |f| f.to_string_lossy().into_owned());
    out.push_str(&format!(
        "Differential flame graph (red where head spends more): {} (artifact).\n\n{}\n\n</details>\n",
        code(&file, false),
        text(&footer(d))
    ));
    out
}
