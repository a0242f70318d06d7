//! Peak memory of `read` and `grep` on huge one-line files (a minified
//! bundle, a dump with no line breaks): a 200 MB file of one line, read
//! once, and two such files searched with one `grep`, through the real
//! tools (`ToolRegistry::dispatch`). `grep` looks for a word each line has
//! at its start and at its end, `grep-end` for what only the end matches.
//! Every case runs in a fresh child process, which reports its own peak
//! RSS (`VmHWM`), so the figures are independent; `baseline` is the same
//! child doing nothing, the cost of the process and its runtime.
//!
//! Run with `cargo bench -p baton-tools --bench huge_lines`. Figures, not
//! assertions: compare them with docs/benchmarks.md.

#![allow(clippy::print_stdout)]

use baton_tools::{BashSettings, PathPolicy, Todo, ToolContext, ToolRegistry};
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Size of each huge file.
const FILE_BYTES: usize = 200 * 1024 * 1024;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--case") {
        let (Some(case), Some(dir)) = (args.get(at + 1), args.get(at + 2)) else {
            return Err("usage: huge_lines --case NAME DIR".into());
        };
        return run_case(case, Path::new(dir));
    }
    let dir = tempfile::Builder::new().prefix("huge-lines-").tempdir()?;
    let started = Instant::now();
    for name in ["one.txt", "two.txt"] {
        write_one_line(&dir.path().join(name))?;
    }
    println!(
        "huge_lines: two files of one {} MB line each, written in {:.1} s",
        FILE_BYTES / (1024 * 1024),
        started.elapsed().as_secs_f64()
    );
    let me = std::env::current_exe()?;
    for case in ["baseline", "read", "grep", "grep-end"] {
        let out = Command::new(&me)
            .arg("--case")
            .arg(case)
            .arg(dir.path())
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "case {case} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(())
}

/// A file of one line: `needle` near its start and `🎉 needle` at its end,
/// filler between.
fn write_one_line(path: &Path) -> Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let start = b"start needle ";
    let end = "🎉 needle\n".as_bytes();
    file.write_all(start)?;
    let chunk = b"abcdefgh".repeat(128 * 1024);
    let mut left = FILE_BYTES - start.len() - end.len();
    while left > 0 {
        let n = left.min(chunk.len());
        file.write_all(&chunk[..n])?;
        left -= n;
    }
    file.write_all(end)?;
    file.flush()?;
    Ok(())
}

/// Runs one case in this (fresh) process and prints its figures.
fn run_case(case: &str, dir: &Path) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let registry = ToolRegistry::builtin();
    let ctx = Context::new(dir);
    let call = match case {
        "baseline" => None,
        "read" => Some(("read", r#"{"path": "one.txt"}"#)),
        "grep" => Some(("grep", r#"{"pattern": "needle"}"#)),
        "grep-end" => Some(("grep", r#"{"pattern": "🎉 needle$"}"#)),
        other => return Err(format!("unknown case {other}").into()),
    };
    let started = Instant::now();
    let summary = match call {
        None => "nothing run".to_owned(),
        Some((tool, args)) => {
            let outcome = runtime.block_on(registry.dispatch(tool, args, &ctx));
            let shown: String = outcome.output.chars().take(60).collect();
            format!(
                "{} bytes of output{}, starting {shown:?}",
                outcome.output.len(),
                if outcome.is_error { " (an error)" } else { "" }
            )
        }
    };
    let elapsed = started.elapsed();
    println!(
        "{case:>8}: peak RSS {:.1} MB in {:.2} s; {summary}",
        peak_rss_kib()? as f64 / 1024.0,
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// This process's peak resident set size (`VmHWM`), in KiB.
fn peak_rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .ok_or("VmHWM has no value")?
        .parse()?;
    Ok(kib)
}

/// The least a tool needs: a working directory and a policy over it.
struct Context {
    root: PathBuf,
    policy: PathPolicy,
    cancel: CancellationToken,
    bash: BashSettings,
}

impl Context {
    fn new(root: &Path) -> Self {
        Context {
            root: root.to_path_buf(),
            policy: PathPolicy::new(root.to_path_buf()),
            cancel: CancellationToken::new(),
            bash: BashSettings::default(),
        }
    }
}

impl ToolContext for Context {
    fn working_dir(&self) -> &Path {
        &self.root
    }
    fn path_policy(&self) -> &PathPolicy {
        &self.policy
    }
    fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }
    fn bash_settings(&self) -> &BashSettings {
        &self.bash
    }
    fn set_todos(&self, _todos: Vec<Todo>) {}
    fn session_id(&self) -> &str {
        "ses_bench"
    }
}
