//! `shell_output`: what a background shell printed since the last look.

use super::{session_shell, shown_command, status_phrase};
use crate::schema::{parse_args, schema_for};
use crate::shells::HeadTail;
use crate::{Tool, ToolContext, ToolError};

/// The largest compiled `filter` we accept.
const FILTER_SIZE_LIMIT: usize = 1024 * 1024;

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ShellOutputArgs {
    /// The shell's id (`sh_…`), as `bash` returned it.
    shell_id: String,
    /// A regular expression: return only the new lines that match it (the others are skipped, not kept for later).
    filter: Option<String>,
}

/// The `shell_output` tool.
pub(crate) struct ShellOutputTool;

#[async_trait::async_trait]
impl Tool for ShellOutputTool {
    fn name(&self) -> &'static str {
        "shell_output"
    }

    fn description(&self) -> String {
        "Read what a background shell (started with `bash` and `background: true`, or moved to \
         the background) printed since the last `shell_output` call for it, with its status: \
         running, exited with its exit code, or killed. Set `filter` to a regular expression to \
         see only the matching lines. Only the last part of the output is kept in memory; if \
         you read rarely, older output is dropped (the reply says how much) but stays in the \
         shell's log file."
            .to_owned()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<ShellOutputArgs>()
    }

    fn is_read_only(&self) -> bool {
        true
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: ShellOutputArgs = parse_args(args)?;
        let filter = args
            .filter
            .as_deref()
            .map(|pattern| {
                regex::RegexBuilder::new(pattern)
                    .size_limit(FILTER_SIZE_LIMIT)
                    .build()
                    .map_err(|err| {
                        ToolError::invalid(format!(
                            "`filter` is not a valid regular expression: {err}"
                        ))
                    })
            })
            .transpose()?;
        let (shells, info) = session_shell(ctx, &args.shell_id)?;
        let read = shells.read_new(info.id.as_str(), filter.as_ref())?;

        let mut text = format!(
            "Shell {} (`{}`): {}.",
            info.id,
            shown_command(&info.command),
            status_phrase(read.status, read.exit_code)
        );
        if read.dropped_bytes > 0 {
            text.push_str(&format!(
                "\n({} bytes of output were dropped before they were read; the full output is in \
                 the log {}.)",
                read.dropped_bytes,
                info.log_path.display()
            ));
        }
        text.push('\n');
        if read.output.is_empty() {
            match &args.filter {
                Some(pattern) => text.push_str(&format!("(no new output matching `{pattern}`)")),
                None => text.push_str("(no new output)"),
            }
        } else {
            let max = ctx.bash_settings().max_output_bytes;
            let mut capture = HeadTail::new(max);
            capture.push(read.output.as_bytes());
            text.push_str(&capture.render());
            if read.output.len() > max {
                text.push_str(&format!(
                    "\n(the middle was left out; the full output is in the log {}.)",
                    info.log_path.display()
                ));
            }
        }
        if let Some(note) = read.sandbox_note {
            text.push('\n');
            text.push_str(&note);
        }
        Ok(text)
    }
}
