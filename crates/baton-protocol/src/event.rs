//! The event stream: every state change the engine makes, in order.
//!
//! A line of `baton run --format jsonl` is one [`Event`] serialized as JSON:
//! `type`, `session_id`, `seq`, `ts`, then the fields of its kind.

use crate::{
    CallId, MessageId, PermissionDecision, PermissionId, Role, SessionId, Timestamp, Usage,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Waiting for input.
    Idle,
    /// Taking a turn.
    Running,
    /// Waiting for a free slot before it can start.
    Queued,
    /// A task waiting for the tasks it comes after (`after`) to end.
    Waiting,
    /// Waiting for someone to answer a permission request.
    AwaitingPermission,
    /// A sub-agent session that finished its task.
    Completed,
    /// A turn ended in an error (provider failure, step limit...).
    Failed,
    /// Cancelled by the person or its parent.
    Cancelled,
    /// Was running in a process that is gone; can be resumed.
    Interrupted,
}

impl SessionStatus {
    /// The status's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::Queued => "queued",
            Self::Waiting => "waiting",
            Self::AwaitingPermission => "awaiting_permission",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// Parses a wire name back into a status.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "idle" => Self::Idle,
            "running" => Self::Running,
            "queued" => Self::Queued,
            "waiting" => Self::Waiting,
            "awaiting_permission" => Self::AwaitingPermission,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "interrupted" => Self::Interrupted,
            _ => return None,
        })
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the event stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// Strictly increasing across the whole engine.
    #[schema(format = "uint64")]
    pub seq: u64,
    /// When the event happened (RFC 3339, milliseconds).
    #[serde(with = "ts_millis")]
    #[schema(value_type = String, format = DateTime)]
    pub ts: Timestamp,
    /// The session the event is about.
    pub session_id: SessionId,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// The event's type name, as in the `type` field.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }
}

/// How the line that replaces the middle of a capped `tool.completed`
/// output ends.
pub const OUTPUT_CUT_NOTE: &str = "more bytes; the stored result has them all]";

