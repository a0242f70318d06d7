//! `bash`: run a shell command in the working directory.
//!
//! The command runs in its own process group so that a timeout or a
//! cancelled session stops everything it started, grandchildren included.

mod capture;
mod process_group;

use crate::schema::{parse_args, schema_for};
use crate::{Tool, ToolContext, ToolError};
use capture::HeadTail;
use process_group::{GroupGuard, GroupSignal, signal_group};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio_util::sync::CancellationToken;

/// How long a stopped command gets between SIGTERM and SIGKILL.
const TERMINATE_GRACE: Duration = Duration::from_secs(2);
/// How long we keep reading output after the command ended, when some
/// process outside its group still holds the output pipe open.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BashArgs {
    /// The command line, run with `bash -c` (or `sh -c`) in the working directory.
    command: String,
    /// Time limit in milliseconds (default 120000; larger values are lowered to the maximum).
    #[schemars(range(min = 1))]
    timeout_ms: Option<u64>,
    /// Run in the background and return at once (not available yet).
    #[serde(default)]
    background: bool,
    /// A few words saying what the command does, shown to the user.
    description: Option<String>,
}

/// The `bash` tool.
pub(crate) struct BashTool;

#[async_trait::async_trait]
impl Tool for BashTool {
    fn name(&self) -> &'static str {
        "bash"
    }

    fn description(&self) -> String {
        "Run a shell command in the working directory and return its output (stdout and stderr \
         interleaved) and exit code. A non-zero exit code is reported, not treated as a tool \
         failure. Stdin is empty, so interactive programs will not work: pass flags such as \
         `--yes` or `--no-pager`. The default time limit is 120 s (set `timeout_ms`, up to the \
         configured maximum); on timeout the command and every process it started are killed. \
         Processes still running in the background when the command exits are killed too, so \
         do not start servers or watchers with `&`. Long output keeps its beginning and end. \
         Prefer the `read`, `glob`, `grep`, `list`, `edit` and `write` tools over `cat`, \
         `find`, `grep`, `ls`, `sed` and `echo >` for files."
            .to_owned()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<BashArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: BashArgs = parse_args(args)?;
        if args.background {
            return Err(ToolError::Failed(
                "background shells are not available in this build yet; run the command in the \
                 foreground (leave out `background`) with a suitable `timeout_ms`"
                    .to_owned(),
            ));
        }
        if args.command.trim().is_empty() {
            return Err(ToolError::invalid("`command` is empty"));
        }
        let settings = ctx.bash_settings();
        let timeout = match args.timeout_ms {
            Some(0) => return Err(ToolError::invalid("`timeout_ms` must be at least 1")),
            Some(ms) => Duration::from_millis(ms).min(settings.max_timeout),
            None => settings.default_timeout,
        };
        tracing::debug!(
            command = %args.command,
            description = args.description.as_deref().unwrap_or(""),
            timeout_ms = timeout.as_millis(),
            "running shell command"
        );
        let run = Run {
            shell: &settings.shell,
            command: &args.command,
            working_dir: ctx.working_dir(),
            timeout,
            max_output_bytes: settings.max_output_bytes,
            cancel: ctx.cancel(),
        };
        run.execute().await
    }
}

/// One command execution.
struct Run<'a> {
    shell: &'a str,
    command: &'a str,
    working_dir: &'a Path,
    timeout: Duration,
    max_output_bytes: usize,
    cancel: &'a CancellationToken,
}

/// Why the command stopped.
enum Ending {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

impl Run<'_> {
    async fn execute(self) -> Result<String, ToolError> {
        let started = Instant::now();
        let (sender, mut output) = pipe::pipe()
            .map_err(|err| ToolError::io("create an output pipe for", self.shell, err))?;
        let stdout = sender
            .into_blocking_fd()
            .map_err(|err| ToolError::io("set up the output pipe for", self.shell, err))?;
        let stderr = stdout
            .try_clone()
            .map_err(|err| ToolError::io("set up the output pipe for", self.shell, err))?;

        let mut command = tokio::process::Command::new(self.shell);
        command
            .arg("-c")
            .arg(self.command)
            .current_dir(self.working_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::from(stderr))
            .env("PAGER", "cat")
            .env("GIT_PAGER", "cat")
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|err| {
            ToolError::Failed(format!("could not start the shell `{}`: {err}", self.shell))
        })?;
        // The command holds our copies of the pipe's write end: close them,
        // or the output never reaches end-of-file.
        drop(command);
        let pgid = child.id();
        let guard = GroupGuard::new(pgid);

