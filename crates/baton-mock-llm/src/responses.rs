//! The OpenAI Responses API wire: the streamed event sequence, the non-streaming response object.
//! Error bodies are OpenAI's; the context-window refusal has this API's own wording.

use serde_json::{Value, json};

use crate::reply::Prepared;
use crate::script::Reply;
use crate::sse::{StreamEvents, named_event, split_chars};

/// What the request asked to see of the reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    /// `reasoning.summary` is set: reasoning items carry their summary.
    pub(crate) summary: bool,
    /// `include` holds `reasoning.encrypted_content`: reasoning items carry it.
    pub(crate) encrypted: bool,
}

impl Options {
    /// The options a request body asks for.
    pub(crate) fn from_request(request: &Value) -> Options {
        let summary = request
            .pointer("/reasoning/summary")
            .is_some_and(|summary| !summary.is_null());
        let encrypted = request
            .get("include")
            .and_then(Value::as_array)
            .is_some_and(|include| {
                include
                    .iter()
                    .any(|item| item.as_str() == Some("reasoning.encrypted_content"))
            });
        Options { summary, encrypted }
    }
}

/// The ids of one reply's output items, derived from its response id (`resp_mock_<n>`).
struct ItemIds {
    stem: String,
}

impl ItemIds {
    fn new(prepared: &Prepared) -> ItemIds {
        let stem = prepared
            .message_id
            .strip_prefix("resp_")
            .unwrap_or(&prepared.message_id)
            .to_string();
        ItemIds { stem }
    }

    fn reasoning(&self) -> String {
        format!("rs_{}", self.stem)
    }

    fn message(&self) -> String {
        format!("msg_{}", self.stem)
    }

    fn call(&self, index: usize) -> String {
        format!("fc_{}_{index}", self.stem)
    }
}

/// Why the response is incomplete, or `None` when it completed: a scripted stop reason other than
/// `completed`.
fn incomplete_reason(prepared: &Prepared) -> Option<&str> {
    prepared
        .stop_reason
        .as_deref()
        .filter(|reason| *reason != "completed")
}

/// The usage object. Like the real API it always carries `input_tokens_details.cached_tokens`
/// (the part of `input_tokens`, still the whole prompt, read from the cache; 0 without cache
/// figures) and `output_tokens_details.reasoning_tokens`.
fn usage(prepared: &Prepared) -> Value {
    let tokens = prepared.usage;
    let cached = tokens.cache.map_or(0, |cache| cache.read);
    json!({
        "input_tokens": tokens.input,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": tokens.output,
        "output_tokens_details": {"reasoning_tokens": tokens.reasoning},
        "total_tokens": tokens.input.saturating_add(tokens.output),
    })
}

/// The Responses API's refusal of an input longer than the context window, in its own wording
/// (which, unlike chat completions', names no token counts).
pub(crate) fn context_window_body() -> Value {
    json!({"error": {
        "message": "Your input exceeds the context window of this model. Please adjust your \
                    input and try again.",
        "type": "invalid_request_error",
        "param": "input",
        "code": "context_length_exceeded",
    }})
}