/// What happened. Serialized with a `type` tag such as `tool.started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type")]
pub enum EventKind {
    /// A session was created.
    #[serde(rename = "session.created")]
    SessionCreated {
        /// The parent session, for a sub-agent.
        parent_id: Option<SessionId>,
        /// The agent it runs.
        agent: String,
        /// The model it uses (`provider/model`).
        model: String,
        /// Its working directory.
        cwd: String,
    },
    /// A session's model, title or agent was changed by someone (not by
    /// the session itself). A new model applies from the session's next
    /// model call on (a call already streaming finishes on the old one); a
    /// new agent from its next turn on.
    #[serde(rename = "session.updated")]
    SessionUpdated {
        /// The agent it runs now.
        agent: String,
        /// The model it uses now (`provider/model`).
        model: String,
        /// Its title now; `None` while it has none.
        title: Option<String>,
    },
    /// A session's status changed.
    #[serde(rename = "session.status")]
    SessionStatus {
        /// The new status.
        status: SessionStatus,
    },
    /// A message from the person was accepted.
    #[serde(rename = "message.queued")]
    MessageQueued {
        /// The queued input's id: the id the message is stored with when
        /// the session takes it, and the id `message.withdrawn` names.
        message_id: MessageId,
        /// The text.
        text: String,
    },
    /// Queued messages the session had not taken yet were handed back to
    /// whoever interrupted or cancelled it (the `withdrawn` of the
    /// answer). They are never stored in the conversation nor sent later.
    #[serde(rename = "message.withdrawn")]
    MessageWithdrawn {
        /// The withdrawn messages, in the order they were queued.
        message_ids: Vec<MessageId>,
    },
    /// A turn began.
    #[serde(rename = "turn.started")]
    TurnStarted {},
    /// A model call began.
    #[serde(rename = "step.started")]
    StepStarted {
        /// 1-based step number within the turn.
        step: u32,
        /// The model called.
        model: String,
    },
    /// A model call's answer was stored (after its `message.completed`).
    #[serde(rename = "step.completed")]
    StepCompleted {
        /// 1-based step number within the turn.
        step: u32,
        /// Tokens and cost of this model call.
        usage: Usage,
        /// The session's own total after it (what its view's `usage` says
        /// now; its tasks' usage not included).
        session_usage: Usage,
    },
    /// A piece of streamed assistant text.
    #[serde(rename = "text.delta")]
    TextDelta {
        /// The new text.
        delta: String,
    },
    /// A piece of the model's streamed reasoning (extended thinking).
    #[serde(rename = "reasoning.delta")]
    ReasoningDelta {
        /// The new reasoning text.
        delta: String,
    },
    /// The session began compacting its conversation (summarizing the
    /// older part with a model call).
    #[serde(rename = "context.compacting")]
    ContextCompacting {
        /// `auto`, `manual` or `overflow`.
        trigger: String,
        /// The estimated size of the conversation, in tokens.
        tokens: u64,
    },
    /// A compaction was stored: from now on the model is sent its summary
    /// in place of the older messages.
    #[serde(rename = "context.compacted")]
    ContextCompacted {
        /// The stored message that carries the summary.
        message_id: MessageId,
        /// `auto`, `manual` or `overflow`.
        trigger: String,
        /// How many messages the summary replaces.
        summarized: u64,
        /// The estimated size before, in tokens.
        tokens_before: u64,
        /// The estimated size after, in tokens.
        tokens_after: u64,
    },
    /// The provider failed and the call will be tried again.
    #[serde(rename = "llm.retry")]
    LlmRetry {
        /// Which attempt failed (1-based).
        attempt: u32,
        /// How long until the next try.
        delay_ms: u64,
        /// What went wrong.
        error: String,
    },
    /// A message was stored.
    #[serde(rename = "message.completed")]
    MessageCompleted {
        /// The stored message's id.
        message_id: MessageId,
        /// Who it is from.
        role: Role,
        /// Its text parts, joined.
        text: String,
    },
    /// A tool call began.
    #[serde(rename = "tool.started")]
    ToolStarted {
        /// The call.
        call_id: CallId,
        /// The tool.
        name: String,
        /// The raw arguments.
        arguments: String,
    },
    /// Live output of a running tool call (for now: what the commands of a
    /// foreground `bash` call print, stdout and stderr as captured). Not
    /// stored; coalesced to at most one event per call about every 100 ms,
    /// the last one before the call's `tool.completed`. A `delta` is capped:
    /// when more arrived meanwhile it keeps the end, cut at a line, and
    /// starts with `… (N bytes not shown live)`.
    #[serde(rename = "tool.output")]
    ToolOutput {
        /// The call.
        call_id: CallId,
        /// The new output.
        delta: String,
    },
    /// A tool call ended.
    #[serde(rename = "tool.completed")]
    ToolCompleted {
        /// The call.
        call_id: CallId,
        /// The tool.
        name: String,
        /// Whether it failed.
        is_error: bool,
        /// The output the model reads, capped for the event stream: a long
        /// one keeps its start and its end, and the middle is replaced by
        /// a line that ends with [`OUTPUT_CUT_NOTE`] (the stored message
        /// has it all).
        output: String,
    },
    /// A delegated task was started.
    #[serde(rename = "task.spawned")]
    TaskSpawned {
        /// The task.
        task_id: String,
        /// The child session running it.
        child_session_id: SessionId,
        /// The sub-agent running it.
        agent: String,
        /// The model it runs on (`provider/model`).
        model: String,
        /// The short description the parent gave.
        description: String,
        /// The name the parent gave it (unique among its tasks), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The tasks it comes after: it waits (`waiting`) until they end.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        after: Vec<String>,
    },
    /// A delegated task's child session began running: it left the queue
    /// (or a stopped task was resumed). A task is born queued
    /// (`task.spawned`), starts (`task.started`) and ends
    /// (`task.completed`).
    #[serde(rename = "task.started")]
    TaskStarted {
        /// The task.
        task_id: String,
    },
    /// A delegated task ended.
    #[serde(rename = "task.completed")]
    TaskCompleted {
        /// The task.
        task_id: String,
        /// How it ended.
        status: SessionStatus,
    },
    /// A background shell command started.
    #[serde(rename = "shell.started")]
    ShellStarted {
        /// The shell.
        shell_id: String,
        /// The command line.
        command: String,
    },
    /// A background shell command exited.
    #[serde(rename = "shell.exited")]
    ShellExited {
        /// The shell.
        shell_id: String,
        /// Its exit code (`None` when killed by a signal).
        exit_code: Option<i32>,
    },
    /// A notice (task or shell ended) was handed to the session's model.
    #[serde(rename = "notification.delivered")]
    NotificationDelivered {
        /// The id of what the notice is about.
        source_id: String,
    },
    /// A tool call waits for someone's approval; the session is
    /// `awaiting_permission` until it is answered.
    #[serde(rename = "permission.requested")]
    PermissionRequested {
        /// The request (answer it with this id).
        request_id: PermissionId,
        /// The agent of the asking session.
        agent: String,
        /// The tool.
        tool: String,
        /// The call waiting for the answer.
        call_id: CallId,
        /// Exactly what is asked: the command line, the path, the agent.
        detail: String,
        /// What "allow always" would allow in this session tree.
        pattern: String,
    },
    /// A permission request was answered (or given up, when its session
    /// was cancelled).
    #[serde(rename = "permission.resolved")]
    PermissionResolved {
        /// The request.
        request_id: PermissionId,
        /// The answer.
        decision: PermissionDecision,
    },
    /// A turn ended.
    #[serde(rename = "turn.completed")]
    TurnCompleted {
        /// Model calls made in the turn.
        steps: u32,
        /// Tokens and cost of the turn.
        usage: Usage,
        /// Why the turn ended: `end_turn`, `max_steps`, `cut_off` (the
        /// answer reached the output limit and could not be continued),
        /// `refused` (the model or the provider's filter declined),
        /// `cancelled`, `blocked` (a `UserPromptSubmit` hook refused every
        /// message the turn was for), `error`.
        reason: String,
    },
    /// A hook (a command the person configured for an engine event) ran.
    #[serde(rename = "hook.completed")]
    HookCompleted {
        /// The hook event: `PreToolUse`, `PostToolUse`, `UserPromptSubmit`,
        /// `Stop`, `SubagentStart`, `SubagentStop`, `Notification`,
        /// `SessionStart`.
        event: String,
        /// The command as configured.
        command: String,
        /// `ok`, `blocked` (exit code 2 or a blocking JSON decision),
        /// `failed` (another exit code, or it could not start: the turn
        /// goes on) or `timed_out` (its process group was killed: the turn
        /// goes on).
        outcome: String,
        /// Its exit code, when it exited.
        exit_code: Option<i32>,
        /// Why it blocked, or how it failed.
        message: Option<String>,
        /// How long it ran.
        duration_ms: u64,
    },
    /// Something failed; the text is meant for people.
    #[serde(rename = "error")]
    Error {
        /// One clear line.
        message: String,
    },
    /// The session has nothing left to do for now.
    #[serde(rename = "session.idle")]
    SessionIdle {},
    /// The session is quiet: no turn running, no message or notice
    /// waiting, no task or background shell of it running. What a message
    /// started is done once this follows its `message.queued`.
    #[serde(rename = "session.quiet")]
    SessionQuiet {},
}

