//! `write`: create or replace a whole file, atomically.

use crate::files::WriteGuard;
use crate::fs_util::{WriteKind, atomic_write, display_path, line_count, resolve, run_blocking};
use crate::schema::{parse_args, schema_for};
use crate::{Tool, ToolContext, ToolError};
use std::path::Path;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct WriteArgs {
    /// The file to write: relative to the working directory, or absolute.
    path: String,
    /// The complete new content of the file.
    content: String,
}

/// The `write` tool.
pub(crate) struct WriteTool;

#[async_trait::async_trait]
impl Tool for WriteTool {
    fn name(&self) -> &'static str {
        "write"
    }

    fn description(&self) -> String {
        "Write a file, replacing all of its content (or creating it, with any missing parent \
         directories). The write is atomic: readers see the old or the new content, never a \
         mix; an existing file keeps its permissions. Prefer `edit` for changing part of an \
         existing file; use `write` for new files or complete rewrites. An existing file must \
         have been read (with `read`) in this session before it can be overwritten, and read \
         again if someone else (another agent, a command) changed it since; a file you wrote \
         yourself needs no new read."
            .to_owned()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<WriteArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: WriteArgs = parse_args(args)?;
        let path = resolve(ctx, &args.path)?;
        let shown = display_path(ctx.working_dir(), &path);
        let bytes = args.content.len();
        let lines = line_count(&args.content);
        let guard = WriteGuard::acquire(ctx, &path, &shown).await?;
        let kind = run_blocking(move || {
            let content = args.content.as_bytes();
            if let Some(guard) = &guard {
                guard.check(&path, current_content(&path)?.as_deref())?;
            }
            let kind = atomic_write(&path, content)?;
            if let Some(guard) = &guard {
                guard.wrote(&path, content);
            }
            Ok(kind)
        })
        .await?;
        let what = match kind {
            WriteKind::Created => "new file",
            WriteKind::Overwrote => "replaced the existing file",
        };
        tracing::debug!(path = %shown, bytes, "wrote file");
        Ok(format!(
            "Wrote {bytes} bytes ({lines} line{}) to {shown} ({what})",
            if lines == 1 { "" } else { "s" }
        ))
    }
}

