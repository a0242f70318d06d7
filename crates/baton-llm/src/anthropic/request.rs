//! Maps a [`ChatRequest`] to an Anthropic Messages request body.
//!
//! The Messages API wants strictly alternating roles starting with `user`,
//! tool results as `tool_result` blocks in a user message right after the
//! assistant's `tool_use` blocks, tool inputs as JSON objects, and ids made
//! of `[A-Za-z0-9_-]` only.

use crate::ChatRequest;
use crate::history::{self, Turn};
use baton_protocol::{CallId, Part, Role};
use serde_json::{Map, Value, json};

/// The text of the user message put first when a conversation (cut short
/// by compaction, say) starts with the assistant.
const OPENING: &str = "(conversation continues)";

/// What an empty tool output is sent as (empty content is rejected).
const NO_OUTPUT: &str = "(no output)";

/// The JSON body for `request`, streaming.
pub(crate) fn body(request: &ChatRequest) -> Value {
    let mut messages: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for turn in history::normalize(&request.messages) {
        let role = if turn.role == Role::Assistant {
            "assistant"
        } else {
            "user"
        };
        let blocks = blocks(&turn);
        match messages.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => messages.push((role, blocks)),
        }
    }
    if messages
        .first()
        .is_some_and(|(role, _)| *role == "assistant")
    {
        messages.insert(
            0,
            ("user", vec![json!({ "type": "text", "text": OPENING })]),
        );
    }
    // The moving end of the conversation is cached at its last block. The
    // user message before it gets a breakpoint too: that is where the
    // previous call of an agent loop ended, so its cached prefix is read
    // even when this step added more blocks than the provider looks back.
    let ends =
        messages
            .len()
            .checked_sub(1)
            .into_iter()
            .chain(messages.len().checked_sub(1).and_then(|last| {
                messages[..last]
                    .iter()
                    .rposition(|(role, _)| *role == "user")
            }));
    for index in ends.collect::<Vec<_>>() {
        if let Some(block) = messages[index].1.last_mut() {
            block["cache_control"] = cache_breakpoint();
        }
    }
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": true,
    });
    if !request.system.is_empty() {
        body["system"] = json!([{
            "type": "text",
            "text": request.system,
            "cache_control": cache_breakpoint(),
        }]);
    }
    if let Some(t) = request.wire_temperature() {
        body["temperature"] = json!(t);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "input_schema": t.parameters,
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

fn cache_breakpoint() -> Value {
    json!({ "type": "ephemeral" })
}

fn blocks(turn: &Turn) -> Vec<Value> {
    turn.parts
        .iter()
        .filter_map(|part| match part {
            Part::Text { text } | Part::Notice { text, .. } | Part::Context { text, .. } => {
                Some(json!({ "type": "text", "text": text }))
            }
            Part::Compaction(c) => Some(json!({ "type": "text", "text": c.summary })),
            Part::Reasoning {
                text,
                signature,
                data,
                origin,
                ..
            } => thinking_block(text, signature.as_deref(), data.as_deref(), origin),
            Part::ToolCall(call) => Some(json!({
                "type": "tool_use",
                "id": wire_id(&call.call_id),
                "name": call.name,
                "input": input_object(&call.call_id, &call.arguments),
            })),
            Part::ToolResult {
                call_id,
                output,
                is_error,
                ..
            } => Some(json!({
                "type": "tool_result",
                "tool_use_id": wire_id(call_id),
                "content": if output.is_empty() { NO_OUTPUT } else { output.as_str() },
                "is_error": is_error,
            })),
        })
        .collect()
}

/// A stored reasoning part as the thinking block Anthropic requires back
/// (unchanged, signature included); `None` for reasoning another wire
/// produced or a block without its signature, which Anthropic would reject.
fn thinking_block(
    text: &str,
    signature: Option<&str>,
    data: Option<&str>,
    origin: &str,
) -> Option<Value> {
    if origin != crate::Wire::Anthropic.as_str() {
        return None;
    }
    match (data, signature) {
        (Some(data), _) => Some(json!({ "type": "redacted_thinking", "data": data })),
        (None, Some(signature)) => Some(json!({
            "type": "thinking",
            "thinking": text,
            "signature": signature,
        })),
        (None, None) => None,
    }
}

/// A call's stored raw arguments as the JSON object Anthropic requires;
/// `{}` when they are not one.
fn input_object(call_id: &CallId, arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => {
            tracing::debug!(%call_id, arguments, "tool call arguments are not a JSON object: sending {{}}");
            Value::Object(Map::new())
        }
    }
}

/// A call id in the alphabet Anthropic accepts (ids from other providers
/// may carry other characters); the same id always maps the same way.
fn wire_id(call_id: &CallId) -> String {
    call_id
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::tests::{call, msg, result, text};
    use baton_protocol::{NoticeKind, ToolSpec};

    fn request(messages: Vec<baton_protocol::Message>) -> ChatRequest {
        ChatRequest {
            model: "claude-sonnet-4".into(),
            system: "be brief".into(),
            messages: messages.into(),
            tools: vec![ToolSpec {
                name: "read".into(),
                description: "Read a file".into(),
                parameters: json!({"type": "object"}),
            }],
            max_tokens: 4096,
            temperature: None,
            reasoning: None,
        }
    }

    #[test]
    fn maps_system_tools_calls_and_results() {
        let b = body(&request(vec![
            msg(Role::User, vec![text("read a")]),
            msg(
                Role::Assistant,
                vec![
                    text("ok"),
                    call("c.1", "read", r#"{"path":"a"}"#),
                    call("c2", "read", "[1]"),
                ],
            ),
            msg(
                Role::Tool,
                vec![
                    result("c.1", "read", "A", false),
                    result("c2", "read", "", true),
                ],
            ),
            msg(
                Role::User,
                vec![Part::Notice {
                    kind: NoticeKind::Shell,
                    source_id: "sh_1".into(),
                    text: "shell exited".into(),
                }],
            ),
        ]));
        assert_eq!(b["model"], "claude-sonnet-4");
        assert_eq!(
            b["system"],
            json!([{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(b["max_tokens"], 4096);
        assert_eq!(b["stream"], true);
        assert!(b.get("temperature").is_none());
        assert_eq!(
            b["tools"],
            json!([{"name": "read", "description": "Read a file", "input_schema": {"type": "object"}}])
        );
        assert_eq!(
            b["messages"],
            json!([
                // Breakpoints: the end, and the user message before the
                // last answer (where the previous call ended).
                {"role": "user", "content": [
                    {"type": "text", "text": "read a", "cache_control": {"type": "ephemeral"}},
                ]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "ok"},
                    {"type": "tool_use", "id": "c_1", "name": "read", "input": {"path": "a"}},
                    {"type": "tool_use", "id": "c2", "name": "read", "input": {}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "c_1", "content": "A", "is_error": false},
                    {"type": "tool_result", "tool_use_id": "c2", "content": "(no output)", "is_error": true},
                    {"type": "text", "text": "shell exited", "cache_control": {"type": "ephemeral"}},
                ]},
            ])
        );
    }

    #[test]
    fn roles_alternate_starting_with_user() {
        let b = body(&request(vec![
            msg(Role::Assistant, vec![text("earlier answer")]),
            msg(Role::User, vec![text("one")]),
        ]));
        let roles: Vec<&str> = b["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert_eq!(b["messages"][0]["content"][0]["text"], OPENING);
    }
}