impl EventKind {
    /// The kind's `type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::SessionCreated { .. } => "session.created",
            Self::SessionUpdated { .. } => "session.updated",
            Self::SessionStatus { .. } => "session.status",
            Self::MessageQueued { .. } => "message.queued",
            Self::MessageWithdrawn { .. } => "message.withdrawn",
            Self::TurnStarted {} => "turn.started",
            Self::StepStarted { .. } => "step.started",
            Self::StepCompleted { .. } => "step.completed",
            Self::TextDelta { .. } => "text.delta",
            Self::ReasoningDelta { .. } => "reasoning.delta",
            Self::ContextCompacting { .. } => "context.compacting",
            Self::ContextCompacted { .. } => "context.compacted",
            Self::LlmRetry { .. } => "llm.retry",
            Self::MessageCompleted { .. } => "message.completed",
            Self::ToolStarted { .. } => "tool.started",
            Self::ToolOutput { .. } => "tool.output",
            Self::ToolCompleted { .. } => "tool.completed",
            Self::TaskSpawned { .. } => "task.spawned",
            Self::TaskStarted { .. } => "task.started",
            Self::TaskCompleted { .. } => "task.completed",
            Self::ShellStarted { .. } => "shell.started",
            Self::ShellExited { .. } => "shell.exited",
            Self::NotificationDelivered { .. } => "notification.delivered",
            Self::PermissionRequested { .. } => "permission.requested",
            Self::PermissionResolved { .. } => "permission.resolved",
            Self::TurnCompleted { .. } => "turn.completed",
            Self::HookCompleted { .. } => "hook.completed",
            Self::Error { .. } => "error",
            Self::SessionIdle {} => "session.idle",
            Self::SessionQuiet {} => "session.quiet",
        }
    }
}