/// The file's content now; `None` when there is no file (a directory
/// counts as none here: the write itself then explains the problem).
fn current_content(path: &Path) -> Result<Option<Vec<u8>>, ToolError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) if path.is_dir() => Ok(None),
        Err(err) => Err(ToolError::io("read", path, err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
    use crate::tools::ReadTool;
    use crate::{FileTracker, StaleReason};
    use futures::FutureExt;
    use serde_json::json;

    #[tokio::test]
    async fn creates_files_and_parent_directories() {
        let ctx = TestContext::new();
        let out = WriteTool
            .call(
                json!({"path": "src/deep/a.rs", "content": "one\ntwo\n"}),
                &ctx,
            )
            .await
            .unwrap();
        assert_eq!(out, "Wrote 8 bytes (2 lines) to src/deep/a.rs (new file)");
        assert_eq!(ctx.read("src/deep/a.rs"), "one\ntwo\n");
    }

    #[tokio::test]
    async fn overwrites_atomically_without_leaving_temporary_files() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "old content that is longer");
        let out = WriteTool
            .call(json!({"path": "a.txt", "content": "new"}), &ctx)
            .await
            .unwrap();
        assert!(out.ends_with("(replaced the existing file)"), "{out}");
        assert_eq!(ctx.read("a.txt"), "new");
        let names: Vec<_> = std::fs::read_dir(&ctx.root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["a.txt".to_owned()]);
    }

    #[tokio::test]
    async fn refuses_directories_and_paths_outside_the_root() {
        let ctx = TestContext::new();
        std::fs::create_dir(ctx.root.join("d")).unwrap();
        let err = WriteTool
            .call(json!({"path": "d", "content": "x"}), &ctx)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        let err = WriteTool
            .call(json!({"path": "../escape.txt", "content": "x"}), &ctx)
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::PathOutsideRoot { .. }));
        assert!(!ctx.root.parent().unwrap().join("escape.txt").exists());
    }

    async fn write(ctx: &TestContext, path: &str, content: &str) -> Result<String, ToolError> {
        WriteTool
            .call(json!({"path": path, "content": content}), ctx)
            .await
    }

    fn tracked() -> TestContext {
        TestContext::sharing_files(FileTracker::new(), "ses_a")
    }

    #[tokio::test]
    async fn overwriting_a_file_the_session_never_read_is_refused() {
        let ctx = tracked();
        ctx.file("a.txt", "original");
        let err = write(&ctx, "a.txt", "replaced").await.unwrap_err();
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
        assert!(
            err.to_string()
                .starts_with("`a.txt` has not been read in this session"),
            "{err}"
        );
        assert_eq!(ctx.read("a.txt"), "original");

        ReadTool.call(json!({"path": "a.txt"}), &ctx).await.unwrap();
        write(&ctx, "a.txt", "replaced").await.unwrap();
        assert_eq!(ctx.read("a.txt"), "replaced");
    }

    #[tokio::test]
    async fn new_files_need_no_read_and_own_writes_need_no_new_read() {
        let ctx = tracked();
        let out = write(&ctx, "new/a.txt", "one").await.unwrap();
        assert!(out.ends_with("(new file)"), "{out}");
        write(&ctx, "new/a.txt", "two").await.unwrap();
        write(&ctx, "new/a.txt", "three").await.unwrap();
        assert_eq!(ctx.read("new/a.txt"), "three");
    }

    #[tokio::test]
    async fn a_file_changed_by_someone_else_must_be_read_again() {
        let ctx = tracked();
        write(&ctx, "a.txt", "mine").await.unwrap();
        std::fs::write(ctx.root.join("a.txt"), "theirs").unwrap();
        let err = write(&ctx, "a.txt", "mine again").await.unwrap_err();
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
        assert!(
            err.to_string().contains("changed since you last read it"),
            "{err}"
        );
        assert_eq!(ctx.read("a.txt"), "theirs");
    }

    #[tokio::test]
    async fn another_session_that_creates_the_file_first_wins() {
        let a = tracked();
        let b = a.another_session("ses_b");
        write(&a, "a.txt", "from a").await.unwrap();
        let err = write(&b, "a.txt", "from b").await.unwrap_err();
        assert!(
            matches!(
                err,
                ToolError::StaleFile {
                    reason: StaleReason::NotRead,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(a.read("a.txt"), "from a");
    }

    #[tokio::test]
    async fn claimed_paths_are_refused_at_once_naming_the_holder() {
        let ctx = tracked();
        ctx.file("a.txt", "original");
        ReadTool.call(json!({"path": "a.txt"}), &ctx).await.unwrap();
        ctx.claim("a.txt", r#"task task_0192 "refactor parser""#);
        ctx.claim("fresh.txt", r#"task task_0192 "refactor parser""#);
        // Even while someone holds the lease, the answer comes at once.
        let _lease = ctx.tracker().lock(&ctx.root.join("a.txt")).await;
        for path in ["a.txt", "fresh.txt"] {
            let err = write(&ctx, path, "x")
                .now_or_never()
                .expect("a claim is refused without waiting")
                .unwrap_err();
            assert!(matches!(err, ToolError::Claimed { .. }), "{err:?}");
            let text = err.to_string();
            assert!(
                text.starts_with(&format!(
                    r#"`{path}` is claimed by task task_0192 "refactor parser""#
                )),
                "{text}"
            );
            assert!(
                text.contains("belongs to that task while the task runs"),
                "{text}"
            );
            assert!(text.contains("ask your parent agent or the user"), "{text}");
        }
        assert_eq!(ctx.read("a.txt"), "original");
        assert!(!ctx.root.join("fresh.txt").exists());

        // A session without the claim writes where the claim's holder may.
        let other = ctx.another_session("ses_b");
        write(&other, "fresh.txt", "free").await.unwrap();
        assert_eq!(other.read("fresh.txt"), "free");
    }

    #[tokio::test]
    async fn a_write_waits_for_the_lease_on_its_path() {
        let ctx = tracked();
        let lease = ctx.tracker().lock(&ctx.root.join("a.txt")).await;
        let mut pending = Box::pin(write(&ctx, "a.txt", "x"));
        assert!(pending.as_mut().now_or_never().is_none());
        assert!(!ctx.root.join("a.txt").exists());
        drop(lease);
        pending.await.unwrap();
        assert_eq!(ctx.read("a.txt"), "x");
    }
}
