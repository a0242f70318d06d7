//! Conversation messages and their parts.

use crate::{CallId, MessageId, SessionId, Timestamp, Usage};
use serde::{Deserialize, Serialize};

/// Who a message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person, or a notice delivered on the person's side of the
    /// conversation.
    User,
    /// The model.
    Assistant,
    /// Results of the assistant's tool calls.
    Tool,
}

impl Role {
    /// The role's wire name (`user`, `assistant`, `tool`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// A tool call as the model made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ToolCall {
    /// The call's id, unique within the session.
    pub call_id: CallId,
    /// The tool's name as the model wrote it (it may name no real tool).
    pub name: String,
    /// The raw arguments text the model produced (normally a JSON object,
    /// but kept verbatim: malformed arguments are reported, not dropped).
    pub arguments: String,
}

/// What kind of event a notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A delegated task ended.
    Task,
    /// A background shell command ended.
    Shell,
    /// Anything else the engine tells the model (step limit reached, run
    /// cancelled, ...).
    System,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// A call the assistant made.
    ToolCall(ToolCall),
    /// What a tool call returned.
    ToolResult {
        /// The call this answers.
        call_id: CallId,
        /// The tool's name.
        name: String,
        /// The output the model reads.
        output: String,
        /// Whether the call failed.
        is_error: bool,
    },
    /// A notice from the engine: a task or shell ended, a limit was hit.
    Notice {
        /// What kind of notice it is.
        kind: NoticeKind,
        /// The id of what the notice is about (task id, shell id...).
        source_id: String,
        /// The text the model reads.
        text: String,
    },
}

/// One stored message of a session's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// Who it is from.
    pub role: Role,
    /// Its parts, in order.
    pub parts: Vec<Part>,
    /// When it was stored.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// For assistant messages: the model that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// For assistant messages: what the model call cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl Message {
    /// A new message stamped with a fresh id and the current time.
    pub fn new(session_id: SessionId, role: Role, parts: Vec<Part>) -> Self {
        Self {
            id: MessageId::generate(),
            session_id,
            role,
            parts,
            created_at: crate::now(),
            model: None,
            usage: None,
        }
    }

    /// The text parts joined together (notices included), for display.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            let piece = match part {
                Part::Text { text } | Part::Notice { text, .. } => text,
                _ => continue,
            };
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(piece);
        }
        out
    }

    /// The tool calls in this message, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.parts.iter().filter_map(|p| match p {
            Part::ToolCall(c) => Some(c),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_tagged_by_type() {
        let part = Part::ToolResult {
            call_id: CallId::from("c1"),
            name: "read".into(),
            output: "ok".into(),
            is_error: false,
        };
        let v = serde_json::to_value(&part).unwrap();
        assert_eq!(v["type"], "tool_result");
        assert_eq!(v["call_id"], "c1");
        let back: Part = serde_json::from_value(v).unwrap();
        assert_eq!(back, part);
    }

    #[test]
    fn text_joins_text_and_notices_only() {
        let m = Message::new(
            SessionId::from("s"),
            Role::Assistant,
            vec![
                Part::Text { text: "a".into() },
                Part::ToolCall(ToolCall {
                    call_id: CallId::from("c"),
                    name: "read".into(),
                    arguments: "{}".into(),
                }),
                Part::Text { text: "b".into() },
            ],
        );
        assert_eq!(m.text(), "a\nb");
        assert_eq!(m.tool_calls().count(), 1);
    }
}
