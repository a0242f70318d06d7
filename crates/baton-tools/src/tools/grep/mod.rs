//! `grep`: search file contents with a regular expression.

mod long_lines;
mod sink;

use crate::fs_util::{display_path, not_found, resolve, run_blocking};
use crate::schema::{parse_args, schema_for};
use crate::walk::{Hidden, walker};
use crate::{Tool, ToolContext, ToolError};
use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder};
pub(in crate::tools) use long_lines::LineLimits;
use long_lines::{CappedLines, LongLines};
use sink::{Budget, FileSink};
use std::cell::RefCell;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use tokio_util::sync::CancellationToken;

/// Most matching lines in one result.
const MAX_MATCHES: usize = 200;
/// Most context lines around each match.
const MAX_CONTEXT: u32 = 10;
/// Characters of one line shown before it is cut.
const MAX_LINE_CHARS: usize = 500;
/// Bytes of output at most.
const MAX_OUTPUT_BYTES: usize = 100 * 1024;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GrepArgs {
    /// Regular expression (Rust regex syntax) matched against each line.
    pattern: String,
    /// File or directory to search. Defaults to the working directory.
    path: Option<String>,
    /// Only search files matching this glob, e.g. `*.rs` or `src/**/*.ts`.
    glob: Option<String>,
    /// Match without regard to case.
    #[serde(default)]
    case_insensitive: bool,
    /// Lines of context to show before and after each match (at most 10).
    #[serde(default)]
    context: u32,
}

/// The `grep` tool.
pub(crate) struct GrepTool;

#[async_trait::async_trait]
impl Tool for GrepTool {
    fn name(&self) -> &'static str {
        "grep"
    }

    fn description(&self) -> String {
        format!(
            "Search file contents with a regular expression (Rust regex syntax, one line at a \
             time; escape literal characters such as `(`, `.`, `{{`). Searches `path` (a file \
             or directory, default: the working directory), skipping git-ignored, hidden and \
             binary files; `glob` limits it to matching files (e.g. `*.rs`). Output lines are \
             `path:line:text`; with `context` N, neighbouring lines appear as \
             `path-line-text` and groups are separated by `--`. At most {MAX_MATCHES} matching \
             lines are shown: narrow the pattern, path or glob when the result says it was \
             capped. To find files by name use `glob`."
        )
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<GrepArgs>()
    }

    fn is_read_only(&self) -> bool {
        true
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: GrepArgs = parse_args(args)?;
        let given = args.path.clone().unwrap_or_else(|| ".".to_owned());
        let base = resolve(ctx, &given)?;
        let matcher = line_matcher(&args.pattern, args.case_insensitive)?;
        let filter = args.glob.as_deref().map(FileFilter::new).transpose()?;
        let search = Search {
            base,
            matcher,
            filter,
            context: args.context.min(MAX_CONTEXT),
            working_dir: ctx.working_dir().to_path_buf(),
            cancel: ctx.cancel().clone(),
            limits: LineLimits::DEFAULT,
        };
        let report = run_blocking(move || search.run(&given)).await?;
        Ok(report.render(&args.pattern))
    }
}

/// The matcher for `pattern`, one line at a time.
fn line_matcher(pattern: &str, case_insensitive: bool) -> Result<RegexMatcher, ToolError> {
    RegexMatcherBuilder::new()
        .case_insensitive(case_insensitive)
        .line_terminator(Some(b'\n'))
        .build(pattern)
        .map_err(|err| ToolError::invalid(format!("invalid regular expression `{pattern}`: {err}")))
}

/// Which files to search, by glob: patterns with a `/` match the path
/// relative to the search directory, others the file name.
struct FileFilter {
    matcher: globset::GlobMatcher,
    whole_path: bool,
}

impl FileFilter {
    fn new(glob: &str) -> Result<Self, ToolError> {
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|err| ToolError::invalid(format!("invalid `glob` filter `{glob}`: {err}")))?
            .compile_matcher();
        Ok(FileFilter {
            matcher,
            whole_path: glob.contains('/'),
        })
    }

    fn accepts(&self, base: &Path, path: &Path) -> bool {
        if self.whole_path {
            path.strip_prefix(base)
                .is_ok_and(|relative| self.matcher.is_match(relative))
        } else {
            path.file_name()
                .is_some_and(|name| self.matcher.is_match(name))
        }
    }
}

struct Search {
    base: PathBuf,
    matcher: RegexMatcher,
    filter: Option<FileFilter>,
    context: u32,
    working_dir: PathBuf,
    cancel: CancellationToken,
    limits: LineLimits,
}

