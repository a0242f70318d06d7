//! `read`: a text file with line numbers, a window at a time.

use crate::files::HashingReader;
use crate::fs_util::{display_path, not_found, resolve, run_blocking};
use crate::schema::{parse_args, schema_for};
use crate::text::{char_prefix, read_line_capped};
use crate::{FileTracker, Tool, ToolContext, ToolError};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Lines shown when the call gives no `limit`.
const DEFAULT_LIMIT: usize = 2_000;
/// Characters of one line shown before it is cut.
const MAX_LINE_CHARS: usize = 2_000;
/// Bytes of one line held while reading: enough for [`MAX_LINE_CHARS`]
/// characters of any size, so a huge line is never held whole.
const KEPT_LINE_BYTES: usize = 4 * MAX_LINE_CHARS;
/// Bytes of output at most; the window ends early past this.
const MAX_OUTPUT_BYTES: usize = 100 * 1024;
/// A NUL byte in this many leading bytes marks a file as binary.
const BINARY_SNIFF_BYTES: u64 = 8 * 1024;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReadArgs {
    /// The file to read: relative to the working directory, or absolute.
    path: String,
    /// The first line to show (1-based). Defaults to 1.
    #[schemars(range(min = 1))]
    offset: Option<u64>,
    /// How many lines to show at most. Defaults to 2000.
    #[schemars(range(min = 1))]
    limit: Option<u64>,
}

/// The `read` tool.
pub(crate) struct ReadTool;

#[async_trait::async_trait]
impl Tool for ReadTool {
    fn name(&self) -> &'static str {
        "read"
    }

    fn description(&self) -> String {
        format!(
            "Read a text file. Output has one line per line of the file, each prefixed with its \
             line number and a tab (the prefix is not part of the file: never copy it into an \
             edit). Shows up to {DEFAULT_LIMIT} lines from `offset` (1-based, default 1); use \
             `offset` and `limit` to page through long files. Lines longer than \
             {MAX_LINE_CHARS} characters are cut, and output stops after about 100 KiB; the \
             result then says how to continue. Binary files are refused. For directories use \
             `list`; to find files use `glob`; to search contents use `grep`."
        )
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<ReadArgs>()
    }

    fn is_read_only(&self) -> bool {
        true
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: ReadArgs = parse_args(args)?;
        let path = resolve(ctx, &args.path)?;
        let window = Window {
            offset: to_usize(args.offset.unwrap_or(1)).max(1),
            limit: match args.limit {
                Some(0) => return Err(ToolError::invalid("`limit` must be at least 1")),
                Some(limit) => to_usize(limit),
                None => DEFAULT_LIMIT,
            },
        };
        let shown = display_path(ctx.working_dir(), &path);
        let given = args.path;
        let viewer = ctx.files().map(|files| Viewer {
            files: files.clone(),
            session: ctx.session_id().to_owned(),
        });
        run_blocking(move || read_window(&given, &path, &shown, window, viewer.as_ref())).await
    }
}

/// The session a `read` records what it saw for.
struct Viewer {
    files: FileTracker,
    session: String,
}

