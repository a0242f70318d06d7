//! Maps a [`ChatRequest`] to an OpenAI chat-completions request body.

use crate::ChatRequest;
use crate::history::{self, Turn};
use baton_protocol::{Part, Role};
use serde_json::{Value, json};

/// Which field carries the output-token limit. OpenAI's own API wants
/// `max_completion_tokens` (its reasoning models reject `max_tokens`);
/// compatible servers mostly know only `max_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenLimitField {
    MaxTokens,
    MaxCompletionTokens,
}

/// The JSON body for `request`, streaming with usage included.
pub(crate) fn body(request: &ChatRequest, limit_field: TokenLimitField) -> Value {
    let mut messages = Vec::new();
    if !request.system.is_empty() {
        messages.push(json!({ "role": "system", "content": request.system }));
    }
    for turn in history::normalize(&request.messages) {
        map_turn(&turn, request.images, &mut messages);
    }
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    let limit_key = match limit_field {
        TokenLimitField::MaxTokens => "max_tokens",
        TokenLimitField::MaxCompletionTokens => "max_completion_tokens",
    };
    body[limit_key] = json!(request.max_tokens);
    if let Some(t) = request.wire_temperature() {
        body["temperature"] = json!(t);
    }
    if let Some(effort) = request.reasoning {
        body["reasoning_effort"] = json!(effort.as_str());
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    }
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

/// A turn as messages; `images` says whether tool results' images go with
/// them (in a user message after the results: a tool message holds text
/// only).
fn map_turn(turn: &Turn, images: bool, out: &mut Vec<Value>) {
    match turn.role {
        Role::User => out.push(json!({ "role": "user", "content": joined_text(&turn.parts) })),
        Role::Assistant => {
            let text = joined_text(&turn.parts);
            let calls: Vec<Value> = turn
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::ToolCall(c) => Some(json!({
                        "id": c.call_id,
                        "type": "function",
                        "function": {
                            "name": c.name,
                            // A string field: sent verbatim, even if malformed.
                            "arguments": if c.arguments.is_empty() { "{}" } else { c.arguments.as_str() },
                        }
                    })),
                    _ => None,
                })
                .collect();
            let mut message = json!({ "role": "assistant" });
            message["content"] = if text.is_empty() {
                Value::Null
            } else {
                Value::String(text)
            };
            if !calls.is_empty() {
                message["tool_calls"] = Value::Array(calls);
            }
            out.push(message);
        }
        Role::Tool => {
            let mut pictures = Vec::new();
            for part in &turn.parts {
                if let Part::ToolResult {
                    call_id,
                    name,
                    output,
                    images: returned,
                    ..
                } = part
                {
                    out.push(json!({ "role": "tool", "tool_call_id": call_id, "content": output }));
                    if images && !returned.is_empty() {
                        pictures.push(json!({
                            "type": "text",
                            "text": format!("The images `{name}` returned ({call_id}):"),
                        }));
                        pictures.extend(returned.iter().map(|image| {
                            json!({ "type": "image_url", "image_url": { "url": image.data_url() } })
                        }));
                    }
                }
            }
            if !pictures.is_empty() {
                out.push(json!({ "role": "user", "content": pictures }));
            }
        }
    }
}

