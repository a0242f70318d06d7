//! Requests and answers of the engine's API, shared by the HTTP server,
//! its clients and the in-process client. Plain data: what a session, a
//! task or a shell looks like from outside the engine.

mod rules;

pub use rules::{
    MAX_LIMIT, Recipient, Refusal, check_answer, check_limit, check_text, parse_limit,
};

use crate::{
    MessageId, PermissionAnswer, PermissionDecision, PermissionId, PermissionRequest, SessionId,
    SessionStatus, ShellId, TaskId, Timestamp, Usage,
};
use serde::{Deserialize, Serialize};

/// What a new session should be. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// The agent it runs (default `build`; must be a primary agent).
    #[serde(default)]
    #[schema(min_length = 1)]
    pub agent: Option<String>,
    /// Its model, `provider/model` or an alias (default: the agent's
    /// model, else the configured default).
    #[serde(default)]
    #[schema(min_length = 1)]
    pub model: Option<String>,
    /// A title (default: made from the first message).
    #[serde(default)]
    pub title: Option<String>,
    /// Its working directory, which must exist (default, or empty: the
    /// directory the engine was started in; a relative one is taken from
    /// there).
    #[serde(default)]
    pub cwd: Option<String>,
}

/// A session as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Its id.
    pub id: SessionId,
    /// The session that delegated to it, for a sub-agent.
    pub parent_id: Option<SessionId>,
    /// The agent it runs.
    pub agent: String,
    /// Its model, `provider/model`.
    pub model: String,
    /// The provider part of its model.
    pub provider: String,
    /// A short title (may be empty).
    pub title: String,
    /// Its working directory.
    pub cwd: String,
    /// Where it is in its life.
    pub status: SessionStatus,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Its own tokens and cost.
    pub usage: Usage,
    /// Tokens and cost of it and every session under it.
    pub total_usage: Usage,
    /// Tool calls it made.
    #[serde(default)]
    pub tool_calls: u64,
    /// Tool calls of it and every session under it.
    #[serde(default)]
    pub total_tool_calls: u64,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only sessions in this working directory (a relative one is taken
    /// from the default directory of the engine's front: the server's, or
    /// the in-process client's).
    pub cwd: Option<String>,
    /// Only top-level sessions (no parent).
    pub roots_only: bool,
    /// Only children of this session.
    pub parent: Option<SessionId>,
    /// At most this many, most recent first; more than [`MAX_LIMIT`] is
    /// refused.
    pub limit: Option<usize>,
}

/// A message stored for a session that the session has not taken into
/// its conversation yet (it was busy, or the process stopped first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueuedMessage {
    /// The id the message keeps once taken.
    pub message_id: MessageId,
    /// The session it was sent to.
    pub session_id: SessionId,
    /// What it says.
    pub text: String,
    /// When it was sent.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A session and everything under it, in one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionTree {
    /// The session asked for.
    pub root: SessionId,
    /// It and every session under it: the root first, then the others in
    /// the order they were created (which is the order they were spawned).
    pub sessions: Vec<SessionView>,
    /// Every task delegated by a session of the tree, oldest first, with
    /// its status and its child tree's usage.
    pub tasks: Vec<TaskView>,
    /// The background shells of the tree's sessions, oldest first.
    pub shells: Vec<ShellView>,
    /// Permission requests of the tree's sessions waiting for an answer.
    pub permissions: Vec<PermissionRequest>,
    /// Messages sent to the tree's sessions and not taken yet.
    pub queued: Vec<QueuedMessage>,
    /// The `seq` of the last event emitted before the tree was read: the
    /// answer shows every change up to that event. A client that follows
    /// the event stream applies the events after it on top of the tree
    /// (some of them may already show in it) and drops the ones up to it.
    pub as_of: u64,
}

/// A change to a session: its model, its title, its agent, or several.
/// At least one must be given (`null` stands for "unchanged").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSession {
    /// The model to use from the session's next model call on:
    /// `provider/model` or an alias, checked like a new session's model.
    #[serde(default)]
    #[schema(min_length = 1)]
    pub model: Option<String>,
    /// The new title: not empty, not only white space.
    #[serde(default)]
    #[schema(min_length = 1, pattern = r"\S")]
    pub title: Option<String>,
    /// The agent to run from the session's next turn on (a primary one,
    /// as listed by `GET /v1/agents`): its prompt, tools and permissions,
    /// and its model unless `model` is given too. Only for a top-level
    /// session with no work under way (no turn, task or shell running);
    /// a task's agent is the one its `task` call chose.
    #[serde(default)]
    #[schema(min_length = 1)]
    pub agent: Option<String>,
}