impl Viewer {
    /// Reads what is left of `file` and records the fingerprint of all of
    /// it as seen by the session.
    fn record(
        &self,
        path: &Path,
        mut file: BufReader<HashingReader<std::fs::File>>,
    ) -> Result<(), ToolError> {
        std::io::copy(&mut file, &mut std::io::sink())
            .map_err(|err| ToolError::io("read", path, err))?;
        self.files
            .saw_fingerprint(&self.session, path, file.into_inner().finish());
        Ok(())
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

#[derive(Debug, Clone, Copy)]
struct Window {
    /// First line, 1-based.
    offset: usize,
    limit: usize,
}

/// Shows `window` of the file; with a `viewer`, records the whole file's
/// content as seen by its session (a binary file too, which is refused but
/// may then be replaced with `write`).
fn read_window(
    given: &str,
    path: &Path,
    shown: &str,
    window: Window,
    viewer: Option<&Viewer>,
) -> Result<String, ToolError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(not_found(given, path));
        }
        Err(err) => return Err(ToolError::io("read", path, err)),
    };
    if meta.is_dir() {
        return Err(ToolError::Failed(format!(
            "`{shown}` is a directory, not a file; use the `list` tool to see what it contains"
        )));
    }
    let file = std::fs::File::open(path).map_err(|err| ToolError::io("open", path, err))?;
    let mut head = Vec::new();
    let mut file = BufReader::with_capacity(64 * 1024, HashingReader::new(file));
    (&mut file)
        .take(BINARY_SNIFF_BYTES)
        .read_to_end(&mut head)
        .map_err(|err| ToolError::io("read", path, err))?;
    let binary = head.contains(&0);
    if head.is_empty() || binary {
        if let Some(viewer) = viewer {
            viewer.record(path, file)?;
        }
        return if binary {
            Err(ToolError::Failed(format!(
                "`{shown}` looks like a binary file (it contains NUL bytes); `read` only shows \
                 text files. Use `bash` with a suitable tool (e.g. `file`, `xxd | head`) to \
                 inspect it"
            )))
        } else {
            Ok(format!("(`{shown}` is empty)"))
        };
    }
    let mut reader = BufReader::new(std::io::Cursor::new(head).chain(file));
    let rendered = render_window(&mut reader, shown, window)
        .map_err(|err| ToolError::io("read", path, err))?;
    if let Some(viewer) = viewer {
        let (_, file) = reader.into_inner().into_inner();
        viewer.record(path, file)?;
    }
    rendered
}

/// Formats the requested window; the outer result is an I/O failure, the
/// inner one a window that does not fit the file.
fn render_window(
    reader: &mut impl BufRead,
    shown: &str,
    window: Window,
) -> std::io::Result<Result<String, ToolError>> {
    let mut out = String::new();
    let mut head = Vec::new();
    let mut line_no = 0usize;
    let mut last_shown = 0usize;
    let mut capped = false;
    loop {
        // Lines before the window are only counted.
        let keep = if line_no + 1 < window.offset {
            0
        } else {
            KEPT_LINE_BYTES
        };
        let Some(skipped_chars) = read_line_capped(reader, keep, &mut head)? else {
            break;
        };
        line_no += 1;
        if line_no < window.offset {
            continue;
        }
        let formatted = format_line(line_no, &head, skipped_chars);
        if out.len() + formatted.len() > MAX_OUTPUT_BYTES && last_shown > 0 {
            capped = true;
            break;
        }
        out.push_str(&formatted);
        last_shown = line_no;
        if line_no - window.offset + 1 >= window.limit {
            break;
        }
    }
    let total = line_no + count_remaining_lines(reader)?;

    if last_shown == 0 {
        return Ok(Err(ToolError::invalid(format!(
            "offset {} is past the end of `{shown}`, which has {total} line{}",
            window.offset,
            if total == 1 { "" } else { "s" }
        ))));
    }
    if last_shown < total {
        let why = if capped {
            "; output capped at 100 KiB"
        } else {
            ""
        };
        out.push_str(&format!(
            "\n(Showing lines {}-{last_shown} of {total}{why}. To read more, call read with \
             offset={}.)",
            window.offset,
            last_shown + 1
        ));
    }
    Ok(Ok(out))
}

/// One numbered line of output: `head` is the line's start (without its
/// terminator), `skipped_chars` how many characters of it were not read
/// into `head`.
fn format_line(line_no: usize, head: &[u8], skipped_chars: usize) -> String {
    let text = String::from_utf8_lossy(head);
    let char_count = text.chars().count() + skipped_chars;
    if char_count > MAX_LINE_CHARS {
        let kept = char_prefix(&text, MAX_LINE_CHARS);
        format!(
            "{line_no:>6}\t{kept}… [line truncated: {} more characters]\n",
            char_count - MAX_LINE_CHARS
        )
    } else {
        format!("{line_no:>6}\t{text}\n")
    }
}

