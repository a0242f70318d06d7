//! `list`: a directory tree.

use crate::fs_util::{display_path, not_found, resolve, run_blocking};
use crate::schema::{parse_args, schema_for};
use crate::walk::{Hidden, walker};
use crate::{Tool, ToolContext, ToolError};
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// Most entries shown.
const MAX_ENTRIES: usize = 500;
/// Entries counted (beyond those shown) before we stop counting.
const MAX_COUNTED: usize = 10_000;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    /// Directory to list. Defaults to the working directory.
    path: Option<String>,
}

/// The `list` tool.
pub(crate) struct ListTool;

#[async_trait::async_trait]
impl Tool for ListTool {
    fn name(&self) -> &'static str {
        "list"
    }

    fn description(&self) -> String {
        format!(
            "List a directory as an indented tree (default: the working directory), recursing \
             into subdirectories. Directories end with `/`. Git-ignored and hidden entries are \
             left out. At most {MAX_ENTRIES} entries are shown; list a subdirectory to see more. \
             To find files by pattern use `glob`."
        )
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<ListArgs>()
    }

    fn is_read_only(&self) -> bool {
        true
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: ListArgs = parse_args(args)?;
        let given = args.path.unwrap_or_else(|| ".".to_owned());
        let dir = resolve(ctx, &given)?;
        let shown = display_path(ctx.working_dir(), &dir);
        let cancel = ctx.cancel().clone();
        run_blocking(move || {
            if !dir.is_dir() {
                return Err(if dir.exists() {
                    ToolError::invalid(format!(
                        "`{given}` is a file, not a directory; use `read` to see its content"
                    ))
                } else {
                    not_found(&given, &dir)
                });
            }
            tree(&dir, &shown, &cancel)
        })
        .await
    }
}

fn tree(dir: &Path, shown: &str, cancel: &CancellationToken) -> Result<String, ToolError> {
    let mut lines = vec![format!("{}/", shown.trim_end_matches('/'))];
    let mut total = 0usize;
    for entry in walker(dir, Hidden::Skip) {
        if cancel.is_cancelled() {
            return Err(ToolError::Cancelled);
        }
        let Ok(entry) = entry else { continue };
        if entry.depth() == 0 {
            continue;
        }
        total += 1;
        if total > MAX_COUNTED {
            break;
        }
        if total > MAX_ENTRIES {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        let slash = if entry.file_type().is_some_and(|t| t.is_dir()) {
            "/"
        } else {
            ""
        };
        lines.push(format!("{}{name}{slash}", "  ".repeat(entry.depth())));
    }
    if total == 0 {
        lines.push("  (empty)".to_owned());
    } else if total > MAX_ENTRIES {
        let counted = if total > MAX_COUNTED {
            format!("more than {MAX_COUNTED}")
        } else {
            total.to_string()
        };
        lines.push(format!(
            "(showing {MAX_ENTRIES} of {counted} entries; list a subdirectory to see more)"
        ));
    }
    Ok(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
    use serde_json::json;

    #[tokio::test]
    async fn lists_a_sorted_tree_with_directories_marked() {
        let ctx = TestContext::new();
        ctx.file("src/main.rs", "");
        ctx.file("src/util/mod.rs", "");
        ctx.file("Cargo.toml", "");
        let out = ListTool.call(json!({}), &ctx).await.unwrap();
        assert_eq!(
            out,
            "./\n  Cargo.toml\n  src/\n    main.rs\n    util/\n      mod.rs"
        );
        let sub = ListTool
            .call(json!({"path": "src/util"}), &ctx)
            .await
            .unwrap();
        assert_eq!(sub, "src/util/\n  mod.rs");
    }

    #[tokio::test]
    async fn respects_gitignore_and_hides_hidden_entries() {
        let ctx = TestContext::new();
        ctx.file(".gitignore", "target/\n");
        ctx.file("target/big.bin", "");
        ctx.file(".git/config", "");
        ctx.file("lib.rs", "");
        let out = ListTool.call(json!({}), &ctx).await.unwrap();
        assert_eq!(out, "./\n  lib.rs");
    }

    #[tokio::test]
    async fn caps_at_500_entries_with_a_note() {
        let ctx = TestContext::new();
        for i in 0..520 {
            ctx.file(&format!("f{i:03}"), "");
        }
        let out = ListTool.call(json!({}), &ctx).await.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1 + 500 + 1);
        assert_eq!(
            lines[501],
            "(showing 500 of 520 entries; list a subdirectory to see more)"
        );
    }

    #[tokio::test]
    async fn files_missing_paths_and_empty_dirs() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "");
        std::fs::create_dir(ctx.root.join("empty")).unwrap();
        let err = ListTool
            .call(json!({"path": "a.txt"}), &ctx)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("use `read`"), "{err}");
        let err = ListTool
            .call(json!({"path": "nope"}), &ctx)
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::NotFound { .. }));
        let out = ListTool.call(json!({"path": "empty"}), &ctx).await.unwrap();
        assert_eq!(out, "empty/\n  (empty)");
    }
}
