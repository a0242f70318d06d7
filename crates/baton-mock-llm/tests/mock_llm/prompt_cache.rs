//! The simulated prompt cache (`[prompt_cache]`), over HTTP: cached usage on every wire, streamed
//! and not. Expected figures are characters / 4 of the canonical texts the crate docs describe.

use serde_json::{Value, json};

use crate::support::{
    Event, parse_sse, post_anthropic, post_openai, post_responses, receive, start, streaming,
};

const SCRIPT: &str = r#"
[prompt_cache]
enabled = true
openai_min_tokens = 0
openai_increment = 1

[[rules]]
name = "scripted-input"
when = { last_user = "^scripted" }
reply = { text = "ok", usage = { input_tokens = 500 } }

[[rules]]
reply = { text = "ok" }
"#;

fn tokens(chars: usize) -> u64 {
    u64::try_from(chars / 4).expect("small")
}

/// The canonical JSON of a plain-text message or text block: keys sorted, no spaces.
fn canonical_message(role: &str, content: &str) -> String {
    format!(r#"{{"content":{},"role":"{role}"}}"#, Value::from(content))
}

fn canonical_text_block(text: &str) -> String {
    format!(r#"{{"text":{},"type":"text"}}"#, Value::from(text))
}

fn chars(texts: &[String]) -> usize {
    texts.iter().map(|text| text.chars().count()).sum()
}

fn openai_body(turns: &[(&str, &str)]) -> Value {
    let messages: Vec<Value> = turns
        .iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    json!({"model": "gpt-test", "messages": messages})
}

const QUESTION: &str = "Please read the whole repository and tell me what each module does.";

async fn openai_non_streaming_usage(server: &baton_mock_llm::MockServer, body: &Value) -> Value {
    let response = post_openai(server, body).await;
    assert_eq!(response.status(), 200);
    let completion: Value = response.json().await.expect("JSON");
    completion["usage"].clone()
}

#[tokio::test]
async fn openai_reports_the_prefix_an_earlier_request_sent_as_cached_tokens() {
    let server = start(SCRIPT).await;
    let first = openai_body(&[("system", "You are baton."), ("user", QUESTION)]);
    let usage = openai_non_streaming_usage(&server, &first).await;
    assert_eq!(usage["prompt_tokens_details"], json!({"cached_tokens": 0}));

    let second = openai_body(&[
        ("system", "You are baton."),
        ("user", QUESTION),
        ("assistant", "It has three modules."),
        ("user", "Which is the largest?"),
    ]);
    let usage = openai_non_streaming_usage(&server, &second).await;
    let shared = chars(&[
        canonical_message("system", "You are baton."),
        canonical_message("user", QUESTION),
    ]);
    assert_eq!(
        usage["prompt_tokens_details"]["cached_tokens"],
        tokens(shared)
    );
    let recorded = server.requests();
    assert_eq!(
        usage["prompt_tokens"], recorded[1].estimated_input_tokens,
        "prompt_tokens stays the whole prompt"
    );
}

#[tokio::test]
async fn openai_stream_reports_cached_tokens_in_the_final_usage_chunk() {
    let server = start(SCRIPT).await;
    let first = openai_body(&[("user", QUESTION)]);
    openai_non_streaming_usage(&server, &first).await;

    let mut second = streaming(openai_body(&[
        ("user", QUESTION),
        ("assistant", "Sure."),
        ("user", "Go on."),
    ]));
    second["stream_options"] = json!({"include_usage": true});
    let response = post_openai(&server, &second).await;
    let events = parse_sse(&receive(response).await.text());
    let chunks: Vec<Value> = events
        .iter()
        .filter(|event| event.data != "[DONE]")
        .map(Event::json)
        .collect();
    let usage = &chunks.last().expect("usage chunk")["usage"];
    assert_eq!(
        usage["prompt_tokens_details"]["cached_tokens"],
        tokens(chars(&[canonical_message("user", QUESTION)]))
    );
    assert_eq!(
        usage["prompt_tokens"],
        server.requests()[1].estimated_input_tokens
    );
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|chunk| chunk.get("usage").is_none_or(Value::is_null)),
        "only the usage chunk has usage"
    );
}