/// Lines left in `reader` (a last line without a newline counts).
fn count_remaining_lines(reader: &mut impl BufRead) -> std::io::Result<usize> {
    let mut count = 0;
    let mut last = b'\n';
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        count += chunk.iter().filter(|&&b| b == b'\n').count();
        if let Some(&byte) = chunk.last() {
            last = byte;
        }
        let len = chunk.len();
        reader.consume(len);
    }
    Ok(count + usize::from(last != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TestContext;
    use serde_json::json;

    async fn read(ctx: &TestContext, args: serde_json::Value) -> Result<String, ToolError> {
        ReadTool.call(args, ctx).await
    }

    fn numbered(n: usize) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[tokio::test]
    async fn shows_numbered_lines() {
        let ctx = TestContext::new();
        ctx.file("a.txt", "alpha\r\nbeta\ngamma");
        let out = read(&ctx, json!({"path": "a.txt"})).await.unwrap();
        assert_eq!(out, "     1\talpha\n     2\tbeta\n     3\tgamma\n");
    }

    #[tokio::test]
    async fn offset_and_limit_select_a_window_and_say_how_to_continue() {
        let ctx = TestContext::new();
        ctx.file("a.txt", numbered(10));
        let out = read(&ctx, json!({"path": "a.txt", "offset": 3, "limit": 2}))
            .await
            .unwrap();
        assert!(out.starts_with("     3\tline 3\n     4\tline 4\n"), "{out}");
        assert!(!out.contains("line 5"));
        assert!(
            out.contains("(Showing lines 3-4 of 10. To read more, call read with offset=5.)"),
            "{out}"
        );

        let tail = read(&ctx, json!({"path": "a.txt", "offset": 9}))
            .await
            .unwrap();
        assert_eq!(tail, "     9\tline 9\n    10\tline 10\n");

        let err = read(&ctx, json!({"path": "a.txt", "offset": 11}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
        assert!(err.to_string().contains("10 lines"), "{err}");
    }

    #[tokio::test]
    async fn default_limit_is_2000_lines() {
        let ctx = TestContext::new();
        ctx.file("big.txt", numbered(2500));
        let out = read(&ctx, json!({"path": "big.txt"})).await.unwrap();
        assert!(out.contains("  2000\tline 2000\n"));
        assert!(!out.contains("line 2001"));
        assert!(out.contains("of 2500"), "{}", &out[out.len() - 200..]);
        assert!(out.contains("offset=2001"));
    }

    #[tokio::test]
    async fn long_lines_are_truncated_with_a_marker() {
        let ctx = TestContext::new();
        ctx.file("long.txt", format!("{}\nshort\n", "é".repeat(2500)));
        let out = read(&ctx, json!({"path": "long.txt"})).await.unwrap();
        assert!(
            out.contains("[line truncated: 500 more characters]"),
            "{out}"
        );
        assert!(out.contains("     2\tshort"));
    }

    #[tokio::test]
    async fn a_huge_line_is_cut_and_the_lines_after_it_follow() {
        let ctx = TestContext::new();
        ctx.file("huge.txt", format!("{}🎉\r\nnext\n", "é".repeat(300_000)));
        let out = read(&ctx, json!({"path": "huge.txt"})).await.unwrap();
        assert_eq!(
            out,
            format!(
                "     1\t{}… [line truncated: 298001 more characters]\n     2\tnext\n",
                "é".repeat(2000)
            )
        );
        let after = read(&ctx, json!({"path": "huge.txt", "offset": 2}))
            .await
            .unwrap();
        assert_eq!(after, "     2\tnext\n");
    }

    #[tokio::test]
    async fn output_is_capped_at_100_kib_with_a_continue_hint() {
        let ctx = TestContext::new();
        let line = "x".repeat(1000);
        ctx.file("wide.txt", format!("{line}\n").repeat(300));
        let out = read(&ctx, json!({"path": "wide.txt"})).await.unwrap();
        assert!(out.len() <= MAX_OUTPUT_BYTES + 300, "{}", out.len());
        assert!(
            out.contains("output capped at 100 KiB"),
            "{}",
            &out[out.len() - 200..]
        );
        assert!(out.contains("of 300"));
        let shown = out.lines().filter(|l| l.contains('\t')).count();
        assert!(out.contains(&format!("offset={}", shown + 1)));
    }

    #[tokio::test]
    async fn binary_files_are_refused() {
        let ctx = TestContext::new();
        ctx.file("bin.dat", b"\x7fELF\x00\x01\x02rest");
        let err = read(&ctx, json!({"path": "bin.dat"})).await.unwrap_err();
        assert!(err.to_string().contains("binary"), "{err}");
    }

    #[tokio::test]
    async fn empty_missing_and_directory_paths_are_explained() {
        let ctx = TestContext::new();
        ctx.file("empty.txt", "");
        ctx.file("dir/main.rs", "fn main() {}");
        assert_eq!(
            read(&ctx, json!({"path": "empty.txt"})).await.unwrap(),
            "(`empty.txt` is empty)"
        );

        let err = read(&ctx, json!({"path": "dir/mian.rs"}))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::NotFound { .. }));
        assert!(err.to_string().contains("main.rs"), "{err}");

        let err = read(&ctx, json!({"path": "dir"})).await.unwrap_err();
        assert!(err.to_string().contains("use the `list` tool"), "{err}");
    }

    #[tokio::test]
    async fn paths_outside_the_root_are_refused() {
        let ctx = TestContext::new();
        let err = read(&ctx, json!({"path": "../outside.txt"}))
            .await
            .unwrap_err();
        assert!(matches!(err, ToolError::PathOutsideRoot { .. }));
    }

    #[tokio::test]
    async fn a_read_records_the_whole_file_not_only_the_window() {
        let ctx = TestContext::sharing_files(FileTracker::new(), "ses_a");
        let content = numbered(3000);
        let path = ctx.file("big.txt", &content);
        let tracker = ctx.tracker();
        assert!(
            tracker
                .check_fresh("ses_a", &path, Some(content.as_bytes()))
                .is_err()
        );

        read(&ctx, json!({"path": "big.txt", "offset": 10, "limit": 5}))
            .await
            .unwrap();
        tracker
            .check_fresh("ses_a", &path, Some(content.as_bytes()))
            .unwrap();
        let mut changed = content.clone().into_bytes();
        let last = changed.len() - 2;
        changed[last] = b'X';
        assert!(tracker.check_fresh("ses_a", &path, Some(&changed)).is_err());
        // Only the reading session saw it.
        assert!(
            tracker
                .check_fresh("ses_b", &path, Some(content.as_bytes()))
                .is_err()
        );
    }

    #[tokio::test]
    async fn empty_binary_and_past_the_end_reads_count_as_seen() {
        let ctx = TestContext::sharing_files(FileTracker::new(), "ses_a");
        let tracker = ctx.tracker();
        let binary = [b'\x7f', 0, 1, 2].repeat(5000);
        let cases: [(&str, &[u8], serde_json::Value); 3] = [
            ("empty.txt", b"", json!({"path": "empty.txt"})),
            ("bin.dat", &binary, json!({"path": "bin.dat"})),
            (
                "short.txt",
                b"a\nb\n",
                json!({"path": "short.txt", "offset": 9}),
            ),
        ];
        for (name, content, args) in cases {
            let path = ctx.file(name, content);
            let _ = read(&ctx, args).await;
            tracker
                .check_fresh("ses_a", &path, Some(content))
                .unwrap_or_else(|err| panic!("{name}: {err}"));
        }
    }
}