/// The text and notice parts, joined by blank lines.
fn joined_text(parts: &[Part]) -> String {
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Text { text } | Part::Notice { text, .. } | Part::Context { text, .. } => {
                Some(text.as_str())
            }
            Part::Compaction(c) => Some(c.summary.as_str()),
            // Chat completions take no reasoning back (DeepSeek rejects
            // `reasoning_content` in requests).
            _ => None,
        })
        .collect();
    texts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::tests::{call, msg, result, screenshot_conversation, text};
    use baton_protocol::{NoticeKind, ToolSpec};

    fn request() -> ChatRequest {
        ChatRequest {
            model: "gpt-4o".into(),
            system: "be brief".into(),
            messages: vec![
                msg(Role::User, vec![text("list files")]),
                msg(
                    Role::Assistant,
                    vec![
                        call("c1", "list", r#"{"path":"."}"#),
                        call("c2", "bad", "{oops"),
                    ],
                ),
                msg(
                    Role::Tool,
                    vec![
                        result("c1", "list", "a.rs", false),
                        result("c2", "bad", "no such tool", true),
                    ],
                ),
                msg(
                    Role::User,
                    vec![Part::Notice {
                        kind: NoticeKind::Task,
                        source_id: "task_1".into(),
                        text: "task done".into(),
                    }],
                ),
            ]
            .into(),
            tools: vec![ToolSpec {
                name: "list".into(),
                description: "List a directory".into(),
                parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
            }],
            max_tokens: 1000,
            temperature: Some(0.1),
            reasoning: None,
            images: false,
        }
    }

    #[test]
    fn maps_messages_tools_and_streaming_options() {
        let b = body(&request(), TokenLimitField::MaxTokens);
        assert_eq!(b["model"], "gpt-4o");
        assert_eq!(b["stream"], true);
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(b["max_tokens"], 1000);
        assert!(b.get("max_completion_tokens").is_none());
        assert_eq!(b["temperature"], 0.1);
        assert_eq!(
            b["tools"],
            json!([{"type": "function", "function": {
                "name": "list", "description": "List a directory",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}])
        );
        assert_eq!(
            b["messages"],
            json!([
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "list files"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "list", "arguments": "{\"path\":\".\"}"}},
                    {"id": "c2", "type": "function", "function": {"name": "bad", "arguments": "{oops"}},
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "a.rs"},
                {"role": "tool", "tool_call_id": "c2", "content": "no such tool"},
                {"role": "user", "content": "task done"},
            ])
        );
    }

    #[test]
    fn official_api_gets_max_completion_tokens_and_no_empty_fields() {
        let mut r = request();
        r.system.clear();
        r.tools.clear();
        r.temperature = None;
        let b = body(&r, TokenLimitField::MaxCompletionTokens);
        assert_eq!(b["max_completion_tokens"], 1000);
        assert!(b.get("max_tokens").is_none());
        assert!(b.get("tools").is_none());
        assert!(b.get("temperature").is_none());
        assert!(b.get("reasoning_effort").is_none());
        assert_eq!(b["messages"][0]["role"], "user");
    }

    #[test]
    fn effort_is_sent_and_reasoning_is_not_sent_back() {
        let mut r = request();
        r.reasoning = Some(crate::ReasoningEffort::High);
        let mut messages = (*r.messages).clone();
        messages[1].parts.insert(
            0,
            Part::Reasoning {
                text: "thinking aloud".into(),
                signature: None,
                data: None,
                item_id: None,
                origin: "openai".into(),
            },
        );
        r.messages = messages.into();
        let b = body(&r, TokenLimitField::MaxTokens);
        assert_eq!(b["reasoning_effort"], "high");
        assert_eq!(
            b["messages"][2],
            body(&request(), TokenLimitField::MaxTokens)["messages"][2]
        );
        assert!(!b.to_string().contains("thinking aloud"));
    }

    #[test]
    fn images_follow_the_tool_messages_only_for_models_that_read_them() {
        let mut with = request();
        with.messages = screenshot_conversation().into();
        let without = with.clone();
        with.images = true;
        let b = body(&with, TokenLimitField::MaxTokens);
        let messages = b["messages"].as_array().unwrap();
        assert_eq!(messages[3]["role"], "tool");
        assert_eq!(messages[3]["content"], "[image: image/png, 3 bytes]");
        assert_eq!(messages[4]["role"], "user");
        assert_eq!(
            messages[4]["content"][1],
            json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}})
        );
        let b = body(&without, TokenLimitField::MaxTokens);
        assert_eq!(b["messages"].as_array().unwrap().len(), 4);
    }
}
