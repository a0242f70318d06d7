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

/// An image in a message: its media type and its bytes in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Image {
    /// The media type (`image/png`, `image/jpeg`...).
    pub mime_type: String,
    /// The image's bytes, base64-encoded (standard alphabet, padded).
    pub data: String,
}

impl Image {
    /// The image as a `data:` URL, as OpenAI's wires take it.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime_type, self.data)
    }
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
    /// A message from another agent of the tree (a sub-agent to its
    /// parent, or to a sibling).
    Message,
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
        /// Images the tool returned besides its text (an MCP server's
        /// screenshot, a chart), sent to models that read images. The
        /// output keeps a `[image: MIME, N bytes]` line for each, for
        /// readers that show text only.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<Image>,
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
    /// A change in the session's surroundings (tasks still running, a
    /// changed git status, a new date), appended to the conversation so
    /// that the system prompt never has to be rewritten.
    Context {
        /// What changed.
        topic: ContextTopic,
        /// The text the model reads.
        text: String,
    },
    /// The model's reasoning (extended thinking, `reasoning_content`,
    /// a Responses API reasoning item), kept so it can be sent back where
    /// the provider requires it.
    Reasoning {
        /// The readable reasoning text (may be a summary, or empty when the
        /// provider keeps it hidden).
        text: String,
        /// Anthropic's signature over a thinking block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// Opaque reasoning the provider returned to be sent back as is
        /// (Anthropic's redacted thinking, the Responses API's encrypted
        /// content).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        /// The provider's id for the item (Responses API).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item_id: Option<String>,
        /// The wire it came from (`anthropic`, `openai`, `responses`):
        /// reasoning is only sent back on the wire that produced it.
        origin: String,
    },
    /// A summary that replaces the older part of the conversation in what
    /// the model is sent (see [`Compaction`] for the fields).
    Compaction(Compaction),
}

/// What a compaction did: the model's summary of the older part of the
/// conversation, and where the part kept verbatim begins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Compaction {
    /// The summary the model reads in place of the older messages.
    pub summary: String,
    /// The first stored message kept verbatim after the summary; `None`
    /// when nothing before the compaction is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_kept: Option<MessageId>,
    /// How many messages the summary replaces.
    pub summarized: u64,
    /// The estimated size of the conversation before, in tokens.
    pub tokens_before: u64,
    /// The estimated size of what the model is sent after, in tokens.
    pub tokens_after: u64,
    /// Why it happened: `auto` (the window was filling up), `manual` (a
    /// person asked), `overflow` (the provider said the context was too
    /// long).
    pub trigger: String,
}

/// What a [`Part::Context`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContextTopic {
    /// The delegated tasks still running.
    Tasks,
    /// The date, or the git branch and status, changed.
    Environment,
    /// The engine's note to the model (an answer was cut off...).
    Note,
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
    /// The engine's context notes, reasoning and compaction summaries are
    /// left out: they have their own events and views.
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
            images: Vec::new(),
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
