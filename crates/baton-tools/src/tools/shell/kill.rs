//! `shell_kill`: stop a background shell and everything it started.

use super::{session_shell, shown_command, status_phrase};
use crate::schema::{parse_args, schema_for};
use crate::{ShellStatus, Tool, ToolContext, ToolError};

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ShellKillArgs {
    /// The shell's id (`sh_…`), as `bash` returned it.
    shell_id: String,
}

/// The `shell_kill` tool.
pub(crate) struct ShellKillTool;

#[async_trait::async_trait]
impl Tool for ShellKillTool {
    fn name(&self) -> &'static str {
        "shell_kill"
    }

    fn description(&self) -> String {
        "Stop a background shell: its command and every process it started get SIGTERM, then \
         SIGKILL after a short grace. Returns once they are gone. Its output stays readable \
         with `shell_output`."
            .to_owned()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<ShellKillArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: ShellKillArgs = parse_args(args)?;
        let (shells, info) = session_shell(ctx, &args.shell_id)?;
        let command = shown_command(&info.command);
        if info.status != ShellStatus::Running {
            return Ok(format!(
                "Shell {} (`{command}`) is not running ({}); nothing to kill.",
                info.id,
                status_phrase(info.status, info.exit_code)
            ));
        }
        let ended = shells.kill(info.id.as_str()).await?;
        Ok(match ended.status {
            ShellStatus::Killed => format!(
                "Killed shell {} (`{command}`) and every process it started. Its last output: \
                 shell_output with shell_id={}.",
                ended.id, ended.id
            ),
            status => format!(
                "Shell {} (`{command}`) ended before it could be killed ({}).",
                ended.id,
                status_phrase(status, ended.exit_code)
            ),
        })
    }
}
