//! `edit`: replace an exact string in a file.

use crate::files::WriteGuard;
use crate::fs_util::{atomic_write, display_path, not_found, resolve, run_blocking};
use crate::schema::{parse_args, schema_for};
use crate::{Tool, ToolContext, ToolError};
use std::path::Path;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct EditArgs {
    /// The file to edit: relative to the working directory, or absolute.
    path: String,
    /// The exact text to replace, including whitespace and indentation.
    old_string: String,
    /// The text to put in its place (must differ from old_string).
    new_string: String,
    /// Replace every occurrence instead of exactly one.
    #[serde(default)]
    replace_all: bool,
}

/// The `edit` tool.
pub(crate) struct EditTool;

#[async_trait::async_trait]
impl Tool for EditTool {
    fn name(&self) -> &'static str {
        "edit"
    }

    fn description(&self) -> String {
        "Replace exact text in a file. `old_string` must match the file exactly (whitespace \
         and indentation included, without the line-number prefixes `read` shows) and, unless \
         `replace_all` is true, occur exactly once: include enough surrounding lines to make it \
         unique. The file must have been read (with `read`) in this session, and read again \
         if someone else (another agent, a command) changed it since; after your own `edit` or \
         `write` you may edit it again without reading. The file is rewritten atomically. To \
         create a file or replace all of it, use `write`."
            .to_owned()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<EditArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: EditArgs = parse_args(args)?;
        if args.old_string.is_empty() {
            return Err(ToolError::invalid(
                "`old_string` is empty; give the exact text to replace (to create a file, use \
                 `write`)",
            ));
        }
        if args.old_string == args.new_string {
            return Err(ToolError::invalid(
                "`old_string` and `new_string` are identical, so the edit would change nothing",
            ));
        }
        let path = resolve(ctx, &args.path)?;
        let shown = display_path(ctx.working_dir(), &path);
        let guard = WriteGuard::acquire(ctx, &path, &shown).await?;
        run_blocking(move || edit_file(&path, &shown, &args, guard.as_ref())).await
    }
}

/// Makes the edit; with a `guard`, only if the session saw the file's
/// current content, and recording the new content as seen.
fn edit_file(
    path: &Path,
    shown: &str,
    args: &EditArgs,
    guard: Option<&WriteGuard>,
) -> Result<String, ToolError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(not_found(&args.path, path));
        }
        Err(err) if path.is_dir() => {
            tracing::debug!(%err, "edit on a directory");
            return Err(ToolError::Failed(format!(
                "`{shown}` is a directory, not a file"
            )));
        }
        Err(err) => return Err(ToolError::io("read", path, err)),
    };
    if let Some(guard) = guard {
        guard.check(path, Some(&bytes))?;
    }
    let content = String::from_utf8(bytes).map_err(|_| {
        ToolError::Failed(format!(
            "`{shown}` is not valid UTF-8 text; `edit` only changes text files"
        ))
    })?;

    let (old, new) = match_line_endings(&content, &args.old_string, &args.new_string);
    let count = content.matches(old.as_str()).count();
    if count == 0 {
        return Err(ToolError::Failed(no_match_message(shown, &content, &old)));
    }
    if count > 1 && !args.replace_all {
        return Err(ToolError::Failed(format!(
            "`old_string` occurs {count} times in `{shown}`; it must identify exactly one place. \
             Include more surrounding lines to make it unique, or set `replace_all: true` to \
             replace all {count}"
        )));
    }

    let replaced = replace(&content, &old, &new, args.replace_all);
    atomic_write(path, replaced.text.as_bytes())?;
    if let Some(guard) = guard {
        guard.wrote(path, replaced.text.as_bytes());
    }
    let lines = if replaced.first_line == replaced.last_line {
        format!("line {}", replaced.first_line)
    } else {
        format!("lines {}-{}", replaced.first_line, replaced.last_line)
    };
    Ok(format!(
        "Edited {shown}: {} replacement{} ({lines} of the new file)",
        replaced.count,
        if replaced.count == 1 { "" } else { "s" }
    ))
}

/// When the file uses CRLF line endings and the strings use bare LF, use
/// CRLF in both so a copy of what `read` showed still matches.
fn match_line_endings(content: &str, old: &str, new: &str) -> (String, String) {
    let crlf_file = content.contains("\r\n");
    let bare_lf = old.contains('\n') && !old.contains("\r\n");
    if crlf_file && bare_lf && !content.contains(old) {
        (old.replace('\n', "\r\n"), new.replace('\n', "\r\n"))
    } else {
        (old.to_owned(), new.to_owned())
    }
}

