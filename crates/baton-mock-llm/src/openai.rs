//! The OpenAI chat-completions wire: streamed chunks, the non-streaming completion, error bodies.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::reply::{Prepared, round_robin};
use crate::script::Reply;
use crate::sse::{StreamEvents, data_event, split_chars};

fn finish_reason(prepared: &Prepared) -> String {
    match &prepared.stop_reason {
        Some(reason) => reason.clone(),
        None if prepared.tool_calls.is_empty() => "stop".to_string(),
        None => "tool_calls".to_string(),
    }
}

/// The usage object; with cache figures (the simulated prompt cache or a scripted
/// `cached_tokens`), `prompt_tokens_details.cached_tokens` says how much of `prompt_tokens` (still
/// the whole prompt) was cached; with reasoning, `completion_tokens_details.reasoning_tokens` says
/// how much of the output it took.
fn usage(prepared: &Prepared) -> Value {
    let tokens = prepared.usage;
    let mut usage = json!({
        "prompt_tokens": tokens.input,
        "completion_tokens": tokens.output,
        "total_tokens": tokens.input.saturating_add(tokens.output),
    });
    if let Some(cache) = tokens.cache {
        usage["prompt_tokens_details"] = json!({"cached_tokens": cache.read});
    }
    if tokens.reasoning > 0 {
        usage["completion_tokens_details"] = json!({"reasoning_tokens": tokens.reasoning});
    }
    usage
}

/// The streamed reply: `chat.completion.chunk` events (the reasoning as `reasoning_content`
/// deltas before the content, as DeepSeek and vLLM stream it), an optional usage chunk, then
/// `[DONE]`.
pub(crate) fn stream_events(
    prepared: &Prepared,
    reply: &Reply,
    include_usage: bool,
) -> StreamEvents {
    let chunk = |choices: Value, usage: Value| {
        let mut chunk = json!({
            "id": prepared.message_id,
            "object": "chat.completion.chunk",
            "created": prepared.created,
            "model": prepared.model,
            "choices": choices,
        });
        if include_usage && let Some(object) = chunk.as_object_mut() {
            object.insert("usage".to_string(), usage);
        }
        data_event(&chunk)
    };
    let delta = |delta: Value, finish: Value| {
        chunk(
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]),
            Value::Null,
        )
    };

    let opening_content = if prepared.text.is_some() {
        json!("")
    } else {
        Value::Null
    };
    let mut events = vec![delta(
        json!({"role": "assistant", "content": opening_content}),
        Value::Null,
    )];
    if let Some(reasoning) = &prepared.reasoning {
        events.extend(
            split_chars(&reasoning.text, reply.text_chunk_chars)
                .into_iter()
                .map(|piece| delta(json!({"reasoning_content": piece}), Value::Null)),
        );
    }
    if let Some(text) = &prepared.text {
        events.extend(
            split_chars(text, reply.text_chunk_chars)
                .into_iter()
                .map(|piece| delta(json!({"content": piece}), Value::Null)),
        );
    }
    let per_call: Vec<Vec<Bytes>> = prepared
        .tool_calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            let opening = json!({"tool_calls": [{
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }]});
            std::iter::once(delta(opening, Value::Null))
                .chain(split_chars(&call.arguments, reply.args_chunk_chars).into_iter().map(
                    |piece| {
                        delta(
                            json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                            Value::Null,
                        )
                    },
                ))
                .collect()
        })
        .collect();
    if reply.interleave_tool_calls {
        events.extend(round_robin(per_call));
    } else {
        events.extend(per_call.into_iter().flatten());
    }
    events.push(delta(json!({}), json!(finish_reason(prepared))));
    if include_usage {
        events.push(chunk(json!([]), usage(prepared)));
    }
    StreamEvents {
        events,
        terminal: Bytes::from_static(b"data: [DONE]\n\n"),
    }
}

/// The non-streaming `chat.completion` object.
pub(crate) fn completion(prepared: &Prepared) -> Value {
    let content = match &prepared.text {
        Some(text) => json!(text),
        None if prepared.tool_calls.is_empty() => json!(""),
        None => Value::Null,
    };
    let mut message = json!({"role": "assistant", "content": content, "refusal": null});
    if let Some(reasoning) = &prepared.reasoning {
        message["reasoning_content"] = json!(reasoning.text);
    }
    if !prepared.tool_calls.is_empty()
        && let Some(object) = message.as_object_mut()
    {
        let calls = prepared
            .tool_calls
            .iter()
            .map(|call| {
                json!({
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                })
            })
            .collect();
        object.insert("tool_calls".to_string(), Value::Array(calls));
    }
    json!({
        "id": prepared.message_id,
        "object": "chat.completion",
        "created": prepared.created,
        "model": prepared.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(prepared),
        }],
        "usage": usage(prepared),
    })
}