/// RFC 3339 with exactly three fractional digits and a `Z`.
mod ts_millis {
    use crate::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_serializes_flat_with_type_seq_ts() {
        let ev = Event {
            seq: 7,
            ts: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            session_id: SessionId::from("ses_1"),
            kind: EventKind::ToolCompleted {
                call_id: CallId::from("c1"),
                name: "bash".into(),
                is_error: false,
                output: "hi".into(),
            },
        };
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["type"], "tool.completed");
        assert_eq!(v["seq"], 7);
        assert_eq!(v["ts"], "2026-01-02T03:04:05.678Z");
        assert_eq!(v["session_id"], "ses_1");
        assert_eq!(v["name"], "bash");
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
        assert_eq!(back.type_name(), "tool.completed");
    }

    #[test]
    fn unit_like_events_round_trip() {
        let ev = Event {
            seq: 1,
            ts: crate::now(),
            session_id: SessionId::from("s"),
            kind: EventKind::SessionIdle {},
        };
        let text = serde_json::to_string(&ev).unwrap();
        assert!(text.contains("\"type\":\"session.idle\""));
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn session_updated_round_trips() {
        let ev = Event {
            seq: 3,
            ts: chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            session_id: SessionId::from("ses_1"),
            kind: EventKind::SessionUpdated {
                agent: "plan".into(),
                model: "anthropic/claude-sonnet-4".into(),
                title: Some("Fix the parser".into()),
            },
        };
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "type": "session.updated",
                "seq": 3,
                "ts": "2026-01-02T03:04:05.678Z",
                "session_id": "ses_1",
                "agent": "plan",
                "model": "anthropic/claude-sonnet-4",
                "title": "Fix the parser",
            })
        );
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
        assert_eq!(back.type_name(), "session.updated");

        let untitled = EventKind::SessionUpdated {
            agent: "build".into(),
            model: "mock/m".into(),
            title: None,
        };
        let text = serde_json::to_string(&untitled).unwrap();
        assert_eq!(
            text,
            r#"{"type":"session.updated","agent":"build","model":"mock/m","title":null}"#
        );
        assert_eq!(serde_json::from_str::<EventKind>(&text).unwrap(), untitled);
    }

    #[test]
    fn status_names_round_trip() {
        for s in [
            SessionStatus::Idle,
            SessionStatus::Running,
            SessionStatus::Queued,
            SessionStatus::AwaitingPermission,
            SessionStatus::Completed,
            SessionStatus::Failed,
            SessionStatus::Cancelled,
            SessionStatus::Interrupted,
        ] {
            assert_eq!(SessionStatus::parse(s.as_str()), Some(s));
        }
    }
}
