//! `bash`: run a shell command in the working directory.
//!
//! Every command runs as a shell of a [`ShellManager`] (the engine's, or a
//! private one when the context offers none), in its own process group, so
//! that a timeout or a cancelled session stops everything it started,
//! grandchildren included. With the engine's manager a command can also
//! start in the background, or move there when it runs past its time limit
//! or when someone asks.

use crate::schema::{parse_args, schema_for};
use crate::shells::{Ending, Foreground, ShellSpec};
use crate::{ShellInfo, ShellManager, Tool, ToolContext, ToolError};
use baton_protocol::ShellId;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BashArgs {
    /// The command line, run with `bash -c` (or `sh -c`) in the working directory.
    command: String,
    /// Time limit in milliseconds (default 120000; larger values are lowered to the maximum). Not used with `background`.
    #[schemars(range(min = 1))]
    timeout_ms: Option<u64>,
    /// Start in the background and return at once with a shell id; read its output with `shell_output`, stop it with `shell_kill`. You get a notice when it exits.
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
         configured maximum); a command still running at its limit is moved to the background \
         (you get its shell id and the output so far) or, where background shells are not \
         available, killed with every process it started. For servers, watchers and other long \
         jobs, set `background: true`: the call returns at once with a shell id; read new output \
         with `shell_output`, stop it with `shell_kill`, and you get a notice when it exits. \
         Processes a foreground command leaves running with `&` are killed when it exits. Long \
         output keeps its beginning and end. Prefer the `read`, `glob`, `grep`, `list`, `edit` \
         and `write` tools over `cat`, `find`, `grep`, `ls`, `sed` and `echo >` for files."
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
            background = args.background,
            "running shell command"
        );
        let spec = ShellSpec {
            shell: &settings.shell,
            command: &args.command,
            working_dir: ctx.working_dir(),
            session_id: ctx.session_id(),
            description: args.description.as_deref(),
            sandbox: &settings.sandbox,
        };
        if args.background {
            let Some(shells) = ctx.shells() else {
                return Err(ToolError::Failed(
                    "background shells are not available here; run the command in the \
                     foreground (leave out `background`) with a suitable `timeout_ms`"
                        .to_owned(),
                ));
            };
            let info = shells.start_background(spec)?;
            return Ok(started_text(&info));
        }

        let detached;
        let manager = match ctx.shells() {
            Some(shells) => shells,
            None => {
                detached = ShellManager::detached();
                &detached
            }
        };
        let movable = ctx.shells().is_some();
        let run = Run {
            timeout,
            timeout_to_background: movable && settings.timeout_to_background,
            background_requested: ctx.background_requested().filter(|_| movable),
            cancel: ctx.cancel(),
        };
        let foreground =
            manager.start_foreground(spec, settings.max_output_bytes, ctx.live_output())?;
        run.wait(foreground).await
    }
}

/// How a foreground command is waited for.
struct Run<'a> {
    timeout: Duration,
    /// Move it to the background at the time limit (instead of killing it).
    timeout_to_background: bool,
    /// Fires when it should move to the background now.
    background_requested: Option<&'a CancellationToken>,
    cancel: &'a CancellationToken,
}

/// Why the wait for the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    Finished,
    TimedOut,
    Cancelled,
    MoveRequested,
}

impl Run<'_> {
    async fn wait(self, mut foreground: Foreground<'_>) -> Result<String, ToolError> {
        let started = Instant::now();
        let move_requested = async {
            match self.background_requested {
                Some(requested) => requested.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let wake = tokio::select! {
            () = foreground.finished() => Wake::Finished,
            () = tokio::time::sleep(self.timeout) => Wake::TimedOut,
            () = self.cancel.cancelled() => Wake::Cancelled,
            () = move_requested => Wake::MoveRequested,
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let timeout_ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
        let move_now = match wake {
            Wake::MoveRequested => true,
            Wake::TimedOut => self.timeout_to_background,
            Wake::Finished | Wake::Cancelled => false,
        };
        if move_now {
            if let Some(moved) = foreground.move_to_background().await {
                let id = &moved.info.id;
                let lead = if wake == Wake::TimedOut {
                    format!(
                        "Still running after {timeout_ms} ms; moved to the background as shell \
                         {id}."
                    )
                } else {
                    format!(
                        "Moved to the background on request after {elapsed_ms} ms, still \
                         running, as shell {id}."
                    )
                };
                return Ok(moved_text(&lead, id, moved.output_so_far));
            }
        } else if wake != Wake::Finished {
            foreground.stop().await;
        }
        foreground.finished().await;
        let Some(outcome) = foreground.outcome() else {
            return Err(ToolError::Failed(format!(
                "lost track of the command (shell {}); its end was not recorded",
                foreground.id()
            )));
        };
        match (wake, outcome.ending) {
            (_, Ending::Exited(status)) => Ok(finish(outcome.output, status, outcome.sandbox_note)),
            (Wake::TimedOut, Ending::Killed) => Err(ToolError::TimedOut {
                timeout_ms,
                output: or_no_output(outcome.output),
            }),
            (_, Ending::Killed) => Err(ToolError::CommandCancelled {
                elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                output: or_no_output(outcome.output),
            }),
        }
    }
}

/// The result of `background: true`.
fn started_text(info: &ShellInfo) -> String {
    let pid = info
        .pid
        .map(|pid| format!(" (pid {pid})"))
        .unwrap_or_default();
    format!(
        "Started in the background as shell {id}{pid}. Read its output with shell_output \
         (shell_id={id}); stop it with shell_kill. You will get a notice when it exits.",
        id = info.id
    )
}

/// The result of a foreground command that moved to the background.
fn moved_text(lead: &str, id: &ShellId, output_so_far: String) -> String {
    let mut so_far = or_no_output(output_so_far);
    if !so_far.ends_with('\n') {
        so_far.push('\n');
    }
    format!(
        "{lead} Output so far:\n{so_far}Use shell_output with shell_id={id} to read what it \
         prints next, or shell_kill to stop it; you will get a notice when it exits."
    )
}

fn or_no_output(text: String) -> String {
    if text.is_empty() {
        "(no output)".to_owned()
    } else {
        text
    }
}

/// The result text: the output, then a line with the exit code (and a
/// clear `command failed` line before it when it is not zero), then the
/// sandbox's note when it refused a write.
fn finish(text: String, status: ExitStatus, sandbox_note: Option<String>) -> String {
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
    if let Some(note) = sandbox_note {
        out.push('\n');
        out.push_str(&note);
    }
    out
}

#[cfg(test)]
mod tests;