/// An OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
pub(crate) fn error_body(status: StatusCode, message: &str) -> Value {
    let (kind, code) = match status.as_u16() {
        401 => ("invalid_request_error", json!("invalid_api_key")),
        403 => ("permission_error", Value::Null),
        404 => ("invalid_request_error", json!("not_found")),
        429 => ("requests", json!("rate_limit_exceeded")),
        500..=599 => ("server_error", Value::Null),
        _ => ("invalid_request_error", Value::Null),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// OpenAI's refusal of a prompt longer than the context window, in its own wording.
pub(crate) fn context_length_body(tokens: u64, limit: u64) -> Value {
    json!({"error": {
        "message": format!(
            "This model's maximum context length is {limit} tokens. However, your messages \
             resulted in {tokens} tokens. Please reduce the length of the messages."
        ),
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheUsage;
    use crate::reply::{PreparedCall, TokenUsage};

    fn prepared(text: Option<&str>, calls: &[(&str, &str)]) -> Prepared {
        Prepared {
            message_id: "chatcmpl-mock-1".into(),
            model: "gpt-test".into(),
            created: 1_700_000_000,
            text: text.map(str::to_string),
            reasoning: None,
            redacted_thinking: None,
            tool_calls: calls
                .iter()
                .enumerate()
                .map(|(i, (name, arguments))| PreparedCall {
                    id: format!("call_{i}"),
                    name: (*name).into(),
                    arguments: (*arguments).into(),
                })
                .collect(),
            usage: TokenUsage {
                input: 10,
                output: 3,
                cache: None,
                reasoning: 0,
            },
            stop_reason: None,
        }
    }

    fn payloads(events: &[Bytes]) -> Vec<Value> {
        events
            .iter()
            .map(|event| {
                let text = std::str::from_utf8(event).expect("utf-8");
                let data = text
                    .strip_prefix("data: ")
                    .and_then(|rest| rest.strip_suffix("\n\n"))
                    .expect("data framing");
                serde_json::from_str(data).expect("json")
            })
            .collect()
    }

    #[test]
    fn interleaved_tool_call_deltas_alternate_by_index() {
        let reply = Reply {
            interleave_tool_calls: true,
            args_chunk_chars: std::num::NonZeroUsize::MIN.saturating_add(1),
            ..Reply::default()
        };
        let stream = stream_events(
            &prepared(None, &[("a", "{}{}"), ("b", "[1]")]),
            &reply,
            false,
        );
        let indices: Vec<u64> = payloads(&stream.events)
            .iter()
            .filter_map(|chunk| chunk["choices"][0]["delta"]["tool_calls"][0]["index"].as_u64())
            .collect();
        assert_eq!(indices, [0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn non_streaming_completion_with_tool_calls_has_null_content() {
        let value = completion(&prepared(None, &[("read", "{\"path\":\"a\"}")]));
        let message = &value["choices"][0]["message"];
        assert!(message["content"].is_null());
        assert_eq!(
            message["tool_calls"][0]["function"]["arguments"],
            "{\"path\":\"a\"}"
        );
        assert_eq!(value["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(value["usage"]["total_tokens"], 13);
    }

    #[test]
    fn reasoning_streams_as_reasoning_content_before_the_text() {
        let mut thinking = prepared(Some("Hi"), &[]);
        thinking.reasoning = Some(crate::reply::PreparedReasoning {
            text: "hmm, a reply".into(),
            token: None,
        });
        thinking.usage.reasoning = 4;
        thinking.usage.cache = Some(CacheUsage {
            read: 6,
            creation: 0,
        });
        let reply = Reply {
            text_chunk_chars: std::num::NonZeroUsize::MIN.saturating_add(6),
            ..Reply::default()
        };
        let stream = stream_events(&thinking, &reply, true);
        let deltas: Vec<Value> = payloads(&stream.events)
            .iter()
            .map(|chunk| chunk["choices"][0]["delta"].clone())
            .collect();
        assert_eq!(deltas[1], json!({"reasoning_content": "hmm, a "}));
        assert_eq!(deltas[2], json!({"reasoning_content": "reply"}));
        assert_eq!(deltas[3], json!({"content": "Hi"}));
        let chunks = payloads(&stream.events);
        let usage = &chunks.last().expect("usage chunk")["usage"];
        assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 4);
        assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 6);
        let whole = completion(&thinking);
        assert_eq!(
            whole["choices"][0]["message"]["reasoning_content"],
            "hmm, a reply"
        );
    }

    #[test]
    fn cached_tokens_are_reported_in_prompt_tokens_details() {
        let mut cached = prepared(Some("hi"), &[]);
        cached.usage.cache = Some(CacheUsage {
            read: 8,
            creation: 0,
        });
        assert_eq!(
            completion(&cached)["usage"],
            json!({
                "prompt_tokens": 10,
                "completion_tokens": 3,
                "total_tokens": 13,
                "prompt_tokens_details": {"cached_tokens": 8},
            })
        );
    }

    #[test]
    fn error_bodies_follow_the_status() {
        let body = error_body(StatusCode::TOO_MANY_REQUESTS, "slow down");
        assert_eq!(body["error"]["message"], "slow down");
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert_eq!(
            error_body(StatusCode::UNAUTHORIZED, "x")["error"]["code"],
            "invalid_api_key"
        );
        assert_eq!(
            error_body(StatusCode::BAD_GATEWAY, "x")["error"]["type"],
            "server_error"
        );
    }

    #[test]
    fn context_length_body_uses_openai_wording() {
        assert_eq!(
            context_length_body(1234, 1000),
            json!({"error": {
                "message": "This model's maximum context length is 1000 tokens. However, your \
                            messages resulted in 1234 tokens. Please reduce the length of the \
                            messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }})
        );
    }
}