/// An MCP server a client brings for a session's tree (as an editor does
/// over ACP): a command speaking MCP on stdio, or a streamable HTTP
/// endpoint. Exactly one of `command` and `url` is given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpServerSpec {
    /// Its name: its tools are `mcp__<name>__<tool>`.
    pub name: String,
    /// The program to run (stdio).
    #[serde(default)]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables added for it.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// The endpoint (streamable HTTP).
    #[serde(default)]
    pub url: Option<String>,
    /// HTTP headers sent with every request.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

/// An agent sessions can run, as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentView {
    /// Its name (`build`, `plan`, `explore`...), as given to a new session
    /// or to the `task` tool.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Where it may run: `primary` (a session a person talks to),
    /// `subagent` (only as a delegated task) or `all` (either).
    pub mode: String,
    /// The model it runs on, `provider/model` with aliases resolved;
    /// `None` when it uses the session's (or its parent's) model.
    pub model: Option<String>,
    /// `built-in`, or the agent file it was read from.
    pub source: String,
}

/// A model sessions can use, as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ModelView {
    /// `provider/model`: what a session's `model` is set to.
    pub id: String,
    /// The provider part.
    pub provider: String,
    /// The provider's own name for the model.
    pub model: String,
    /// Whether new sessions use it when no model is given.
    pub is_default: bool,
    /// The configured aliases that name it, sorted.
    pub aliases: Vec<String>,
    /// Tokens it can read and write in one call, when known.
    pub context_window: Option<u64>,
}

/// A message from the person: `{"text": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// What to say: not empty, not only white space.
    #[schema(min_length = 1, pattern = r"\S")]
    pub text: String,
}

/// A message was accepted: a busy session takes it at its next step
/// boundary, an idle one starts a turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageAccepted {
    /// The session it went to.
    pub session_id: SessionId,
    /// The `seq` of its `message.queued` event: the `session.quiet` that
    /// follows it in the event stream says the work it started is done.
    #[schema(format = "uint64")]
    pub seq: u64,
}

/// An operation was accepted; what happens next arrives as events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Accepted {
    /// What was done, for people.
    pub message: String,
    /// Queued messages an interrupt or a cancel took back before the
    /// session took them (oldest first), for the client to put back in its
    /// editor. Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<QueuedMessage>,
}

impl Accepted {
    /// An operation that handed nothing back.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            withdrawn: Vec::new(),
        }
    }

    /// A running tool call was moved to the background.
    pub fn backgrounded(call_id: &str) -> Self {
        Self::new(format!("call {call_id} moved to the background"))
    }

    /// A permission request was answered.
    pub fn answered(id: &PermissionId, decision: PermissionDecision) -> Self {
        Self::new(format!("{id} answered: {decision}"))
    }
}

/// A delegated task as clients (and the `task_status` tool) see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskView {
    /// Its id.
    pub task_id: TaskId,
    /// The session that delegated it.
    pub parent_session_id: SessionId,
    /// The sub-agent session running it.
    pub child_session_id: SessionId,
    /// The short description the parent gave.
    pub description: String,
    /// Where it stands (`awaiting_permission` while its sub-agent waits
    /// for an answer).
    pub status: SessionStatus,
    /// The sub-agent.
    pub agent: String,
    /// Its model, `provider/model`.
    pub model: String,
    /// The provider part of its model.
    pub provider: String,
    /// `shared` or `worktree`.
    pub isolation: String,
    /// Its git branch, when it runs in a worktree.
    pub branch: Option<String>,
    /// The paths it claims while it is active.
    pub claims: Vec<String>,
    /// Seconds it has run (its last run, once it ended).
    pub elapsed_s: f64,
    /// Input tokens of its sub-agent and everything under it.
    pub tokens_in: u64,
    /// Output tokens of its sub-agent and everything under it.
    pub tokens_out: u64,
    /// Cost of its sub-agent and everything under it.
    pub cost_usd: f64,
    /// Tool calls of its sub-agent and everything under it.
    #[serde(default)]
    pub tool_calls: u64,
    /// What it is doing now (`finished` once it ended).
    pub doing: String,
    /// A call of its parent (`task_wait`, or `task` with `background:
    /// false`) is waiting for it right now; its result then goes to that
    /// call instead of a notice.
    #[serde(default)]
    pub waited_on: bool,
    /// Its final answer, once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The name its parent gave it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The tasks it comes after (it is `waiting` until they end).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<TaskId>,
    /// What it may spend, when limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// When it was asked for.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// What a task may spend, over all its runs and everything it delegates;
/// a task that reaches a limit is stopped and ends `failed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Budget {
    /// Input plus output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// US dollars, at the catalog's prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<f64>,
    /// Model calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
}

impl Budget {
    /// Whether no limit is set.
    pub fn is_unlimited(&self) -> bool {
        self.max_tokens.is_none() && self.max_cost.is_none() && self.max_steps.is_none()
    }

