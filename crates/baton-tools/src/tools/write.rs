//! `write`: create or replace a whole file, atomically.

use crate::fs_util::{WriteKind, atomic_write, display_path, line_count, resolve, run_blocking};
use crate::schema::{parse_args, schema_for};
use crate::{Tool, ToolContext, ToolError};

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
         existing file; use `write` for new files or complete rewrites. Read an existing file \
         before overwriting it."
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
        let kind = run_blocking(move || atomic_write(&path, args.content.as_bytes())).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
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
}
