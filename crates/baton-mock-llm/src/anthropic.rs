//! The Anthropic messages wire: the streamed event sequence, the non-streaming message, error bodies.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::reply::Prepared;
use crate::script::Reply;
use crate::sse::{StreamEvents, named_event, split_chars};

/// Whether the request enables extended thinking (`thinking: {type: "enabled", ...}`); only then
/// does a reply carry its scripted thinking.
pub(crate) fn thinking_enabled(request: &Value) -> bool {
    request.pointer("/thinking/type").and_then(Value::as_str) == Some("enabled")
}

/// The usage object with `output_tokens` output. With cache figures (the simulated prompt cache
/// or a scripted `cached_tokens`), the prompt is split: `input_tokens` is only what was neither
/// read from nor written to the cache.
fn usage(prepared: &Prepared, output: u64) -> Value {
    match prepared.usage.cache {
        None => json!({"input_tokens": prepared.usage.input, "output_tokens": output}),
        Some(cache) => json!({
            "input_tokens": prepared
                .usage
                .input
                .saturating_sub(cache.read)
                .saturating_sub(cache.creation),
            "cache_creation_input_tokens": cache.creation,
            "cache_read_input_tokens": cache.read,
            "output_tokens": output,
        }),
    }
}

fn stop_reason(prepared: &Prepared) -> String {
    match &prepared.stop_reason {
        Some(reason) => reason.clone(),
        None if prepared.tool_calls.is_empty() => "end_turn".to_string(),
        None => "tool_use".to_string(),
    }
}

/// The streamed reply: `message_start`, `ping`, the content blocks, `message_delta`, `message_stop`.
/// Blocks are streamed one after the other (this wire has no interleaving): redacted thinking and
/// thinking first when `thinking` (the request enabled it), then text, then tool uses.
pub(crate) fn stream_events(prepared: &Prepared, reply: &Reply, thinking: bool) -> StreamEvents {
    let mut events = vec![
        named_event(
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": prepared.message_id,
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": prepared.model,
                "stop_reason": null,
                "stop_sequence": null,
                // Like the real API: the start carries a provisional output count, the final count
                // comes in message_delta.
                "usage": usage(prepared, prepared.usage.output.min(1)),
            }}),
        ),
        named_event("ping", &json!({"type": "ping"})),
    ];
    let mut index = 0;
    let mut block = |events: &mut Vec<_>, start: Value, deltas: Vec<Value>| {
        events.push(named_event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        ));
        for delta in deltas {
            events.push(named_event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": delta}),
            ));
        }
        events.push(named_event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    };
    if thinking {
        if let Some(data) = &prepared.redacted_thinking {
            block(
                &mut events,
                json!({"type": "redacted_thinking", "data": data}),
                Vec::new(),
            );
        }
        if let Some(reasoning) = &prepared.reasoning {
            let mut deltas: Vec<Value> = split_chars(&reasoning.text, reply.text_chunk_chars)
                .into_iter()
                .map(|piece| json!({"type": "thinking_delta", "thinking": piece}))
                .collect();
            deltas.push(json!({"type": "signature_delta", "signature": reasoning.token}));
            block(
                &mut events,
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                deltas,
            );
        }
    }
    if let Some(text) = &prepared.text {
        let deltas = split_chars(text, reply.text_chunk_chars)
            .into_iter()
            .map(|piece| json!({"type": "text_delta", "text": piece}))
            .collect();
        block(&mut events, json!({"type": "text", "text": ""}), deltas);
    }
    for call in &prepared.tool_calls {
        let deltas = split_chars(&call.arguments, reply.args_chunk_chars)
            .into_iter()
            .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}))
            .collect();
        block(
            &mut events,
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": {}}),
            deltas,
        );
    }
    events.push(named_event(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(prepared), "stop_sequence": null},
            "usage": usage(prepared, prepared.usage.output),
        }),
    ));
    StreamEvents {
        events,
        terminal: named_event("message_stop", &json!({"type": "message_stop"})),
    }
}

