//! `shell_output` and `shell_kill`: the model's handles on its background
//! shells. Both reach only the shells of the calling session.

mod kill;
mod output;

pub(crate) use kill::ShellKillTool;
pub(crate) use output::ShellOutputTool;

use crate::{ShellInfo, ShellManager, ShellStatus, ToolContext, ToolError};

/// Commands longer than this are shortened in messages.
const SHOWN_COMMAND_CHARS: usize = 80;

/// The manager and the shell `id`, if it belongs to the calling session;
/// else an error that says why and which shells there are.
fn session_shell<'a>(
    ctx: &'a dyn ToolContext,
    id: &str,
) -> Result<(&'a ShellManager, ShellInfo), ToolError> {
    let id = id.trim();
    let Some(shells) = ctx.shells() else {
        return Err(ToolError::Failed(format!(
            "shells are not available here: no background shells can run in this context, so \
             there is no shell `{id}`. Run commands with `bash` in the foreground instead"
        )));
    };
    match shells.get(id) {
        Some(info) if info.session_id == ctx.session_id() => Ok((shells, info)),
        Some(_) => Err(ToolError::Failed(format!(
            "shell `{id}` belongs to another session; you can only use the shells this session \
             started. {}",
            session_shells(shells, ctx.session_id())
        ))),
        None => Err(ToolError::Failed(format!(
            "there is no shell `{id}`. {}",
            session_shells(shells, ctx.session_id())
        ))),
    }
}

/// A sentence listing the session's background shells.
fn session_shells(shells: &ShellManager, session_id: &str) -> String {
    let list = shells.list(Some(session_id));
    if list.is_empty() {
        return "This session has no background shells.".to_owned();
    }
    let shown: Vec<String> = list
        .iter()
        .map(|info| {
            format!(
                "{} ({}: `{}`)",
                info.id,
                status_phrase(info.status, info.exit_code),
                shown_command(&info.command)
            )
        })
        .collect();
    format!("This session's shells: {}.", shown.join(", "))
}

/// "running", "exited with code 3", "ended by a signal" or "killed".
fn status_phrase(status: ShellStatus, exit_code: Option<i32>) -> String {
    match (status, exit_code) {
        (ShellStatus::Running, _) => "running".to_owned(),
        (ShellStatus::Exited, Some(code)) => format!("exited with code {code}"),
        (ShellStatus::Exited, None) => "ended by a signal".to_owned(),
        (ShellStatus::Killed, _) => "killed".to_owned(),
    }
}

/// The command on one line, shortened when long.
fn shown_command(command: &str) -> String {
    let one_line = command.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > SHOWN_COMMAND_CHARS {
        let short: String = one_line.chars().take(SHOWN_COMMAND_CHARS).collect();
        format!("{short}…")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests;