    /// Each limit of `self`, else of `fallback`.
    pub fn or(self, fallback: Budget) -> Budget {
        Budget {
            max_tokens: self.max_tokens.or(fallback.max_tokens),
            max_cost: self.max_cost.or(fallback.max_cost),
            max_steps: self.max_steps.or(fallback.max_steps),
        }
    }
}

/// Where a background shell command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShellState {
    /// Still running.
    Running,
    /// Ended by itself.
    Exited,
    /// Stopped (killed, cancelled, shut down).
    Killed,
}

/// A background shell command as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShellView {
    /// Its id.
    pub shell_id: ShellId,
    /// The session that started it.
    pub session_id: SessionId,
    /// The command line.
    pub command: String,
    /// What the model said it does.
    pub description: Option<String>,
    /// Where it stands.
    pub status: ShellState,
    /// Its exit code, once it exited by itself.
    pub exit_code: Option<i32>,
    /// When it started.
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    /// When it ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    /// The output held in memory (only when one shell is asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Bytes of output no longer held in memory (still in the log file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_bytes: Option<u64>,
}

/// The answer to a permission request: `{"decision": ...}`, and for a
/// denial optionally `"reason"`, which the model reads in the denied
/// call's result. A reason with `allow_once` or `allow_always` is
/// refused (see [`check_answer`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerPermission {
    /// `allow_once`, `allow_always` or `deny`.
    pub decision: PermissionDecision,
    /// Why the call is denied, for the model to read: only with `deny`;
    /// not empty, not only white space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, pattern = r"\S")]
    pub reason: Option<String>,
}

impl From<PermissionAnswer> for AnswerPermission {
    fn from(answer: PermissionAnswer) -> Self {
        Self {
            decision: answer.decision(),
            reason: answer.reason().map(str::to_owned),
        }
    }
}

/// What every refused request gets back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiError {
    /// What is wrong, for people.
    pub error: String,
}

/// Sent on the event stream (SSE event name `resync`, `type` `resync`)
/// when events the client asked for are gone: too old to be kept, or
/// skipped because the client read too slowly. The client should reload
/// the state it shows (sessions, tasks, messages); the stream goes on
/// with the events from `next` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resync {
    /// Always `resync`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The last `seq` the client had.
    #[schema(format = "uint64")]
    pub after: u64,
    /// The `seq` the stream goes on from; events in between are lost.
    #[schema(format = "uint64")]
    pub next: u64,
}

impl Resync {
    /// A resync from `after` to `next`.
    pub fn new(after: u64, next: u64) -> Self {
        Self {
            kind: "resync".to_owned(),
            after,
            next,
        }
    }
}

/// One item of an event stream as clients read it.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// The next event.
    Event(crate::Event),
    /// Events were lost here (too old to replay, from before a restart, or
    /// read too slowly): reload what you show.
    Resync(Resync),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_session_takes_its_fields_and_refuses_others() {
        let both: UpdateSession =
            serde_json::from_str(r#"{"model":"fast","title":"Refactor"}"#).unwrap();
        assert_eq!(both.model.as_deref(), Some("fast"));
        assert_eq!(both.title.as_deref(), Some("Refactor"));
        let none: UpdateSession = serde_json::from_str("{}").unwrap();
        assert_eq!(none, UpdateSession::default());
        let agent: UpdateSession = serde_json::from_str(r#"{"agent":"plan"}"#).unwrap();
        assert_eq!(agent.agent.as_deref(), Some("plan"));
        assert!(serde_json::from_str::<UpdateSession>(r#"{"cwd":"/tmp"}"#).is_err());
    }

    #[test]
    fn accepted_texts_name_what_was_done() {
        assert_eq!(
            Accepted::backgrounded("call_7").message,
            "call call_7 moved to the background"
        );
        assert_eq!(
            Accepted::answered(&PermissionId::from("perm_1"), PermissionDecision::AllowOnce)
                .message,
            "perm_1 answered: allow_once"
        );
    }

    #[test]
    fn model_and_agent_views_round_trip() {
        let model = ModelView {
            id: "anthropic/claude-sonnet-4".into(),
            provider: "anthropic".into(),
            model: "claude-sonnet-4".into(),
            is_default: true,
            aliases: vec!["smart".into()],
            context_window: Some(200_000),
        };
        let v = serde_json::to_value(&model).unwrap();
        assert_eq!(v["context_window"], 200_000);
        assert_eq!(serde_json::from_value::<ModelView>(v).unwrap(), model);
        let agent = AgentView {
            name: "explore".into(),
            description: "Reads the code".into(),
            mode: "subagent".into(),
            model: None,
            source: "built-in".into(),
        };
        let v = serde_json::to_value(&agent).unwrap();
        assert_eq!(v["model"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<AgentView>(v).unwrap(), agent);
    }
}
