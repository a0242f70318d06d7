//! `edit` over any text: the file becomes the content with the replacement
//! applied (as `str::replacen` and `str::replace` apply it), the lines it
//! reports are where the new text landed, and every refusal leaves the file
//! as it was.

use super::{block_on, config, text};
use crate::Tool;
use crate::test_support::TestContext;
use crate::tools::EditTool;
use proptest::prelude::*;
use serde_json::json;

/// What `edit` promises: the new content and the message, or what the
/// refusal says.
fn model_edit(content: &str, old: &str, new: &str, all: bool) -> Result<(String, String), String> {
    if old.is_empty() {
        return Err("`old_string` is empty".to_owned());
    }
    if old == new {
        return Err("`old_string` and `new_string` are identical".to_owned());
    }
    // A file with CRLF line ends takes LF strings with CRLF.
    let convert = content.contains("\r\n")
        && old.contains('\n')
        && !old.contains("\r\n")
        && !content.contains(old);
    let (old, new) = if convert {
        (old.replace('\n', "\r\n"), new.replace('\n', "\r\n"))
    } else {
        (old.to_owned(), new.to_owned())
    };
    let count = content.matches(old.as_str()).count();
    if count == 0 {
        return Err("`old_string` was not found in `a.txt`".to_owned());
    }
    if count > 1 && !all {
        return Err(format!("`old_string` occurs {count} times in `a.txt`"));
    }
    let replaced = if all {
        content.replace(old.as_str(), &new)
    } else {
        content.replacen(old.as_str(), &new, 1)
    };
    // Where the first and the last replacement start in the new text: each
    // earlier replacement moved it by the change in length.
    let starts: Vec<usize> = content
        .match_indices(old.as_str())
        .take(if all { count } else { 1 })
        .enumerate()
        .map(|(i, (at, _))| (at + i * new.len()) - i * old.len())
        .collect();
    let line_of = |at: usize| replaced[..at].matches('\n').count() + 1;
    let first = line_of(starts[0]);
    let last_start = line_of(starts[starts.len() - 1]);
    let last = last_start + new.matches('\n').count() - usize::from(new.ends_with('\n'));
    let lines = if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}-{last}")
    };
    let n = starts.len();
    let plural = if n == 1 { "" } else { "s" };
    let message = format!("Edited a.txt: {n} replacement{plural} ({lines} of the new file)");
    Ok((replaced, message))
}

fn check_edit(content: &str, old: &str, new: &str, all: bool) -> Result<(), TestCaseError> {
    let ctx = TestContext::new();
    ctx.file("a.txt", content);
    let args = json!({"path": "a.txt", "old_string": old, "new_string": new, "replace_all": all});
    let got = block_on(EditTool.call(args, &ctx));
    match (got, model_edit(content, old, new, all)) {
        (Ok(message), Ok((replaced, want))) => {
            prop_assert_eq!(message, want);
            prop_assert_eq!(ctx.read("a.txt"), replaced);
        }
        (Err(err), Err(want)) => {
            let text = err.to_string();
            prop_assert!(text.contains(&want), "{text:?} does not say {want:?}");
            prop_assert_eq!(ctx.read("a.txt"), content);
        }
        (got, want) => prop_assert!(false, "got {got:?}, want {want:?}"),
    }
    Ok(())
}

/// Content and a piece of it (by character positions), so that `old`
/// occurs at least once.
fn content_and_part() -> impl Strategy<Value = (String, String)> {
    (text(), any::<prop::sample::Index>(), 0usize..40).prop_map(|(content, start, len)| {
        let chars: Vec<char> = content.chars().collect();
        let start = if chars.is_empty() {
            0
        } else {
            start.index(chars.len())
        };
        let end = (start + len).min(chars.len());
        let part: String = chars[start..end].iter().collect();
        (content, part)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn edit_replaces_a_piece_of_the_file(
        (content, old) in content_and_part(),
        new in text(),
        all in any::<bool>(),
    ) {
        check_edit(&content, &old, &new, all)?;
    }

    #[test]
    fn edit_of_arbitrary_strings_is_applied_or_refused(
        content in text(),
        old in text(),
        new in text(),
        all in any::<bool>(),
    ) {
        check_edit(&content, &old, &new, all)?;
    }

    #[test]
    fn edit_with_multi_byte_ends_reports_the_right_lines(
        lines in prop::collection::vec("[a-z]{0,3}", 1..6),
        at in any::<prop::sample::Index>(),
        ending in prop::sample::select(vec!["🎉", "é", "\u{0301}", "中\n", "👍🏽\r\n", "\n"]),
        extra in prop::collection::vec("[a-zé🎉\n]{0,4}", 0..3),
        all in any::<bool>(),
    ) {
        // A marker line to replace with text ending in a multi-byte
        // character or a line end (the reported shape of the panic).
        let mut lines = lines;
        let index = at.index(lines.len());
        lines[index] = format!("Grüße{index}");
        let content = lines.join("\n");
        let new = format!("{}{ending}", extra.concat());
        check_edit(&content, &format!("Grüße{index}"), &new, all)?;
    }
}
