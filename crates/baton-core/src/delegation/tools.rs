//! The delegation tools the model sees: `task`, `task_status`,
//! `task_output`, `task_wait`, `task_send`, `task_cancel`.
//!
//! They live in the engine (they start sessions); the tools crate only
//! sees them as more [`Tool`]s.

use super::wait::WaitOutcome;
use super::{Delegation, TaskRequest};
use crate::agents::AgentDef;
use crate::error::EngineError;
use crate::lineage::Lineage;
use async_trait::async_trait;
use baton_protocol::{SandboxMode, SessionId};
use baton_tools::{Tool, ToolContext, ToolError, ToolRegistry, cap_mode, parse_args, schema_for};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The tools a session is offered: the built-ins, plus the delegation
/// tools while nesting is below the limit, plus the MCP servers' tools
/// (`mcp`), less what its agent or any ancestor's agent does not allow.
impl Delegation {
    pub(crate) fn registry_for(
        self: &Arc<Self>,
        lineage: &Lineage,
        agent: &AgentDef,
        mcp: Vec<Arc<dyn Tool>>,
    ) -> ToolRegistry {
        let mut registry = ToolRegistry::builtin();
        for tool in mcp {
            registry.register(tool);
        }
        if lineage.depth() < self.services.config.tasks.max_depth {
            let me = Arc::downgrade(self);
            let subagents = self
                .delegable(lineage)
                .into_iter()
                .filter_map(|name| self.services.agents.get(&name))
                .map(|a| (a.name.clone(), a.description.clone()))
                .collect();
            registry.register(Arc::new(TaskTool {
                tasks: me.clone(),
                subagents,
            }));
            registry.register(Arc::new(TaskStatusTool { tasks: me.clone() }));
            registry.register(Arc::new(TaskOutputTool { tasks: me.clone() }));
            registry.register(Arc::new(TaskWaitTool { tasks: me.clone() }));
            registry.register(Arc::new(TaskSendTool { tasks: me.clone() }));
            registry.register(Arc::new(TaskCancelTool { tasks: me }));
        }
        if lineage.depth() > 0 {
            registry.register(Arc::new(MessageTool {
                tasks: Arc::downgrade(self),
            }));
        }
        #[cfg(test)]
        for tool in self
            .services
            .test_tools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            registry.register(tool.clone());
        }
        registry.retain(|tool| agent.allows_tool(tool) && lineage.allows_tool(tool));
        registry
    }
}

fn engine(tasks: &Weak<Delegation>) -> Result<Arc<Delegation>, ToolError> {
    tasks
        .upgrade()
        .ok_or_else(|| ToolError::Failed("the engine is shutting down".into()))
}

fn failed(e: EngineError) -> ToolError {
    ToolError::Failed(e.to_string())
}

fn caller(ctx: &dyn ToolContext) -> SessionId {
    SessionId::from(ctx.session_id())
}

/// Arguments of `task`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TaskArgs {
    /// 3-8 words, shown in status lists.
    description: String,
    /// Complete instructions for the sub-agent: it sees nothing of your
    /// conversation, so say everything it needs and what to report back.
    prompt: String,
    /// Which sub-agent runs it (default `general`).
    agent: Option<String>,
    /// The model to run it on, `provider/model` (default: yours).
    model: Option<String>,
    /// How hard a reasoning model thinks on it (default: the sub-agent's).
    reasoning_effort: Option<Effort>,
    /// Where its commands may write (`workspace-write`: its tree). Default
    /// and most: your sandbox.
    sandbox: Option<Sandbox>,
    /// `false`: wait and return its result (default `true`: a notice when
    /// it ends).
    background: Option<bool>,
    /// `worktree`: work in a new git worktree on branch `baton/task-<id>`
    /// (default `shared`: your tree).
    isolation: Option<Isolation>,
    /// Globs (relative to your directory, e.g. `src/parser/**`) it claims
    /// while it runs: no other agent may `write` or `edit` them.
    files: Option<Vec<String>>,
    /// A short name, unique among your tasks, for `after`.
    name: Option<String>,
    /// Names or ids of tasks started before this one: it waits for them to
    /// complete and gets their results; if one fails, it never starts.
    after: Option<Vec<String>>,
    /// Stop it (failed) at this many tokens, its sub-tasks' included.
    max_tokens: Option<u64>,
    /// The same in US dollars.
    max_cost: Option<f64>,
    /// The same in model calls.
    max_steps: Option<u64>,
}

/// Where a task's sub-agent works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Isolation {
    // Plain comments: the field's description says what each means, and
    // the model is sent a plain enum.
    // In the delegating agent's tree.
    Shared,
    // In a git worktree of its own.
    Worktree,
}

/// How hard a task's model reasons (the schema the model is sent; the
/// engine's own type is `ReasoningEffort`).
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Effort {
    Low,
    Medium,
    High,
}

