//! Turning text into styled, wrapped terminal lines: Markdown, code
//! highlighting, diffs.
//!
//! Everything here is pure: text (and a width) in, `Line`s out, the same
//! every time. Functions that take a width return lines pre-wrapped to it, so
//! a view knows an entry's height (its number of lines) without drawing it,
//! and none of those lines is wider than that width. Syntax highlighting
//! keeps a cache of recent results for speed; it never changes the output.

pub mod diff;
pub mod highlight;
pub mod markdown;
pub mod theme;
pub mod wrap;

pub use diff::{EditReport, diff_stats, edit_diff, edit_diff_at};
pub use highlight::{highlight_code, highlight_file};
pub use markdown::render_markdown;
pub use wrap::{
    hard_wrap_prefixed, lines_to_plain, strip_control, truncate_line, wrap_line,
    wrap_line_prefixed, wrap_plain,
};
