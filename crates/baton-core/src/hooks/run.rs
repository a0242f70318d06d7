//! Running one hook command: `sh -c` in its own process group, the event
//! as JSON on stdin, bounded by its timeout; and reading what it said.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes of a hook's stdout and stderr kept (each).
const OUTPUT_CAP: u64 = 64 * 1024;

/// How a hook process ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// It exited (a signal gives no code).
    Exited {
        code: Option<i32>,
        stdout: String,
        stderr: String,
    },
    /// It ran past its timeout and its process group was killed.
    TimedOut,
    /// It could not be started.
    NotStarted(String),
}

/// A finished hook run.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) exit: Exit,
    pub(crate) elapsed: Duration,
}

/// Kills the hook's process group when dropped: on a timeout, and when the
/// call waiting for the hook is dropped (a cancelled turn).
struct GroupGuard(Option<u32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            crate::engine::kill_group(pgid);
        }
    }
}

/// Runs `command` with `input` on its stdin.
pub(crate) async fn run_command(command: &str, cwd: &Path, input: &[u8], timeout: Duration) -> Ran {
    let started = Instant::now();
    let exit = run_inner(command, cwd, input, timeout).await;
    Ran {
        exit,
        elapsed: started.elapsed(),
    }
}

async fn run_inner(command: &str, cwd: &Path, input: &[u8], timeout: Duration) -> Exit {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .env("CLAUDE_PROJECT_DIR", cwd)
        .env("BATON_PROJECT_DIR", cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return Exit::NotStarted(format!("cannot start `sh`: {e}")),
    };
    let mut guard = GroupGuard(child.id());
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let input = input.to_vec();
    let work = async move {
        let feed = async move {
            if let Some(mut stdin) = stdin {
                // A hook that does not read its input is fine.
                let _ = stdin.write_all(&input).await;
            }
        };
        let (_, out, err, status) =
            tokio::join!(feed, read_capped(stdout), read_capped(stderr), child.wait());
        (out, err, status)
    };
    match tokio::time::timeout(timeout, work).await {
        Ok((stdout, stderr, status)) => {
            // Whatever it left running in its group goes with it.
            drop(guard);
            match status {
                Ok(status) => Exit::Exited {
                    code: status.code(),
                    stdout,
                    stderr,
                },
                Err(e) => Exit::NotStarted(format!("cannot wait for the hook: {e}")),
            }
        }
        Err(_) => {
            if let Some(pgid) = guard.0.take() {
                crate::engine::kill_group(pgid);
            }
            Exit::TimedOut
        }
    }
}

/// A pipe's text, at most [`OUTPUT_CAP`] bytes of it (the rest is read
/// and dropped, so the hook never blocks on a full pipe).
async fn read_capped<R: tokio::io::AsyncRead + Unpin>(pipe: Option<R>) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut kept = Vec::new();
    let _ = (&mut pipe).take(OUTPUT_CAP).read_to_end(&mut kept).await;
    let _ = tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await;
    String::from_utf8_lossy(&kept).into_owned()
}
