//! Maps a [`ChatRequest`] to a Responses API request body.
//!
//! Stateless: `store: false`, the whole conversation in `input` on every
//! call, and the model's reasoning asked for as encrypted content
//! (`include: ["reasoning.encrypted_content"]`). The system prompt is
//! `instructions`. Input items: user and assistant `message`s
//! (`input_text` / `output_text` content), `function_call` and
//! `function_call_output` items paired by `call_id`, and the `reasoning`
//! items this wire produced, sent back with their summary and encrypted
//! content. Items go back without their ids: with `store: false` the server
//! keeps nothing an id could refer to, and answers an id it cannot find
//! with an error.

use crate::history::{self, Turn};
use crate::{ChatRequest, Wire};
use baton_protocol::{Part, Role};
use serde_json::{Value, json};

/// The JSON body for `request`, streaming.
pub(crate) fn body(request: &ChatRequest) -> Value {
    let mut input = Vec::new();
    for turn in history::normalize(&request.messages) {
        map_turn(&turn, request.images, &mut input);
    }
    let mut body = json!({
        "model": request.model,
        "input": input,
        "stream": true,
        "store": false,
        "include": ["reasoning.encrypted_content"],
        "max_output_tokens": request.max_tokens,
    });
    if !request.system.is_empty() {
        body["instructions"] = json!(request.system);
    }
    // Reasoning models refuse a temperature.
    match (request.reasoning, request.wire_temperature()) {
        (Some(effort), _) => {
            body["reasoning"] = json!({ "effort": effort.as_str(), "summary": "auto" });
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
                    "type": "function",
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                    // Strict schemas would need every property required.
                    "strict": false,
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

/// A turn as input items; `images` says whether tool results' images go
/// with them.
fn map_turn(turn: &Turn, images: bool, out: &mut Vec<Value>) {
    match turn.role {
        Role::User => {
            let content: Vec<Value> = turn
                .parts
                .iter()
                .filter_map(text_of)
                .map(|text| json!({ "type": "input_text", "text": text }))
                .collect();
            if !content.is_empty() {
                out.push(json!({ "type": "message", "role": "user", "content": content }));
            }
        }
        Role::Assistant => out.extend(assistant_items(&turn.parts)),
        Role::Tool => {
            for part in &turn.parts {
                if let Part::ToolResult {
                    call_id,
                    output,
                    images: pictures,
                    ..
                } = part
                {
                    let output = if images && !pictures.is_empty() {
                        let mut content = vec![json!({ "type": "input_text", "text": output })];
                        content.extend(pictures.iter().map(
                            |image| json!({ "type": "input_image", "image_url": image.data_url() }),
                        ));
                        Value::Array(content)
                    } else {
                        Value::from(output.as_str())
                    };
                    out.push(json!({
                        "type": "function_call_output",
                        "call_id": call_id,
                        "output": output,
                    }));
                }
            }
        }
    }
}

/// An assistant turn as items, in order: its texts (consecutive ones in one
/// message), its calls and its reasoning. A reasoning item must be followed
/// by what it led to, so one that ends the turn is left out.
fn assistant_items(parts: &[Part]) -> Vec<Value> {
    let mut items = Vec::new();
    let mut texts = Vec::new();
    let flush = |texts: &mut Vec<Value>, items: &mut Vec<Value>| {
        if !texts.is_empty() {
            items.push(json!({
                "type": "message",
                "role": "assistant",
                "content": std::mem::take(texts),
            }));
        }
    };
    for part in parts {
        let item = match part {
            Part::ToolCall(call) => json!({
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": if call.arguments.is_empty() { "{}" } else { call.arguments.as_str() },
            }),
            Part::Reasoning { .. } => match reasoning_item(part) {
                Some(item) => item,
                None => continue,
            },
            other => {
                if let Some(text) = text_of(other) {
                    texts.push(json!({ "type": "output_text", "text": text }));
                }
                continue;
            }
        };
        flush(&mut texts, &mut items);
        items.push(item);
    }
    flush(&mut texts, &mut items);
    while items.last().is_some_and(|item| item["type"] == "reasoning") {
        tracing::debug!("reasoning item without what followed it: left out");
        items.pop();
    }
    items
}

/// A stored reasoning part as the `reasoning` item to send back; `None` for
/// reasoning another wire produced, or without encrypted content (which
/// cannot be sent back without the server having stored it).
fn reasoning_item(part: &Part) -> Option<Value> {
    let Part::Reasoning {
        text,
        data: Some(encrypted),
        origin,
        ..
    } = part
    else {
        return None;
    };
    if origin != Wire::Responses.as_str() {
        return None;
    }
    let summary: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({ "type": "summary_text", "text": text })]
    };
    Some(json!({ "type": "reasoning", "summary": summary, "encrypted_content": encrypted }))
}

/// The text a part contributes to a message.
fn text_of(part: &Part) -> Option<&str> {
    match part {
        Part::Text { text } | Part::Notice { text, .. } | Part::Context { text, .. } => {
            Some(text.as_str())
        }
        Part::Compaction(c) => Some(c.summary.as_str()),
        Part::ToolCall(_) | Part::ToolResult { .. } | Part::Reasoning { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReasoningEffort;
    use crate::history::tests::{call, msg, result, screenshot_conversation, text};
    use baton_protocol::{NoticeKind, ToolSpec};

    fn reasoning(origin: &str, summary: &str, encrypted: Option<&str>) -> Part {
        Part::Reasoning {
            text: summary.into(),
            signature: None,
            data: encrypted.map(str::to_owned),
            item_id: Some("rs_1".into()),
            origin: origin.into(),
        }
    }

    fn request(messages: Vec<baton_protocol::Message>) -> ChatRequest {
        ChatRequest {
            model: "gpt-5".into(),
            system: "be brief".into(),
            messages: messages.into(),
            tools: vec![ToolSpec {
                name: "read".into(),
                description: "Read a file".into(),
                parameters: json!({"type": "object"}),
            }],
            max_tokens: 2000,
            temperature: Some(0.2),
            reasoning: None,
            images: false,
        }
    }

    #[test]
    fn maps_instructions_tools_and_stateless_options() {
        let b = body(&request(vec![msg(Role::User, vec![text("hi")])]));
        assert_eq!(b["model"], "gpt-5");
        assert_eq!(b["instructions"], "be brief");
        assert_eq!(b["stream"], true);
        assert_eq!(b["store"], false);
        assert_eq!(b["include"], json!(["reasoning.encrypted_content"]));
        assert_eq!(b["max_output_tokens"], 2000);
        assert_eq!(b["temperature"], 0.2);
        assert!(b.get("reasoning").is_none());
        assert_eq!(
            b["tools"],
            json!([{"type": "function", "name": "read", "description": "Read a file",
                    "parameters": {"type": "object"}, "strict": false}])
        );
        assert_eq!(
            b["input"],
            json!([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}])
        );
    }

    #[test]
    fn effort_asks_for_a_summary_and_drops_the_temperature() {
        let mut r = request(vec![msg(Role::User, vec![text("hi")])]);
        r.reasoning = Some(ReasoningEffort::Low);
        r.system.clear();
        r.tools.clear();
        let b = body(&r);
        assert_eq!(b["reasoning"], json!({"effort": "low", "summary": "auto"}));
        assert!(b.get("temperature").is_none());
        assert!(b.get("instructions").is_none());
        assert!(b.get("tools").is_none());
    }

    #[test]
    fn calls_results_and_reasoning_become_input_items_in_order() {
        let b = body(&request(vec![
            msg(Role::User, vec![text("read a and b")]),
            msg(
                Role::Assistant,
                vec![
                    reasoning("responses", "Two reads.", Some("enc_1")),
                    text("Reading"),
                    text("both."),
                    call("call_a", "read", r#"{"path":"a"}"#),
                    reasoning("anthropic", "not mine", Some("x")),
                    reasoning("responses", "no content", None),
                    call("call_b", "read", ""),
                ],
            ),
            msg(
                Role::Tool,
                vec![
                    result("call_a", "read", "A", false),
                    result("call_b", "read", "no such file", true),
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
        ]));
        assert_eq!(
            b["input"],
            json!([
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "read a and b"}]},
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Two reads."}], "encrypted_content": "enc_1"},
                {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": "Reading"},
                    {"type": "output_text", "text": "both."},
                ]},
                {"type": "function_call", "call_id": "call_a", "name": "read", "arguments": "{\"path\":\"a\"}"},
                {"type": "function_call", "call_id": "call_b", "name": "read", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "call_a", "output": "A"},
                {"type": "function_call_output", "call_id": "call_b", "output": "no such file"},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "task done"}]},
            ])
        );
    }

    #[test]
    fn reasoning_that_ends_a_turn_is_left_out() {
        let b = body(&request(vec![
            msg(Role::User, vec![text("think")]),
            msg(
                Role::Assistant,
                vec![
                    reasoning("responses", "", Some("enc_1")),
                    text("ok"),
                    reasoning("responses", "", Some("enc_2")),
                ],
            ),
            msg(Role::User, vec![text("again")]),
        ]));
        let items = b["input"].as_array().unwrap();
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(
            items[1],
            json!({"type": "reasoning", "summary": [], "encrypted_content": "enc_1"})
        );
        assert_eq!(items[2]["role"], "assistant");
        assert_eq!(items[3]["role"], "user");
    }

    #[test]
    fn images_go_in_the_call_output_only_to_models_that_read_them() {
        let messages = screenshot_conversation();
        let mut with = request(messages.clone());
        with.images = true;
        let b = body(&with);
        assert_eq!(
            b["input"][2]["output"],
            json!([
                {"type": "input_text", "text": "[image: image/png, 3 bytes]"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBO"},
            ])
        );
        let b = body(&request(messages));
        assert_eq!(b["input"][2]["output"], "[image: image/png, 3 bytes]");
    }
}