        let mut capture = HeadTail::new(self.max_output_bytes);
        let mut buf = vec![0u8; 16 * 1024];
        let mut open = true;
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        let ending = loop {
            tokio::select! {
                read = output.read(&mut buf), if open => match read {
                    Ok(0) | Err(_) => open = false,
                    Ok(n) => capture.push(&buf[..n]),
                },
                status = child.wait() => break match status {
                    Ok(status) => Ending::Exited(status),
                    Err(err) => {
                        return Err(ToolError::Failed(format!("could not wait for the command: {err}")));
                    }
                },
                () = &mut deadline => break Ending::TimedOut,
                () = self.cancel.cancelled() => break Ending::Cancelled,
            }
        };

        if let Some(pgid) = pgid {
            if !matches!(ending, Ending::Exited(_)) {
                signal_group(pgid, GroupSignal::Terminate);
                let grace = tokio::time::sleep(TERMINATE_GRACE);
                tokio::pin!(grace);
                loop {
                    tokio::select! {
                        read = output.read(&mut buf), if open => match read {
                            Ok(0) | Err(_) => open = false,
                            Ok(n) => capture.push(&buf[..n]),
                        },
                        _ = child.wait() => break,
                        () = &mut grace => break,
                    }
                }
            }
            // Whatever is left of the group: grandchildren that ignored
            // SIGTERM, or background jobs the command left behind.
            signal_group(pgid, GroupSignal::Kill);
        }
        if let Err(err) = child.wait().await {
            tracing::warn!(%err, "could not reap the shell");
        }
        guard.disarm();
        let drained = drain(&mut output, &mut capture, &mut buf, open).await;

        let mut text = capture.render();
        if !drained {
            text.push_str(
                "\n(stopped reading output: a process that left the command's process group \
                 still holds it open)",
            );
        }
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match ending {
            Ending::Exited(status) => Ok(finish(text, status)),
            Ending::TimedOut => Err(ToolError::TimedOut {
                timeout_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
                output: or_no_output(text),
            }),
            Ending::Cancelled => Err(ToolError::CommandCancelled {
                elapsed_ms,
                output: or_no_output(text),
            }),
        }
    }
}

/// Reads what is left of the output, for at most [`DRAIN_GRACE`]. Returns
/// false if the pipe was still open when we gave up.
async fn drain(
    output: &mut pipe::Receiver,
    capture: &mut HeadTail,
    buf: &mut [u8],
    open: bool,
) -> bool {
    if !open {
        return true;
    }
    let read_all = async {
        loop {
            match output.read(buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => capture.push(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(DRAIN_GRACE, read_all).await.is_ok()
}

fn or_no_output(text: String) -> String {
    if text.is_empty() {
        "(no output)".to_owned()
    } else {
        text
    }
}

/// The result text: the output, then a line with the exit code (and a
/// clear `command failed` line before it when it is not zero).
fn finish(text: String, status: ExitStatus) -> String {
    let mut out = or_no_output(text);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    match (status.code(), status.signal()) {
        (Some(0), _) => out.push_str("exit code: 0"),
        (Some(code), _) => out.push_str(&format!("command failed\nexit code: {code}")),
        (None, Some(signal)) => out.push_str(&format!(
            "command failed: killed by signal {signal}\nexit code: {}",
            128 + signal
        )),
        (None, None) => out.push_str("command failed\nexit code: unknown"),
    }
    out
}

#[cfg(test)]
mod tests;