/// The non-streaming message (thinking blocks first when `thinking`). Tool inputs are objects;
/// scripted `raw_arguments` that are not valid JSON cannot be an object, so they are sent as a JSON
/// string.
pub(crate) fn message(prepared: &Prepared, thinking: bool) -> Value {
    let mut content = Vec::new();
    if thinking {
        if let Some(data) = &prepared.redacted_thinking {
            content.push(json!({"type": "redacted_thinking", "data": data}));
        }
        if let Some(reasoning) = &prepared.reasoning {
            content.push(json!({
                "type": "thinking",
                "thinking": reasoning.text,
                "signature": reasoning.token,
            }));
        }
    }
    if let Some(text) = &prepared.text {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in &prepared.tool_calls {
        let input = serde_json::from_str::<Value>(&call.arguments)
            .unwrap_or_else(|_| Value::String(call.arguments.clone()));
        content.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
    }
    json!({
        "id": prepared.message_id,
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": prepared.model,
        "stop_reason": stop_reason(prepared),
        "stop_sequence": null,
        "usage": usage(prepared, prepared.usage.output),
    })
}

/// An Anthropic error body: `{"type": "error", "error": {"type", "message"}}`.
pub(crate) fn error_body(status: StatusCode, message: &str) -> Value {
    let kind = match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// Anthropic's refusal of a prompt longer than the context window, in its own wording.
pub(crate) fn prompt_too_long_body(tokens: u64, limit: u64) -> Value {
    error_body(
        StatusCode::BAD_REQUEST,
        &format!("prompt is too long: {tokens} tokens > {limit} maximum"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheUsage;
    use crate::reply::{PreparedCall, PreparedReasoning, TokenUsage};

    fn prepared(arguments: &str) -> Prepared {
        Prepared {
            message_id: "msg_mock_1".into(),
            model: "claude-test".into(),
            created: 0,
            text: Some("hi".into()),
            reasoning: Some(PreparedReasoning {
                text: "hmm".into(),
                token: Some("sig_1".into()),
            }),
            redacted_thinking: Some("opaque".into()),
            tool_calls: vec![PreparedCall {
                id: "toolu_1".into(),
                name: "edit".into(),
                arguments: arguments.into(),
            }],
            usage: TokenUsage {
                input: 5,
                output: 6,
                cache: None,
                reasoning: 0,
            },
            stop_reason: None,
        }
    }

    #[test]
    fn non_streaming_message_parses_tool_input() {
        let value = message(&prepared("{\"path\":\"a\"}"), false);
        assert_eq!(value["content"][0], json!({"type": "text", "text": "hi"}));
        assert_eq!(value["content"][1]["input"], json!({"path": "a"}));
        assert_eq!(value["stop_reason"], "tool_use");
        assert_eq!(
            value["usage"],
            json!({"input_tokens": 5, "output_tokens": 6})
        );
    }

    #[test]
    fn cache_figures_split_the_input_in_both_shapes() {
        let mut cached = prepared("{}");
        cached.usage.input = 100;
        cached.usage.cache = Some(CacheUsage {
            read: 60,
            creation: 30,
        });
        let expected = |output: u64| {
            json!({
                "input_tokens": 10,
                "cache_creation_input_tokens": 30,
                "cache_read_input_tokens": 60,
                "output_tokens": output,
            })
        };
        assert_eq!(message(&cached, false)["usage"], expected(6));
        let start = stream_events(&cached, &Reply::default(), false).events[0].clone();
        let text = std::str::from_utf8(&start).expect("utf-8");
        let data = text
            .lines()
            .find_map(|line| line.strip_prefix("data: "))
            .expect("data line");
        let start: Value = serde_json::from_str(data).expect("JSON");
        assert_eq!(start["message"]["usage"], expected(1));
    }

    #[test]
    fn non_streaming_message_keeps_malformed_input_as_a_string() {
        let value = message(&prepared("{\"path\": \"a.tx"), false);
        assert_eq!(value["content"][1]["input"], json!("{\"path\": \"a.tx"));
    }

    #[test]
    fn thinking_comes_first_only_when_enabled_and_cached_tokens_are_apart() {
        let mut with_cache = prepared("{}");
        with_cache.usage.cache = Some(CacheUsage {
            read: 4,
            creation: 0,
        });
        let value = message(&with_cache, true);
        assert_eq!(
            value["content"][0],
            json!({"type": "redacted_thinking", "data": "opaque"})
        );
        assert_eq!(
            value["content"][1],
            json!({"type": "thinking", "thinking": "hmm", "signature": "sig_1"})
        );
        assert_eq!(value["content"][2]["type"], "text");
        assert_eq!(
            value["usage"],
            json!({
                "input_tokens": 1,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 4,
                "output_tokens": 6,
            })
        );
        assert!(thinking_enabled(
            &json!({"thinking": {"type": "enabled", "budget_tokens": 1024}})
        ));
        assert!(!thinking_enabled(
            &json!({"thinking": {"type": "disabled"}})
        ));
    }

    #[test]
    fn error_types_follow_the_status() {
        let kind = |code: u16| {
            error_body(StatusCode::from_u16(code).expect("status"), "m")["error"]["type"].clone()
        };
        assert_eq!(kind(429), "rate_limit_error");
        assert_eq!(kind(529), "overloaded_error");
        assert_eq!(kind(500), "api_error");
        assert_eq!(kind(401), "authentication_error");
        assert_eq!(kind(400), "invalid_request_error");
    }

    #[test]
    fn prompt_too_long_body_uses_anthropic_wording() {
        assert_eq!(
            prompt_too_long_body(1234, 1000),
            json!({"type": "error", "error": {
                "type": "invalid_request_error",
                "message": "prompt is too long: 1234 tokens > 1000 maximum",
            }})
        );
    }
}
