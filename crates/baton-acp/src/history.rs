//! A stored conversation replayed as updates, for `session/load`: what the
//! person wrote, what the model answered and thought, and each tool call
//! with its result.

use crate::tools;
use crate::updates::{acp_id, text};
use agent_client_protocol::v1::schema::{
    ContentChunk, SessionNotification, SessionUpdate, ToolCallStatus,
};
use baton_protocol::{Message, Part, Role, SessionId};
use std::collections::HashMap;

/// The updates that show `messages` (oldest first) on `session`.
pub(crate) fn replay(session: &SessionId, messages: &[Message]) -> Vec<SessionNotification> {
    let results: HashMap<&str, (&str, bool)> = messages
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::ToolResult {
                call_id,
                output,
                is_error,
                ..
            } => Some((call_id.as_str(), (output.as_str(), *is_error))),
            _ => None,
        })
        .collect();
    let id = acp_id(session);
    let mut out = Vec::new();
    for message in messages {
        for part in &message.parts {
            let update = match (message.role, part) {
                (Role::User, Part::Text { text: t }) => {
                    SessionUpdate::UserMessageChunk(ContentChunk::new(text(t)))
                }
                (Role::Assistant, Part::Text { text: t }) => {
                    SessionUpdate::AgentMessageChunk(ContentChunk::new(text(t)))
                }
                (Role::Assistant, Part::Reasoning { text: t, .. }) if !t.is_empty() => {
                    SessionUpdate::AgentThoughtChunk(ContentChunk::new(text(t)))
                }
                (Role::Assistant, Part::ToolCall(call)) => {
                    let shape = tools::shape(&call.name, &call.arguments);
                    let (output, failed) = results
                        .get(call.call_id.as_str())
                        .copied()
                        .unwrap_or(("", false));
                    let status = if failed {
                        ToolCallStatus::Failed
                    } else {
                        ToolCallStatus::Completed
                    };
                    SessionUpdate::ToolCall(
                        shape
                            .tool_call(call.call_id.as_str().to_owned())
                            .status(status)
                            .content(shape.content_with(output)),
                    )
                }
                _ => continue,
            };
            out.push(SessionNotification::new(id.clone(), update));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_protocol::{CallId, ToolCall};

    #[test]
    fn a_conversation_is_replayed_in_order_with_results_on_their_calls() {
        let s = SessionId::from("ses_1");
        let messages = vec![
            Message::new(
                s.clone(),
                Role::User,
                vec![Part::Text { text: "hi".into() }],
            ),
            Message::new(
                s.clone(),
                Role::Assistant,
                vec![
                    Part::Text {
                        text: "running it".into(),
                    },
                    Part::ToolCall(ToolCall {
                        call_id: CallId::from("call_1"),
                        name: "bash".into(),
                        arguments: r#"{"command":"false"}"#.into(),
                    }),
                ],
            ),
            Message::new(
                s.clone(),
                Role::Tool,
                vec![Part::ToolResult {
                    call_id: CallId::from("call_1"),
                    name: "bash".into(),
                    output: "exit 1".into(),
                    is_error: true,
                    images: Vec::new(),
                }],
            ),
        ];
        let out: Vec<serde_json::Value> = replay(&s, &messages)
            .iter()
            .map(|n| serde_json::to_value(n).unwrap_or_default())
            .collect();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["update"]["sessionUpdate"], "user_message_chunk");
        assert_eq!(out[1]["update"]["content"]["text"], "running it");
        assert_eq!(out[2]["update"]["status"], "failed");
        assert_eq!(out[2]["update"]["content"][0]["content"]["text"], "exit 1");
    }
}