/// The reasoning item, as `response.output_item.done` and the final response show it.
fn reasoning_item(prepared: &Prepared, ids: &ItemIds, options: Options) -> Option<Value> {
    let reasoning = prepared.reasoning.as_ref()?;
    let summary = if options.summary {
        json!([{"type": "summary_text", "text": reasoning.text}])
    } else {
        json!([])
    };
    let mut item = json!({"id": ids.reasoning(), "type": "reasoning", "summary": summary});
    if options.encrypted {
        item["encrypted_content"] = json!(reasoning.token);
    }
    Some(item)
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

fn message_item(ids: &ItemIds, status: &str, content: Vec<Value>) -> Value {
    json!({
        "id": ids.message(),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    })
}

fn call_item(
    prepared: &Prepared,
    ids: &ItemIds,
    index: usize,
    status: &str,
    arguments: &str,
) -> Value {
    let call = &prepared.tool_calls[index];
    json!({
        "id": ids.call(index),
        "type": "function_call",
        "status": status,
        "call_id": call.id,
        "name": call.name,
        "arguments": arguments,
    })
}

/// Every output item, complete, in order: reasoning, message, function calls.
fn output(prepared: &Prepared, ids: &ItemIds, options: Options) -> Vec<Value> {
    let mut output: Vec<Value> = reasoning_item(prepared, ids, options).into_iter().collect();
    if let Some(text) = &prepared.text {
        output.push(message_item(ids, "completed", vec![text_part(text)]));
    }
    for (index, call) in prepared.tool_calls.iter().enumerate() {
        output.push(call_item(
            prepared,
            ids,
            index,
            "completed",
            &call.arguments,
        ));
    }
    output
}

/// The response object: `in_progress` with no output while streaming starts, else final.
fn response_object(prepared: &Prepared, output: Option<Vec<Value>>) -> Value {
    let (status, incomplete_details, usage) = match (&output, incomplete_reason(prepared)) {
        (None, _) => ("in_progress", Value::Null, Value::Null),
        (Some(_), None) => ("completed", Value::Null, self::usage(prepared)),
        (Some(_), Some(reason)) => (
            "incomplete",
            json!({"reason": reason}),
            self::usage(prepared),
        ),
    };
    json!({
        "id": prepared.message_id,
        "object": "response",
        "created_at": prepared.created,
        "status": status,
        "error": null,
        "incomplete_details": incomplete_details,
        "model": prepared.model,
        "output": output.unwrap_or_default(),
        "usage": usage,
    })
}

/// Collects events and numbers them (`sequence_number`) in order.
struct Sequence {
    events: Vec<(&'static str, Value)>,
}

impl Sequence {
    fn push(&mut self, name: &'static str, mut data: Value) {
        data["type"] = json!(name);
        self.events.push((name, data));
    }

    fn into_stream(self) -> StreamEvents {
        let mut events: Vec<_> = self
            .events
            .into_iter()
            .enumerate()
            .map(|(number, (name, mut data))| {
                data["sequence_number"] = json!(number);
                named_event(name, &data)
            })
            .collect();
        let terminal = events.pop().unwrap_or_default();
        StreamEvents { events, terminal }
    }
}

/// The streamed reply, in the real event names and order: `response.created`,
/// `response.in_progress`, each output item between `response.output_item.added` and `.done`
/// (reasoning with its summary deltas, the message with its text deltas, each function call with
/// its argument deltas), then `response.completed` (or `response.incomplete` for a scripted stop
/// reason), which is the terminal event.
pub(crate) fn stream_events(prepared: &Prepared, reply: &Reply, options: Options) -> StreamEvents {
    let ids = ItemIds::new(prepared);
    let mut seq = Sequence { events: Vec::new() };
    seq.push(
        "response.created",
        json!({"response": response_object(prepared, None)}),
    );
    seq.push(
        "response.in_progress",
        json!({"response": response_object(prepared, None)}),
    );
    let mut output_index = 0;
    if let Some(done) = reasoning_item(prepared, &ids, options) {
        push_reasoning(&mut seq, prepared, reply, options, output_index, done);
        output_index += 1;
    }
    if let Some(text) = &prepared.text {
        push_message(&mut seq, &ids, reply, output_index, text);
        output_index += 1;
    }
    for index in 0..prepared.tool_calls.len() {
        push_call(&mut seq, prepared, &ids, reply, output_index, index);
        output_index += 1;
    }
    let terminal = if incomplete_reason(prepared).is_some() {
        "response.incomplete"
    } else {
        "response.completed"
    };
    let final_response = response_object(prepared, Some(output(prepared, &ids, options)));
    seq.push(terminal, json!({"response": final_response}));
    seq.into_stream()
}

/// `base` with `key` set to `value`.
fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn push_reasoning(
    seq: &mut Sequence,
    prepared: &Prepared,
    reply: &Reply,
    options: Options,
    output_index: usize,
    done: Value,
) {
    let id = done["id"].clone();
    seq.push(
        "response.output_item.added",
        json!({"output_index": output_index, "item": {"id": id, "type": "reasoning", "summary": []}}),
    );
    if let (true, Some(reasoning)) = (options.summary, &prepared.reasoning) {
        let at = json!({"item_id": id, "output_index": output_index, "summary_index": 0});
        let part = |text: &str| json!({"type": "summary_text", "text": text});
        seq.push(
            "response.reasoning_summary_part.added",
            with(at.clone(), "part", part("")),
        );
        for piece in split_chars(&reasoning.text, reply.text_chunk_chars) {
            seq.push(
                "response.reasoning_summary_text.delta",
                with(at.clone(), "delta", json!(piece)),
            );
        }
        seq.push(
            "response.reasoning_summary_text.done",
            with(at.clone(), "text", json!(reasoning.text)),
        );
        seq.push(
            "response.reasoning_summary_part.done",
            with(at, "part", part(&reasoning.text)),
        );
    }
    seq.push(
        "response.output_item.done",
        json!({"output_index": output_index, "item": done}),
    );
}

fn push_message(seq: &mut Sequence, ids: &ItemIds, reply: &Reply, output_index: usize, text: &str) {
    let at = json!({"item_id": ids.message(), "output_index": output_index, "content_index": 0});
    seq.push(
        "response.output_item.added",
        json!({"output_index": output_index, "item": message_item(ids, "in_progress", Vec::new())}),
    );
    seq.push(
        "response.content_part.added",
        with(at.clone(), "part", text_part("")),
    );
    for piece in split_chars(text, reply.text_chunk_chars) {
        let delta = with(at.clone(), "delta", json!(piece));
        seq.push(
            "response.output_text.delta",
            with(delta, "logprobs", json!([])),
        );
    }
    seq.push(
        "response.output_text.done",
        with(at.clone(), "text", json!(text)),
    );
    seq.push(
        "response.content_part.done",
        with(at, "part", text_part(text)),
    );
    seq.push(
        "response.output_item.done",
        json!({"output_index": output_index, "item": message_item(ids, "completed", vec![text_part(text)])}),
    );
}

fn push_call(
    seq: &mut Sequence,
    prepared: &Prepared,
    ids: &ItemIds,
    reply: &Reply,
    output_index: usize,
    index: usize,
) {
    let arguments = &prepared.tool_calls[index].arguments;
    let at = json!({"item_id": ids.call(index), "output_index": output_index});
    seq.push(
        "response.output_item.added",
        json!({"output_index": output_index, "item": call_item(prepared, ids, index, "in_progress", "")}),
    );
    for piece in split_chars(arguments, reply.args_chunk_chars) {
        seq.push(
            "response.function_call_arguments.delta",
            with(at.clone(), "delta", json!(piece)),
        );
    }
    seq.push(
        "response.function_call_arguments.done",
        with(at, "arguments", json!(arguments)),
    );
    seq.push(
        "response.output_item.done",
        json!({"output_index": output_index, "item": call_item(prepared, ids, index, "completed", arguments)}),
    );
}

/// The non-streaming response object.
pub(crate) fn response(prepared: &Prepared, options: Options) -> Value {
    let ids = ItemIds::new(prepared);
    response_object(prepared, Some(output(prepared, &ids, options)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::CacheUsage;
    use crate::reply::{PreparedCall, PreparedReasoning, TokenUsage};

    fn prepared(stop_reason: Option<&str>) -> Prepared {
        Prepared {
            message_id: "resp_mock_3".into(),
            model: "gpt-test".into(),
            created: 1_700_000_000,
            text: Some("Hi".into()),
            reasoning: Some(PreparedReasoning {
                text: "greet".into(),
                token: Some("enc_mock_1".into()),
            }),
            redacted_thinking: None,
            tool_calls: vec![PreparedCall {
                id: "call_1".into(),
                name: "read".into(),
                arguments: "{}".into(),
            }],
            usage: TokenUsage {
                input: 10,
                output: 5,
                cache: Some(CacheUsage {
                    read: 2,
                    creation: 0,
                }),
                reasoning: 1,
            },
            stop_reason: stop_reason.map(str::to_string),
        }
    }

    const ALL: Options = Options {
        summary: true,
        encrypted: true,
    };

    #[test]
    fn options_follow_the_request() {
        assert_eq!(
            Options::from_request(&json!({
                "reasoning": {"effort": "low", "summary": "auto"},
                "include": ["reasoning.encrypted_content"],
            })),
            ALL
        );
        assert_eq!(
            Options::from_request(&json!({"reasoning": {"effort": "low"}})),
            Options {
                summary: false,
                encrypted: false
            }
        );
    }

    #[test]
    fn the_response_lists_every_item_with_ids_and_usage() {
        let value = response(&prepared(None), ALL);
        assert_eq!(value["status"], "completed");
        assert_eq!(
            value["output"],
            json!([
                {"id": "rs_mock_3", "type": "reasoning", "summary": [{"type": "summary_text", "text": "greet"}], "encrypted_content": "enc_mock_1"},
                {"id": "msg_mock_3", "type": "message", "status": "completed", "role": "assistant",
                 "content": [{"type": "output_text", "text": "Hi", "annotations": []}]},
                {"id": "fc_mock_3_0", "type": "function_call", "status": "completed", "call_id": "call_1", "name": "read", "arguments": "{}"},
            ])
        );
        assert_eq!(value["usage"]["input_tokens_details"]["cached_tokens"], 2);
        assert_eq!(
            value["usage"]["output_tokens_details"]["reasoning_tokens"],
            1
        );
        let hidden = response(
            &prepared(None),
            Options {
                summary: false,
                encrypted: false,
            },
        );
        assert_eq!(
            hidden["output"][0],
            json!({"id": "rs_mock_3", "type": "reasoning", "summary": []})
        );
    }

    #[test]
    fn usage_without_cache_figures_still_carries_cached_tokens() {
        let mut plain = prepared(None);
        plain.usage.cache = None;
        assert_eq!(
            response(&plain, ALL)["usage"],
            json!({
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 5,
                "output_tokens_details": {"reasoning_tokens": 1},
                "total_tokens": 15,
            })
        );
    }

    #[test]
    fn context_window_body_uses_the_responses_wording() {
        assert_eq!(
            context_window_body(),
            json!({"error": {
                "message": "Your input exceeds the context window of this model. Please adjust \
                            your input and try again.",
                "type": "invalid_request_error",
                "param": "input",
                "code": "context_length_exceeded",
            }})
        );
    }

    #[test]
    fn a_scripted_stop_reason_makes_the_response_incomplete() {
        let stream = stream_events(&prepared(Some("max_output_tokens")), &Reply::default(), ALL);
        let terminal = std::str::from_utf8(&stream.terminal).expect("utf-8");
        assert!(
            terminal.starts_with("event: response.incomplete\n"),
            "{terminal}"
        );
        assert!(terminal.contains(r#""incomplete_details":{"reason":"max_output_tokens"}"#));
        let completed = stream_events(&prepared(Some("completed")), &Reply::default(), ALL);
        assert!(
            completed
                .terminal
                .starts_with(b"event: response.completed\n")
        );
    }
}
