//! `read` shows a faithful window of any text: the lines the model's
//! in-memory split gives, numbered, each whole or cut at 2000 characters
//! with a marker that counts the rest, and a note saying how to go on.

use super::{block_on, config, model_cut, model_lines, text};
use crate::Tool;
use crate::test_support::TestContext;
use crate::tools::ReadTool;
use proptest::prelude::*;
use serde_json::json;

/// What `read` promises for `content` and a window, computed in memory.
pub(super) fn model_read(content: &str, offset: usize, limit: usize) -> Result<String, String> {
    if content.as_bytes().iter().take(8 * 1024).any(|&b| b == 0) {
        return Err("looks like a binary file".to_owned());
    }
    if content.is_empty() {
        return Ok("(`a.txt` is empty)".to_owned());
    }
    let lines = model_lines(content);
    let total = lines.len();
    if offset > total {
        return Err(format!("offset {offset} is past the end of `a.txt`"));
    }
    let mut out = String::new();
    let mut last_shown = 0;
    let mut capped = false;
    for (index, line) in lines.iter().enumerate().skip(offset - 1).take(limit) {
        let number = index + 1;
        let shown = format!(
            "{number:>6}\t{}\n",
            model_cut(line, 2000, "line truncated: ")
        );
        if out.len() + shown.len() > 100 * 1024 && last_shown > 0 {
            capped = true;
            break;
        }
        out.push_str(&shown);
        last_shown = number;
    }
    if last_shown < total {
        let why = if capped {
            "; output capped at 100 KiB"
        } else {
            ""
        };
        out.push_str(&format!(
            "\n(Showing lines {offset}-{last_shown} of {total}{why}. To read more, call read \
             with offset={}.)",
            last_shown + 1
        ));
    }
    Ok(out)
}

/// Reads `a.txt` in `ctx` with the given window.
pub(super) fn read(ctx: &TestContext, offset: usize, limit: usize) -> Result<String, String> {
    block_on(ReadTool.call(
        json!({"path": "a.txt", "offset": offset, "limit": limit}),
        ctx,
    ))
    .map_err(|err| err.to_string())
}

/// Checks a result against the model (errors by what they say).
pub(super) fn check_read(
    got: Result<String, String>,
    want: Result<String, String>,
) -> Result<(), TestCaseError> {
    match (got, want) {
        (Ok(got), Ok(want)) => prop_assert_eq!(got, want),
        (Err(got), Err(want)) => prop_assert!(got.contains(&want), "{got:?} lacks {want:?}"),
        (got, want) => prop_assert!(false, "got {got:?}, want {want:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn read_shows_a_faithful_window(
        content in text(),
        offset in 1usize..8,
        limit in 1usize..8,
    ) {
        let ctx = TestContext::new();
        ctx.file("a.txt", &content);
        check_read(read(&ctx, offset, limit), model_read(&content, offset, limit))?;
    }

    #[test]
    fn read_of_the_whole_file_shows_every_line(content in text()) {
        let ctx = TestContext::new();
        ctx.file("a.txt", &content);
        let got = read(&ctx, 1, 2000);
        check_read(got, model_read(&content, 1, 2000))?;
    }
}
