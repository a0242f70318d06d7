//! Showing what an edit changed, line by line.
//!
//! Diff lines are cut rather than wrapped: a diff is read down its left
//! edge, and a wrapped line would look like a line of its own.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use similar::{ChangeTag, TextDiff};

use super::theme;
use super::wrap::{strip_control, truncate_line};

/// Unchanged lines shown around each change.
const CONTEXT_LINES: usize = 3;

/// The line between two hunks, standing for the unchanged lines left out.
const HUNK_SEPARATOR: &str = "⋯";

/// Renders the line diff from `old` to `new`: removed lines red behind a `-`,
/// added lines green behind a `+`, and up to three unchanged lines of context
/// (dim, behind a space) around each change. Hunks are separated by a dim
/// `⋯` line. Lines wider than `width` are cut and end with `…`.
///
/// Identical texts give no lines.
pub fn edit_diff(old: &str, new: &str, width: u16) -> Vec<Line<'static>> {
    edit_diff_at(old, new, None, width)
}

/// Like [`edit_diff`], and when `first_line` (1-based) says where `old`
/// begins in its file, each line carries its line numbers in a dim gutter:
/// the old file's, then the new file's (a removed line has only the old, an
/// added one only the new). `old` and `new` begin on the same line, since
/// what comes before them is the same.
pub fn edit_diff_at(
    old: &str,
    new: &str,
    first_line: Option<usize>,
    width: u16,
) -> Vec<Line<'static>> {
    let diff = TextDiff::from_lines(old, new);
    let groups = diff.grouped_ops(CONTEXT_LINES);
    // Wide enough for the largest number shown.
    let digits = first_line.map(|first| {
        let last = groups
            .iter()
            .flatten()
            .map(|op| op.old_range().end.max(op.new_range().end))
            .max()
            .unwrap_or(0);
        (first + last.saturating_sub(1)).to_string().len()
    });
    let mut lines = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        if index > 0 {
            lines.push(truncate_line(
                Line::from(Span::styled(HUNK_SEPARATOR, theme::DIFF_HUNK_SEPARATOR)),
                width,
            ));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ("-", theme::DIFF_DEL),
                    ChangeTag::Insert => ("+", theme::DIFF_ADD),
                    ChangeTag::Equal => (" ", theme::DIFF_CONTEXT),
                };
                let mut line = diff_line(sign, change.value(), style, u16::MAX);
                if let (Some(first), Some(digits)) = (first_line, digits) {
                    let number = |index: Option<usize>| match index {
                        Some(i) => format!("{:>digits$}", first + i),
                        None => " ".repeat(digits),
                    };
                    let gutter = format!(
                        "{} {} ",
                        number(change.old_index()),
                        number(change.new_index())
                    );
                    line.spans.insert(0, Span::styled(gutter, theme::DIM));
                }
                lines.push(truncate_line(line, width));
            }
        }
    }
    lines
}

/// What the `edit` tool reported of an edit it made: where it landed and
/// how often it replaced. Its output reads "Edited a.rs: 1 replacement
/// (lines 2-4 of the new file)".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditReport {
    /// The 1-based line, in the new file, where the first replacement
    /// begins.
    pub first_line: usize,
    /// How many places were replaced.
    pub replacements: usize,
}

impl EditReport {
    /// Reads the `edit` tool's output; `None` for anything else (an error,
    /// another wording).
    pub fn parse(output: &str) -> Option<Self> {
        let rest = output.strip_prefix("Edited ")?;
        let (_, rest) = rest.rsplit_once(": ")?;
        let (count, rest) = rest.split_once(' ')?;
        let replacements = count.parse().ok()?;
        let (_, lines) = rest.split_once('(')?;
        let lines = lines
            .strip_prefix("lines ")
            .or_else(|| lines.strip_prefix("line "))?;
        let first: String = lines.chars().take_while(char::is_ascii_digit).collect();
        Some(Self {
            first_line: first.parse().ok()?,
            replacements,
        })
    }
}

/// Counts the lines an edit adds and removes: `(added, removed)`.
///
/// A changed line counts once as removed and once as added, as in
/// `git diff --stat`.
pub fn diff_stats(old: &str, new: &str) -> (usize, usize) {
    let diff = TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .fold((0, 0), |(added, removed), change| match change.tag() {
            ChangeTag::Insert => (added + 1, removed),
            ChangeTag::Delete => (added, removed + 1),
            ChangeTag::Equal => (added, removed),
        })
}

