//! `glob`: find files by name pattern.

use crate::fs_util::{display_path, not_found, resolve, run_blocking};
use crate::schema::{parse_args, schema_for};
use crate::walk::{Hidden, walker};
use crate::{Tool, ToolContext, ToolError};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;

/// Most paths listed in one result.
const MAX_RESULTS: usize = 200;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GlobArgs {
    /// Glob pattern relative to `path`, e.g. `**/*.rs` or `src/*.{ts,tsx}`.
    pattern: String,
    /// Directory to search in. Defaults to the working directory.
    path: Option<String>,
}

/// The `glob` tool.
pub(crate) struct GlobTool;

#[async_trait::async_trait]
impl Tool for GlobTool {
    fn name(&self) -> &'static str {
        "glob"
    }

    fn description(&self) -> String {
        format!(
            "Find files whose path matches a glob pattern, e.g. `**/*.rs` (any depth), `*.md` \
             (top level of `path` only), `src/**/test_*.{{py,rs}}`. The pattern is matched \
             against paths relative to `path` (default: the working directory). Files ignored \
             by .gitignore/.ignore and hidden files are skipped. Results are paths relative to \
             the working directory, most recently modified first, at most {MAX_RESULTS}. To \
             search file contents use `grep`."
        )
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<GlobArgs>()
    }

    fn is_read_only(&self) -> bool {
        true
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: GlobArgs = parse_args(args)?;
        let given = args.path.unwrap_or_else(|| ".".to_owned());
        let base = resolve(ctx, &given)?;
        let pattern = relative_pattern(&args.pattern, &base)?;
        let matcher = globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| {
                ToolError::invalid(format!("invalid glob pattern `{}`: {err}", args.pattern))
            })?
            .compile_matcher();
        let hidden = if names_hidden_entries(&pattern) {
            Hidden::Include
        } else {
            Hidden::Skip
        };
        let cancel = ctx.cancel().clone();
        let search_base = base.clone();
        let found = run_blocking(move || {
            if !search_base.is_dir() {
                return Err(if search_base.exists() {
                    ToolError::invalid(format!("`{given}` is a file, not a directory"))
                } else {
                    not_found(&given, &search_base)
                });
            }
            find(&search_base, &matcher, hidden, &cancel)
        })
        .await?;

        let wd = ctx.working_dir();
        if found.is_empty() {
            return Ok(format!(
                "No files match `{}` in {} (git-ignored and hidden files are skipped).",
                args.pattern,
                display_path(wd, &base)
            ));
        }
        let total = found.len();
        let mut out: Vec<String> = found
            .into_iter()
            .take(MAX_RESULTS)
            .map(|path| display_path(wd, &path))
            .collect();
        if total > MAX_RESULTS {
            out.push(format!(
                "(showing {MAX_RESULTS} of {total}; narrow the pattern)"
            ));
        }
        Ok(out.join("\n"))
    }
}

/// Accepts an absolute pattern that starts with the search directory by
/// making it relative; refuses other absolute patterns.
fn relative_pattern(pattern: &str, base: &Path) -> Result<String, ToolError> {
    if pattern.is_empty() {
        return Err(ToolError::invalid("the glob pattern is empty"));
    }
    if !pattern.starts_with('/') {
        return Ok(pattern.strip_prefix("./").unwrap_or(pattern).to_owned());
    }
    let base = base.to_string_lossy();
    match pattern.strip_prefix(base.as_ref()) {
        Some(rest) if rest.starts_with('/') => Ok(rest.trim_start_matches('/').to_owned()),
        _ => Err(ToolError::invalid(format!(
            "the pattern `{pattern}` is absolute; give it relative to `path` (e.g. `**/*.rs`) \
             and set `path` to the directory to search"
        ))),
    }
}

/// Whether a path component of the pattern starts with a dot (as in
/// `.github/**/*.yml` or `**/.env*`): then hidden entries are searched too.
fn names_hidden_entries(pattern: &str) -> bool {
    pattern
        .split('/')
        .any(|part| part.starts_with('.') && part != "." && part != "..")
}