fn no_match_message(shown: &str, content: &str, old: &str) -> String {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let hint = if squash(content).contains(&squash(old)) {
        " It does match if whitespace is ignored, so the indentation, tabs/spaces or line \
         breaks differ: copy the text exactly as the file has it."
    } else {
        ""
    };
    format!(
        "`old_string` was not found in `{shown}`.{hint} It must match the file exactly; read the \
         file again to see its current content (and leave out the line-number prefixes)"
    )
}

struct Replaced {
    text: String,
    count: usize,
    /// 1-based line range, in the new text, spanning all replacements.
    first_line: usize,
    last_line: usize,
}

fn replace(content: &str, old: &str, new: &str, all: bool) -> Replaced {
    let mut text = String::with_capacity(content.len());
    let mut copied_to = 0;
    let mut count = 0;
    // Byte ranges, in the new text, of the first and the last replacement.
    let mut first = None;
    let mut last = 0..0;
    for (start, _) in content.match_indices(old) {
        text.push_str(&content[copied_to..start]);
        let span = text.len()..text.len() + new.len();
        text.push_str(new);
        first.get_or_insert_with(|| span.clone());
        last = span;
        copied_to = start + old.len();
        count += 1;
        if !all {
            break;
        }
    }
    text.push_str(&content[copied_to..]);
    let first_line = line_at(&text, first.map_or(0, |span| span.start));
    // The last line the replacement text occupies: the line of its last
    // byte, so an ending newline belongs to the line it ends.
    let last_line = if last.is_empty() {
        line_at(&text, last.start)
    } else {
        line_at(&text, last.end - 1)
    };
    Replaced {
        text,
        count,
        first_line,
        last_line,
    }
}