/// One diff line: its sign, a space, and the text without its line ending.
fn diff_line(sign: &'static str, text: &str, style: Style, width: u16) -> Line<'static> {
    let text = text.trim_end_matches(['\n', '\r']);
    let text = strip_control(text);
    let line = if text.is_empty() {
        // No trailing space after the sign of an empty line.
        Line::from(Span::styled(sign, style))
    } else {
        Line::from(vec![
            Span::styled(sign, style),
            Span::styled(" ", style),
            Span::styled(text.into_owned(), style),
        ])
    };
    truncate_line(line, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::wrap::lines_to_plain;

    fn numbered(range: std::ops::Range<usize>) -> String {
        range.map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn removed_and_added_lines_have_signs_and_colours() {
        let lines = edit_diff("a\nold\nc\n", "a\nnew\nc\n", 40);
        assert_eq!(lines_to_plain(&lines), "  a\n- old\n+ new\n  c");
        assert!(
            lines[0]
                .spans
                .iter()
                .all(|s| s.style == theme::DIFF_CONTEXT)
        );
        assert!(lines[1].spans.iter().all(|s| s.style == theme::DIFF_DEL));
        assert!(lines[2].spans.iter().all(|s| s.style == theme::DIFF_ADD));

        let empty = edit_diff("a\n\nb\n", "a\n\nc\n\n", 40);
        assert_eq!(lines_to_plain(&empty), "  a\n \n- b\n+ c\n+");
    }

    #[test]
    fn context_is_limited_and_hunks_are_separated() {
        let old = numbered(0..30);
        let new = old
            .replace("line 5\n", "line five\n")
            .replace("line 24\n", "line twenty-four\n");
        let lines = edit_diff(&old, &new, 40);
        let plain = lines_to_plain(&lines);
        assert_eq!(
            plain,
            "  line 2\n  line 3\n  line 4\n- line 5\n+ line five\n  line 6\n  line 7\n  line 8\n\
             ⋯\n\
             \x20 line 21\n  line 22\n  line 23\n- line 24\n+ line twenty-four\n  line 25\n  line 26\n  line 27"
        );
        let separator = &lines[8];
        assert_eq!(separator.spans[0].style, theme::DIFF_HUNK_SEPARATOR);
    }

    #[test]
    fn long_lines_are_cut_with_an_ellipsis() {
        let long = "x".repeat(100);
        for width in [0, 1, 2, 5, 20, 50] {
            let lines = edit_diff("short\n", &format!("{long}\n"), width);
            for line in &lines {
                assert!(line.width() <= usize::from(width));
            }
        }
        let lines = edit_diff("short\n", &format!("{long}\n"), 10);
        assert_eq!(lines_to_plain(&lines), "- short\n+ xxxxxxx…");
    }

    #[test]
    fn identical_texts_give_nothing() {
        assert!(edit_diff("same\n", "same\n", 40).is_empty());
        assert_eq!(diff_stats("same\n", "same\n"), (0, 0));
    }

    #[test]
    fn missing_final_newline_and_control_characters() {
        let lines = edit_diff("a\r\nb", "a\r\nb\u{1b}[31m!\tz", 40);
        assert_eq!(lines_to_plain(&lines), "  a\n- b\n+ b!    z");
    }

    #[test]
    fn stats_count_added_and_removed_lines() {
        assert_eq!(diff_stats("a\nb\nc\n", "a\nB\nc\nd\ne\n"), (3, 1));
        assert_eq!(diff_stats("", "one\ntwo\n"), (2, 0));
        assert_eq!(diff_stats("one\ntwo\n", ""), (0, 2));
    }

    #[test]
    fn line_numbers_count_from_where_the_edit_landed() {
        let lines = edit_diff_at("a\nold\nc\n", "a\nnew\nnewer\nc\n", Some(9), 40);
        assert_eq!(
            lines_to_plain(&lines),
            " 9  9   a\n10    - old\n   10 + new\n   11 + newer\n11 12   c"
        );
        assert!(lines[1].spans[0].style == theme::DIM);
        // Without a place, no gutter.
        let plain = edit_diff_at("a\nold\n", "a\nnew\n", None, 40);
        assert_eq!(lines_to_plain(&plain), "  a\n- old\n+ new");
        // Cut to the width, gutter included.
        for line in edit_diff_at("x\n", &format!("{}\n", "y".repeat(80)), Some(120), 20) {
            assert!(line.width() <= 20);
        }
    }

    #[test]
    fn the_edit_tools_report_is_read() {
        assert_eq!(
            EditReport::parse("Edited src/a.rs: 1 replacement (lines 2-4 of the new file)"),
            Some(EditReport {
                first_line: 2,
                replacements: 1
            })
        );
        assert_eq!(
            EditReport::parse("Edited a: b.txt: 3 replacements (line 17 of the new file)"),
            Some(EditReport {
                first_line: 17,
                replacements: 3
            })
        );
        assert_eq!(
            EditReport::parse("`old_string` was not found in `a.rs`"),
            None
        );
        assert_eq!(EditReport::parse("Edited a.rs: done"), None);
    }

    #[test]
    fn snapshot_numbered_edit_diff_at_width_60() {
        let old = "    let x = 1;\n    let y = 2;\n    let z = x + y;\n    println!(\"{z}\");\n";
        let new = "    let x = 1;\n    let y = 3;\n    let w = 4;\n    let z = x + y + w;\n    println!(\"{z}\");\n";
        let lines = edit_diff_at(old, new, Some(98), 60);
        insta::assert_snapshot!(lines_to_plain(&lines));
    }

    #[test]
    fn snapshot_edit_diff_at_width_50() {
        let old = "\
use std::collections::HashMap;

/// Counts words.
pub fn count(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in text.split(' ') {
        *counts.entry(word.to_string()).or_insert(0) += 1;
    }
    counts
}

fn unrelated_one() {}
fn unrelated_two() {}
fn unrelated_three() {}
fn unrelated_four() {}

#[cfg(test)]
mod tests {}
";
        let new = "\
use std::collections::HashMap;

/// Counts words, ignoring case and runs of whitespace between them.
pub fn count(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

fn unrelated_one() {}
fn unrelated_two() {}
fn unrelated_three() {}
fn unrelated_four() {}

#[cfg(test)]
mod tests {
    #[test]
    fn counts() {}
}
";
        let lines = edit_diff(old, new, 50);
        for line in &lines {
            assert!(line.width() <= 50);
        }
        insta::assert_snapshot!(lines_to_plain(&lines));
    }
}