/// All files under `base` matching `matcher`, newest first (ties by path).
fn find(
    base: &Path,
    matcher: &globset::GlobMatcher,
    hidden: Hidden,
    cancel: &CancellationToken,
) -> Result<Vec<PathBuf>, ToolError> {
    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    for entry in walker(base, hidden) {
        if cancel.is_cancelled() {
            return Err(ToolError::Cancelled);
        }
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(base) else {
            continue;
        };
        if matcher.is_match(relative) {
            let modified = entry
                .metadata()
                .ok()
                .and_then(|meta| meta.modified().ok())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((modified, entry.into_path()));
        }
    }
    found.sort_by(|(ta, pa), (tb, pb)| tb.cmp(ta).then_with(|| pa.cmp(pb)));
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
    use serde_json::json;
    use std::time::Duration;

    async fn glob(ctx: &TestContext, args: serde_json::Value) -> Result<String, ToolError> {
        GlobTool.call(args, ctx).await
    }

    fn set_mtime(path: &Path, secs_after_epoch: u64) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs_after_epoch))
            .unwrap();
    }

    #[tokio::test]
    async fn matches_relative_to_path_newest_first() {
        let ctx = TestContext::new();
        set_mtime(&ctx.file("src/old.rs", ""), 1_000);
        set_mtime(&ctx.file("src/new.rs", ""), 2_000);
        set_mtime(&ctx.file("src/inner/mid.rs", ""), 1_500);
        ctx.file("README.md", "");

        let all = glob(&ctx, json!({"pattern": "**/*.rs"})).await.unwrap();
        assert_eq!(all, "src/new.rs\nsrc/inner/mid.rs\nsrc/old.rs");

        let top = glob(&ctx, json!({"pattern": "*.rs", "path": "src"}))
            .await
            .unwrap();
        assert_eq!(top, "src/new.rs\nsrc/old.rs");

        let none = glob(&ctx, json!({"pattern": "*.py"})).await.unwrap();
        assert!(none.starts_with("No files match `*.py`"), "{none}");
    }

    #[tokio::test]
    async fn respects_gitignore_outside_a_git_repository_and_skips_hidden() {
        let ctx = TestContext::new();
        ctx.file(".gitignore", "target/\n*.log\n");
        ctx.file("target/debug/out.rs", "");
        ctx.file("keep.rs", "");
        ctx.file("noise.log", "");
        ctx.file(".hidden/secret.rs", "");
        let out = glob(&ctx, json!({"pattern": "**/*"})).await.unwrap();
        assert_eq!(out, "keep.rs");
    }

    #[tokio::test]
    async fn patterns_naming_hidden_entries_find_them_but_never_git_internals() {
        let ctx = TestContext::new();
        ctx.file(".github/workflows/ci.yml", "");
        ctx.file(".env", "");
        ctx.file(".git/config", "");
        ctx.file(".git/.hidden", "");
        let out = glob(&ctx, json!({"pattern": ".github/**/*.yml"}))
            .await
            .unwrap();
        assert_eq!(out, ".github/workflows/ci.yml");
        let out = glob(&ctx, json!({"pattern": "**/.*"})).await.unwrap();
        assert_eq!(out, ".env");
    }

    #[tokio::test]
    async fn caps_results_at_200_and_says_so() {
        let ctx = TestContext::new();
        for i in 0..250 {
            ctx.file(&format!("f{i:03}.txt"), "");
        }
        let out = glob(&ctx, json!({"pattern": "*.txt"})).await.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 201);
        assert_eq!(lines[200], "(showing 200 of 250; narrow the pattern)");
    }

    #[tokio::test]
    async fn bad_patterns_and_paths_are_clear_errors() {
        let ctx = TestContext::new();
        let err = glob(&ctx, json!({"pattern": "a[b"})).await.unwrap_err();
        assert!(err.to_string().contains("invalid glob pattern"), "{err}");
        let err = glob(&ctx, json!({"pattern": "*", "path": "missing"}))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::NotFound { .. }), "{err}");
        let err = glob(&ctx, json!({"pattern": "/etc/*"})).await.unwrap_err();
        assert!(err.to_string().contains("absolute"), "{err}");

        ctx.file("sub/a.rs", "");
        let absolute = format!("{}/sub/*.rs", ctx.root.display());
        assert_eq!(
            glob(&ctx, json!({"pattern": absolute})).await.unwrap(),
            "sub/a.rs"
        );
    }
}
