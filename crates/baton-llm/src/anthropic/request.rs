//! Maps a [`ChatRequest`] to an Anthropic Messages request body.
//!
//! The Messages API wants strictly alternating roles starting with `user`,
//! tool results as `tool_result` blocks in a user message right after the
//! assistant's `tool_use` blocks, tool inputs as JSON objects, and ids made
//! of `[A-Za-z0-9_-]` only.
//!
//! Extended thinking (`ChatRequest::reasoning`) is sent as `thinking:
//! {type: "enabled", budget_tokens}`, without `temperature` (the API refuses
//! both together) and with `max_tokens` above the budget. Thinking blocks of
//! earlier answers go back unchanged, signature included.

use crate::history::{self, Turn};
use crate::{ChatRequest, ReasoningEffort};
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
        let blocks = blocks(&turn, request.images);
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
    let thinking = request.reasoning.and_then(|effort| {
        let allowed = thinking_allowed(&messages);
        if !allowed {
            tracing::debug!(
                "the tool loop this request ends in did not start with a thinking block: \
                 no extended thinking for this call"
            );
        }
        allowed.then(|| thinking_budget(effort))
    });
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|(role, content)| json!({ "role": role, "content": content }))
        .collect();
    let max_tokens = match thinking {
        Some(budget) if request.max_tokens <= budget => budget.saturating_add(request.max_tokens),
        _ => request.max_tokens,
    };
    let mut body = json!({
        "model": request.model,
        "max_tokens": max_tokens,
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
    match (thinking, request.wire_temperature()) {
        (Some(budget), _) => {
            body["thinking"] = json!({ "type": "enabled", "budget_tokens": budget });
        }
        (None, Some(t)) => body["temperature"] = json!(t),
        (None, None) => {}
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

/// The thinking budget for an effort, in tokens (Anthropic's minimum is
/// 1024).
fn thinking_budget(effort: ReasoningEffort) -> u32 {
    match effort {
        ReasoningEffort::Low => 2048,
        ReasoningEffort::Medium => 8192,
        ReasoningEffort::High => 24576,
    }
}

/// Whether thinking may be enabled for these messages. With thinking on,
/// Anthropic requires the assistant message that opens the tool loop a
/// request ends in (the first one after the last user message that is not
/// tool results) to start with a thinking block; a history without one
/// (written by another model, or with thinking off) is sent without
/// thinking instead of being refused.
fn thinking_allowed(messages: &[(&'static str, Vec<Value>)]) -> bool {
    let has_tool_results = |blocks: &[Value]| blocks.iter().any(|b| b["type"] == "tool_result");
    let turn_start = messages
        .iter()
        .rposition(|(role, blocks)| *role == "user" && !has_tool_results(blocks))
        .map_or(0, |i| i + 1);
    match messages[turn_start..]
        .iter()
        .find(|(role, _)| *role == "assistant")
    {
        None => true,
        Some((_, blocks)) => blocks
            .first()
            .is_some_and(|b| matches!(b["type"].as_str(), Some("thinking" | "redacted_thinking"))),
    }
}

fn cache_breakpoint() -> Value {
    json!({ "type": "ephemeral" })
}

/// A turn's parts as content blocks; `images` says whether tool results'
/// images go with them.
fn blocks(turn: &Turn, images: bool) -> Vec<Value> {
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
                images: pictures,
                ..
            } => {
                let text = if output.is_empty() {
                    NO_OUTPUT
                } else {
                    output.as_str()
                };
                let content = if images && !pictures.is_empty() {
                    let mut content = vec![json!({ "type": "text", "text": text })];
                    content.extend(pictures.iter().map(|image| {
                        json!({
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": image.mime_type,
                                "data": image.data,
                            },
                        })
                    }));
                    Value::Array(content)
                } else {
                    Value::from(text)
                };
                Some(json!({
                    "type": "tool_result",
                    "tool_use_id": wire_id(call_id),
                    "content": content,
                    "is_error": is_error,
                }))
            }
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
    use crate::history::tests::{call, msg, result, screenshot_conversation, text};
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
            images: false,
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

    fn reasoning(origin: &str, signature: Option<&str>, data: Option<&str>) -> Part {
        Part::Reasoning {
            text: "thought".into(),
            signature: signature.map(str::to_owned),
            data: data.map(str::to_owned),
            item_id: None,
            origin: origin.into(),
        }
    }

    /// A turn whose answer thought, called a tool and got its result.
    fn tool_loop(first: Vec<Part>) -> Vec<baton_protocol::Message> {
        vec![
            msg(Role::User, vec![text("read a")]),
            msg(Role::Assistant, first),
            msg(Role::Tool, vec![result("c1", "read", "A", false)]),
        ]
    }

    #[test]
    fn thinking_blocks_go_back_unchanged_and_other_wires_reasoning_does_not() {
        let b = body(&request(tool_loop(vec![
            reasoning("anthropic", Some("sig_1"), None),
            reasoning("anthropic", None, Some("opaque")),
            reasoning("anthropic", None, None),
            reasoning("responses", None, Some("enc_1")),
            reasoning("openai", None, None),
            call("c1", "read", "{}"),
        ])));
        assert_eq!(
            b["messages"][1]["content"],
            json!([
                {"type": "thinking", "thinking": "thought", "signature": "sig_1"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "tool_use", "id": "c1", "name": "read", "input": {}},
            ])
        );
    }

    #[test]
    fn thinking_takes_a_budget_below_max_tokens_and_no_temperature() {
        let mut r = request(vec![msg(Role::User, vec![text("hi")])]);
        r.temperature = Some(0.5);
        let plain = body(&r);
        assert_eq!(plain["temperature"], 0.5);
        assert!(plain.get("thinking").is_none());

        for (effort, budget, max_tokens) in [
            (ReasoningEffort::Low, 2048, 4096),
            (ReasoningEffort::Medium, 8192, 8192 + 4096),
            (ReasoningEffort::High, 24576, 24576 + 4096),
        ] {
            r.reasoning = Some(effort);
            let b = body(&r);
            assert_eq!(
                b["thinking"],
                json!({"type": "enabled", "budget_tokens": budget})
            );
            assert!(b.get("temperature").is_none(), "{effort:?}");
            assert_eq!(b["max_tokens"], max_tokens, "{effort:?}");
        }
    }

    #[test]
    fn a_tool_loop_that_did_not_start_with_thinking_gets_none() {
        let with = |first: Vec<Part>| {
            let mut r = request(tool_loop(first));
            r.reasoning = Some(ReasoningEffort::Medium);
            body(&r).get("thinking").is_some()
        };
        assert!(with(vec![
            reasoning("anthropic", Some("sig_1"), None),
            call("c1", "read", "{}")
        ]));
        assert!(with(vec![
            reasoning("anthropic", None, Some("opaque")),
            call("c1", "read", "{}")
        ]));
        assert!(!with(vec![call("c1", "read", "{}")]));
        assert!(!with(vec![
            reasoning("openai", None, None),
            call("c1", "read", "{}")
        ]));
        // A new user message starts a new turn: thinking is fine again.
        let mut messages = tool_loop(vec![call("c1", "read", "{}")]);
        messages.push(msg(Role::Assistant, vec![text("A it is")]));
        messages.push(msg(Role::User, vec![text("thanks")]));
        let mut r = request(messages);
        r.reasoning = Some(ReasoningEffort::Low);
        assert!(body(&r).get("thinking").is_some());
    }

    #[test]
    fn images_go_in_the_tool_result_only_to_models_that_read_them() {
        let messages = screenshot_conversation();
        let mut with = request(messages.clone());
        with.images = true;
        let b = body(&with);
        let content = &b["messages"][2]["content"][0]["content"];
        assert_eq!(
            content,
            &json!([
                {"type": "text", "text": "[image: image/png, 3 bytes]"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
            ])
        );
        let b = body(&request(messages));
        assert_eq!(
            b["messages"][2]["content"][0]["content"],
            "[image: image/png, 3 bytes]"
        );
    }
}