/// The 1-based line of `text` that byte `offset` is on. Counts bytes: a
/// `\n` is one byte that never occurs inside another character, so the
/// offset need not be a character boundary.
fn line_at(text: &str, offset: usize) -> usize {
    text.bytes()
        .take(offset)
        .filter(|&byte| byte == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
    use crate::tools::{ReadTool, WriteTool};
    use crate::{FileTracker, StaleReason};
    use futures::FutureExt;
    use serde_json::json;

    async fn edit(ctx: &TestContext, args: serde_json::Value) -> Result<String, ToolError> {
        EditTool.call(args, ctx).await
    }

    #[tokio::test]
    async fn replaces_a_unique_match_and_reports_the_lines() {
        let ctx = TestContext::new();
        ctx.file("a.rs", "fn a() {}\nfn b() {}\nfn c() {}\n");
        let out = edit(
            &ctx,
            json!({"path": "a.rs", "old_string": "fn b() {}", "new_string": "fn b() {\n    1\n}"}),
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            "Edited a.rs: 1 replacement (lines 2-4 of the new file)"
        );
        assert_eq!(
            ctx.read("a.rs"),
            "fn a() {}\nfn b() {\n    1\n}\nfn c() {}\n"
        );
    }

    #[tokio::test]
    async fn no_match_fails_with_a_whitespace_hint() {
        let ctx = TestContext::new();
        ctx.file("a.rs", "if x {\n\tgo();\n}\n");
        let err = edit(
            &ctx,
            json!({"path": "a.rs", "old_string": "if x {\n    go();", "new_string": "y"}),
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("was not found"), "{text}");
        assert!(text.contains("whitespace is ignored"), "{text}");

        let err = edit(
            &ctx,
            json!({"path": "a.rs", "old_string": "nothing", "new_string": "y"}),
        )
        .await
        .unwrap_err();
        assert!(!err.to_string().contains("whitespace is ignored"));
        assert_eq!(ctx.read("a.rs"), "if x {\n\tgo();\n}\n");
    }

    #[tokio::test]
    async fn several_matches_need_replace_all() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "x = 1\ny = 2\nx = 1\nx = 1\n");
        let err = edit(
            &ctx,
            json!({"path": "a.txt", "old_string": "x = 1", "new_string": "x = 9"}),
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("occurs 3 times"), "{text}");
        assert!(text.contains("replace_all"), "{text}");
        assert_eq!(ctx.read("a.txt"), "x = 1\ny = 2\nx = 1\nx = 1\n");

        let out = edit(
            &ctx,
            json!({"path": "a.txt", "old_string": "x = 1", "new_string": "x = 9", "replace_all": true}),
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            "Edited a.txt: 3 replacements (lines 1-4 of the new file)"
        );
        assert_eq!(ctx.read("a.txt"), "x = 9\ny = 2\nx = 9\nx = 9\n");
    }

    #[tokio::test]
    async fn identical_strings_empty_old_and_missing_files_are_errors() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "abc");
        let same = edit(
            &ctx,
            json!({"path": "a.txt", "old_string": "b", "new_string": "b"}),
        )
        .await
        .unwrap_err();
        assert!(same.to_string().contains("identical"), "{same}");
        let empty = edit(
            &ctx,
            json!({"path": "a.txt", "old_string": "", "new_string": "b"}),
        )
        .await
        .unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
        let missing = edit(
            &ctx,
            json!({"path": "nope.txt", "old_string": "a", "new_string": "b"}),
        )
        .await
        .unwrap_err();
        assert!(matches!(missing, ToolError::NotFound { .. }), "{missing}");
    }

    #[tokio::test]
    async fn crlf_files_match_lf_strings() {
        let ctx = TestContext::new();
        ctx.file("win.txt", "one\r\ntwo\r\nthree\r\n");
        edit(
            &ctx,
            json!({"path": "win.txt", "old_string": "one\ntwo", "new_string": "1\n2"}),
        )
        .await
        .unwrap();
        assert_eq!(ctx.read("win.txt"), "1\r\n2\r\nthree\r\n");
    }

    #[tokio::test]
    async fn deletion_reports_the_line_where_text_was_removed() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "a\nb\nc\n");
        let out = edit(
            &ctx,
            json!({"path": "a.txt", "old_string": "b\n", "new_string": ""}),
        )
        .await
        .unwrap();
        assert_eq!(out, "Edited a.txt: 1 replacement (line 2 of the new file)");
        assert_eq!(ctx.read("a.txt"), "a\nc\n");
    }

    #[tokio::test]
    async fn multi_byte_text_at_the_end_of_the_new_string_reports_the_right_lines() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "Grüße, café\nzwei\n");
        let out = edit(&ctx, change("a.txt", "Grüße, café", "Grüße, café 🎉"))
            .await
            .unwrap();
        assert_eq!(out, "Edited a.txt: 1 replacement (line 1 of the new file)");
        assert_eq!(ctx.read("a.txt"), "Grüße, café 🎉\nzwei\n");

        let out = edit(&ctx, change("a.txt", "zwei\n", "zwei 👍🏽\ndrei é\u{301}\n"))
            .await
            .unwrap();
        assert_eq!(
            out,
            "Edited a.txt: 1 replacement (lines 2-3 of the new file)"
        );
        assert_eq!(
            ctx.read("a.txt"),
            "Grüße, café 🎉\nzwei 👍🏽\ndrei é\u{301}\n"
        );
    }

    #[tokio::test]
    async fn removing_every_occurrence_reports_the_lines_where_text_went() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "ab\nb");
        let out = edit(
            &ctx,
            json!({"path": "a.txt", "old_string": "b", "new_string": "", "replace_all": true}),
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            "Edited a.txt: 2 replacements (lines 1-2 of the new file)"
        );
        assert_eq!(ctx.read("a.txt"), "a\n");
    }

    fn tracked() -> TestContext {
        TestContext::sharing_files(FileTracker::new(), "ses_a")
    }

    async fn read(ctx: &TestContext, path: &str) {
        ReadTool.call(json!({"path": path}), ctx).await.unwrap();
    }

    fn change(path: &str, old: &str, new: &str) -> serde_json::Value {
        json!({"path": path, "old_string": old, "new_string": new})
    }

    #[tokio::test]
    async fn editing_a_file_the_session_never_read_is_refused() {
        let ctx = tracked();
        ctx.file("a.txt", "alpha\n");
        let err = edit(&ctx, change("a.txt", "alpha", "beta"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                ToolError::StaleFile {
                    reason: StaleReason::NotRead,
                    path
                } if path == "a.txt"
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("has not been read in this session"), "{text}");
        assert!(text.contains("Use `read` on it first"), "{text}");
        assert_eq!(ctx.read("a.txt"), "alpha\n");
    }

    #[tokio::test]
    async fn a_file_changed_since_the_read_must_be_read_again() {
        let ctx = tracked();
        ctx.file("a.txt", "one\ntwo\n");
        read(&ctx, "a.txt").await;
        std::fs::write(ctx.root.join("a.txt"), "one\ntwo\nthree\n").unwrap();

        let err = edit(&ctx, change("a.txt", "two", "2")).await.unwrap_err();
        assert!(
            matches!(
                err,
                ToolError::StaleFile {
                    reason: StaleReason::Changed,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("`a.txt` changed since you last read it"),
            "{text}"
        );
        assert!(
            text.contains("redo your change on its new content"),
            "{text}"
        );
        assert_eq!(ctx.read("a.txt"), "one\ntwo\nthree\n");

        read(&ctx, "a.txt").await;
        edit(&ctx, change("a.txt", "two", "2")).await.unwrap();
        assert_eq!(ctx.read("a.txt"), "one\n2\nthree\n");
    }

    #[tokio::test]
    async fn the_sessions_own_changes_need_no_new_read() {
        let ctx = tracked();
        WriteTool
            .call(json!({"path": "a.txt", "content": "a b c"}), &ctx)
            .await
            .unwrap();
        edit(&ctx, change("a.txt", "a", "A")).await.unwrap();
        edit(&ctx, change("a.txt", "b", "B")).await.unwrap();
        assert_eq!(ctx.read("a.txt"), "A B c");
    }

    #[tokio::test]
    async fn two_sessions_editing_one_file_lose_no_update() {
        let a = tracked();
        let b = a.another_session("ses_b");
        a.file("shared.rs", "fn a() {}\nfn b() {}\n");
        read(&a, "shared.rs").await;
        read(&b, "shared.rs").await;

        edit(&a, change("shared.rs", "fn a() {}", "fn a() { 1 }"))
            .await
            .unwrap();
        let err = edit(&b, change("shared.rs", "fn b() {}", "fn b() { 2 }"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ToolError::StaleFile {
                    reason: StaleReason::Changed,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(a.read("shared.rs"), "fn a() { 1 }\nfn b() {}\n");

        read(&b, "shared.rs").await;
        edit(&b, change("shared.rs", "fn b() {}", "fn b() { 2 }"))
            .await
            .unwrap();
        assert_eq!(a.read("shared.rs"), "fn a() { 1 }\nfn b() { 2 }\n");
        // Now A is the one behind.
        let err = edit(&a, change("shared.rs", "{ 1 }", "{ 3 }"))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::StaleFile { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn claimed_files_are_refused_and_unclaimed_sessions_edit_freely() {
        let ctx = tracked();
        ctx.file("a.txt", "alpha");
        read(&ctx, "a.txt").await;
        ctx.claim("a.txt", r#"task task_0192 "refactor parser""#);
        let lease = ctx.tracker().lock(&ctx.root.join("a.txt")).await;
        let err = edit(&ctx, change("a.txt", "alpha", "beta"))
            .now_or_never()
            .expect("a claim is refused without waiting")
            .unwrap_err();
        assert!(
            matches!(&err, ToolError::Claimed { path, holder }
                if path == "a.txt" && holder == r#"task task_0192 "refactor parser""#),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(r#"claimed by task task_0192 "refactor parser""#),
            "{err}"
        );
        drop(lease);
        assert_eq!(ctx.read("a.txt"), "alpha");

        let other = ctx.another_session("ses_b");
        read(&other, "a.txt").await;
        edit(&other, change("a.txt", "alpha", "beta"))
            .await
            .unwrap();
        assert_eq!(ctx.read("a.txt"), "beta");
    }

    #[tokio::test]
    async fn claims_apply_without_a_tracker_too() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "alpha");
        ctx.claim("a.txt", "task task_1 \"x\"");
        let err = edit(&ctx, change("a.txt", "alpha", "beta"))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::Claimed { .. }), "{err:?}");
        assert_eq!(ctx.read("a.txt"), "alpha");
    }

    #[tokio::test]
    async fn an_edit_waits_for_the_lease_and_then_sees_the_holders_write() {
        let a = tracked();
        let b = a.another_session("ses_b");
        a.file("a.txt", "x = 1\n");
        read(&a, "a.txt").await;
        read(&b, "a.txt").await;

        // B holds the lease (as its own write would) while A asks to edit.
        let lease = b.tracker().lock(&b.root.join("a.txt")).await;
        let mut pending = Box::pin(edit(&a, change("a.txt", "x = 1", "x = 2")));
        assert!(pending.as_mut().now_or_never().is_none());
        std::fs::write(b.root.join("a.txt"), "x = 1\ny = 1\n").unwrap();
        b.tracker()
            .saw("ses_b", &b.root.join("a.txt"), b"x = 1\ny = 1\n");
        drop(lease);

        // A's check runs after B's change, so A is told to read again.
        let err = pending.await.unwrap_err();
        assert!(
            matches!(
                err,
                ToolError::StaleFile {
                    reason: StaleReason::Changed,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(a.read("a.txt"), "x = 1\ny = 1\n");
    }
}