impl From<Effort> for baton_protocol::ReasoningEffort {
    fn from(e: Effort) -> Self {
        match e {
            Effort::Low => Self::Low,
            Effort::Medium => Self::Medium,
            Effort::High => Self::High,
        }
    }
}

/// Where a task's commands may write (the schema the model is sent; the
/// engine's own type is `SandboxMode`).
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Sandbox {
    ReadOnly,
    WorkspaceWrite,
    Off,
}

impl From<Sandbox> for SandboxMode {
    fn from(s: Sandbox) -> Self {
        match s {
            Sandbox::ReadOnly => Self::ReadOnly,
            Sandbox::WorkspaceWrite => Self::WorkspaceWrite,
            Sandbox::Off => Self::Off,
        }
    }
}

struct TaskTool {
    tasks: Weak<Delegation>,
    /// The sub-agents the calling session may use, with descriptions.
    subagents: Vec<(String, String)>,
}

#[async_trait]
impl Tool for TaskTool {
    fn name(&self) -> &'static str {
        "task"
    }

    fn description(&self) -> String {
        let agents: Vec<String> = self
            .subagents
            .iter()
            .map(|(name, description)| format!("- {name}: {description}"))
            .collect();
        format!(
            "Delegate a task to a sub-agent in its own session, in the background by default: \
             the call returns at once with a task id, and the result comes as a notice when it \
             ends. Start several tasks at once to work in parallel; do not poll. Tasks that change files in \
             parallel should claim them with `files`, or use isolation=\"worktree\". For a \
             pipeline (QA after two developers), use `name` and `after`, all in one reply.\nSub-agents you can use (`agent`):\n{}",
            agents.join("\n")
        )
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<TaskArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: TaskArgs = parse_args(args)?;
        let shared = engine(&self.tasks)?;
        let parent = caller(ctx);
        let background = args.background.unwrap_or(true);
        let sandbox = cap_mode(
            args.sandbox.map(Into::into),
            ctx.bash_settings().sandbox.mode,
        );
        let record = shared
            .spawn(
                &parent,
                TaskRequest {
                    description: args.description,
                    prompt: args.prompt,
                    agent: args.agent,
                    model: args.model,
                    background,
                    worktree: args.isolation == Some(Isolation::Worktree),
                    files: args.files.unwrap_or_default(),
                    reasoning_effort: args.reasoning_effort.map(Into::into),
                    sandbox: sandbox.mode,
                    name: args.name,
                    after: args.after.unwrap_or_default(),
                    budget: baton_protocol::api::Budget {
                        max_tokens: args.max_tokens,
                        max_cost: args.max_cost,
                        max_steps: args.max_steps,
                    },
                },
            )
            .await
            .map_err(failed)?;
        let mut started = format!(
            "Task {} started: agent {}, model {}, child session {}, status {}.",
            record.id, record.agent, record.model, record.child_session_id, record.status
        );
        if let Some(capped) = sandbox.explanation() {
            started.push(' ');
            started.push_str(&capped);
        }
        if background {
            return Ok(format!(
                "{started} You get a notice with its result when it ends; go on meanwhile."
            ));
        }
        let ids = [record.id.to_string()];
        let outcome = shared
            .wait(
                &parent,
                Some(&ids),
                false,
                None,
                ctx.cancel(),
                ctx.background_requested(),
            )
            .await
            .map_err(failed)?;
        Ok(format!("{started}\n{}", describe_wait(&outcome)))
    }
}

/// Arguments of `message`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MessageArgs {
    /// `parent`, or a sibling task's name or id.
    to: String,
    /// What to tell them.
    text: String,
}

struct MessageTool {
    tasks: Weak<Delegation>,
}

#[async_trait]
impl Tool for MessageTool {
    fn name(&self) -> &'static str {
        "message"
    }

    fn description(&self) -> String {
        "Tell your parent (to = \"parent\") or a sibling task (its name or id) something \
         before you end: progress, a finding they need, a question. It arrives as a notice; \
         you go on at once. An answer comes as a message to you."
            .into()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<MessageArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: MessageArgs = parse_args(args)?;
        engine(&self.tasks)?
            .message(&caller(ctx), &args.to, &args.text)
            .await
            .map_err(failed)
    }
}

/// Arguments of `task_status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StatusArgs {
    /// Only these tasks (default: all of this session's tasks).
    task_ids: Option<Vec<String>>,
}

struct TaskStatusTool {
    tasks: Weak<Delegation>,
}