impl Search {
    fn run(self, given: &str) -> Result<Report, ToolError> {
        let mut searcher = SearcherBuilder::new()
            .line_number(true)
            .binary_detection(BinaryDetection::quit(0))
            .before_context(self.context as usize)
            .after_context(self.context as usize)
            .build();
        let mut report = Report {
            lines: Vec::new(),
            bytes: 0,
            matches: 0,
            capped: false,
            binary_skipped: 0,
            with_context: self.context > 0,
            location: display_path(&self.working_dir, &self.base),
        };

        if self.base.is_file() {
            self.search_file(&mut searcher, &self.base, &mut report);
            return Ok(report);
        }
        if !self.base.is_dir() {
            return Err(not_found(given, &self.base));
        }
        for entry in walker(&self.base, Hidden::Skip) {
            if self.cancel.is_cancelled() {
                return Err(ToolError::Cancelled);
            }
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            if let Some(filter) = &self.filter
                && !filter.accepts(&self.base, entry.path())
            {
                continue;
            }
            self.search_file(&mut searcher, entry.path(), &mut report);
            if report.capped {
                break;
            }
        }
        Ok(report)
    }

    fn search_file(&self, searcher: &mut Searcher, path: &Path, report: &mut Report) {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(err) => {
                tracing::debug!(path = %path.display(), %err, "grep could not open a file");
                return;
            }
        };
        let long = Rc::new(RefCell::new(LongLines::default()));
        let budget = Budget {
            matches: MAX_MATCHES - report.matches,
            bytes: MAX_OUTPUT_BYTES.saturating_sub(report.bytes),
        };
        let shown = display_path(&self.working_dir, path);
        let mut sink = FileSink::new(shown, budget, report.with_context, long.clone());
        let reader = CappedLines::new(
            BufReader::with_capacity(64 * 1024, file),
            &self.matcher,
            self.limits,
            long.clone(),
            MAX_MATCHES,
        );
        if let Err(err) = searcher.search_reader(&self.matcher, reader, &mut sink) {
            tracing::debug!(path = %path.display(), %err, "grep skipped a file");
            return;
        }
        if sink.binary || long.borrow().binary() {
            report.binary_skipped += 1;
            return;
        }
        if sink.lines.is_empty() {
            return;
        }
        if report.with_context && !report.lines.is_empty() {
            report.lines.push("--".to_owned());
        }
        report.matches += sink.matches;
        report.bytes += sink.bytes;
        report.capped |= sink.capped;
        report.lines.append(&mut sink.lines);
    }
}

struct Report {
    lines: Vec<String>,
    bytes: usize,
    matches: usize,
    capped: bool,
    binary_skipped: usize,
    with_context: bool,
    location: String,
}

impl Report {
    fn render(self, pattern: &str) -> String {
        let binary_note = match self.binary_skipped {
            0 => String::new(),
            1 => " (1 binary file skipped)".to_owned(),
            n => format!(" ({n} binary files skipped)"),
        };
        if self.lines.is_empty() {
            return format!(
                "No matches for `{pattern}` in `{}`{binary_note}.",
                self.location
            );
        }
        let mut out = self.lines.join("\n");
        if self.capped {
            out.push_str(&format!(
                "\n(capped: showing the first {} matching lines; narrow the pattern, path or \
                 glob to see the rest){binary_note}",
                self.matches
            ));
        } else if !binary_note.is_empty() {
            out.push('\n');
            out.push_str(binary_note.trim_start());
        }
        out
    }
}