#[tokio::test]
async fn scripted_input_usage_and_a_disabled_cache_report_no_cache_figures() {
    let server = start(SCRIPT).await;
    let body = openai_body(&[("user", "scripted input")]);
    openai_non_streaming_usage(&server, &body).await;
    let usage = openai_non_streaming_usage(&server, &body).await;
    assert_eq!(usage["prompt_tokens"], 500);
    assert!(usage.get("prompt_tokens_details").is_none(), "{usage}");

    let plain = start("[[rules]]\nreply = { text = \"ok\" }\n").await;
    let body = openai_body(&[("user", QUESTION)]);
    openai_non_streaming_usage(&plain, &body).await;
    let usage = openai_non_streaming_usage(&plain, &body).await;
    assert!(usage.get("prompt_tokens_details").is_none(), "{usage}");
    let response = post_anthropic(
        &plain,
        &json!({"model": "c", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let message: Value = response.json().await.expect("JSON");
    assert!(message["usage"].get("cache_read_input_tokens").is_none());
}

#[tokio::test]
async fn openai_defaults_cache_nothing_below_1024_tokens() {
    let server =
        start("[prompt_cache]\nenabled = true\n[[rules]]\nreply = { text = \"ok\" }\n").await;
    let body = openai_body(&[("user", QUESTION)]);
    openai_non_streaming_usage(&server, &body).await;
    let usage = openai_non_streaming_usage(&server, &body).await;
    assert_eq!(usage["prompt_tokens_details"], json!({"cached_tokens": 0}));

    let long = openai_body(&[("user", &"lorem ipsum ".repeat(500))]);
    openai_non_streaming_usage(&server, &long).await;
    let usage = openai_non_streaming_usage(&server, &long).await;
    let whole = tokens(chars(&[canonical_message(
        "user",
        &"lorem ipsum ".repeat(500),
    )]));
    assert!(whole >= 1024);
    assert_eq!(
        usage["prompt_tokens_details"]["cached_tokens"],
        whole / 128 * 128
    );
}

/// A Responses request with instructions, one tool and these input items.
fn responses_body(items: &[Value]) -> Value {
    json!({
        "model": "gpt-test",
        "store": false,
        "instructions": "You are baton.",
        "tools": [{"type": "function", "name": "read", "parameters": {"type": "object"}}],
        "input": items,
    })
}

fn responses_user(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

/// The canonical JSON of the tools and instructions of [`responses_body`], then of `items`.
fn responses_prefix_chars(items: &[Value]) -> usize {
    let tools = r#"[{"name":"read","parameters":{"type":"object"},"type":"function"}]"#;
    let instructions = r#""You are baton.""#;
    let items: usize = items
        .iter()
        .map(|item| serde_json::to_string(item).expect("JSON").chars().count())
        .sum();
    tools.chars().count() + instructions.chars().count() + items
}

#[tokio::test]
async fn responses_report_the_prefix_an_earlier_request_sent_as_input_cached_tokens() {
    let server = start(SCRIPT).await;
    let question = responses_user(QUESTION);
    let first = responses_body(std::slice::from_ref(&question));
    let response = post_responses(&server, &first).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["usage"]["input_tokens_details"],
        json!({"cached_tokens": 0})
    );

    let call = json!({"type": "function_call", "call_id": "c1", "name": "read", "arguments": "{}"});
    let output = json!({"type": "function_call_output", "call_id": "c1", "output": "fn main() {}"});
    let second = streaming(responses_body(&[question.clone(), call, output]));
    let response = post_responses(&server, &second).await;
    let events = parse_sse(&receive(response).await.text());
    let completed = events.last().expect("terminal event");
    assert_eq!(completed.name.as_deref(), Some("response.completed"));
    let usage = &completed.json()["response"]["usage"];
    // serde_json writes object keys sorted, so `to_string` of these items is their canonical JSON.
    assert_eq!(
        usage["input_tokens_details"]["cached_tokens"],
        tokens(responses_prefix_chars(std::slice::from_ref(&question)))
    );
    assert_eq!(
        usage["input_tokens"],
        server.requests()[1].estimated_input_tokens,
        "input_tokens stays the whole prompt"
    );
}

#[tokio::test]
async fn responses_without_the_cache_or_with_scripted_input_report_zero_cached_tokens() {
    let server = start(SCRIPT).await;
    let body = responses_body(&[responses_user("scripted input")]);
    for _ in 0..2 {
        let response = post_responses(&server, &body).await;
        let value: Value = response.json().await.expect("JSON");
        assert_eq!(value["usage"]["input_tokens"], 500);
        assert_eq!(value["usage"]["input_tokens_details"]["cached_tokens"], 0);
    }
    let plain = start("[[rules]]\nreply = { text = \"ok\" }\n").await;
    let body = responses_body(&[responses_user(QUESTION)]);
    for _ in 0..2 {
        let value: Value = post_responses(&plain, &body)
            .await
            .json()
            .await
            .expect("JSON");
        assert_eq!(value["usage"]["input_tokens_details"]["cached_tokens"], 0);
    }
}

const SYSTEM: &str = "You are baton, a careful coding agent. Read before you write.";

fn ephemeral_text(text: &str) -> Value {
    json!({"type": "text", "text": text, "cache_control": {"type": "ephemeral"}})
}

/// An Anthropic request whose system prompt and latest user block carry breakpoints.
fn anthropic_body(turns: &[&str]) -> Value {
    let last = turns.len() - 1;
    let messages: Vec<Value> = turns
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let role = if index % 2 == 0 { "user" } else { "assistant" };
            let block = if index == last {
                ephemeral_text(text)
            } else {
                json!({"type": "text", "text": text})
            };
            json!({"role": role, "content": [block]})
        })
        .collect();
    json!({
        "model": "claude-test",
        "max_tokens": 1024,
        "system": [ephemeral_text(SYSTEM)],
        "messages": messages,
    })
}

fn prefix_chars(texts: &[&str]) -> usize {
    chars(
        &std::iter::once(SYSTEM)
            .chain(texts.iter().copied())
            .map(canonical_text_block)
            .collect::<Vec<_>>(),
    )
}

fn expected_usage(total: u64, read: u64, creation: u64, output: u64) -> Value {
    json!({
        "input_tokens": total - read - creation,
        "cache_creation_input_tokens": creation,
        "cache_read_input_tokens": read,
        "output_tokens": output,
    })
}

#[tokio::test]
async fn anthropic_non_streaming_usage_reads_the_old_breakpoint_and_writes_the_rest() {
    let server = start(SCRIPT).await;
    let first_turns = [QUESTION];
    let response = post_anthropic(&server, &anthropic_body(&first_turns)).await;
    assert_eq!(response.status(), 200);
    let message: Value = response.json().await.expect("JSON");
    let total = server.requests()[0].estimated_input_tokens;
    let written = tokens(prefix_chars(&first_turns));
    assert_eq!(message["usage"], expected_usage(total, 0, written, 1));

    let second_turns = [QUESTION, "It has three modules.", "Which is the largest?"];
    let response = post_anthropic(&server, &anthropic_body(&second_turns)).await;
    let message: Value = response.json().await.expect("JSON");
    let total = server.requests()[1].estimated_input_tokens;
    let read = tokens(prefix_chars(&first_turns));
    let through_last = tokens(prefix_chars(&second_turns));
    assert_eq!(
        message["usage"],
        expected_usage(total, read, through_last - read, 1)
    );
}

#[tokio::test]
async fn anthropic_stream_reports_cache_usage_in_message_start_and_message_delta() {
    let server = start(SCRIPT).await;
    let first_turns = [QUESTION];
    post_anthropic(&server, &anthropic_body(&first_turns)).await;

    let second_turns = [QUESTION, "Sure.", "Go on."];
    let response = post_anthropic(&server, &streaming(anthropic_body(&second_turns))).await;
    let events = parse_sse(&receive(response).await.text());
    let start_event = events.first().expect("message_start");
    assert_eq!(start_event.name.as_deref(), Some("message_start"));
    let total = server.requests()[1].estimated_input_tokens;
    let read = tokens(prefix_chars(&first_turns));
    let through_last = tokens(prefix_chars(&second_turns));
    assert_eq!(
        start_event.json()["message"]["usage"],
        expected_usage(total, read, through_last - read, 1)
    );
    let delta = events
        .iter()
        .find(|event| event.name.as_deref() == Some("message_delta"))
        .expect("message_delta");
    // Like the real API, message_delta's usage is cumulative: the same split, the final output.
    assert_eq!(
        delta.json()["usage"],
        expected_usage(total, read, through_last - read, 1)
    );
}