#[async_trait]
impl Tool for TaskStatusTool {
    fn name(&self) -> &'static str {
        "task_status"
    }

    fn description(&self) -> String {
        "Status of the tasks you delegated (all, or the given ids): status, agent, model, \
         elapsed seconds, tokens, cost and what each sub-agent is doing now. For a look when \
         the person asks or something seems stuck; results come as notices, not by polling."
            .into()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<StatusArgs>()
    }

    fn is_read_only(&self) -> bool {
        true
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: StatusArgs = parse_args(args)?;
        let shared = engine(&self.tasks)?;
        let views = shared
            .status(&caller(ctx), args.task_ids.as_deref())
            .await
            .map_err(failed)?;
        if views.is_empty() {
            return Ok("You have not delegated any task.".into());
        }
        serde_json::to_string_pretty(&views).map_err(|e| ToolError::Failed(e.to_string()))
    }
}

/// Arguments of `task_output`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OutputArgs {
    /// The task.
    task_id: String,
}

struct TaskOutputTool {
    tasks: Weak<Delegation>,
}

#[async_trait]
impl Tool for TaskOutputTool {
    fn name(&self) -> &'static str {
        "task_output"
    }

    fn description(&self) -> String {
        "A task's full final answer once it ended, or its progress so far while it runs.".into()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<OutputArgs>()
    }

    fn is_read_only(&self) -> bool {
        true
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: OutputArgs = parse_args(args)?;
        let shared = engine(&self.tasks)?;
        shared
            .output(&caller(ctx), &args.task_id)
            .await
            .map_err(failed)
    }
}

/// Arguments of `task_wait`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WaitArgs {
    /// The tasks to wait for (default: all of this session's tasks).
    task_ids: Option<Vec<String>>,
    /// Give up after this many milliseconds (default: no limit).
    #[schemars(range(min = 1))]
    timeout_ms: Option<u64>,
    /// Return as soon as one of them ends (default: when all have).
    any: Option<bool>,
}

struct TaskWaitTool {
    tasks: Weak<Delegation>,
}

#[async_trait]
impl Tool for TaskWaitTool {
    fn name(&self) -> &'static str {
        "task_wait"
    }

    fn description(&self) -> String {
        "Wait until all (or, with any=true, one) of the given tasks end, or until timeout_ms; \
         returns the results of those that ended. Only wait when you have nothing else to do: \
         results also arrive by themselves as notices."
            .into()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<WaitArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: WaitArgs = parse_args(args)?;
        let shared = engine(&self.tasks)?;
        let outcome = shared
            .wait(
                &caller(ctx),
                args.task_ids.as_deref(),
                args.any.unwrap_or(false),
                args.timeout_ms.map(Duration::from_millis),
                ctx.cancel(),
                ctx.background_requested(),
            )
            .await
            .map_err(failed)?;
        Ok(describe_wait(&outcome))
    }
}

/// What a wait tells the model.
fn describe_wait(o: &WaitOutcome) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(o.ended.iter().cloned());
    parts.extend(o.already.iter().cloned());
    if !o.still_running.is_empty() {
        let why = o.interrupted.unwrap_or("stopped");
        parts.push(format!(
            "Wait {why}; still running: {}. Their results arrive as notices when they end.",
            o.still_running.join(", ")
        ));
    }
    if parts.is_empty() {
        return "No tasks to wait for.".into();
    }
    parts.join("\n\n")
}

/// Arguments of `task_send`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SendArgs {
    /// The task.
    task_id: String,
    /// What to tell its sub-agent.
    message: String,
}

struct TaskSendTool {
    tasks: Weak<Delegation>,
}

#[async_trait]
impl Tool for TaskSendTool {
    fn name(&self) -> &'static str {
        "task_send"
    }

    fn description(&self) -> String {
        "Send a message to a task's sub-agent: a running one reads it before its next model \
         call (use this to steer it); a finished, failed, cancelled or interrupted one is \
         resumed with it, keeping its conversation, and you get a new notice when it ends."
            .into()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<SendArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: SendArgs = parse_args(args)?;
        let shared = engine(&self.tasks)?;
        shared
            .send(&caller(ctx), &args.task_id, args.message)
            .await
            .map_err(failed)
    }
}

/// Arguments of `task_cancel`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CancelArgs {
    /// The task.
    task_id: String,
}

struct TaskCancelTool {
    tasks: Weak<Delegation>,
}

#[async_trait]
impl Tool for TaskCancelTool {
    fn name(&self) -> &'static str {
        "task_cancel"
    }

    fn description(&self) -> String {
        "Cancel a task: its sub-agent, every task under it and their shell commands stop. You \
         get its notice (status cancelled) when it has stopped."
            .into()
    }

    fn parameters(&self) -> serde_json::Value {
        schema_for::<CancelArgs>()
    }

    fn is_read_only(&self) -> bool {
        false
    }

    async fn call(
        &self,
        args: serde_json::Value,
        ctx: &dyn ToolContext,
    ) -> Result<String, ToolError> {
        let args: CancelArgs = parse_args(args)?;
        let shared = engine(&self.tasks)?;
        shared.cancel(&caller(ctx), &args.task_id).map_err(failed)
    }
}