/// Searches all of `root` for `pattern` with `context` lines and `limits`.
#[cfg(test)]
pub(in crate::tools) fn search(
    root: &Path,
    pattern: &str,
    context: u32,
    limits: LineLimits,
) -> String {
    let search = Search {
        base: root.to_path_buf(),
        matcher: line_matcher(pattern, false).unwrap(),
        filter: None,
        context,
        working_dir: root.to_path_buf(),
        cancel: CancellationToken::new(),
        limits,
    };
    search.run(".").unwrap().render(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
    use serde_json::json;

    async fn grep(ctx: &TestContext, args: serde_json::Value) -> Result<String, ToolError> {
        GrepTool.call(args, ctx).await
    }

    #[tokio::test]
    async fn finds_matches_as_path_line_text() {
        let ctx = TestContext::new();
        ctx.file("src/a.rs", "fn main() {\n    hello();\n}\n");
        ctx.file("src/b.rs", "// Hello there\n");
        let out = grep(&ctx, json!({"pattern": "hello"})).await.unwrap();
        assert_eq!(out, "src/a.rs:2:    hello();");

        let out = grep(&ctx, json!({"pattern": "hello", "case_insensitive": true}))
            .await
            .unwrap();
        assert_eq!(out, "src/a.rs:2:    hello();\nsrc/b.rs:1:// Hello there");

        let none = grep(&ctx, json!({"pattern": "absent"})).await.unwrap();
        assert_eq!(none, "No matches for `absent` in `.`.");
    }

    #[tokio::test]
    async fn context_lines_use_dashes_and_groups_are_separated() {
        let ctx = TestContext::new();
        let text: String = (1..=20).map(|i| format!("l{i}\n")).collect();
        ctx.file("a.txt", text);
        let out = grep(&ctx, json!({"pattern": "^l(3|15)$", "context": 1}))
            .await
            .unwrap();
        assert_eq!(
            out,
            "a.txt-2-l2\na.txt:3:l3\na.txt-4-l4\n--\na.txt-14-l14\na.txt:15:l15\na.txt-16-l16"
        );
    }

    #[tokio::test]
    async fn glob_filter_and_single_file_paths() {
        let ctx = TestContext::new();
        ctx.file("a.rs", "needle\n");
        ctx.file("b.md", "needle\n");
        ctx.file("sub/c.rs", "needle\n");
        let out = grep(&ctx, json!({"pattern": "needle", "glob": "*.rs"}))
            .await
            .unwrap();
        assert_eq!(out, "a.rs:1:needle\nsub/c.rs:1:needle");
        let out = grep(&ctx, json!({"pattern": "needle", "glob": "sub/*.rs"}))
            .await
            .unwrap();
        assert_eq!(out, "sub/c.rs:1:needle");
        let out = grep(&ctx, json!({"pattern": "needle", "path": "b.md"}))
            .await
            .unwrap();
        assert_eq!(out, "b.md:1:needle");
    }

    #[tokio::test]
    async fn respects_gitignore_and_skips_binary_files() {
        let ctx = TestContext::new();
        ctx.file(".gitignore", "ignored/\n");
        ctx.file("ignored/x.txt", "needle\n");
        ctx.file("bin.dat", b"needle\n\x00\x01binary");
        ctx.file("ok.txt", "needle\n");
        let out = grep(&ctx, json!({"pattern": "needle"})).await.unwrap();
        assert_eq!(out, "ok.txt:1:needle\n(1 binary file skipped)");
    }

    #[tokio::test]
    async fn caps_matching_lines_at_200() {
        let ctx = TestContext::new();
        ctx.file("many.txt", "hit\n".repeat(150));
        ctx.file("more.txt", "hit\n".repeat(150));
        let out = grep(&ctx, json!({"pattern": "hit"})).await.unwrap();
        let matches = out.lines().filter(|l| l.ends_with(":hit")).count();
        assert_eq!(matches, 200);
        assert!(
            out.contains("capped: showing the first 200 matching lines"),
            "{out}"
        );
    }

    /// Long lines are those over 2000 bytes, searched in 4 KiB windows.
    const SMALL: LineLimits = LineLimits {
        cap: 2000,
        window: 4096,
        overlap: 256,
    };

    #[test]
    fn a_match_past_a_long_lines_cap_is_reported_with_the_lines_length() {
        let ctx = TestContext::new();
        let long = format!("{}needle{}", "é".repeat(3000), "x".repeat(2000));
        ctx.file("a.txt", format!("short\n{long}\nneedle too\n"));
        let out = search(&ctx.root, "needle", 0, SMALL);
        assert_eq!(
            out,
            format!(
                "a.txt:2:{}… [4506 more characters]\na.txt:3:needle too",
                "é".repeat(500)
            )
        );
    }

    #[test]
    fn late_matches_are_kept_apart_from_the_searchers_groups() {
        let ctx = TestContext::new();
        let long = format!("{}needle", "y".repeat(5000));
        ctx.file("a.txt", format!("a\n{long}\nb\nc\nd\ne\nneedle\nz\n"));
        let out = search(&ctx.root, "needle", 1, SMALL);
        assert_eq!(
            out,
            format!(
                "a.txt:2:{}… [4506 more characters]\n--\na.txt-6-e\na.txt:7:needle\na.txt-8-z",
                "y".repeat(500)
            )
        );
    }

    #[test]
    fn what_only_the_cut_makes_match_is_not_a_match() {
        let ctx = TestContext::new();
        ctx.file("a.txt", format!("{}x\n", "é".repeat(3000)));
        assert_eq!(
            search(&ctx.root, "é$", 0, SMALL),
            "No matches for `é$` in `.`."
        );
        ctx.file("b.txt", format!("{}\0tail\nneedle\n", "z".repeat(3000)));
        assert_eq!(
            search(&ctx.root, "needle", 0, SMALL),
            "No matches for `needle` in `.` (1 binary file skipped)."
        );
    }

    #[tokio::test]
    async fn a_line_of_megabytes_is_searched_to_its_end() {
        let ctx = TestContext::new();
        let long = format!("{}🎉 needle", "abc ".repeat(1_000_000));
        ctx.file("min.js", format!("{long}\n"));
        let out = grep(&ctx, json!({"pattern": "🎉 needle$"})).await.unwrap();
        assert_eq!(
            out,
            format!("min.js:1:{}… [3999508 more characters]", "abc ".repeat(125))
        );
    }

    #[tokio::test]
    async fn invalid_regex_and_missing_path_are_clear_errors() {
        let ctx = TestContext::new();
        let err = grep(&ctx, json!({"pattern": "fn ("})).await.unwrap_err();
        assert!(matches!(err, ToolError::InvalidArguments { .. }));
        assert!(
            err.to_string().contains("invalid regular expression"),
            "{err}"
        );
        let err = grep(&ctx, json!({"pattern": "x", "path": "nope"}))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::NotFound { .. }), "{err}");
    }
}
