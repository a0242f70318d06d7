//! The set of tools a session offers, and the one entry point that runs a
//! model's tool call without ever failing.

use crate::panics::{CrashSite, quiet_tool_panics};
use crate::schema::{check_arguments, describe_parameters};
use crate::tools::{
    BashTool, EditTool, GlobTool, GrepTool, ListTool, ReadTool, ShellKillTool, ShellOutputTool,
    TodoWriteTool, WriteTool,
};
use crate::{Tool, ToolContext, ToolError};
use futures::FutureExt;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// What a tool call produced: the text the model reads, whether it is an
/// error, and any images it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutcome {
    /// The text for the model.
    pub output: String,
    /// Whether the call failed.
    pub is_error: bool,
    /// Images the tool returned (see [`baton_protocol::Part::ToolResult`]).
    pub images: Vec<baton_protocol::Image>,
}

impl ToolOutcome {
    /// A successful result.
    pub fn ok(output: impl Into<String>) -> Self {
        ToolOutcome {
            output: output.into(),
            is_error: false,
            images: Vec::new(),
        }
    }

    /// A failed result.
    pub fn error(output: impl Into<String>) -> Self {
        ToolOutcome {
            output: output.into(),
            is_error: true,
            images: Vec::new(),
        }
    }
}

/// Tools by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRegistry")
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ToolRegistry {
    /// All built-in tools: read, write, edit, glob, grep, list, bash,
    /// shell_output, shell_kill, todo_write.
    pub fn builtin() -> ToolRegistry {
        ToolRegistry::with_tools(vec![
            Arc::new(ReadTool),
            Arc::new(WriteTool),
            Arc::new(EditTool),
            Arc::new(GlobTool),
            Arc::new(GrepTool),
            Arc::new(ListTool),
            Arc::new(BashTool),
            Arc::new(ShellOutputTool),
            Arc::new(ShellKillTool),
            Arc::new(TodoWriteTool),
        ])
    }

    /// A registry of exactly these tools (a later one replaces an earlier
    /// one of the same name).
    pub fn with_tools(tools: Vec<Arc<dyn Tool>>) -> ToolRegistry {
        let mut registry = ToolRegistry::default();
        for tool in tools {
            registry.register(tool);
        }
        registry
    }

    /// Adds a tool, replacing any tool of the same name.
    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        self.tools.insert(tool.name().to_owned(), tool);
    }

    /// Keeps only the tools whose name `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.tools.retain(|name, _| keep(name));
    }

    /// The tools as offered to a model, sorted by name.
    pub fn specs(&self) -> Vec<baton_protocol::ToolSpec> {
        self.tools
            .values()
            .map(|tool| baton_protocol::ToolSpec {
                name: tool.name().to_owned(),
                description: tool.description(),
                parameters: tool.parameters(),
            })
            .collect()
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).cloned()
    }

    /// The names of all tools, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.tools.keys().map(String::as_str).collect()
    }

    /// Whether `name` is a read-only tool (an unknown tool is not).
    pub fn is_read_only(&self, name: &str) -> bool {
        self.tools.get(name).is_some_and(|tool| tool.is_read_only())
    }

    /// Runs one call from the model. Never fails: an unknown tool,
    /// arguments that are not JSON or do not fit the tool's parameters, an
    /// error from the tool, or a panic inside it all become an error
    /// outcome whose text says what went wrong and what to do instead. An
    /// empty arguments string counts as `{}`.
    ///
    /// A panic is logged with `tracing::error!` (where it happened
    /// included) and never printed: the first call installs a panic hook,
    /// once per process, that keeps panics raised inside tool calls off
    /// stderr and hands every other panic to the hook installed before.
    pub async fn dispatch(
        &self,
        name: &str,
        raw_arguments: &str,
        ctx: &dyn ToolContext,
    ) -> ToolOutcome {
        let Some(tool) = self.get(name) else {
            tracing::debug!(tool = name, "model called an unknown tool");
            return ToolOutcome::error(format!(
                "There is no tool called `{name}`. Available tools: {}.",
                self.names().join(", ")
            ));
        };
        let schema = tool.parameters();
        let invalid = |problem: &str| {
            ToolOutcome::error(format!(
                "Invalid arguments for `{name}`: {problem}.\nExpected parameters:\n{}",
                describe_parameters(&schema)
            ))
        };

        let raw = raw_arguments.trim();
        let args: serde_json::Value = if raw.is_empty() {
            serde_json::Value::Object(serde_json::Map::new())
        } else {
            match serde_json::from_str(raw) {
                Ok(args) => args,
                Err(err) => {
                    return invalid(&format!(
                        "the arguments are not valid JSON ({err}); send one JSON object"
                    ));
                }
            }
        };
        let problems = check_arguments(&args, &schema);
        if !problems.is_empty() {
            return invalid(&problems.join("; "));
        }

        quiet_tool_panics();
        let site = CrashSite::default();
        let mut call = tool.call_with_images(args, ctx);
        let marked = std::future::poll_fn(|cx| {
            let _entered = site.enter();
            call.as_mut().poll(cx)
        });
        match AssertUnwindSafe(marked).catch_unwind().await {
            Ok(Ok(output)) => ToolOutcome {
                output: output.text,
                is_error: false,
                images: output.images,
            },
            Ok(Err(ToolError::InvalidArguments { message })) => invalid(&message),
            Ok(Err(err)) => {
                tracing::debug!(tool = name, %err, "tool call failed");
                ToolOutcome::error(capitalize(&err.to_string()))
            }
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                let at = site.take();
                tracing::error!(
                    tool = name,
                    %message,
                    at = at.as_deref().unwrap_or("an unknown place"),
                    "a tool call failed unexpectedly (a bug in baton)"
                );
                ToolOutcome::error(format!(
                    "The tool `{name}` failed unexpectedly: {message}. This is a bug in baton, \
                     not in your arguments; try another way to do this."
                ))
            }
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
