//! Starting a shell's process and watching it to the end: the one place
//! that spawns commands.
//!
//! The command runs in its own process group with stdout and stderr on
//! one pipe. A task per shell reads the pipe into the shell, waits for the
//! main process, stops the group when asked (SIGTERM, then SIGKILL), kills
//! whatever of the group is left once the main process ended, and records
//! the end.

use super::process_group::{GroupGuard, GroupSignal, signal_group};
use super::{Ending, Shell, ShellEvents};
use crate::sandbox::{self, Prepared, Refusals};
use crate::{SandboxSettings, ToolError};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio::process::Child;

/// How long a stopped command gets between SIGTERM and SIGKILL.
const TERMINATE_GRACE: Duration = Duration::from_secs(2);
/// How long we keep reading output after the command ended, when some
/// process outside its group still holds the output pipe open.
const DRAIN_GRACE: Duration = Duration::from_secs(1);
/// How much output one read takes at most.
const READ_CHUNK: usize = 16 * 1024;

/// A started command.
pub(super) struct Spawned {
    child: Child,
    output: pipe::Receiver,
    refusals: Option<Arc<Refusals>>,
}

impl Spawned {
    /// The process id of the shell, which is also its process group id.
    pub(super) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// What its sandbox allowed, when it runs in one.
    pub(super) fn refusals(&self) -> Option<Arc<Refusals>> {
        self.refusals.clone()
    }
}

/// Starts `{shell} -c command` in `working_dir`, in a process group of its
/// own, with empty stdin and stdout and stderr on one pipe, confined by
/// `sandbox` (the ruleset is made here, before the fork, and enforced in
/// the child before it runs the shell).
pub(super) fn spawn(
    shell: &str,
    command: &str,
    working_dir: &Path,
    sandbox: &SandboxSettings,
) -> Result<Spawned, ToolError> {
    let prepared = sandbox::prepare(sandbox, working_dir)?;
    let (sender, output) =
        pipe::pipe().map_err(|err| ToolError::io("create an output pipe for", shell, err))?;
    let stdout = sender
        .into_blocking_fd()
        .map_err(|err| ToolError::io("set up the output pipe for", shell, err))?;
    let stderr = stdout
        .try_clone()
        .map_err(|err| ToolError::io("set up the output pipe for", shell, err))?;

    let mut process = tokio::process::Command::new(shell);
    process
        .arg("-c")
        .arg(command)
        .current_dir(working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .env("PAGER", "cat")
        .env("GIT_PAGER", "cat")
        .process_group(0)
        .kill_on_drop(true);
    let refusals = match prepared {
        Prepared::Unconfined => None,
        Prepared::Confined { ruleset, refusals } => {
            ruleset.confine(&mut process);
            Some(refusals)
        }
    };
    let child = process
        .spawn()
        .map_err(|err| ToolError::Failed(format!("could not start the shell `{shell}`: {err}")))?;
    // The command holds our copies of the pipe's write end: close them, or
    // the output never reaches end-of-file.
    drop(process);
    Ok(Spawned {
        child,
        output,
        refusals,
    })
}

/// Why the main loop stopped.
enum Stop {
    Exited(ExitStatus),
    KillRequested,
}

/// Watches a started command to its end and records the end in `shell`.
/// If this task is dropped (runtime shutdown), the group is killed.
pub(super) async fn supervise(shell: Arc<Shell>, spawned: Spawned, events: Arc<dyn ShellEvents>) {
    let Spawned {
        mut child,
        mut output,
        ..
    } = spawned;
    let pgid = child.id();
    let guard = GroupGuard::new(pgid);
    let mut buf = vec![0u8; READ_CHUNK];
    let mut open = true;
    let kill = shell.kill_requested().clone();

    let stop = loop {
        tokio::select! {
            read = output.read(&mut buf), if open => match read {
                Ok(0) | Err(_) => open = false,
                Ok(n) => shell.push(&buf[..n]),
            },
            status = child.wait() => match status {
                Ok(status) => break Stop::Exited(status),
                Err(err) => {
                    tracing::warn!(shell = %shell.id(), %err, "cannot wait for the shell; stopping it");
                    break Stop::KillRequested;
                }
            },
            () = kill.cancelled() => break Stop::KillRequested,
        }
    };

    if let Some(pgid) = pgid {
        if matches!(stop, Stop::KillRequested) {
            signal_group(pgid, GroupSignal::Terminate);
            let grace = tokio::time::sleep(TERMINATE_GRACE);
            tokio::pin!(grace);
            loop {
                tokio::select! {
                    read = output.read(&mut buf), if open => match read {
                        Ok(0) | Err(_) => open = false,
                        Ok(n) => shell.push(&buf[..n]),
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
        tracing::warn!(shell = %shell.id(), %err, "could not reap the shell");
    }
    guard.disarm();
    let complete = drain(&mut output, &shell, &mut buf, open).await;

    let ending = match stop {
        Stop::Exited(status) => Ending::Exited(status),
        Stop::KillRequested => Ending::Killed,
    };
    tracing::debug!(shell = %shell.id(), ?ending, "shell ended");
    shell.finish(ending, complete, events.as_ref()).await;
}

/// Reads what is left of the output, for at most [`DRAIN_GRACE`]. Returns
/// false if the pipe was still open when we gave up.
async fn drain(output: &mut pipe::Receiver, shell: &Shell, buf: &mut [u8], open: bool) -> bool {
    if !open {
        return true;
    }
    let read_all = async {
        loop {
            match output.read(buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => shell.push(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(DRAIN_GRACE, read_all).await.is_ok()
}
