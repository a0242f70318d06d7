//! `grep` over any text and patterns: exactly the lines a plain per-line
//! regex test matches, numbered as the model numbers them, each whole or
//! cut at 500 characters with a marker, with context lines and group
//! breaks where the model puts them; also when lines are longer than what
//! the searcher is shown.

use super::{block_on, config, model_cut, model_lines, text};
use crate::Tool;
use crate::test_support::TestContext;
use crate::tools::GrepTool;
use crate::tools::grep::{LineLimits, search};
use proptest::prelude::*;
use serde_json::json;

/// What `grep` promises for `content` in `a.txt`.
fn model_grep(content: &str, pattern: &str, case_insensitive: bool, context: usize) -> String {
    let regex = regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .build()
        .unwrap();
    if content.contains('\0') {
        return format!("No matches for `{pattern}` in `.` (1 binary file skipped).");
    }
    // The searcher drops a byte order mark.
    let content = content.strip_prefix('\u{FEFF}').unwrap_or(content);
    let raw: Vec<&str> = content.split('\n').collect();
    let lines = model_lines(content);
    let matched: Vec<bool> = (0..lines.len()).map(|i| regex.is_match(raw[i])).collect();
    let mut out: Vec<String> = Vec::new();
    let mut last = None;
    for (i, line) in lines.iter().enumerate() {
        let near = (i.saturating_sub(context)..=i + context).any(|j| matched.get(j) == Some(&true));
        if !near {
            continue;
        }
        if context > 0 && last.is_some_and(|last| i > last + 1) {
            out.push("--".to_owned());
        }
        let separator = if matched[i] { ':' } else { '-' };
        out.push(format!(
            "a.txt{separator}{}{separator}{}",
            i + 1,
            model_cut(line, 500, "")
        ));
        last = Some(i);
    }
    if out.is_empty() {
        format!("No matches for `{pattern}` in `.`.")
    } else {
        out.join("\n")
    }
}

/// Patterns: a literal piece of the content (without line ends, escaped),
/// or one of a few with anchors, classes and repetition.
fn pattern_for(content: &str, start: prop::sample::Index, len: usize, fixed: &str) -> String {
    let chars: Vec<char> = content
        .chars()
        .filter(|&c| c != '\n' && c != '\r')
        .collect();
    if chars.is_empty() || fixed != LITERAL {
        return fixed.to_owned();
    }
    let start = start.index(chars.len());
    let end = (start + len).min(chars.len());
    regex::escape(&chars[start..end].iter().collect::<String>())
}

/// Stands for "a literal piece of the content" among the fixed patterns.
const LITERAL: &str = "(literal)";

fn fixed_pattern() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(LITERAL),
        prop::sample::select(vec![
            "é", "🎉", "^a", "a$", "x$", r"\w+", "x{3}", "É", "^$", ".", "\r", r"\bb", "(?i)ß",
        ]),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn grep_reports_exactly_the_matching_lines(
        content in text(),
        start in any::<prop::sample::Index>(),
        len in 1usize..6,
        fixed in fixed_pattern(),
        case_insensitive in any::<bool>(),
        context in 0usize..3,
    ) {
        let pattern = pattern_for(&content, start, len, fixed);
        let ctx = TestContext::new();
        ctx.file("a.txt", &content);
        let args = json!({
            "pattern": pattern,
            "case_insensitive": case_insensitive,
            "context": context,
        });
        let got = block_on(GrepTool.call(args, &ctx)).unwrap();
        prop_assert_eq!(got, model_grep(&content, &pattern, case_insensitive, context));
    }

    #[test]
    fn grep_finds_matches_past_what_the_searcher_sees_of_a_line(
        content in text(),
        start in any::<prop::sample::Index>(),
        len in 1usize..6,
        fixed in fixed_pattern(),
    ) {
        // Lines over 2000 bytes are searched in windows of 256 bytes.
        let limits = LineLimits { cap: 2000, window: 256, overlap: 32 };
        let pattern = pattern_for(&content, start, len, fixed);
        let ctx = TestContext::new();
        ctx.file("a.txt", &content);
        let got = search(&ctx.root, &pattern, 0, limits);
        prop_assert_eq!(got, model_grep(&content, &pattern, false, 0));
    }
}
