//! Reports: one module per output format, all rendering a [`crate::compare::Comparison`]
//! (and `baseline show`, the refresh summary and the evaluation), with the words they share
//! in [`prose`] and the number formats in [`format`].

pub mod bisect;
pub mod compact;
pub mod eval;
pub mod explain;
pub mod format;
pub mod github;
pub mod history;
pub mod html;
pub mod json;
pub mod markdown;
pub mod markup;
pub mod openmetrics;
pub mod prose;
pub mod refresh;
pub mod shard;
pub mod show;
pub mod table;

/// Output formats of `compare` and `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A terminal table (comfy-table).
    Table,
    /// Machine-readable JSON (schema in the README).
    Json,
    /// GitHub-flavoured markdown (job summaries, pull request comments).
    Markdown,
    /// OpenMetrics text exposition (gauges per benchmark and metric; see [`openmetrics`]).
    OpenMetrics,
    /// A self-contained HTML page with charts (see [`html`]).
    Html,
}

/// Makes a user-supplied name safe for a terminal: control characters (ANSI escapes among
/// them) are shown as `\u{..}` instead of being interpreted.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}
